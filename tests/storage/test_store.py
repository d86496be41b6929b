"""The storage on a real SQLite file and on a real PostgreSQL server (every test runs on both):
migrations, encrypted tokens, alerts, the journal, and everything surviving a reopen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import inspect, select

from derivkit.core import UsageError
from derivkit.storage import (
    ConnectedAccount,
    NewAlert,
    NewTrade,
    Storage,
    TokenCipher,
)
from derivkit.storage.crypto import KEY_FILE
from derivkit.storage.schema import metadata, users

TOKEN = "a1B2c3D4e5F6g7H"


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", "derivkit.storage:migrations")
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


HEAD = _head_revision()
ACCOUNT = ConnectedAccount("VRTC9000001", True, "USD", ("read", "trade"))


def trade(**changes) -> NewTrade:
    values = {
        "loginid": "VRTC9000001",
        "is_virtual": True,
        "currency": "USD",
        "symbol": "R_100",
        "contract_type": "CALL",
        "stake": 10.0,
        "max_price": 10.0,
        "request": {"contract_type": "CALL", "symbol": "R_100", "amount": 10},
        "quote": {"ask_price": 10.0, "spot_time": 1_700_000_000},
        "telegram_id": 5,
        "chat_id": 5,
    }
    values.update(changes)
    return NewTrade(**values)


@pytest.fixture
async def store(database_url: str, tmp_path: Path):
    storage = await Storage.open(database_url, TokenCipher.from_environment({}, tmp_path))
    yield storage
    await storage.close()


def every_byte(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in directory.rglob("*") if path.is_file())


async def test_migrations_build_exactly_the_declared_schema(store):
    assert await store.schema_revision() == HEAD

    def compare(connection) -> None:
        inspector = inspect(connection)
        assert set(inspector.get_table_names()) == {*metadata.tables, "alembic_version"}
        for table in metadata.sorted_tables:
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            assert columns == {column.name for column in table.columns}, table.name
            indexes = {index["name"] for index in inspector.get_indexes(table.name)}
            assert indexes == {index.name for index in table.indexes}, table.name

    async with store.engine.connect() as connection:
        await connection.run_sync(compare)


async def test_instances_starting_at_once_migrate_once(postgres_url, tmp_path):
    """Several instances opening a new PostgreSQL database together: one migrates, the
    others wait for it (an advisory lock); then they create the same user at once."""
    cipher = TokenCipher.from_environment({}, tmp_path)
    opened = await asyncio.gather(*(Storage.open(postgres_url, cipher) for _ in range(3)))
    try:
        for storage in opened:
            assert await storage.schema_revision() == HEAD
        users_made = await asyncio.gather(*(s.ensure_user(42) for s in opened * 3))
        assert {user.telegram_id for user in users_made} == {42}
    finally:
        await asyncio.gather(*(storage.close() for storage in opened))


async def test_a_token_is_stored_encrypted_and_read_back(store, tmp_path):
    user = await store.store_token(5, TOKEN, ACCOUNT)
    assert user.account == ACCOUNT and user.has_token
    assert TOKEN not in repr(user)
    assert await store.token_of(5) == TOKEN
    async with store.engine.connect() as connection:
        stored = (await connection.execute(select(users.c.token_ciphertext))).scalar_one()
    assert TOKEN.encode() not in bytes(stored)
    assert TOKEN.encode() not in every_byte(tmp_path)  # SQLite's file and WAL, the key file
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0

    stranger = TokenCipher([Fernet.generate_key()])
    other = Storage(store._engine, stranger)  # the same database with another key
    assert await other.token_of(5) is None

    assert await store.forget_token(5)
    assert await store.token_of(5) is None
    assert not (await store.get_user(5)).has_token
    assert not await store.forget_token(5)


def test_the_key_comes_from_the_environment_when_set(tmp_path):
    key = Fernet.generate_key().decode()
    old = Fernet.generate_key().decode()
    cipher = TokenCipher.from_environment({"DERIVKIT_STORAGE_KEY": f"{key},{old}"}, tmp_path)
    assert not (tmp_path / KEY_FILE).exists()
    assert cipher.decrypt(TokenCipher([old.encode()]).encrypt("x")) == "x"  # rotation
    assert TokenCipher([key.encode()]).decrypt(cipher.encrypt("y")) == "y"  # first key encrypts
    with pytest.raises(UsageError, match="DERIVKIT_STORAGE_KEY must be Fernet keys"):
        TokenCipher.from_environment({"DERIVKIT_STORAGE_KEY": "not-a-key"}, tmp_path)


async def test_alerts_belong_to_their_user(store):
    alert = await store.add_alert(
        NewAlert(5, 5, "R_100", "above", 1500.0, repeat=True, cooldown=60)
    )
    assert alert.id and alert.active and alert.repeat and alert.cooldown == 60
    assert await store.delete_alert(alert.id, 6) is None  # not theirs
    await store.alert_fired(alert.id, 100.0, active=True)
    assert (await store.alert(alert.id)).last_fired_at == 100.0
    assert [a.id for a in await store.active_alerts(5)] == [alert.id]
    await store.alert_fired(alert.id, 101.0, active=False)
    assert await store.active_alerts() == []


async def test_the_journal_follows_a_buy_to_its_settlement(store):
    entry = await store.journal_open(trade())
    assert entry.status == "sending"
    assert [e.id for e in await store.journal_to_follow(loginid="VRTC9000001")] == [entry.id]
    bought = await store.journal_bought(
        entry.id, {"contract_id": 77, "transaction_id": 8, "buy_price": 9.5, "payout": 19}
    )
    assert (bought.status, bought.contract_id, bought.buy_price) == ("bought", 77, 9.5)
    assert await store.journal_contract_ids("VRTC9000001") == {77}
    settled = await store.journal_settled(77, sell_price=19.0, profit=9.5, settled_at=5.0)
    assert (settled.status, settled.profit, settled.notified) == ("settled", 9.5, False)
    assert [e.id for e in await store.journal_to_follow()] == [entry.id]  # not told yet
    await store.journal_notified(entry.id)
    assert await store.journal_to_follow() == []
    assert await store.journal_settled(999, sell_price=0, profit=0, settled_at=0) is None

    unknown = await store.journal_unknown((await store.journal_open(trade())).id, "lost")
    assert unknown.status == "unknown"
    gone = await store.journal_not_bought(unknown.id, "not in the statement")
    assert gone.status == "not_bought"
    failed = await store.journal_failed((await store.journal_open(trade())).id, "refused")
    assert failed.status == "failed"
    mine = await store.journal_entries(telegram_id=5)
    assert [e.status for e in mine] == ["failed", "not_bought", "settled"]  # newest first
    assert await store.journal_entries(telegram_id=6) == []


async def test_a_buy_is_found_by_its_order_and_a_resolution_never_overrides_a_reply(store):
    assert await store.journal_for_order("nonce-1") is None  # nothing sent for that order
    entry = await store.journal_open(trade(order_nonce="nonce-1"))
    await store.journal_open(trade(order_nonce="nonce-2"))
    found = await store.journal_for_order("nonce-1")
    assert found is not None and found.id == entry.id and found.order_nonce == "nonce-1"
    resolved = await store.journal_found(entry.id, {"contract_id": 5, "buy_price": 9.0})
    assert (resolved.status, resolved.contract_id, resolved.buy_price) == ("bought", 5, 9.0)
    again = await store.journal_found(entry.id, {"contract_id": 6, "buy_price": 8.0})
    assert again.contract_id == 5  # another resolver's find (or the reply) came first: kept
    replied = await store.journal_open(trade())
    await store.journal_bought(replied.id, {"contract_id": 7, "buy_price": 9.0})
    assert (await store.journal_found(replied.id, {"contract_id": 8})).contract_id == 7


async def test_everything_survives_a_reopen(database_url, tmp_path):
    cipher = TokenCipher.from_environment({}, tmp_path)
    async with await Storage.open(database_url, cipher) as first:
        await first.store_token(5, TOKEN, ACCOUNT)
        await first.set_limits(5, max_stake=7.5)
        await first.set_paused(5, True)
        await first.set_notification(5, "settlement", "silent")
        await first.add_alert(NewAlert(5, 5, "R_50", "below", 100.0))
        entry = await first.journal_open(trade())
        await first.journal_bought(entry.id, {"contract_id": 1, "buy_price": 10})
    async with await Storage.open(
        database_url, TokenCipher.from_environment({}, tmp_path)
    ) as second:
        user = await second.get_user(5)
        assert user.max_stake == 7.5 and user.paused and user.account == ACCOUNT
        assert await second.token_of(5) == TOKEN
        assert (await second.notification_levels(5))["settlement"] == "silent"
        assert [a.symbol for a in await second.active_alerts()] == ["R_50"]
        assert [e.contract_id for e in await second.journal_to_follow()] == [1]
        assert await second.schema_revision() == HEAD


async def test_notification_levels_are_checked(store):
    with pytest.raises(ValueError):
        await store.set_notification(5, "weather", "on")
    with pytest.raises(ValueError):
        await store.set_notification(5, "alert", "loud")
    assert await store.notification_levels(9) == {
        "settlement": "on",
        "alert": "on",
        "connection": "off",
    }
