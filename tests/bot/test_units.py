"""The bot's pure parts: pending orders, flood limits, redaction, message splitting, settings."""

from __future__ import annotations

import logging

import pytest

from derivkit.bot.errors import BUY, CANCELLATION, SALE, UPDATE, sending_failed
from derivkit.bot.limits import UserRateLimits
from derivkit.bot.logsafety import REDACTED, RedactingFilter, redact
from derivkit.bot.orders import PendingOrders
from derivkit.bot.render import MAX_MESSAGE, pre_chunks
from derivkit.bot.risk import day_start, loss_refusal
from derivkit.core import (
    APIError,
    ConnectionLost,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
    UsageError,
)
from derivkit.settings import resolve_bot_settings
from derivkit.tokenstore import TokenStore

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def new_order(orders: PendingOrders, user_id: int = 7):
    return orders.add("buy", user_id=user_id, chat_id=7, summary="CALL R_100", price=10.0)


def test_an_order_is_taken_once_by_its_owner_only():
    orders = PendingOrders(ttl=30, clock=Clock())
    order = new_order(orders)
    assert orders.take(order.nonce, user_id=8) is None  # someone else's tap
    assert orders.get(order.nonce, user_id=7) is order  # still pending
    assert orders.take(order.nonce, user_id=7) is order
    assert orders.take(order.nonce, user_id=7) is None  # double tap
    assert orders.take("forged-nonce", user_id=7) is None
    assert len(orders) == 0


def test_an_expired_order_cannot_be_taken_and_is_left_for_expire():
    clock = Clock()
    orders = PendingOrders(ttl=30, clock=clock)
    order = new_order(orders)
    clock.now += 30
    assert orders.take(order.nonce, user_id=7) is None
    assert orders.expire(order.nonce) is order
    assert orders.expire(order.nonce) is None


def test_nonces_are_unique_and_fit_in_callback_data():
    orders = PendingOrders(clock=Clock())
    nonces = {new_order(orders).nonce for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(len(f"ok:{nonce}".encode()) <= 64 for nonce in nonces)


def test_flood_limits_refill_with_time():
    clock = Clock()
    limits = UserRateLimits(per_minute=3, trade_gap=2.0, clock=clock)
    assert [limits.allow_update(1) for _ in range(4)] == [True, True, True, False]
    assert limits.allow_update(2)  # another user has their own bucket
    clock.now += 20  # 3 per minute: one more after 20 s
    assert limits.allow_update(1)
    assert not limits.allow_update(1)
    assert limits.allow_trade(1)
    assert not limits.allow_trade(1)
    clock.now += 2
    assert limits.allow_trade(1)


def test_redact_masks_known_secrets_and_anything_shaped_like_a_bot_token():
    text = f"POST https://api.telegram.org/bot{BOT_TOKEN}/getMe with deriv-secret-1"
    masked = redact(text, ["deriv-secret-1"])
    assert BOT_TOKEN not in masked and "deriv-secret-1" not in masked
    assert masked.count(REDACTED) == 2
    assert redact("price 1234.56 at 12:30", []) == "price 1234.56 at 12:30"


def test_the_filter_masks_arguments_and_tracebacks():
    record_filter = RedactingFilter(["deriv-secret-1"])
    try:
        raise RuntimeError(f"failed: https://api.telegram.org/bot{BOT_TOKEN}/getUpdates")
    except RuntimeError as error:
        record = logging.LogRecord(
            "telegram", logging.ERROR, __file__, 1, "token %s", ("deriv-secret-1",), None
        )
        record.exc_info = (type(error), error, error.__traceback__)
    assert record_filter.filter(record)
    formatted = logging.Formatter().format(record)
    assert "deriv-secret-1" not in formatted and BOT_TOKEN not in formatted
    assert "RuntimeError" in formatted


def test_pre_chunks_split_between_lines_under_the_limit():
    lines = [f"{n:05d} " + "x" * 90 for n in range(200)]
    chunks = pre_chunks(lines)
    assert len(chunks) > 1
    assert all(len(chunk) <= MAX_MESSAGE for chunk in chunks)
    assert all(chunk.startswith("<pre>") and chunk.endswith("</pre>") for chunk in chunks)
    joined = "\n".join(chunk.removeprefix("<pre>").removesuffix("</pre>") for chunk in chunks)
    assert joined.split("\n") == lines
    assert pre_chunks(["a < b & c"]) == ["<pre>a &lt; b &amp; c</pre>"]


def test_bot_settings_deny_by_default(tmp_path):
    settings = resolve_bot_settings(environ={}, directory=tmp_path)
    assert settings.allowed_users == frozenset()
    assert not settings.trading and not settings.real_money
    assert settings.token is None


def test_bot_settings_precedence_and_merged_allowlist(tmp_path):
    (tmp_path / "config.toml").write_text(
        'bot_allowed_users = "1, 2"\nbot_trading = "true"\nbot_max_stake = "20"\n'
    )
    environ = {"DERIVKIT_BOT_ALLOWED_USERS": "3", "DERIVKIT_BOT_MAX_STAKE": "15"}
    settings = resolve_bot_settings(
        allowed_users=[4], max_stake=5, environ=environ, directory=tmp_path
    )
    assert settings.allowed_users == {1, 2, 3, 4}
    assert settings.trading is True  # from the config file
    assert settings.max_stake == 5  # flag over environment over config
    assert resolve_bot_settings(environ=environ, directory=tmp_path).max_stake == 15


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DERIVKIT_BOT_ALLOWED_USERS": "12,alice"}, "whole numbers"),
        ({"DERIVKIT_BOT_ALLOWED_USERS": "-5"}, "positive"),
        ({"DERIVKIT_BOT_MAX_STAKE": "lots"}, "number"),
        ({"DERIVKIT_BOT_MAX_STAKE": "0"}, "positive"),
        ({"DERIVKIT_BOT_TRADING": "maybe"}, "true or false"),
    ],
)
def test_bad_bot_settings_name_their_source(tmp_path, environ, message):
    with pytest.raises(UsageError, match=message) as caught:
        resolve_bot_settings(environ=environ, directory=tmp_path)
    assert "DERIVKIT_BOT_" in str(caught.value)


