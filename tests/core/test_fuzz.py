"""No message, however malformed, crashes the multiplexer or the typed parsers."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from derivkit.core.exceptions import DerivError
from derivkit.core.models import Balance, OpenContract, Tick
from derivkit.core.protocol import Multiplexer
from derivkit.core.shapes import parse_candles, payload_parser

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
keys = st.sampled_from(
    [
        "req_id",
        "msg_type",
        "error",
        "subscription",
        "tick",
        "buy",
        "proposal_open_contract",
        "candles",
        "ohlc",
        "echo_req",
    ]
)
messages = st.dictionaries(keys, json_values | st.integers(1, 6), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, max_size=8))
def test_multiplexer_survives_any_message_sequence(sequence):
    mux = Multiplexer(buffer_size=4)
    mux.open_call({"time": 1}, waiter="t")
    mux.open_stream({"ticks": "R_100"})
    mux.open_stream({"buy": "p", "price": 1})
    mux.open_stream({"proposal_open_contract": 1})
    for message in sequence:
        mux.receive(message)
    mux.connection_lost()
    mux.resume()
    mux.close()


@settings(max_examples=300, deadline=None)
@given(messages)
def test_typed_parsers_raise_only_derivkit_errors(message):
    parsers = [
        payload_parser(Tick, "tick"),
        payload_parser(Balance, "balance"),
        payload_parser(OpenContract, "proposal_open_contract"),
        parse_candles,
    ]
    for parse in parsers:
        with contextlib.suppress(DerivError):
            parse(message)
