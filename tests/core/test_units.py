"""Small pure pieces of the core: errors, masking, backoff, rate limiter, models."""

from __future__ import annotations

import itertools
import random

import pytest

from derivkit.core import (
    APIError,
    AuthError,
    Candle,
    ConnectionLost,
    DerivError,
    InvalidToken,
    OutcomeUnknown,
    RateLimit,
    RequestTimeout,
    Tick,
)
from derivkit.core.backoff import backoff_delays
from derivkit.core.exceptions import api_error_from_reply
from derivkit.core.models import (
    ActiveSymbol,
    Balance,
    ContractSpec,
    History,
    OpenContract,
    PortfolioContract,
    Proposal,
    Transaction,
)
from derivkit.core.ratelimit import RateLimiter
from derivkit.core.secrets import mask_secrets, mask_token


def test_error_codes_map_to_classes_and_say_whether_to_retry():
    def error(code: str) -> APIError:
        return api_error_from_reply({"msg_type": "x", "error": {"code": code, "message": "m"}})

    assert isinstance(error("InvalidToken"), InvalidToken)
    assert isinstance(error("InvalidToken"), AuthError)
    assert isinstance(error("RateLimit"), RateLimit) and error("RateLimit").retryable
    assert not error("InsufficientBalance").retryable
    assert error("WrongResponse").retryable and isinstance(error("WrongResponse"), APIError)
    unknown = error("SomethingNew")
    assert type(unknown) is APIError and unknown.code == "SomethingNew"
    assert not OutcomeUnknown("x").retryable and ConnectionLost("x").retryable
    assert isinstance(RequestTimeout("x"), TimeoutError)
    assert isinstance(ConnectionLost("x"), ConnectionError)
    assert all(issubclass(c, DerivError) for c in (APIError, ConnectionLost, RequestTimeout))


def test_api_error_carries_details_and_a_masked_request():
    reply = {
        "msg_type": "proposal",
        "req_id": 3,
        "error": {"code": "InputValidationFailed", "message": "bad", "details": {"amount": "no"}},
    }
    error = api_error_from_reply(reply, {"proposal": 1, "tokens": ["t1", "t2"]})
    assert error.details == {"amount": "no"} and error.req_id == 3
    assert error.request == {"proposal": 1, "tokens": "<not shown>"}


def test_masking_reaches_nested_fields_and_leaves_the_original_alone():
    request = {"authorize": "tok", "parameters": {"password": "p", "x": [{"token": "t"}]}}
    masked = mask_secrets(request)
    assert masked == {
        "authorize": "<not shown>",
        "parameters": {"password": "<not shown>", "x": [{"token": "<not shown>"}]},
    }
    assert request["authorize"] == "tok"
    assert mask_token("abcdefghijkl") == "****ijkl" and mask_token("short") == "****"


def test_backoff_grows_to_its_cap_with_jitter():
    delays = list(itertools.islice(backoff_delays(1, 8, jitter=0.5, rng=random.Random(1)), 8))
    assert all(0.5 <= d <= 1 for d in delays[:1])
    assert all(4 <= d <= 8 for d in delays[4:])
    assert len(set(delays)) == len(delays)


def test_rate_limiter_waits_for_the_oldest_call_to_leave_the_window():
    limiter = RateLimiter()
    assert limiter.delay("balance", 0.0) == 0  # no limits known yet
    limiter.configure(
        {
            "max_requestes_general": {"minutely": 2, "hourly": 100},
            "max_requests_outcome": {"minutely": 1, "hourly": 10},
        }
    )
    limiter.record("statement", 0.0)
    assert limiter.delay("statement", 1.0) == pytest.approx(59.0)
    assert limiter.delay("balance", 1.0) == 0
    limiter.record("balance", 1.0)
    assert limiter.delay("balance", 2.0) == pytest.approx(58.0)
    assert limiter.delay("ping", 2.0) == 0
    assert limiter.delay("balance", 60.5) == 0


def test_models_tolerate_unknown_fields_and_convert_string_numbers():
    tick = Tick.from_dict({"symbol": "R_100", "quote": 1.5, "epoch": 2, "new_field": 1})
    assert tick.quote == 1.5 and tick.raw["new_field"] == 1
    ohlc = {"open_time": 60, "epoch": 61, "open": "1.0", "high": "3", "low": 0.5, "close": "2.5"}
    candle = Candle.from_ohlc(ohlc)
    assert candle.epoch == 60 and candle.close == 2.5 and candle.open == 1.0 and candle.high == 3
    assert ActiveSymbol.from_dict({"symbol": "R_10", "pip": 0.001}).pip_size == 3
    assert ActiveSymbol.from_dict({"symbol": "R_100", "pip": 0.01}).pip_size == 2
    contract = OpenContract.from_dict({"contract_id": 1, "profit": "1.25", "bid_price": None})
    assert contract.profit == 1.25 and contract.bid_price is None


def test_contract_spec_parameters_leave_out_unset_barriers():
    spec = ContractSpec("CALL", "R_100", amount=10, duration=5)
    assert "barrier" not in spec.parameters()
    with_barrier = ContractSpec("DIGITMATCH", "R_10", 1, 1, barrier="5").parameters()
    assert with_barrier["barrier"] == "5" and with_barrier["duration_unit"] == "t"


