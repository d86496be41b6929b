"""Deeply nested requests: answered with a Deriv-style error, never a dead connection (issue 9)."""

from __future__ import annotations

import json

import pytest

from .conftest import Client


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _request(fields: str, depth: int) -> str:
    """A request whose JSON text ends in a list nested ``depth`` deep."""
    return "{" + fields + _nested(depth) + "}"


@pytest.mark.parametrize(
    "frame",
    [
        _request('"ping": 1, "req_id": 5, "passthrough": ', 980),
        _request('"ticks": "R_100", "subscribe": 1, "req_id": 5, "passthrough": ', 960),
        _request('"ping": 1, "req_id": 5, "x": ', 990),
        _request('"ticks_history": "R_50", "end": "latest", "req_id": 5, "style": ', 970),
        _request('"ping": 1, "req_id": 5, "x": ', 101),
    ],
    ids=["deep-passthrough", "deep-stream-request", "deep-unknown-field", "deep-field", "101"],
)
async def test_a_deeply_nested_request_gets_an_error_and_the_connection_lives_on(
    client: Client, frame: str
) -> None:
    await client.ws.send(frame)
    reply = await client.next(lambda m: m.get("req_id") == 5)
    assert reply["msg_type"] == "error"
    assert reply["error"]["code"] == "SanityCheckFailed"
    assert "nested" in reply["error"]["message"]
    assert (await client.ok({"ping": 1}))["ping"] == "pong"


async def test_a_request_nested_within_the_limit_is_answered_in_full(client: Client) -> None:
    deep = json.loads(_nested(98))
    reply = await client.ok({"ping": 1, "passthrough": {"a": deep}})
    assert reply["passthrough"] == {"a": deep} and reply["echo_req"]["passthrough"] == {"a": deep}
