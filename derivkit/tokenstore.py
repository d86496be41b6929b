"""The Deriv API token at rest: encrypted (Fernet), never in plaintext.

The ciphertext lives in the config dir (``token.enc``); the key in the user data dir
(``DERIVKIT_DATA_DIR`` overrides it), both mode 0600. This keeps the token out of config backups,
dotfile repositories and screen shares; it does not protect against someone who can read both
files as you. Not safe against concurrent writers (last one wins).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from derivkit.core.exceptions import UsageError
from derivkit.settings import config_dir, data_dir, write_private

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = ["TokenStore"]

TOKEN_FILE = "token.enc"
KEY_FILE = "token.key"


class TokenStore:
    """Save, load and clear the one stored token."""

    def __init__(self, config_directory: Path, key_directory: Path) -> None:
        self.token_path = config_directory / TOKEN_FILE
        self.key_path = key_directory / KEY_FILE

    @classmethod
    def default(cls) -> TokenStore:
        """The store in the user's config and data dirs (or their ``DERIVKIT_*_DIR`` overrides)."""
        return cls(config_dir(), data_dir())

    def __repr__(self) -> str:
        return f"<TokenStore {self.token_path}>"

    def _fernet(self, create: bool) -> Fernet | None:
        from cryptography.fernet import Fernet

        if self.key_path.exists():
            return Fernet(self.key_path.read_bytes())
        if not create:
            return None
        key = Fernet.generate_key()
        write_private(self.key_path, key)
        return Fernet(key)

    def save(self, token: str) -> None:
        token = token.strip()
        if not token or len(token) > 128 or not all(c.isalnum() or c in "-_" for c in token):
            raise UsageError("a Deriv API token is 1-128 letters, digits, '-' or '_'")
        fernet = self._fernet(create=True)
        assert fernet is not None
        write_private(self.token_path, fernet.encrypt(token.encode()))

    def load(self) -> str | None:
        """The stored token, or None. A token that cannot be decrypted counts as none."""
        from cryptography.fernet import InvalidToken

        if not self.token_path.exists():
            return None
        fernet = self._fernet(create=False)
        if fernet is None:
            return None
        try:
            return fernet.decrypt(self.token_path.read_bytes()).decode()
        except (InvalidToken, ValueError):
            return None

    def clear(self) -> bool:
        """Remove the stored token; True if there was one."""
        try:
            self.token_path.unlink()
        except FileNotFoundError:
            return False
        return True
