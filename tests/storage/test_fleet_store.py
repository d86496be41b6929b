"""The fleet's coordination primitives on a real PostgreSQL server: updates recorded once,
orders consumed once, users' locks, leases that expire and are taken over, connection slots."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from derivkit.storage import Storage, TokenCipher
from derivkit.storage.fleet import FleetStore


@pytest.fixture
async def stores(postgres_url, tmp_path):
    """Two instances' FleetStores on one database."""
    cipher = TokenCipher.from_environment({}, tmp_path)
    opened = [await Storage.open(postgres_url, cipher) for _ in range(2)]
    fleets = [FleetStore(storage, lock_connections=4) for storage in opened]
    yield fleets
    for fleet, storage in zip(fleets, opened, strict=True):
        await fleet.close()
        await storage.close()


async def test_sqlite_cannot_serve_a_fleet(tmp_path):
    from derivkit.storage import default_url

    async with await Storage.open(
        default_url(tmp_path), TokenCipher.from_environment({}, tmp_path)
    ) as storage:
        assert not FleetStore.supported(storage)
        with pytest.raises(ValueError):
            FleetStore(storage)


async def test_an_update_is_taken_once_and_an_order_consumed_once(stores):
    a, b = stores
    pairs = ((a, "a1"), (b, "b1"), (a, "a2"), (b, "b2"))
    taken = await asyncio.gather(*(s.take_update(77, 5, name) for s, name in pairs))
    assert sorted(taken) == [False, False, False, True]  # polling: recorded by the first
    accepted = await asyncio.gather(
        *(s.accept_update(78, 5, '{"update_id": 78}', name) for s, name in ((a, "a"), (b, "b")))
    )
    assert sorted(accepted) == [False, True]  # the webhook's inbox: the second is a duplicate
    holder = "a" if accepted[0] else "b"
    assert await a.take_update(78, 5, holder)  # its holder processes it, the other never
    assert not await a.take_update(78, 5, "b" if holder == "a" else "a")
    await a.update_done(78)
    assert not await a.take_update(78, 5, holder)  # finished: never again
    await a.put_orders(5, {"n1": (time.time() + 30, {"kind": "buy"})})
    claims = await asyncio.gather(*(s.claim_order("n1", 5) for s in (a, b, a, b)))
    assert [c for c in claims if c is not None] == [{"kind": "buy"}]
    await a.put_orders(5, {"n2": (time.time() + 30, {"kind": "buy"})})
    assert await b.claim_order("n2", 6) is None  # another user's tap
    assert await b.claim_order("n2", 5) == {"kind": "buy"}
    await a.put_orders(5, {"n3": (time.time() - 1, {"kind": "buy"})})
    assert await b.claim_order("n3", 5) is None  # expired
    assert await a.drop_order("n3") == {"kind": "buy"}


async def test_a_consumed_order_stays_as_a_tombstone_that_tells_what_its_claim_did(stores):
    a, b = stores
    order = {"kind": "sell", "summary": "Sell 1"}
    await a.put_orders(5, {"n1": (time.time() + 30, order)})
    assert await b.consumed_order("n1", 5) is None  # pending: nobody confirmed it
    await a.acquire("instance:a", "a", 30)
    assert await a.claim_order("n1", 5, "a") == order
    assert await b.claim_order("n1", 5, "b") is None  # consumed once, by a
    assert await b.orders_of(5) == {}  # not loaded as pending
    await b.put_orders(5, {"n1": (time.time() + 30, order)})  # b's stale copy saved back
    assert await b.claim_order("n1", 5, "b") is None  # ... resurrects nothing
    assert await b.drop_order("n1") is None  # neither an expiry nor a /stop removes it
    assert await b.drop_orders_except(5, []) == 0
    gone = await b.consumed_order("n1", 5)
    assert gone is not None and gone.order == order and gone.claimed_by == "a"
    assert gone.claimer_alive and gone.sent_at is None and gone.outcome is None
    assert await b.consumed_order("n1", 6) is None  # another user's
    await a.order_sending("n1")
    await a.release("instance:a", "a")  # a died
    gone = await b.consumed_order("n1", 5)
    assert gone is not None and gone.sent_at is not None and not gone.claimer_alive
    await b.order_finished("n1", "✅ Sold")
    gone = await b.consumed_order("n1", 5)
    assert gone is not None and gone.outcome == "✅ Sold"
    assert await a.prune_orders(older_than=3600) == 0
    assert await a.prune_orders(older_than=-1) == 1
    assert await b.consumed_order("n1", 5) is None


async def test_a_users_updates_run_one_at_a_time_across_instances(stores):
    a, b = stores
    running: list[str] = []
    overlaps = []

    async def update(store: FleetStore, name: str) -> None:
        async with store.user_turn(9, None):
            running.append(name)
            overlaps.append(len(running))
            await asyncio.sleep(0.05)
            running.remove(name)

    await asyncio.gather(*(update(s, f"u{i}") for i, s in enumerate([a, b] * 4)))
    assert overlaps == [1] * 8


