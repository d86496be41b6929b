"""The sans-I/O multiplexer, driven with plain dicts and plain objects as waiters."""

from __future__ import annotations

import pytest

from derivkit.core.exceptions import (
    ConnectionLost,
    InvalidSymbol,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
)
from derivkit.core.protocol import Forget, Multiplexer, Reject, Resolve, Unsolicited, stream_key


def reply(frame: dict, msg_type: str, body: object, sub_id: str | None = None) -> dict:
    message = {"msg_type": msg_type, msg_type: body, "echo_req": frame, "req_id": frame["req_id"]}
    if sub_id:
        message["subscription"] = {"id": sub_id}
    return message


def test_replies_reach_their_own_caller_out_of_order():
    mux = Multiplexer()
    calls = [mux.open_call({"ping": 1}, waiter=f"w{i}") for i in range(3)]
    assert len({call.req_id for call in calls}) == 3
    for call in reversed(calls):
        (action,) = mux.receive(reply(call.payload, "ping", "pong"))
        assert action == Resolve(call.waiter, reply(call.payload, "ping", "pong"))
    assert mux.pending_count == 0


def test_take_reply_takes_only_plain_successful_replies_to_pending_calls():
    """The reader's fast lane: anything it leaves goes through receive(), unchanged."""
    mux = Multiplexer()
    ping = mux.open_call({"ping": 1}, waiter="ping")
    secret = mux.open_call({"authorize": "secret-token"}, waiter="secret")
    failing = mux.open_call({"time": 1}, waiter="failing")
    untyped = mux.open_call({"time": 1}, waiter="untyped")
    refused = [
        reply(secret.payload, "authorize", {}),  # its echo_req must be masked: receive() does
        {**reply(failing.payload, "time", 1), "error": {"code": "X", "message": "no"}},
        {"req_id": untyped.req_id, "time": 1},  # no msg_type: a ProtocolError, by receive()
        {**reply(ping.payload, "ping", "pong"), "req_id": float(ping.req_id)},
        {**reply(ping.payload, "ping", "pong"), "req_id": True},
        {**reply(ping.payload, "ping", "pong"), "req_id": 10_000},
    ]
    for message in refused:
        assert mux.take_reply(message) is None
    assert mux.pending_count == 4
    assert mux.take_reply(reply(ping.payload, "ping", "pong")) == "ping"
    assert mux.pending_count == 3
    assert mux.take_reply(reply(ping.payload, "ping", "pong")) is None  # answered once only


def test_a_pending_call_shows_no_secret():
    mux = Multiplexer()
    call = mux.open_call({"authorize": "secret-token"}, waiter="w")
    assert "secret-token" not in repr(call) + str(call)
    assert "authorize" in repr(call)


def test_error_reply_rejects_with_typed_error_and_masks_the_token():
    mux = Multiplexer()
    call = mux.open_call({"ticks_history": "XYZ", "authorize": "secret-token"}, waiter="w")
    message = {
        "msg_type": "history",
        "req_id": call.req_id,
        "error": {"code": "InvalidSymbol", "message": "Symbol XYZ invalid"},
    }
    (action,) = mux.receive(message)
    assert isinstance(action, Reject) and isinstance(action.error, InvalidSymbol)
    assert action.error.request["authorize"] == "<not shown>"
    assert "secret-token" not in repr(action.error) + str(action.error)


def test_reply_without_msg_type_is_a_protocol_error():
    mux = Multiplexer()
    call = mux.open_call({"time": 1}, waiter="w")
    (action,) = mux.receive({"req_id": call.req_id, "time": 5})
    assert isinstance(action, Reject) and isinstance(action.error, ProtocolError)


def test_unknown_messages_are_reported_not_dropped():
    mux = Multiplexer()
    assert mux.receive({"msg_type": "tick", "req_id": 999}) == [
        Unsolicited({"msg_type": "tick", "req_id": 999})
    ]
    orphan = {"msg_type": "tick", "subscription": {"id": "nope"}}
    assert mux.receive(orphan) == [Unsolicited(orphan)]


def test_cancelled_call_is_removed_and_its_late_reply_dropped_quietly():
    mux = Multiplexer()
    call = mux.open_call({"time": 1}, waiter="w")
    mux.cancel_call(call)
    assert mux.pending_count == 0
    assert mux.receive(reply(call.payload, "time", 1)) == []


