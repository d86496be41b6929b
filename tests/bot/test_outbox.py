"""The notice outbox on SQLite and PostgreSQL, sent over real HTTP to the fake Bot API: a notice
is queued with the change that causes it (a settlement marked told, an alert fired), once
whoever tries; a sender killed between its claim and its send leaves the notice to another
instance, which sends it once; one killed during its sendMessage has it sent again, marked as
possibly repeated (at least once: an outcome is never hidden)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from telegram import Bot

from derivkit.bot.delivery import MAY_REPEAT, Delivery, Outbox
from derivkit.storage import NewAlert, NewTrade, Storage, TokenCipher
from derivkit.storage.notices import NewNotice, NoticeStore
from tests.bot.conftest import BOT_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI

pytestmark = pytest.mark.timeout(60)

USER = 4242


@pytest.fixture
async def parts(database_url, tmp_path):
    """The storage, a dead sender's NoticeStore and a live instance's Outbox (holder "b")."""
    storage = await Storage.open(database_url, TokenCipher.from_environment({}, tmp_path))
    async with FakeTelegramAPI(token=BOT_TOKEN) as api:
        api.open_chat(USER)
        async with Bot(BOT_TOKEN, base_url=api.base_url) as bot:
            outbox = Outbox(Delivery(bot, storage, retry_delays=()), NoticeStore(storage), "b")
            yield storage, NoticeStore(storage), outbox, api
    await storage.close()


async def settled_entry(storage: Storage) -> int:
    trade = NewTrade(
        loginid="VRTC1",
        is_virtual=True,
        currency="USD",
        symbol="R_100",
        contract_type="CALL",
        stake=1.0,
        max_price=1.0,
        request={"buy": 1},
        telegram_id=USER,
        chat_id=USER,
    )
    entry = await storage.journal_open(trade)
    await storage.journal_bought(entry.id, {"contract_id": 91, "buy_price": 1.0, "payout": 2})
    await storage.journal_settled(91, sell_price=2.0, profit=1.0, settled_at=5.0)
    return entry.id


async def the_dead_claim_runs_out(storage: Storage) -> None:
    async with storage.engine.begin() as connection:
        await connection.execute(text("UPDATE outbox SET claimed_until = 0 WHERE holder = 'dead'"))


def sent_texts(api: FakeTelegramAPI) -> list[str]:
    return [c.params.get("text", "") for c in api.outbox("sendMessage") if c.status == 200]


async def test_a_sender_killed_between_claim_and_send_leaves_the_notice_to_be_sent_once(parts):
    storage, dead, outbox, api = parts
    entry_id = await settled_entry(storage)
    notice = NewNotice(USER, USER, "settlement", "Contract 91 won 1.00 USD")
    # the entry is marked told in the step that queues its notice: once, whoever tries
    told = await asyncio.gather(
        dead.settlement_told(entry_id, [notice], holder="dead", lease=20),
        outbox.store.settlement_told(entry_id, [notice], holder="b", lease=20),
    )
    assert sorted(len(queued) for queued in told) == [0, 1]
    assert (await storage.journal_entry(entry_id)).notified
    if told[1]:  # "b" queued it: make it the dead one's, claimed and never sent
        async with storage.engine.begin() as connection:
            await connection.execute(text("UPDATE outbox SET holder = 'dead'"))
    assert await outbox.sweep() == 0  # its claim still runs: nobody else sends it
    assert sent_texts(api) == []
    await the_dead_claim_runs_out(storage)
    assert await outbox.sweep() == 1
    assert await outbox.sweep() == 0
    assert sent_texts(api) == ["Contract 91 won 1.00 USD"]  # once, and not marked a repeat
    assert await outbox.store.unsent() == []


async def test_an_alert_fires_once_and_a_send_cut_short_is_sent_again_marked(parts):
    storage, dead, outbox, api = parts
    alert = await storage.add_alert(
        NewAlert(telegram_id=USER, chat_id=USER, symbol="R_100", kind="above", level=2.0)
    )
    notice = NewNotice(USER, USER, "alert", "🔔 R_100 is above 2")
    fired = await asyncio.gather(
        *(
            store.alert_fired(
                alert.id, 1.0, active=False, reference=None, notice=notice, holder=who, lease=20
            )
            for store, who in ((dead, "dead"), (outbox.store, "b"), (dead, "dead"))
        )
    )
    queued = [n for n in fired if n is not None]
    assert len(queued) == 1  # one firing, one notice
    assert await storage.active_alerts(USER) == []
    async with storage.engine.begin() as connection:
        await connection.execute(text("UPDATE outbox SET holder = 'dead'"))
    assert await dead.attempted(queued[0].id, "dead")  # then killed during its sendMessage
    await the_dead_claim_runs_out(storage)
    assert await outbox.sweep() == 1
    assert sent_texts(api) == ["🔔 R_100 is above 2" + MAY_REPEAT]


async def test_a_failed_send_is_tried_again_after_its_pause(parts):
    storage, _, outbox, api = parts
    outbox.retry_after = 0.0
    entry_id = await settled_entry(storage)
    notice = NewNotice(USER, USER, "settlement", "Contract 91 won 1.00 USD")
    (queued,) = await outbox.store.settlement_told(entry_id, [notice], holder="b", lease=20)
    api.fault("sendMessage", code=500)
    assert await outbox.send(queued) == "failed"
    assert sent_texts(api) == []
    assert await outbox.sweep() == 1  # its pause is over: sent (marked: it may have arrived)
    assert sent_texts(api) == ["Contract 91 won 1.00 USD" + MAY_REPEAT]
