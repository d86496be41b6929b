"""Bot fleet: updates per second handled by 1 and by 3 instances, and the takeover time after a
kill (run by hand; needs PostgreSQL's binaries, as the tests do).

One throwaway PostgreSQL cluster, the simulator and the fake Bot API (webhooks round-robin) in
this driver; ``derivkit bot run`` processes in webhook mode. The same work for each fleet size,
in one run: both fleets run at once, U users connected to each (unmeasured), then R rounds
in which every user sends ``/balance``, alternating between the fleets so both see the same
machine load; a round's rate = U / the time from its first update queued to its last answer.
Then, on a fresh fleet of 3 (one per kill) with every user holding an open contract, the
instance holding the most leases is SIGKILLed; takeover = the time until every lease it held
is held by another.

    .venv/bin/python benchmarks/bot_fleet.py [--users 60] [--rounds 5] [--kills 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from derivkit.sim import RateLimits, Simulator  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402
from tests.fleetprocs import buy_and_confirm, start_instances  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


async def answered(api, users, marks, expect, timeout=120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if all(
            any(m.from_bot and expect in (m.text or "") for m in api.transcript(u)[marks[u] :])
            for u in users
        ):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(expect)
        await asyncio.sleep(0.005)


async def burst(api, users, command, expect) -> float:
    marks = {u: len(api.transcript(u)) for u in users}
    start = time.monotonic()
    for u in users:
        api.user_sends(command(u), user_id=u)
    await answered(api, users, marks, expect)
    return time.monotonic() - start


@contextlib.asynccontextmanager
async def fleet(server, size: int, users: list[int]):
    """``size`` running instances on a fresh database, every user connected: (api, sim, bots,
    database URL)."""
    url = await server.create_database(f"bench_{size}_{time.time_ns()}")
    home = Path(tempfile.mkdtemp(prefix="derivkit-fleet-"))
    async with (
        Simulator(seed=3, speed=4, rate_limits=RateLimits.unlimited()) as sim,
        FakeTelegramAPI(token=BOT_TOKEN) as api,
    ):
        for u in users:
            sim.add_account(f"bench-token-{u}", scopes=("read", "trade"))
        bots = await start_instances(
            size,
            endpoint=sim.url,
            api_url=api.base_url,
            bot_token=BOT_TOKEN,
            database=url,
            storage_key=Fernet.generate_key().decode(),
            home=home,
        )
        try:
            api.balance([b.webhook for b in bots])
            await burst(api, users, lambda u: f"/connect bench-token-{u}", "Connected")
            yield api, sim, bots, url
        finally:
            for bot in bots:
                await bot.stop()


async def takeover(api, sim, bots, users, url) -> float:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        marks = {u: len(api.transcript(u)) for u in users}
        await buy_and_confirm(api, users, "/buy R_100 CALL 1 5m")
        await answered(api, users, marks, "Bought contract")

        async def leases() -> dict[str, str]:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT name, holder FROM leases WHERE name LIKE 'account:%' "
                        "AND expires_at >= EXTRACT(EPOCH FROM clock_timestamp())"
                    )
                )
                return {r[0]: r[1] for r in rows}

        while len(await leases()) < len(users):  # noqa: ASYNC110 (polling the database)
            await asyncio.sleep(0.1)
        held = await leases()
        victim_name = Counter(held.values()).most_common(1)[0][0]
        victim = next(b for b in bots if b.name == victim_name)
        lost = {n for n, h in held.items() if h == victim_name}
        victim.kill()
        killed = time.monotonic()
        api.balance([b.webhook for b in bots if b is not victim])
        while True:
            now = await leases()
            if all(now.get(n) not in (None, victim_name) for n in lost):
                return time.monotonic() - killed
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=1, help="takeovers measured (3 instances)")
    args = parser.parse_args()
    users = [80_000 + n for n in range(args.users)]
    before = os.getloadavg()
    rates: dict[int, list[float]] = {1: [], 3: []}
    takeovers = []
    with PostgresServer() as server:
        async with fleet(server, 1, users) as one, fleet(server, 3, users) as three:
            # the same rounds, alternating between the fleets: both see the same machine load
            for _ in range(args.rounds):
                for size, (api, *_rest) in ((1, one), (3, three)):
                    seconds = await burst(api, users, lambda u: "/balance", "USD")
                    rates[size].append(len(users) / seconds)
        for _ in range(args.kills):
            async with fleet(server, 3, users) as (api, sim, bots, url):
                takeovers.append(await takeover(api, sim, bots, users, url))
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average (1, 5, 15 min) before: {before}, after: {os.getloadavg()}")
    for size, per_round in rates.items():
        shown = ", ".join(f"{r:.0f}" for r in per_round)
        print(f"{size} instance(s): median {statistics.median(per_round):.1f} updates/s ({shown})")
    ratios = [three / one for one, three in zip(rates[1], rates[3], strict=True)]
    print(f"3 vs 1: median of the rounds' ratios {statistics.median(ratios):.2f}x")
    print("takeover after SIGKILL (s): " + ", ".join(f"{t:.1f}" for t in takeovers))


if __name__ == "__main__":
    asyncio.run(main())