def test_stream_key_ignores_key_order_and_volatile_keys():
    a = {"ticks": "R_100", "subscribe": 1, "req_id": 4, "passthrough": {"x": 1}}
    b = {"req_id": 9, "ticks": "R_100"}
    assert stream_key(a) == stream_key(b)
    assert stream_key({"ticks": "R_50"}) != stream_key(b)


def test_identical_subscriptions_share_one_upstream_and_each_sees_the_first_message():
    mux = Multiplexer()
    first, frame = mux.open_stream({"ticks": "R_100"})
    second, none = mux.open_stream({"subscribe": 1, "ticks": "R_100"})
    assert frame is not None and frame["subscribe"] == 1 and none is None
    message = reply(frame, "tick", {"quote": 1.0}, sub_id="s1")
    assert mux.receive(message) == []
    assert first.pop() == message and second.pop() == message
    tick = reply(frame, "tick", {"quote": 2.0}, sub_id="s1")
    mux.receive(tick)
    late, none = mux.open_stream({"ticks": "R_100"})
    assert none is None and late.pop() == tick  # a late consumer starts from the latest snapshot
    assert mux.close_consumer(first) is None
    assert mux.close_consumer(second) is None
    assert mux.close_consumer(late) == "s1"  # last consumer gone: forget upstream
    assert mux.streams == []


def test_failed_subscription_leaves_nothing_cached():
    mux = Multiplexer()
    consumer, frame = mux.open_stream({"ticks": "BAD"})
    error = {"msg_type": "tick", "req_id": frame["req_id"], "error": {"code": "InvalidSymbol"}}
    mux.receive(error)
    assert consumer.ended and isinstance(consumer.error, InvalidSymbol)
    assert mux.streams == []
    _, retry = mux.open_stream({"ticks": "BAD"})
    assert retry is not None and retry["req_id"] != frame["req_id"]


def test_tick_streams_drop_oldest_but_account_streams_never_drop():
    mux = Multiplexer(buffer_size=3)
    ticks, tframe = mux.open_stream({"ticks": "R_100"})
    balance, bframe = mux.open_stream({"balance": 1})
    for n in range(10):
        mux.receive(reply(tframe, "tick", {"n": n}, sub_id="t"))
        mux.receive(reply(bframe, "balance", {"n": n}, sub_id="b"))
    assert ticks.dropped == 7 and ticks.pending == 3
    assert [ticks.pop()["tick"]["n"] for _ in range(3)] == [7, 8, 9]
    assert balance.dropped == 0 and balance.pending == 10


def test_contract_stream_ends_after_is_sold():
    mux = Multiplexer()
    consumer, frame = mux.open_stream({"proposal_open_contract": 1, "contract_id": 7})
    mux.receive(reply(frame, "proposal_open_contract", {"is_sold": 0}, sub_id="c"))
    mux.receive(reply(frame, "proposal_open_contract", {"is_sold": 1}, sub_id="c"))
    assert consumer.pending == 2 and consumer.ended and consumer.error is None
    assert mux.streams == []
    assert mux.close_consumer(consumer) is None  # ended upstream: nothing to forget


def test_stream_abandoned_before_its_first_reply_is_forgotten_when_it_opens():
    mux = Multiplexer()
    consumer, frame = mux.open_stream({"ticks": "R_10"})
    assert mux.close_consumer(consumer) is None
    assert mux.receive(reply(frame, "tick", {}, sub_id="s9")) == [Forget("s9")]
    assert mux.streams == []


def test_connection_lost_keeps_read_only_calls_and_fails_the_rest():
    mux = Multiplexer()
    time_call = mux.open_call({"time": 1}, waiter="time")
    buy_call = mux.open_call({"buy": "p1", "price": 10}, waiter="buy")
    logout = mux.open_call({"logout": 1}, waiter="logout")
    actions = mux.connection_lost()
    errors = {action.waiter: action.error for action in actions if isinstance(action, Reject)}
    assert set(errors) == {"buy", "logout"}
    assert isinstance(errors["buy"], OutcomeUnknown)
    assert "unknown" in str(errors["buy"])
    assert type(errors["logout"]) is ConnectionLost
    frames = mux.resume()
    assert frames == [time_call.payload] and time_call.req_id not in (
        buy_call.req_id,
        logout.req_id,
    )
    (action,) = mux.receive(reply(time_call.payload, "time", 42))
    assert isinstance(action, Resolve) and action.waiter == "time"
    # a call already re-sent once is not re-sent again
    again = mux.open_call({"time": 1}, waiter="t2")
    first_frame = dict(again.payload)
    mux.connection_lost()
    (resent,) = mux.resume()
    assert resent["req_id"] != first_frame["req_id"]
    assert mux.receive(reply(first_frame, "time", 1)) == []  # the old req_id is retired
    (action,) = mux.connection_lost()  # re-sent once already: not kept a second time
    assert isinstance(action, Reject) and action.waiter == "t2"
    assert isinstance(action.error, ConnectionLost)


