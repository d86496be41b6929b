"""The tables, as SQLAlchemy Core metadata with portable types only (SQLite today, PostgreSQL
through the same definitions later).

Times are epoch seconds (floats); money is a float in the account's currency, as the API sends it;
Telegram ids are 64-bit. Tokens are stored only as ciphertext (``token_ciphertext``): the key is
never in the database. The migrations in :mod:`derivkit.storage.migrations` create exactly these
tables; a test checks that they agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
    true,
)

__all__ = [
    "alerts",
    "journal",
    "leases",
    "metadata",
    "notification_settings",
    "outbox",
    "pending_orders",
    "processed_updates",
    "user_state",
    "users",
]

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("telegram_id", BigInteger, primary_key=True, autoincrement=False),
    Column("role", String(16), nullable=False, server_default="user"),
    Column("created_at", Float, nullable=False),
    Column("token_ciphertext", LargeBinary, nullable=True),
    Column("loginid", String(32), nullable=True),
    Column("is_virtual", Boolean, nullable=True),
    Column("currency", String(16), nullable=True),
    Column("scopes", String(200), nullable=True),  # space-separated, as Deriv names them
    Column("connected_at", Float, nullable=True),
    Column("paused", Boolean, nullable=False, server_default=false()),
    Column("max_stake", Float, nullable=True),
    Column("max_open", Integer, nullable=True),
    Column("daily_loss", Float, nullable=True),
    Column("settings", JSON, nullable=True),
)

notification_settings = Table(
    "notification_settings",
    metadata,
    Column(
        "telegram_id",
        BigInteger,
        ForeignKey("users.telegram_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("event", String(32), primary_key=True),
    Column("level", String(8), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("telegram_id", BigInteger, nullable=False, index=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("kind", String(8), nullable=False),  # above | below | move
    Column("level", Float, nullable=False),  # a price; for "move" a percentage
    Column("reference", Float, nullable=True),  # "move": the price it is measured from
    Column("pip_size", Integer, nullable=True),
    Column("repeat", Boolean, nullable=False, server_default=false()),
    Column("cooldown", Float, nullable=False, server_default="0"),
    Column("last_fired_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
)

journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("telegram_id", BigInteger, nullable=True),  # None for a trade of a CLI strategy
    Column("chat_id", BigInteger, nullable=True),
    Column("loginid", String(32), nullable=False),
    Column("is_virtual", Boolean, nullable=False),
    Column("currency", String(16), nullable=False),
    Column("origin", String(16), nullable=False, server_default="bot"),  # bot | strategy ...
    Column("run_id", String(64), nullable=True),
    Column("strategy", String(64), nullable=True),  # the strategy of a run (origin "strategy")
    Column("symbol", String(32), nullable=False),
    Column("contract_type", String(32), nullable=False),
    Column("stake", Float, nullable=False),
    Column("max_price", Float, nullable=False),
    Column("request", JSON, nullable=False),
    Column("quote", JSON, nullable=True),
    # sending -> bought | failed | unknown; unknown -> bought | not_bought; bought -> settled
    Column("status", String(16), nullable=False),
    Column("requested_at", Float, nullable=False),
    Column("contract_id", BigInteger, nullable=True),
    Column("transaction_id", BigInteger, nullable=True),
    Column("buy_price", Float, nullable=True),
    Column("payout", Float, nullable=True),
    Column("reply", JSON, nullable=True),
    Column("bought_at", Float, nullable=True),
    Column("sell_price", Float, nullable=True),
    Column("profit", Float, nullable=True),
    Column("settled_at", Float, nullable=True),
    Column("notified", Boolean, nullable=False, server_default=false()),
    Column("error", Text, nullable=True),
    # the Confirm that sent it (the pending order's nonce, migration 0006): a Confirm run again
    # after its instance died finds what became of its buy
    Column("order_nonce", String(32), nullable=True),
    Index("ix_journal_user_time", "telegram_id", "requested_at"),
    Index("ix_journal_contract", "contract_id"),
    Index("ix_journal_status", "status"),
    Index("ix_journal_order", "order_nonce"),
)

# -- a fleet of bot instances on PostgreSQL (migration 0003) -------------------------------------

#: Every update a fleet instance took, by Telegram's update id: a second delivery of the same
#: update (a retrying proxy) finds its row and is dropped; ``done`` orders a user's updates.
#: The webhook receiver commits the row before it answers Telegram 200 (the durable inbox):
#: an update whose ``holder`` died unfinished is taken over by another instance.
processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("telegram_id", BigInteger, nullable=True),
    Column("received_at", Float, nullable=False),
    Column("done", Boolean, nullable=False, server_default=false()),
    # the durable inbox (migration 0004): who processes it, and the update itself (encrypted
    # with the storage key: a message may carry a Deriv token), dropped once it is done
    Column("holder", String(64), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Index("ix_processed_updates_user", "telegram_id", "update_id"),
    Index(
        "ix_processed_updates_open",
        "update_id",
        postgresql_where=text("NOT done"),
        sqlite_where=text("NOT done"),
    ),
)

#: Trades waiting for their Confirm tap; a tap consumes its row with one conditional UPDATE
#: (``claimed_by`` set), which leaves it as a tombstone (migration 0006): ``sent_at`` is marked
#: just before the trade is sent and ``outcome`` (what the card says) once it is known, so a
#: Confirm run again after the claiming instance died can tell what happened.
pending_orders = Table(
    "pending_orders",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("telegram_id", BigInteger, nullable=False, index=True),
    Column("expires_at", Float, nullable=False),  # epoch seconds
    Column("order", JSON, nullable=False),  # what the order buys or sells (no secrets)
    Column("claimed_by", String(64), nullable=True),  # the instance whose Confirm consumed it
    Column("claimed_at", Float, nullable=True),  # epoch seconds
    Column("sent_at", Float, nullable=True),  # the trade was (about to be) sent
    Column("outcome", Text, nullable=True),  # HTML: what the user was told
)

#: What one user's updates leave for the next one, whichever instance serves it: the live
#: buttons of their messages, and whether their next message is a token after /connect.
user_state = Table(
    "user_state",
    metadata,
    Column(
        "telegram_id",
        BigInteger,
        ForeignKey("users.telegram_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("cards", JSON, nullable=True),
    Column("token_until", Float, nullable=True),  # epoch seconds
)

#: Leases with heartbeats: a background duty (``alerts:R_100``, ``account:42``) or a Deriv
#: connection slot (``conn:42:<instance>``) belongs to ``holder`` until ``expires_at``.
leases = Table(
    "leases",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("holder", String(64), nullable=False, index=True),
    Column("expires_at", Float, nullable=False),  # the database's epoch seconds
    Column("acquired_at", Float, nullable=False),
)


#: Notices to send (migration 0005): a settlement's or an alert's notice is queued in the same
#: transaction as the change that causes it, claimed by one sender until ``claimed_until`` and
#: marked ``attempted_at`` just before its one sendMessage and ``sent_at`` just after.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("telegram_id", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("event", String(16), nullable=False),  # "settlement" or "alert" (notification levels)
    Column("text", Text, nullable=False),  # HTML, no secrets
    Column("created_at", Float, nullable=False),
    Column("holder", String(64), nullable=True),
    Column("claimed_until", Float, nullable=False),  # epoch seconds
    Column("attempted_at", Float, nullable=True),
    Column("sent_at", Float, nullable=True),
    Index(
        "ix_outbox_unsent",
        "claimed_until",
        postgresql_where=text("sent_at IS NULL"),
        sqlite_where=text("sent_at IS NULL"),
    ),
)
