"""Hypothesis fuzzing of the request parser/handlers, and ``derivkit sim serve`` as a subprocess."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from derivkit.sim import RateLimits, Simulator
from derivkit.sim.handlers import HANDLERS
from derivkit.sim.validation import SPECS


@pytest.fixture(scope="module")
def threaded_sim() -> Iterator[Simulator]:
    """A simulator on its own event loop thread, so sync clients can hammer it."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        async with Simulator(
            seed=1, speed=5, rate_limits=RateLimits.unlimited(), idle_timeout=10**6
        ) as sim:
            box["sim"], box["stop"], box["loop"] = sim, asyncio.Event(), asyncio.get_running_loop()
            ready.set()
            await box["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield box["sim"]
    box["loop"].call_soon_threadsafe(box["stop"].set)
    thread.join(10)
    assert not thread.is_alive()


FIELDS = sorted(
    {f for spec in SPECS.values() for f in spec} | set(HANDLERS) | {"req_id", "passthrough"}
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["R_100", "1HZ10V", "CALL", "DIGITMATCH", "t", "1", "latest", "+0.5"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
requests = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), values, max_size=8)
VALID: list[dict[str, Any]] = [
    {"ticks": "R_100", "subscribe": 1},
    {"ticks_history": "R_50", "end": "latest", "count": 10, "style": "candles"},
    {
        "proposal": 1,
        "contract_type": "ONETOUCH",
        "symbol": "1HZ100V",
        "duration": 5,
        "duration_unit": "t",
        "barrier": "+0.5",
        "amount": 10,
        "basis": "stake",
        "currency": "USD",
    },
    {
        "buy": "1",
        "price": 100,
        "parameters": {
            "contract_type": "DIGITOVER",
            "symbol": "R_10",
            "duration": 1,
            "duration_unit": "t",
            "barrier": "3",
            "amount": 1,
            "basis": "payout",
            "currency": "USD",
        },
    },
    {"sell": 250000000008, "price": 0},
    {"profit_table": 1, "date_from": "2020-01-01", "limit": 5},
    {"statement": 1, "limit": 3, "offset": 1},
    {"proposal_open_contract": 1, "subscribe": 1},
]
# Near-valid requests: a valid one with a few fields (or parameters) replaced by junk.
mutated = st.builds(
    lambda base, junk, params_junk: {
        **base,
        **junk,
        **(
            {"parameters": {**base["parameters"], **params_junk}}
            if isinstance(base.get("parameters"), dict)
            else {}
        ),
    },
    st.sampled_from(VALID),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=3),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=3),
)
frames = (
    requests.map(json.dumps)
    | mutated.map(json.dumps)
    | values.map(json.dumps)
    | st.text(max_size=200)
)


def _ping(ws: ClientConnection, n: int) -> None:
    req = {"ping": 1, "req_id": 10**15 + n}
    ws.send(json.dumps(req))
    while True:
        m = json.loads(ws.recv(timeout=5))
        assert m.get("error", {}).get("code") != "CallError", m  # no handler crashed
        if m.get("echo_req") == req:
            assert m["ping"] == "pong"
            return


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(frames, min_size=1, max_size=5))
def test_fuzz_server_survives(threaded_sim: Simulator, batch: list[str]) -> None:
    with connect(threaded_sim.url, max_queue=None) as ws:
        ws.send(json.dumps({"authorize": threaded_sim.token}))
        for i, frame in enumerate(batch):
            ws.send(frame)
            _ping(ws, i)


def test_fuzz_other_connection_unaffected(threaded_sim: Simulator) -> None:
    with connect(threaded_sim.url, max_queue=None) as good, connect(threaded_sim.url) as bad:
        good.send(json.dumps({"ticks": "1HZ10V", "subscribe": 1, "req_id": 1}))
        first = json.loads(good.recv(timeout=5))
        for junk in ["{", "[]", '{"buy": {"x": [1, 2, {"y": null}]}}', '{"ticks": [[[[]]]]}']:
            bad.send(junk)
        _ping(bad, 0)
        nxt = json.loads(good.recv(timeout=5))
        assert nxt["subscription"]["id"] == first["subscription"]["id"]
        assert nxt["tick"]["epoch"] > first["tick"]["epoch"]


def test_cli_serve_subprocess() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from derivkit.cli import main; main()",
            "sim",
            "serve",
            "--port",
            "0",
            "--seed",
            "4",
            "--speed",
            "10",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        token = lines[0].split(":", 1)[1].strip()
        assert lines[0].startswith("Demo token:") and token
        url = lines[1].split()[-1]
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/websockets/v3")
        with connect(url + "?app_id=1089") as ws:
            ws.send(json.dumps({"ping": 1, "req_id": 1}))
            assert json.loads(ws.recv(timeout=5))["ping"] == "pong"
            ws.send(json.dumps({"authorize": token, "req_id": 2}))
            assert json.loads(ws.recv(timeout=5))["authorize"]["is_virtual"] == 1
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err
