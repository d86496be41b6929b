"""One process's tombstones of consumed orders, on a real SQLite file and a real PostgreSQL
database: written at the claim, marked when sent and when finished, listed while unfinished
(what a crash leaves for the next start), and forgotten after a day; kept across a reopen."""

from __future__ import annotations

from derivkit.storage import Storage, TokenCipher
from derivkit.storage.tombstones import OrderTombstones

ORDER = {"kind": "sell", "summary": "Sell 1", "contract_id": 7, "chat_id": 5, "message_id": 9}


async def test_a_claim_leaves_a_tombstone_that_tells_what_happened_next(database_url, tmp_path):
    cipher = TokenCipher.from_environment({}, tmp_path)
    async with await Storage.open(database_url, cipher) as storage:
        tombstones = OrderTombstones(storage.engine)
        assert await tombstones.consumed_order("n1", 5) is None  # never confirmed
        await tombstones.record_claim("n1", 5, ORDER)
        await tombstones.record_claim("n2", 5, {**ORDER, "contract_id": 8})
        claimed = await tombstones.consumed_order("n1", 5)
        assert claimed is not None and claimed.order == ORDER
        assert (claimed.nonce, claimed.telegram_id, claimed.claimer_alive) == ("n1", 5, False)
        assert claimed.sent_at is None and claimed.outcome is None
        assert await tombstones.consumed_order("n1", 6) is None  # another user's
        await tombstones.order_sending("n1")
        await tombstones.order_finished("n2", "✅ Sold")
    async with await Storage.open(database_url, cipher) as storage:  # a crash, a new start
        tombstones = OrderTombstones(storage.engine)
        (left,) = await tombstones.unfinished_orders()
        assert left.nonce == "n1" and left.sent_at is not None and left.outcome is None
        done = await tombstones.consumed_order("n2", 5)
        assert done is not None and done.outcome == "✅ Sold"
        await tombstones.order_finished("n1", "✅ Checked")
        assert await tombstones.unfinished_orders() == []
        assert await tombstones.prune_orders() == 0  # younger than a day
        assert await tombstones.prune_orders(older_than=-1) == 2
        assert await tombstones.consumed_order("n1", 5) is None