def test_the_bot_token_never_shows_in_repr(tmp_path):
    settings = resolve_bot_settings(environ={"DERIVKIT_BOT_TOKEN": BOT_TOKEN}, directory=tmp_path)
    assert settings.token == BOT_TOKEN
    assert BOT_TOKEN not in repr(settings)


def test_the_bot_token_store_encrypts_and_checks_the_shape(tmp_path, monkeypatch):
    monkeypatch.setenv("DERIVKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DERIVKIT_DATA_DIR", str(tmp_path / "data"))
    store = TokenStore.for_bot()
    with pytest.raises(UsageError, match="BotFather"):
        store.save("not-a-bot-token")
    store.save(BOT_TOKEN)
    assert BOT_TOKEN.encode() not in store.token_path.read_bytes()
    assert store.token_path.stat().st_mode & 0o777 == 0o600
    assert store.load() == BOT_TOKEN
    assert TokenStore.default().load() is None  # the Deriv token's store is another file
    assert store.clear() and store.load() is None


def test_the_day_starts_at_midnight_utc():
    assert day_start(1_764_400_000) == 1_764_374_400  # 2025-11-29 07:06:40 -> 00:00
    assert day_start(1_764_374_400) == 1_764_374_400


def test_the_daily_loss_limit_takes_the_worst_case():
    assert loss_refusal(-5.0, 3.0, 2.0, limit=10.0, currency="USD") is None  # exactly 10
    refusal = loss_refusal(-5.0, 3.0, 2.5, limit=10.0, currency="USD")
    assert refusal is not None and "10.00 USD" in refusal and "-5.00 USD" in refusal
    assert loss_refusal(40.0, 0.0, 9.0, limit=10.0, currency="USD") is None
    assert (
        loss_refusal(40.0, 0.0, 11.0, limit=10.0, currency="USD") is not None
    )  # wins don't lift it


def test_bot_limits_resolve_and_validate(tmp_path):
    environ = {"DERIVKIT_BOT_MAX_OPEN": "3", "DERIVKIT_BOT_DAILY_LOSS": "40"}
    settings = resolve_bot_settings(environ=environ, directory=tmp_path)
    assert settings.max_open == 3 and settings.daily_loss == 40
    assert resolve_bot_settings(max_open=2, environ=environ, directory=tmp_path).max_open == 2
    defaults = resolve_bot_settings(environ={}, directory=tmp_path)
    assert defaults.max_open == 5 and defaults.daily_loss is None
    with pytest.raises(UsageError, match="DERIVKIT_BOT_MAX_OPEN must be a whole number"):
        resolve_bot_settings(environ={"DERIVKIT_BOT_MAX_OPEN": "2.5"}, directory=tmp_path)
    with pytest.raises(UsageError, match="--max-open must be positive"):
        resolve_bot_settings(max_open=0, environ={}, directory=tmp_path)


def test_a_self_hosted_servers_file_url_follows_its_method_url():
    from derivkit.bot.app import file_url

    assert file_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_url("https://tg.example/api/bot/") == "https://tg.example/api/file/bot"


@pytest.mark.parametrize("sending", [BUY, SALE, UPDATE, CANCELLATION])
def test_a_failed_money_moving_action_is_told_one_of_three_ways(sending):
    refused = sending_failed(APIError("ContractSold", "The contract <is> sold."), sending)
    assert refused == f"❌ {sending.not_done}: The contract &lt;is&gt; sold."
    unsent = sending_failed(ConnectionLost("no connection"), sending)
    assert unsent.startswith(f"❌ {sending.not_done}: ") and "Nothing was sent" in unsent
    for error in (
        OutcomeUnknown("lost"),
        RequestTimeout("late"),
        ProtocolError("unexpected shape of a 'buy' reply"),
    ):
        unknown = sending_failed(error, sending)
        assert unknown.startswith("⚠️ ") and "may or may not have happened" in unknown
        assert sending.what in unknown and "Nothing was re-sent" in unknown
        assert "/portfolio" in unknown and "/statement" in unknown  # where to look meanwhile
        assert sending.not_done not in unknown  # never told as not done