def test_streams_are_reissued_after_reconnect_onto_the_same_consumer():
    mux = Multiplexer()
    consumer, frame = mux.open_stream({"ticks": "R_100"})
    mux.receive(reply(frame, "tick", {"n": 1}, sub_id="old"))
    consumer.pop()
    mux.connection_lost()
    assert consumer.gaps == 1 and not consumer.ended
    (new_frame,) = mux.resume()
    assert new_frame["ticks"] == "R_100" and new_frame["req_id"] != frame["req_id"]
    mux.receive(reply(new_frame, "tick", {"n": 2}, sub_id="new"))
    assert consumer.pop()["tick"] == {"n": 2}
    assert consumer.stream.subscription_id == "new"
    # messages of the dead stream id are no longer routed to it
    assert mux.receive(reply(frame, "tick", {"n": 0}, sub_id="old")) == []


def test_buy_stream_is_never_reissued_as_a_buy():
    mux = Multiplexer()
    unsent, frame = mux.open_stream({"buy": "p1", "price": 5})
    mux.connection_lost()
    assert unsent.ended and isinstance(unsent.error, OutcomeUnknown)
    bought, frame = mux.open_stream({"buy": "p2", "price": 5})
    mux.receive(reply(frame, "buy", {"contract_id": 77}, sub_id="x"))
    mux.connection_lost()
    (new_frame,) = mux.resume()
    assert "buy" not in new_frame
    assert new_frame["proposal_open_contract"] == 1 and new_frame["contract_id"] == 77


def test_identical_buys_are_not_shared():
    mux = Multiplexer()
    _, first = mux.open_stream({"buy": "p1", "price": 5})
    _, second = mux.open_stream({"buy": "p1", "price": 5})
    assert first is not None and second is not None


def test_memory_does_not_grow_with_completed_calls():
    mux = Multiplexer()
    for _ in range(20_000):
        call = mux.open_call({"ping": 1}, waiter=None)
        mux.receive(reply(call.payload, "ping", "pong"))
    assert mux.pending_count == 0
    assert len(mux._retired_req_set) == 0


def test_subscribe_payload_is_refused_by_open_call():
    with pytest.raises(ValueError):
        Multiplexer().open_call({"ticks": "R_100", "subscribe": 1}, waiter=None)


def test_close_fails_pending_and_ends_streams():
    mux = Multiplexer()
    mux.open_call({"time": 1}, waiter="w")
    consumer, _ = mux.open_stream({"ticks": "R_100"})
    (action,) = mux.close()
    assert isinstance(action, Reject) and isinstance(action.error, ConnectionLost)
    assert consumer.ended and consumer.error is None


def test_expire_fails_only_overdue_calls_and_reports_the_next_deadline():
    mux = Multiplexer()
    fast = mux.open_call({"time": 1}, waiter="fast", now=0.0, timeout=1.0)
    mux.open_call({"ping": 1}, waiter="slow", now=0.0, timeout=5.0)
    buy = mux.open_call({"buy": "p", "price": 1}, waiter="buy", now=0.5, timeout=1.0)
    assert mux.expire(0.9) == ([], 1.0)
    actions, next_deadline = mux.expire(1.6)
    errors = {action.waiter: action.error for action in actions}
    assert set(errors) == {"fast", "buy"} and next_deadline == 5.0
    assert isinstance(errors["fast"], RequestTimeout)
    assert isinstance(errors["buy"], OutcomeUnknown)
    assert mux.pending_count == 1
    assert mux.receive(reply(fast.payload, "time", 1)) == []  # late reply dropped quietly
    assert mux.receive(reply(buy.payload, "buy", {})) == []
    assert mux.expire(10.0)[1] == float("inf")
