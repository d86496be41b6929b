"""Tokens at rest, encrypted (Fernet), never in plaintext: the Deriv API token and the Telegram
bot token.

Each ciphertext lives in the config dir (``token.enc``, ``bot-token.enc``); the shared key in the
user data dir (``DERIVKIT_DATA_DIR`` overrides it), all mode 0600. This keeps tokens out of config
backups, dotfile repositories and screen shares; it does not protect against someone who can read
both files as you. Not safe against concurrent writers (last one wins).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from derivkit.core.exceptions import UsageError
from derivkit.settings import config_dir, data_dir, write_private

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = ["TokenStore", "check_bot_token", "check_deriv_token"]

TOKEN_FILE = "token.enc"
BOT_TOKEN_FILE = "bot-token.enc"
KEY_FILE = "token.key"
_BOT_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")


def check_deriv_token(token: str) -> None:
    if not token or len(token) > 128 or not all(c.isalnum() or c in "-_" for c in token):
        raise UsageError("a Deriv API token is 1-128 letters, digits, '-' or '_'")


def check_bot_token(token: str) -> None:
    if not _BOT_TOKEN.match(token):
        raise UsageError("a Telegram bot token looks like 123456789:AAH... (from @BotFather)")


class TokenStore:
    """Save, load and clear one stored token."""

    def __init__(
        self,
        config_directory: Path,
        key_directory: Path,
        *,
        file_name: str = TOKEN_FILE,
        check: Callable[[str], None] = check_deriv_token,
    ) -> None:
        self.token_path = config_directory / file_name
        self.key_path = key_directory / KEY_FILE
        self._check = check

    @classmethod
    def default(cls) -> TokenStore:
        """The Deriv token's store in the user's config and data dirs (or their
        ``DERIVKIT_*_DIR`` overrides)."""
        return cls(config_dir(), data_dir())

    @classmethod
    def for_bot(cls) -> TokenStore:
        """The Telegram bot token's store, beside the Deriv token's."""
        return cls(config_dir(), data_dir(), file_name=BOT_TOKEN_FILE, check=check_bot_token)

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
        self._check(token)
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