async def test_a_lease_is_held_by_one_and_taken_over_when_it_expires(stores):
    a, b = stores
    assert await a.acquire("alerts:R_10", "A", ttl=30)
    assert not await b.acquire("alerts:R_10", "B", ttl=30)
    assert (await b.holders("alerts:")) == {"alerts:R_10": "A"}
    assert await a.renew("A", ttl=0.2) == {"alerts:R_10"}  # its last heartbeat
    await asyncio.sleep(0.3)  # then A stops renewing: the lease runs out
    assert await b.holders("alerts:") == {}
    assert await b.acquire("alerts:R_10", "B", ttl=5)
    assert await a.renew("A", ttl=5) == set()  # A learns it lost it


async def test_a_user_has_at_most_the_cap_of_connection_slots(stores):
    a, b = stores
    results = await asyncio.gather(
        *(store.open_slot(3, f"i{n}", cap=2, ttl=30) for n, store in enumerate([a, b, a, b]))
    )
    assert sorted(results) == [False, False, True, True]
    assert await a.open_slot(3, "i0", cap=2, ttl=30) or await a.open_slot(3, "i1", cap=2, ttl=30)
    holder = next(name.split(":")[2] for name in await a.holders("conn:3:"))
    await a.close_slot(3, holder)
    assert await b.open_slot(3, "i9", cap=2, ttl=30)


async def test_many_leases_are_taken_in_one_go_each_by_exactly_one_instance(stores):
    a, b = stores
    assert await a.acquire("account:1", "A", ttl=30)
    assert await a.acquire("account:2", "A", ttl=0.1)  # about to run out: A has stopped
    await asyncio.sleep(0.2)
    names = [f"account:{n}" for n in range(1, 41)]
    # two instances take overlapping sets at once (in opposite orders): no deadlock, no lease
    # held twice, the live one's lease untouched
    got_a, got_b = await asyncio.gather(
        a.acquire_many(names[::-1], "A2", ttl=30), b.acquire_many(names, "B", ttl=30)
    )
    assert not got_a & got_b
    assert got_a | got_b == set(names[1:])
    held = await a.holders("account:")
    assert held["account:1"] == "A"
    assert all(held[name] == ("A2" if name in got_a else "B") for name in names[1:])
    assert await b.acquire_many(names, "B", ttl=30) == got_b  # its own: renewed, none new
    assert await a.acquire_many([], "A", ttl=30) == set()


async def test_every_connection_lets_the_server_find_a_dead_peer_within_seconds(stores):
    """An instance whose machine dies sends no FIN: the server must drop its sessions (its
    users' advisory locks, its row locks) by keepalive, not after the kernel's two hours."""
    a, _ = stores
    names = ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
    for engine in (a.storage.engine, a._locks):  # the storage's pool and the users' locks
        async with engine.connect() as connection:
            idle, interval, count = [
                int(str((await connection.exec_driver_sql(f"SHOW {n}")).scalar_one()).rstrip("s"))
                for n in names
            ]
        assert idle > 0 and interval > 0 and count > 0
        assert idle + interval * count <= 15


async def test_a_dead_instances_unfinished_updates_are_taken_over_once_in_order(stores):
    """The durable inbox: what an instance accepted and did not finish outlives it. While its
    ``instance:`` lease lives its updates are its own; once it expires one other instance
    takes them (in arrival order), the user's earlier ones alone when asked, never the
    finished ones; the bodies are stored encrypted."""
    a, b = stores
    await a.acquire("instance:dead", "dead", 30)
    await a.acquire("instance:a", "a", 30)  # the live instances
    await a.acquire("instance:b", "b", 30)
    for update_id in (203, 201, 202):
        assert await a.accept_update(update_id, 8, f'{{"update_id": {update_id}}}', "dead")
    assert await a.accept_update(204, 9, '{"update_id": 204}', "dead")
    await a.update_done(202)
    async with a.storage.engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM processed_updates"))).all()
    assert all(b"update_id" not in bytes(row[0] or b"") for row in bodies)
    assert await b.reclaim_updates("b") == []  # its holder is alive
    async with a.storage.engine.begin() as connection:  # it dies: its lease runs out
        await connection.execute(text("UPDATE leases SET expires_at = 0 WHERE holder = 'dead'"))
    earlier = await b.reclaim_updates("b", telegram_id=8, before=203)
    assert earlier == [(201, '{"update_id": 201}')]
    taken = await asyncio.gather(a.reclaim_updates("a"), b.reclaim_updates("b"))
    assert sorted(u for found in taken for u, _ in found) == [203, 204]  # each to one
    assert await b.take_update(201, 8, "b") and not await a.take_update(201, 8, "a")