def test_codec_round_trips_and_falls_back_for_what_orjson_refuses():
    from derivkit.core.codec import decode, encode

    message = {"ticks": "R_100", "passthrough": {"n": 1, "text": "é"}}
    assert decode(encode(message)) == message
    assert decode(encode({"big": 2**70})) == {"big": 2**70}  # beyond 64 bits: stdlib fallback
    assert decode('{"a": 1}') == {"a": 1}
    with pytest.raises(ValueError):
        decode(b"not json {")


def test_rate_limiter_keeps_its_counts_when_limits_are_announced_again():
    limiter = RateLimiter()
    limits = {"max_requestes_general": {"minutely": 1, "hourly": 10}}
    limiter.configure(limits)
    limiter.record("balance", 0.0)
    limiter.configure(limits)
    assert limiter.delay("balance", 1.0) == pytest.approx(59.0)


@pytest.mark.parametrize(
    ("model", "payload", "problem"),
    [
        (Tick, {"symbol": "R_100", "epoch": "1700000000", "quote": 1.5}, "Tick.epoch"),
        (Tick, {"symbol": "R_100", "epoch": 1700000000, "quote": "abc"}, "Tick.quote"),
        (Tick, {"symbol": "R_100", "epoch": 1700000000}, "Tick.quote is missing"),
        (Tick, {"symbol": ["R_100"], "epoch": 1, "quote": 1.0}, "Tick.symbol"),
        (Tick, {"symbol": "R_100", "epoch": 1, "quote": True}, "Tick.quote"),
        (Tick, {"symbol": "R_100", "epoch": 1, "quote": "nan"}, "Tick.quote"),
        (Candle, {"epoch": 60, "open": 1, "high": 2, "low": 0, "close": {}}, "Candle.close"),
        (ActiveSymbol, {"symbol": "R_10", "pip": "x"}, "pip"),
        (ActiveSymbol, {"underlying_symbol": "R_10", "pip_size": 2.5}, "pip_size"),
        (OpenContract, {"contract_id": "12x", "profit": 1}, "OpenContract.contract_id"),
        (OpenContract, {"contract_id": 1, "profit": "1,25"}, "OpenContract.profit"),
        (Proposal, {"ask_price": 10}, "Proposal.id is missing"),
        (Proposal, {"id": "p1", "contract_details": []}, "Proposal.contract_details"),
        (Proposal, {"id": "p1", "limit_order": {"stop_out": {"order_amount": "-x"}}}, "stop_out"),
        (History, {"prices": [1.0, "x"], "times": [1, 2]}, "could not convert"),
        (History, {"prices": [1.0], "times": ["1"]}, "integer"),
    ],
)
def test_a_field_of_the_wrong_type_is_never_a_silently_wrong_value(model, payload, problem):
    with pytest.raises((TypeError, ValueError), match=problem):
        model.from_dict(payload)


def test_a_malformed_field_in_a_reply_or_stream_is_a_protocol_error():
    from derivkit.core.exceptions import ProtocolError
    from derivkit.core.shapes import one, payload_parser

    with pytest.raises(ProtocolError, match="Balance.balance"):
        one({"msg_type": "balance", "balance": {"balance": "lots"}}, Balance, "balance")
    parse = payload_parser(Tick, "tick")
    with pytest.raises(ProtocolError, match="Tick.epoch"):
        parse({"msg_type": "tick", "tick": {"symbol": "R_1", "epoch": "soon", "quote": 1}})
    ok = parse({"msg_type": "tick", "tick": {"symbol": "R_1", "epoch": 5, "quote": "1.25"}})
    assert ok[0].quote == 1.25


def test_the_new_api_names_are_read_as_the_legacy_ones():
    legacy = ActiveSymbol.from_dict({"symbol": "R_10", "display_name": "V10", "pip": 0.001})
    new = ActiveSymbol.from_dict(
        {"underlying_symbol": "R_10", "underlying_symbol_name": "V10", "pip_size": 3}
    )
    assert (new.symbol, new.display_name, new.pip_size) == ("R_10", "V10", 3)
    assert (legacy.symbol, legacy.display_name, legacy.pip_size) == ("R_10", "V10", 3)
    assert ActiveSymbol.from_dict({"underlying_symbol": "R_50", "pip_size": 0.0001}).pip_size == 4
    assert PortfolioContract.from_dict({"underlying_symbol": "R_25"}).symbol == "R_25"
    assert Transaction.from_dict({"action": "buy", "underlying_symbol": "R_25"}).symbol == "R_25"
    assert OpenContract.from_dict({"underlying_symbol": "R_25"}).underlying == "R_25"
    assert Tick.from_dict({"underlying_symbol": "R_25", "epoch": 1, "quote": 2}).symbol == "R_25"
    proposal = Proposal.from_dict({"id": "p", "ask_price": "10.50", "payout": "20.00"})
    assert (proposal.ask_price, proposal.payout) == (10.5, 20.0)
