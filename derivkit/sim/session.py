"""One client connection: read loop with idle timeout, request dispatch, rate limits, ordered
writer.

Concurrency: per connection there are two coroutines, the reader (``run``) and the writer task it
owns. Requests are handled synchronously in arrival order by the reader, so handlers never
interleave; replies and stream messages go through one FIFO that the writer drains (applying
``faults.delay``). No request can end its connection: every one gets a reply, an error one when
nothing better can be said (a request nested deeper than :data:`MAX_NESTING` levels gets
``SanityCheckFailed``). Feed and account callbacks enqueue into the same FIFO from the event
loop. When the reader ends (client close, idle timeout, server stop, abort) every stream is
closed and the writer is cancelled and awaited.

A request passes, in Deriv's order: JSON and sanity checks, the rate limit, its fields, the login
(``AuthorizationRequired``), the token's scopes (``PermissionDenied``, per
:data:`derivkit.sim.scopes.CALL_AUTH`; a ``loginid`` account's token must hold them too), and only
then reaches its handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from derivkit.sim.errors import FRAMEWORK_CODES, ApiError, validation_error
from derivkit.sim.newapi import REMOVED_CALLS, Login, from_new_request, to_new_api
from derivkit.sim.ratelimit import RateLimiter
from derivkit.sim.scopes import missing_scope
from derivkit.sim.streams import Stream, dumps
from derivkit.sim.validation import SPECS, check_fields, mask, sanity_check

if TYPE_CHECKING:
    from derivkit.sim.account import Account
    from derivkit.sim.products.base import Product
    from derivkit.sim.server import Simulator

log = logging.getLogger("derivkit.sim")

#: Outgoing messages buffered for a slow client before its connection is aborted.
MAX_BACKLOG = 20_000
#: Unsubscribed proposals remembered per connection (oldest forgotten first).
MAX_PROPOSALS = 200
#: Deepest nesting of objects and lists a request may have (the request object itself is 1).
#: Real requests are a few levels deep; a deeper one could not be echoed back in ``echo_req``.
MAX_NESTING = 100
ACCOUNT_STREAMS = ("balance", "transaction", "proposal_open_contract")


@dataclass(slots=True)
class Request:
    """A parsed request: the call name, the raw fields and the envelope to echo."""

    call: str
    args: dict[str, Any]
    echo_req: dict[str, Any]
    req_id: int | None
    passthrough: dict[str, Any] | None


@dataclass(slots=True)
class ProposalEntry:
    terms: Any  # the product's terms
    stream: Stream | None
    product: Product | None = None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    return value


def _no_constants(text: str) -> Any:
    raise ValueError(f"invalid constant {text}")


def nesting_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` nests dicts and lists more than ``limit`` levels deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def reply_msg_type(call: str | None, args: dict[str, Any]) -> str:
    if call is None:
        return "error"
    if call == "ticks":
        return "tick"
    if call == "ticks_history":
        return "candles" if args.get("style") == "candles" else "history"
    return call


class Session:
    """Per-connection state: account binding, streams, proposals, limiter, outgoing FIFO."""

    def __init__(self, sim: Simulator, ws: ServerConnection, login: object = None) -> None:
        self.sim = sim
        self.ws = ws
        self.account: Account | None = None
        #: Every account this connection authorized (the first token and ``tokens``), by loginid.
        self.accounts: dict[str, Account] = {}
        #: "v3", or "new" on the new API's sockets (its field names; logged in by its OTP).
        self.dialect = login.dialect if isinstance(login, Login) else "v3"
        if isinstance(login, Login) and login.account is not None:
            self.account = login.account
            self.accounts[login.account.loginid] = login.account
        self.streams: dict[str, Stream] = {}
        self.keys: dict[Hashable, Stream] = {}
        self.proposals: OrderedDict[str, ProposalEntry] = OrderedDict()
        self.limiter = RateLimiter(sim.rate_limits)
        self.closed = False
        self._out: deque[tuple[float, str]] = deque()
        self._wake = asyncio.Event()
        self._after: list[Callable[[], None]] = []
        self._loop = asyncio.get_running_loop()

    # -- I/O ------------------------------------------------------------------------------------
    async def run(self) -> None:
        writer = self._loop.create_task(self._writer())
        idle = self.sim.idle_timeout  # wall-clock, like the clients' keepalive
        try:
            while True:
                try:
                    async with asyncio.timeout(idle):
                        raw = await self.ws.recv()
                except TimeoutError:
                    await self.ws.close(1000, "inactivity timeout")
                    break
                self.handle(raw)
        except ConnectionClosed:
            pass
        finally:
            self.close()
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    async def _writer(self) -> None:
        out, loop = self._out, self._loop
        try:
            while True:
                if not out:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                ready, text = out.popleft()
                if ready:
                    wait = ready - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                await self.ws.send(text)
        except ConnectionClosed:
            pass

    def enqueue(self, text: str, *, hold: bool = True) -> None:
        """Queue one outgoing message (dropped while muted or after close); ``hold=False``
        spares it the per-token delay (the reply that logs the connection in)."""
        if self.closed or self.sim.faults.mute:
            return
        if len(self._out) >= MAX_BACKLOG:
            log.warning("client too slow, aborting connection")
            self.abort()
            return
        faults = self.sim.faults
        delay = faults.delay
        if hold and faults.token_delay and self.account is not None:
            delay += faults.token_delay.get(self.account.token, 0.0)
        self._out.append((self._loop.time() + delay if delay > 0 else 0.0, text))
        self._wake.set()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        self.close()
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    def close(self) -> None:
        if self.closed:
            return
        for stream in list(self.streams.values()):
            stream.close()
        self.proposals.clear()
        self.closed = True

    # -- streams --------------------------------------------------------------------------------
    def open_stream(
        self, kind: str, key: Hashable, msg_type: str, req: Request, stream_id: str | None = None
    ) -> Stream:
        if key in self.keys:
            what = key[1] if isinstance(key, tuple) and len(key) > 1 else kind
            raise ApiError("AlreadySubscribed", f"You are already subscribed to {what}.")
        stream = Stream(self, kind, key, msg_type, req, stream_id)
        self.streams[stream.id] = stream
        self.keys[key] = stream
        return stream

    def check_not_subscribed(self, key: Hashable, what: str) -> None:
        if key in self.keys:
            raise ApiError("AlreadySubscribed", f"You are already subscribed to {what}.")

    def drop_stream(self, stream: Stream) -> None:
        self.streams.pop(stream.id, None)
        if self.keys.get(stream.key) is stream:
            del self.keys[stream.key]
        self.proposals.pop(stream.id, None)

    def close_account_streams(self) -> None:
        for stream in list(self.streams.values()):
            if stream.kind in ACCOUNT_STREAMS:
                stream.close()

    def remember_proposal(self, pid: str, entry: ProposalEntry) -> None:
        self.proposals[pid] = entry
        while len(self.proposals) > MAX_PROPOSALS:
            _, old = self.proposals.popitem(last=False)
            if old.stream is not None:
                old.stream.close()

    def after_reply(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` right after the current request's reply is queued."""
        self._after.append(fn)

    # -- dispatch -------------------------------------------------------------------------------
    def handle(self, raw: str | bytes) -> None:
        """Answer one request; whatever goes wrong, the connection lives on."""
        try:
            self._handle(raw)
        except Exception:
            log.exception("request could not be answered")
            self._after.clear()
            self.enqueue(dumps({"echo_req": {}, "msg_type": "error", **_call_error()}))

    def _handle(self, raw: str | bytes) -> None:
        if self.sim.faults.mute:
            return
        try:
            req = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constants)
        except RecursionError:  # too deep for the parser: valid JSON all the same
            self._send_too_deep({"req_id": _req_id_in(raw)})
            return
        except (ValueError, TypeError):
            self._send_error(None, ApiError("BadRequest"), "error")
            return
        if not isinstance(req, dict):
            self._send_error(None, ApiError("BadRequest"), "error")
            return
        if nesting_exceeds(req, MAX_NESTING):
            self._send_too_deep(req)
            return
        bad: dict[str, str] = {}
        req_id = req.get("req_id")
        if "req_id" in req and (not isinstance(req_id, int) or isinstance(req_id, bool)):
            bad["req_id"] = "Must be an integer."
            req_id = None
        passthrough = req.get("passthrough")
        if "passthrough" in req and not isinstance(passthrough, dict):
            bad["passthrough"] = "Must be an object."
            passthrough = None
        handlers = self.sim.handlers
        call = next((k for k in req if k in handlers), None)
        echo = mask(req)
        if self.dialect == "new" and call is not None:
            if call in REMOVED_CALLS:
                call = None
            else:
                legacy = from_new_request(call, req)
                if isinstance(legacy, str):
                    bad[legacy] = "Properties not allowed: the new API does not take it."
                else:
                    req = legacy
        r = Request(call or "", req, echo, req_id, passthrough)
        msg_type = reply_msg_type(call, req)
        self._after.clear()
        try:
            sanity_check(req)
            if call is None:
                raise ApiError("UnrecognisedRequest")
            if bad:
                raise validation_error(bad)
            if not self.limiter.allow(call):
                raise ApiError("RateLimit", f"You have reached the rate limit for {call}.")
            check_fields(SPECS[call], req)
            handler, needs_auth = handlers[call]
            if needs_auth and self.account is None:
                raise ApiError("AuthorizationRequired")
            if needs_auth:
                self._check_scopes(call, self.account)
            self._check_loginid(req)
            if needs_auth and "loginid" in req:
                self._check_scopes(call, self.accounts[req["loginid"]])
            result = handler(self, r)
        except ApiError as exc:
            self._send_error(r, exc, msg_type)
            return
        except Exception:
            log.exception("handler %s failed", call)
            self._send_error(r, ApiError("CallError"), msg_type)
            return
        for body in result if isinstance(result, list) else [result]:
            self.reply(r, body)
        after, self._after = self._after, []
        for fn in after:
            try:
                fn()
            except Exception:
                log.exception("post-reply hook failed")

    def _check_scopes(self, call: str, account: Account | None) -> None:
        """``PermissionDenied`` unless ``account``'s token holds a scope ``call`` needs."""
        if account is None:
            raise ApiError("AuthorizationRequired")
        denied = missing_scope(call, account.scopes)
        if denied is not None:
            raise denied

    def _check_loginid(self, req: dict[str, Any]) -> None:
        """A ``loginid`` must name an account this connection authorized."""
        loginid = req.get("loginid")
        if loginid is None:
            return
        if self.account is None:
            raise ApiError("AuthorizationRequired")
        if loginid not in self.accounts:
            raise ApiError(
                "PermissionDenied", f"Permission denied: {loginid} was not authorized here."
            )

    def reply(self, r: Request | None, body: dict[str, Any]) -> None:
        msg: dict[str, Any] = {"echo_req": r.echo_req if r is not None else {}}
        msg.update(body)
        if self.dialect == "new":
            kind = msg.get("msg_type")
            if isinstance(kind, str) and kind in msg:
                msg[kind] = to_new_api(kind, msg[kind])
        if r is not None:
            if r.passthrough is not None:
                msg["passthrough"] = r.passthrough
            if r.req_id is not None:
                msg["req_id"] = r.req_id
        self.enqueue(dumps(msg), hold=r is None or r.call != "authorize")

    def _send_too_deep(self, req: dict[str, Any]) -> None:
        """``SanityCheckFailed`` for a request nested too deeply; only its flat fields are
        echoed (the rest cannot be)."""
        flat = {k: v for k, v in mask(req).items() if not isinstance(v, dict | list)}
        req_id = flat.get("req_id")
        if not isinstance(req_id, int) or isinstance(req_id, bool):
            req_id = None
        r = Request("", {}, flat, req_id, None)
        message = f"Parameters sanity check failed: nested deeper than {MAX_NESTING} levels."
        self._send_error(r, ApiError("SanityCheckFailed", message), "error")

    def _send_error(self, r: Request | None, exc: ApiError, msg_type: str) -> None:
        if exc.code in FRAMEWORK_CODES:
            msg_type = "error"
        self.reply(r, {"msg_type": msg_type, "error": exc.to_json()})


_REQ_ID = re.compile(rb'"req_id"\s*:\s*(\d{1,18})[\s,}]')


def _req_id_in(raw: str | bytes) -> int | None:
    """The ``req_id`` of a request too deep to parse, found in its text (the first one)."""
    found = _REQ_ID.search(raw.encode() if isinstance(raw, str) else raw)
    return int(found.group(1)) if found else None


def _call_error() -> dict[str, Any]:
    return {"error": ApiError("CallError").to_json()}
