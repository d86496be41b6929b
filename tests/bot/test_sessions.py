"""Spreading new connections: the schedule's slots, the core's reconnect backoff behind it, and
sessions coming back (with a notice for who asked for one) after Deriv drops every link."""

from __future__ import annotations

import itertools

from derivkit.bot.sessions import ConnectSchedule, StaggeredRetry
from tests.bot.conftest import READ_TRADE, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_schedule_gives_each_connection_its_own_slot():
    clock = Clock()
    schedule = ConnectSchedule(10, clock=clock, rng=lambda: 0.5)
    waits = [schedule.reserve() for _ in range(30)]  # thirty at the same instant
    assert all(abs(wait - (0.05 + 0.1 * n)) < 1e-9 for n, wait in enumerate(waits))
    clock.now += 10  # long after: the next one goes at once (plus its jitter)
    assert abs(schedule.reserve() - 0.05) < 1e-9


def test_reconnects_after_an_outage_wait_for_their_slot():
    clock = Clock()
    schedule = ConnectSchedule(5, clock=clock, rng=lambda: 0.0)
    retries = [StaggeredRetry(reconnect_initial=0.2, schedule=schedule) for _ in range(20)]
    first = [next(iter(retry.reconnect_delays())) for retry in retries]  # all dropped at once
    assert max(first) >= (20 - 1) / 5  # the last one waits almost four seconds
    per_second = [sum(1 for wait in first if second <= wait < second + 1) for second in range(4)]
    assert all(count <= 5 for count in per_second), per_second
    later = list(itertools.islice(retries[0].reconnect_delays(), 3))
    assert later[1] >= 0.2  # still the core's own backoff when that is longer


async def test_sessions_come_back_after_deriv_drops_every_link_and_say_so(start_bot):
    tokens = {f"outage-token-{n:02d}": READ_TRADE for n in range(6)}
    bot = await start_bot(mode="multi-user", allowed=(), accounts=tokens, connect_rate=50)
    users = list(range(4000, 4000 + len(tokens)))
    for user, token in zip(users, tokens, strict=True):
        assert "✅ Connected" in (await bot.connect(user, token))["text"]
    notified = users[0]
    await bot.send("/notify connection on", user_id=notified)
    assert bot.sim.faults.drop_connections() >= len(users)
    lost = await bot.api.next_bot_message(chat_id=notified, timeout=10)
    assert lost["text"].startswith("📡 Lost the connection to your Deriv account")
    back = await bot.api.next_bot_message(chat_id=notified, timeout=15)
    assert back["text"] == "📡 Connected to your Deriv account again."
    await wait_until(
        lambda: all(s.client.state == "connected" for s in bot.rt.sessions.sessions()), 15
    )
    for user in users:
        assert "10,000.00 USD" in (await bot.send("/balance", user_id=user))["text"]
    quiet = [c for c in bot.api.outbox("sendMessage") if c.params["chat_id"] == users[1]]
    assert not any("📡" in c.params["text"] for c in quiet)  # connection notices are opt-in
