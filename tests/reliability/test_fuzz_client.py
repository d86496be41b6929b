"""Fuzz: ≥ 10,000 generated frames at one DerivClient, from a scripted server.

Each call of a batch is answered by one generated frame (invalid JSON, binary, non-objects,
wrong types for every envelope field, error objects of every shape, unknown and wrong-typed
req_ids and subscription ids, deep nesting, huge frames), then by a good reply. Expected per
frame (the oracle below): a frame that carries the call's req_id settles it (its reply,
``ProtocolError`` for a malformed one, the ``APIError`` of a well-formed error); any other frame
changes nothing and the good reply settles the call. Some calls get no reply until they have
timed out; their frames come in the next batch (frames after a timeout). A live stream gets junk
too and must keep flowing. No crash, no hang, no reconnect.

Size: ``DERIVKIT_FUZZ_CLIENT_BATCHES`` batches of 50 frames (210); figures to
``DERIVKIT_RELIABILITY_REPORT``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve

from derivkit.core import (
    APIError,
    DerivClient,
    DerivError,
    ProtocolError,
    RequestTimeout,
    RetryPolicy,
)
from derivkit.core.exceptions import _error_shape_problem
from derivkit.core.picows_transport import PicowsTransport
from derivkit.core.transport import WebsocketsTransport
from tests.reliability.report import record, setting

BATCHES = setting("DERIVKIT_FUZZ_CLIENT_BATCHES", 210)
PER_BATCH = 50
SUB_ID = "s" * 32
REQ = '"@REQ@"'  # replaced by the call's req_id when the frame is sent
LATE_TIMEOUT = 0.05

# -- frames, as JSON text (json.dumps cannot write the deep ones) ------------------------------


def js(value: Any) -> str:
    return json.dumps(value)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
).map(js)
deep = st.builds(
    lambda depth, opener: (opener * depth) + "1" + ("]" * depth if opener == "[" else "}" * depth),
    st.integers(50, 1300),
    st.just("["),
)
deep_object = st.integers(50, 1300).map(lambda d: '{"a":' * d + "1" + "}" * d)
anything = junk | deep | deep_object | st.sampled_from(['"time"', "1", "[]", "{}", '"x"'])
req_ids = st.sampled_from([REQ]) | st.sampled_from(
    ['"1"', "1.0", "true", "false", "null", "[1]", '{"id":1}', "-1", "999999999", "0"]
)
error_objects = anything | st.builds(
    lambda code, message, details: (
        "{"
        + ",".join(
            part
            for part in (
                f'"code":{code}' if code is not None else "",
                f'"message":{message}' if message is not None else "",
                f'"details":{details}' if details is not None else "",
            )
            if part
        )
        + "}"
    ),
    st.none() | st.sampled_from(['"InvalidSymbol"', '"RateLimit"', '"Odd"', '""']) | anything,
    st.none() | st.just('"m"') | anything,
    st.none() | st.just('{"field":"x"}') | anything,
)


@st.composite
def call_frames(draw: st.DrawFn) -> str:
    """A frame for a call: an envelope with some fields of the right type and some not."""
    fields = {}
    if draw(st.booleans()):
        fields["req_id"] = draw(req_ids)
    else:
        fields["req_id"] = REQ
    fields["msg_type"] = draw(st.sampled_from(['"time"', '"ping"']) | anything)
    if draw(st.booleans()):
        fields["error"] = draw(error_objects)
    else:
        fields["time"] = draw(anything)
    for name in ("echo_req", "passthrough", "subscription"):
        if draw(st.integers(0, 3)) == 0:
            fields[name] = draw(anything)
    order = draw(st.permutations(list(fields)))
    return "{" + ",".join(f'"{name}":{fields[name]}' for name in order) + "}"


garbage = st.sampled_from(["", "{", "not json", "[1,2", '{"a":}', "NaN"]) | st.text(max_size=30)
binary = st.binary(max_size=40).map(lambda b: b"\xff" + b)  # never valid UTF-8
stray = st.builds(
    lambda sub, body: '{"msg_type":"tick","subscription":{"id":' + sub + '},"tick":' + body + "}",
    st.sampled_from([js("u" * 32), js(SUB_ID), "1", "null", "[]"]),
    anything,
)
deep_text = '{"a":' * 900 + "1" + "}" * 900
well_formed_error = st.builds(
    lambda code, details: (
        '{"msg_type":"time","req_id":'
        + REQ
        + ',"error":{"code":'
        + code
        + ',"message":"m"'
        + details
        + "}}"
    ),
    st.sampled_from(['"InvalidSymbol"', '"RateLimit"', '"SomethingNew"', '"InvalidToken"']),
    st.sampled_from(["", ',"details":{"field":"x"}', ',"details":[1]', ',"details":' + deep_text]),
)
frame_kinds = [
    call_frames(),
    call_frames(),
    call_frames(),
    well_formed_error,
    garbage,
    binary,
    anything,
    stray,
]
cases = st.one_of(
    *(kind.map(lambda f: ("frame", f)) for kind in frame_kinds),
    st.just(("late", "")),
    st.integers(0, 19).map(lambda n: ("huge", 2_000_000) if n == 0 else ("huge", 50_000)),
)


def expected(frame: str | bytes, req_id: int) -> tuple[str, str | None]:
    """What the call must end with: ("ok" | "protocol" | "api", code), from the frame."""
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return "ok", None  # not JSON: reported, and the good reply settles the call
    if not isinstance(message, dict):
        return "ok", None
    rid = message.get("req_id")
    if not isinstance(rid, int) or isinstance(rid, bool) or rid != req_id:
        return "ok", None
    if "error" in message:
        if _error_shape_problem(message["error"]) is not None:
            return "protocol", None
        return "api", message["error"]["code"]
    if not isinstance(message.get("msg_type"), str):
        return "protocol", None
    return "ok", None


# -- the server and the client, on their own loop ----------------------------------------------


class Scripted:
    """Answers ``time`` calls by script: ``frames[k]`` for the call with passthrough ``k``."""

    def __init__(self) -> None:
        self.script: dict[int, tuple[str, Any]] = {}
        self.held: list[tuple[ServerConnection, int]] = []
        self.req_ids: dict[int, int] = {}
        self.sent_frames = 0
        self.epoch = itertools.count(1)

    async def serve(self, connection: ServerConnection) -> None:
        async for raw in connection:
            request = json.loads(raw)
            req_id = request.get("req_id")
            if "ticks" in request:
                await connection.send(self.tick(req_id))
            elif "time" in request:
                await self.answer(connection, request["passthrough"]["k"], req_id)
            else:
                name = next(iter(request))
                body = {"msg_type": name, name: 1, "req_id": req_id}
                await connection.send(json.dumps(body))

    def tick(self, req_id: int | None = None) -> str:
        body = {"symbol": "R_100", "epoch": next(self.epoch), "quote": 1.0, "id": SUB_ID}
        message = {"msg_type": "tick", "tick": body, "subscription": {"id": SUB_ID}}
        if req_id is not None:
            message["req_id"] = req_id
        return json.dumps(message)

    async def answer(self, connection: ServerConnection, k: int, req_id: int) -> None:
        kind, value = self.script[k]
        self.req_ids[k] = req_id
        if kind == "late":
            self.held.append((connection, req_id))
            return
        if kind == "huge":
            body = json.dumps({"msg_type": "time", "time": 1, "junk": "x" * value})
            frame: str | bytes = body[:-1] + f',"req_id":{req_id}}}'
        else:
            frame = value.replace(REQ, str(req_id)) if isinstance(value, str) else value
        self.script[k] = (kind, frame)
        await connection.send(frame)
        self.sent_frames += 1
        good = {"msg_type": "time", "time": 7, "req_id": req_id, "passthrough": {"k": k}}
        await connection.send(json.dumps(good))

    async def release_late(self, frame: str) -> None:
        held, self.held = self.held, []
        for connection, req_id in held:
            await connection.send(frame.replace(REQ, str(req_id)))
            self.sent_frames += 1


#: Each transport gets half the batches: both are covered in the time one run used to take.
TRANSPORTS = {"websockets": WebsocketsTransport, "picows": PicowsTransport}
PER_TRANSPORT = max(10, BATCHES // len(TRANSPORTS))


class Harness:
    def __init__(self, transport_name: str) -> None:
        self.transport_name = transport_name
        self.loop = asyncio.new_event_loop()
        self.server = Scripted()
        self.counts: Counter[str] = Counter()
        self.hung = 0
        self.crashes: list[str] = []
        self.unsolicited = 0

    async def start(self) -> None:
        self._ws = await serve(self.server.serve, "127.0.0.1", 0, max_size=None, compression=None)
        port = self._ws.sockets[0].getsockname()[1]
        self.api = DerivClient(
            f"ws://127.0.0.1:{port}/websockets/v3",
            respect_rate_limits=False,
            retry=RetryPolicy(rate_limit_retries=0),  # a RateLimit frame is an outcome here
            on_unsolicited=lambda message: self._count_unsolicited(),
            transport=TRANSPORTS[self.transport_name],
        )
        await self.api.connect()
        self.stream = await self.api.subscribe({"ticks": "R_100"})
        await anext(self.stream)

    def _count_unsolicited(self) -> None:
        self.unsolicited += 1

    async def stop(self) -> None:
        await self.api.close()
        self._ws.close()
        await self._ws.wait_closed()

    async def batch(self, batch: list[tuple[str, Any]], late_frame: str) -> None:
        server, api, loop = self.server, self.api, asyncio.get_running_loop()
        await server.release_late(late_frame)  # frames for calls that timed out before
        base = len(server.script)
        for offset, case in enumerate(batch):
            server.script[base + offset] = case

        async def one(k: int) -> None:
            kind = server.script[k][0]
            timeout = LATE_TIMEOUT if kind == "late" else 5.0
            started = loop.time()
            try:
                reply = await api.request({"time": 1, "passthrough": {"k": k}}, timeout=timeout)
                outcome: tuple[str, str | None] = ("ok", None)
                assert isinstance(reply, dict)
            except ProtocolError:
                outcome = ("protocol", None)
            except APIError as exc:
                outcome = ("api", exc.code)
            except RequestTimeout:
                outcome = ("timeout", None)
            except DerivError as exc:
                outcome = (type(exc).__name__, None)
            except Exception as exc:
                self.crashes.append(repr(exc)[:200])
                return
            if loop.time() - started > timeout + 1:
                self.hung += 1
            kind, frame = server.script[k]
            want = ("timeout", None) if kind == "late" else ("ok", None)
            if kind == "frame":
                want = expected(frame, server.req_ids[k])
            if outcome != want:
                self.crashes.append(f"case {k}: got {outcome}, expected {want}: {frame!r:.200}")
            self.counts[outcome[0]] += 1

        await asyncio.gather(*(one(base + i) for i in range(len(batch))))
        marker = server.tick()
        for connection in list(self._ws.connections):
            await connection.send(marker)
        epoch = json.loads(marker)["tick"]["epoch"]
        async with asyncio.timeout(5):
            async for message in self.stream:  # the stream flows past the junk sent to it
                tick = message.get("tick")
                if isinstance(tick, dict) and tick.get("epoch") == epoch:
                    break
        assert api.state == "connected" and api.reconnects == 0
        assert api.pending_calls == 0


@pytest.fixture(scope="module", params=list(TRANSPORTS))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    harness = Harness(request.param)
    thread = threading.Thread(target=harness.loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(harness.start(), harness.loop).result(10)
    yield harness
    asyncio.run_coroutine_threadsafe(harness.stop(), harness.loop).result(10)
    harness.loop.call_soon_threadsafe(harness.loop.stop)
    thread.join(10)
    harness.loop.close()
    record(
        f"fuzz_client ({harness.transport_name})",
        {
            "batches": PER_TRANSPORT,
            "frames_fuzzed": harness.server.sent_frames,
            "calls": sum(harness.counts.values()),
            "outcomes": dict(harness.counts),
            "unsolicited_reported": harness.unsolicited,
            "hung_calls": harness.hung,
            "crashes": len(harness.crashes),
            "reconnects": harness.api.reconnects,
        },
    )


@pytest.mark.timeout(max(120, PER_TRANSPORT))
@settings(
    max_examples=PER_TRANSPORT,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(cases, min_size=PER_BATCH, max_size=PER_BATCH), late=call_frames())
def test_no_frame_crashes_the_client_or_hangs_a_call(
    harness: Harness, batch: list[tuple[str, Any]], late: str
) -> None:
    future = asyncio.run_coroutine_threadsafe(harness.batch(batch, late), harness.loop)
    future.result(60)
    assert harness.crashes == [] and harness.hung == 0
