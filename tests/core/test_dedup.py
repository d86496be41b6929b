"""No stream reader is given the same message twice after a reconnect; new ones always pass."""

from __future__ import annotations

from typing import Any

from derivkit.core.protocol import Consumer, Multiplexer


def drain(consumer: Consumer) -> list[dict[str, Any]]:
    out = []
    while (message := consumer.pop()) is not None:
        out.append(message)
    return out


def opened(payload: dict[str, Any], first: dict[str, Any]) -> tuple[Multiplexer, Consumer, str]:
    """A multiplexer with one live stream of ``payload`` whose first message was ``first``."""
    mux = Multiplexer()
    consumer, frame = mux.open_stream(payload)
    assert frame is not None
    mux.receive({**first, "req_id": frame["req_id"], "subscription": {"id": "s" * 32}})
    return mux, consumer, "s" * 32


def reissued(mux: Multiplexer, message: dict[str, Any], sub_id: str = "t" * 32) -> None:
    """A reconnect: the stream is re-sent and its new first message arrives."""
    mux.connection_lost()
    frames = mux.resume()
    mux.receive({**message, "req_id": frames[-1]["req_id"], "subscription": {"id": sub_id}})


def live(mux: Multiplexer, sub_id: str, message: dict[str, Any]) -> None:
    mux.receive({**message, "subscription": {"id": sub_id}})


def tick(epoch: int, quote: float = 1.0, symbol: str = "R_100") -> dict[str, Any]:
    return {"msg_type": "tick", "tick": {"symbol": symbol, "epoch": epoch, "quote": quote}}


def test_a_repeated_tick_is_left_out_and_a_later_one_passes():
    mux, consumer, _ = opened({"ticks": "R_100"}, tick(10))
    reissued(mux, tick(10))
    assert [m["tick"]["epoch"] for m in drain(consumer)] == [10]
    assert consumer.duplicates == 1
    live(mux, "t" * 32, tick(11))
    live(mux, "t" * 32, tick(11))  # the same tick twice on a live stream: a repeat too
    live(mux, "t" * 32, tick(9))  # an older tick is not news either
    assert [m["tick"]["epoch"] for m in drain(consumer)] == [11]


def test_after_a_longer_gap_the_first_tick_is_new():
    mux, consumer, _ = opened({"ticks": "R_100"}, tick(10))
    reissued(mux, tick(14, 2.5))
    assert [m["tick"]["quote"] for m in drain(consumer)] == [1.0, 2.5]
    assert consumer.duplicates == 0 and consumer.gaps == 1


def test_a_reader_joining_a_live_stream_is_prefilled_and_then_deduplicated():
    mux, first, sub_id = opened({"ticks": "R_100"}, tick(10))
    joined, frame = mux.open_stream({"ticks": "R_100"})
    assert frame is None
    assert [m["tick"]["epoch"] for m in drain(joined)] == [10]  # the snapshot
    reissued(mux, tick(10))
    live(mux, "t" * 32, tick(11))
    assert [m["tick"]["epoch"] for m in drain(joined)] == [11]
    assert [m["tick"]["epoch"] for m in drain(first)] == [10, 11]


def test_a_reader_joining_while_the_stream_is_reissued_gets_the_first_message():
    mux, first, _ = opened({"ticks": "R_100"}, tick(10))
    drain(first)
    mux.connection_lost()
    frames = mux.resume()
    joined, frame = mux.open_stream({"ticks": "R_100"})  # the stream is opening: no snapshot
    assert frame is None and joined.pending == 0
    mux.receive({**tick(10), "req_id": frames[-1]["req_id"], "subscription": {"id": "t" * 32}})
    assert drain(first) == [] and len(drain(joined)) == 1


def ohlc(epoch: int, open_time: int, close: float) -> dict[str, Any]:
    body = {"symbol": "R_50", "granularity": 60, "epoch": epoch, "open_time": open_time}
    return {"msg_type": "ohlc", "ohlc": {**body, "open": 1, "close": close}}


def candles(*epochs: int) -> dict[str, Any]:
    return {"msg_type": "candles", "candles": [{"epoch": e, "close": e / 10} for e in epochs]}


CANDLES = {"ticks_history": "R_50", "end": "latest", "style": "candles", "granularity": 60}


def test_a_candle_stream_after_a_reconnect_repeats_no_candle_and_no_update():
    mux, consumer, sub_id = opened(CANDLES, candles(0, 60, 120))
    live(mux, sub_id, ohlc(130, 120, 1.5))
    live(mux, sub_id, ohlc(132, 120, 1.7))
    assert len(drain(consumer)) == 3
    reissued(mux, candles(60, 120, 180))  # history again: 120 is the forming candle, 180 new
    live(mux, "t" * 32, ohlc(132, 120, 1.7))  # the update already seen
    live(mux, "t" * 32, ohlc(181, 180, 2.0))
    history, update = drain(consumer)
    assert [c["epoch"] for c in history["candles"]] == [120, 180]
    assert update["ohlc"]["epoch"] == 181


