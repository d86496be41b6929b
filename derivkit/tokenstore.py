"""The Deriv API token at rest: encrypted (Fernet), never in plaintext.

The ciphertext lives in the config dir (``token.enc``); the key in the user data dir
(``DERIVKIT_DATA_DIR`` overrides it), both mode 0600. This keeps the token out of config backups,
dotfile repositories and screen shares; it does not protect against someone who can read both
files as you. Not safe against concurrent writers (last one wins).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from derivkit.core.exceptions import UsageError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = ["TokenStore", "data_dir"]

TOKEN_FILE = "token.enc"
KEY_FILE = "token.key"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    override = environ.get("DERIVKIT_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_data_path("derivkit", appauthor=False)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


class TokenStore:
    """Save, load and clear the one stored token."""

    def __init__(self, config_directory: Path, key_directory: Path) -> None:
        self.token_path = config_directory / TOKEN_FILE
        self.key_path = key_directory / KEY_FILE

    def __repr__(self) -> str:
        return f"<TokenStore {self.token_path}>"

    def _fernet(self, create: bool) -> Fernet | None:
        from cryptography.fernet import Fernet

        if self.key_path.exists():
            return Fernet(self.key_path.read_bytes())
        if not create:
            return None
        key = Fernet.generate_key()
        _write_private(self.key_path, key)
        return Fernet(key)

    def save(self, token: str) -> None:
        token = token.strip()
        if not token or len(token) > 128 or not all(c.isalnum() or c in "-_" for c in token):
            raise UsageError("a Deriv API token is 1-128 letters, digits, '-' or '_'")
        fernet = self._fernet(create=True)
        assert fernet is not None
        _write_private(self.token_path, fernet.encrypt(token.encode()))

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
