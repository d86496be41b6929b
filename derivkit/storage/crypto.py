"""The key that encrypts users' Deriv tokens at rest (Fernet), kept apart from the database.

The key comes from ``DERIVKIT_STORAGE_KEY`` (one Fernet key, or several separated by commas: the
first encrypts, all decrypt, for rotation with :class:`~cryptography.fernet.MultiFernet`), else
from ``storage.key`` in the data dir (mode 0600, created on first use). Every instance sharing a
database must share the key. The plaintext token exists only while a connection is opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from derivkit.core.exceptions import UsageError
from derivkit.settings import data_dir, write_private

__all__ = ["KEY_ENV", "KEY_FILE", "TokenCipher"]

KEY_ENV = "DERIVKIT_STORAGE_KEY"
KEY_FILE = "storage.key"


class TokenCipher:
    """Encrypts and decrypts tokens; ``repr`` never shows a key."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise UsageError("the storage key is empty")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError:
            raise UsageError(
                f"{KEY_ENV} must be Fernet keys (32 url-safe base64 bytes), comma-separated"
            ) from None

    def __repr__(self) -> str:
        return "<TokenCipher>"

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, directory: Path | None = None
    ) -> TokenCipher:
        """The key from ``DERIVKIT_STORAGE_KEY``, else the data dir's key file (made if new)."""
        environ = os.environ if environ is None else environ
        configured = environ.get(KEY_ENV, "").strip()
        if configured:
            return cls([part.strip().encode() for part in configured.split(",") if part.strip()])
        path = (directory if directory is not None else data_dir(environ)) / KEY_FILE
        if not path.exists():
            write_private(path, Fernet.generate_key())
        return cls([path.read_bytes().strip()])

    def encrypt(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def decrypt(self, ciphertext: bytes) -> str | None:
        """The token, or None when this key cannot read it (another key, or tampered)."""
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except (InvalidToken, ValueError):
            return None