def test_a_candle_history_with_nothing_new_is_left_out():
    mux, consumer, _ = opened(CANDLES, candles(0, 60))
    drain(consumer)
    live(mux, "s" * 32, ohlc(125, 120, 1.0))
    drain(consumer)
    reissued(mux, candles(0, 60))  # older than the candle the reader is on
    assert drain(consumer) == []


def history(*times: int) -> dict[str, Any]:
    return {"msg_type": "history", "history": {"times": list(times), "prices": list(times)}}


def test_a_tick_history_after_a_reconnect_is_trimmed_to_the_new_ticks():
    payload = {"ticks_history": "R_10", "end": "latest", "count": 3}
    mux, consumer, sub_id = opened(payload, history(1, 2, 3))
    live(mux, sub_id, tick(4, symbol="R_10"))
    assert len(drain(consumer)) == 2
    reissued(mux, history(3, 4, 5, 6))
    live(mux, "t" * 32, tick(6, symbol="R_10"))
    live(mux, "t" * 32, tick(7, symbol="R_10"))
    trimmed, later = drain(consumer)
    assert trimmed["history"] == {"times": [5, 6], "prices": [5, 6]}
    assert later["tick"]["epoch"] == 7


def poc(contract_id: int, spot: float, sold: int = 0) -> dict[str, Any]:
    body = {"contract_id": contract_id, "current_spot": spot, "is_sold": sold, "id": "x"}
    return {"msg_type": "proposal_open_contract", "proposal_open_contract": body}


def test_an_open_contract_state_is_not_repeated_but_a_changed_one_passes():
    mux, consumer, _ = opened({"proposal_open_contract": 1, "contract_id": 7}, poc(7, 1.0))
    reissued(mux, poc(7, 1.0))  # same state, new subscription id inside: a repeat
    live(mux, "t" * 32, poc(7, 1.1))
    live(mux, "t" * 32, poc(7, 1.0))  # back to an earlier spot: a new state all the same
    assert [m["proposal_open_contract"]["current_spot"] for m in drain(consumer)] == [
        1.0,
        1.1,
        1.0,
    ]


def test_the_all_contracts_stream_tells_contracts_apart():
    mux, consumer, sub_id = opened({"proposal_open_contract": 1}, poc(7, 1.0))
    live(mux, sub_id, poc(8, 1.0))
    reissued(mux, poc(7, 1.0))
    live(mux, "t" * 32, poc(8, 1.0))
    live(mux, "t" * 32, poc(8, 2.0))
    spots = [
        (m["proposal_open_contract"]["contract_id"], m["proposal_open_contract"]["current_spot"])
        for m in drain(consumer)
    ]
    assert spots == [(7, 1.0), (8, 1.0), (8, 2.0)]


def transaction(transaction_id: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": "s" * 32}
    if transaction_id is not None:
        body.update(transaction_id=transaction_id, action="buy")
    return {"msg_type": "transaction", "transaction": body}


def test_a_transaction_is_delivered_once_and_acks_always():
    mux, consumer, sub_id = opened({"transaction": 1}, transaction(None))
    live(mux, sub_id, transaction(1))
    live(mux, sub_id, transaction(2))
    reissued(mux, transaction(None))
    live(mux, "t" * 32, transaction(2))
    live(mux, "t" * 32, transaction(3))
    ids = [m["transaction"].get("transaction_id") for m in drain(consumer)]
    assert ids == [None, 1, 2, None, 3]


def test_the_balance_is_confirmed_after_a_reconnect():
    balance = {"msg_type": "balance", "balance": {"balance": 10.0, "loginid": "VRTC1"}}
    mux, consumer, _ = opened({"balance": 1, "subscribe": 1}, balance)
    reissued(mux, balance)
    assert len(drain(consumer)) == 2


def test_fields_of_the_wrong_type_carry_no_identity_and_never_raise():
    mux, consumer, sub_id = opened({"ticks": "R_100"}, tick(10))
    odd = [
        {"msg_type": "tick", "tick": {"symbol": ["R_100"], "epoch": 10}},
        {"msg_type": "tick", "tick": {"symbol": "R_100", "epoch": [10]}},
        {"msg_type": "tick", "tick": {"symbol": "R_100", "epoch": True}},
        {"msg_type": "tick", "tick": "R_100"},
        {"msg_type": "ohlc", "ohlc": {"symbol": "R_100", "granularity": [60], "epoch": 1}},
        {"msg_type": "transaction", "transaction": {"transaction_id": {"a": 1}}},
        {"msg_type": "proposal_open_contract", "proposal_open_contract": {"contract_id": [1]}},
        {"msg_type": "candles", "candles": [{"epoch": "x"}]},
        {"msg_type": "history", "history": {"times": [1, 2], "prices": [1]}},
    ]
    for message in odd:
        live(mux, sub_id, message)
    assert len(drain(consumer)) == 1 + len(odd)
