"""derivkit's database: users and their encrypted Deriv tokens, alerts, notification levels and
the trade journal. Front-end neutral (no Telegram here): the bot uses it today, CLI strategies
will journal their trades through it too.

``Storage.open(url, cipher)`` connects (SQLite through aiosqlite by default: ``default_url(dir)``;
``postgresql://...`` through asyncpg for a fleet of bot instances) and migrates the schema;
``TokenCipher.from_environment()`` reads the token key from ``DERIVKIT_STORAGE_KEY`` or the data
dir, never from the database.
"""

from derivkit.storage.crypto import KEY_ENV, TokenCipher
from derivkit.storage.records import (
    NOTIFICATION_EVENTS,
    NOTIFICATION_LEVELS,
    AlertRecord,
    ConnectedAccount,
    JournalEntry,
    NewAlert,
    NewTrade,
    UserRecord,
)
from derivkit.storage.store import DATABASE_FILE, Storage, default_url

__all__ = [
    "DATABASE_FILE",
    "KEY_ENV",
    "NOTIFICATION_EVENTS",
    "NOTIFICATION_LEVELS",
    "AlertRecord",
    "ConnectedAccount",
    "JournalEntry",
    "NewAlert",
    "NewTrade",
    "Storage",
    "TokenCipher",
    "UserRecord",
    "default_url",
]
