"""Many users at once: identical market requests share one upstream call, users are served
concurrently (a slow Deriv reply to one never holds up another), one user's commands run in
order and never interleave."""

from __future__ import annotations

from collections import Counter

from tests.bot.conftest import READ_TRADE

USERS = list(range(1000, 1040))


def count_requests(sim, calls=("ticks", "ticks_history")) -> Counter[str]:
    """Count the simulator's requests per call and symbol (a copy of its handler table)."""
    counts: Counter[str] = Counter()
    handlers = dict(sim.handlers)
    for name in calls:
        handler, needs_auth = handlers[name]

        def counted(session, request, handler=handler, name=name):
            counts[f"{name} {request.args.get(name)}"] += 1
            return handler(session, request)

        handlers[name] = (counted, needs_auth)
    sim.handlers = handlers
    return counts


async def price_for_everyone(bot, users) -> None:
    for user in users:
        bot.api.user_sends("/price r_100", user_id=user)
    for user in users:
        reply = await bot.api.next_bot_message(chat_id=user, timeout=10)
        assert reply["text"].startswith("R_100 "), reply["text"]


async def test_identical_prices_share_one_upstream_request_in_both_modes(start_bot):
    personal = await start_bot(allowed=tuple(USERS))
    counts = count_requests(personal.sim)
    await price_for_everyone(personal, USERS)
    assert counts["ticks R_100"] + counts["ticks_history R_100"] == 1

    multi = await start_bot(mode="multi-user", allowed=(), no_send_limit=True)
    assert type(multi.app.bot.rate_limiter).__name__ == "InFlightLimiter"
    counts = count_requests(multi.sim)
    await price_for_everyone(multi, USERS)
    await price_for_everyone(multi, USERS[:5])  # later: answered from the live stream
    assert counts["ticks R_100"] + counts["ticks_history R_100"] == 1
    assert multi.rt.market.coalescer.joined > 0


async def test_a_slow_reply_to_one_user_holds_up_nobody_else(start_bot):
    slow, quick = 2001, 2002
    bot = await start_bot(
        mode="multi-user",
        allowed=(),
        accounts={"slow-token-01": READ_TRADE, "quick-token-02": READ_TRADE},
    )
    await bot.connect(slow, "slow-token-01")
    await bot.connect(quick, "quick-token-02")
    await bot.send("/price R_100", user_id=quick)  # warm the price stream
    bot.sim.faults.token_delay["slow-token-01"] = 1.5
    bot.api.user_sends("/balance", user_id=slow)
    bot.api.user_sends("/account", user_id=slow)  # needs no Deriv call, but waits its turn
    bot.api.user_sends("/balance", user_id=quick)
    bot.api.user_sends("/price R_100", user_id=quick)
    order = []
    for _ in range(4):
        message = await bot.api.next_bot_message(timeout=10)
        order.append((message["chat_id"], message["text"].split()[0]))
    assert order[:2] == [(quick, "💰"), (quick, "R_100")]
    assert order[2:] == [(slow, "💰"), (slow, "Connected:")]  # in the order they were sent


async def test_one_users_commands_never_interleave(start_bot):
    bot = await start_bot(mode="multi-user", allowed=(), accounts={"order-token-01": READ_TRADE})
    user = 3001
    await bot.connect(user, "order-token-01")
    bot.sim.faults.token_delay["order-token-01"] = 0.2
    commands = ["/balance", "/whoami", "/balance", "/account", "/status", "/whoami"]
    for command in commands:
        bot.api.user_sends(command, user_id=user)
    firsts = []
    for _ in commands:
        firsts.append((await bot.api.next_bot_message(chat_id=user, timeout=10))["text"].split()[0])
    assert firsts == ["💰", "Your", "💰", "Connected:", "Status", "Your"]
