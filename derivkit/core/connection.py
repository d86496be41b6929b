"""DerivConnection: one multiplexed, self-healing connection to the Deriv WebSocket API v3.

Concurrency: any number of coroutines may call any method at once; exactly one task (the reader)
ever reads the socket, and every reply reaches its caller through the multiplexer by ``req_id``.
The client owns one supervisor task; per connection it runs the reader and the keepalive in an
``asyncio.TaskGroup``. ``close()`` cancels and awaits all of them: nothing is left running.

Cancellation: cancelling a call is safe; its pending entry is removed and a late reply is dropped.
A cancelled or timed-out money-moving call may still have executed (see ``OutcomeUnknown``).

Reconnect: when the socket drops, calls in flight fail with ``ConnectionLost`` (money-moving ones
with ``OutcomeUnknown``) except read-only calls, which are re-sent once. The client reconnects with
capped, jittered exponential backoff, re-authorizes with the same token, re-issues every live
subscription and keeps feeding the same :class:`Subscription` objects (their ``gaps`` counter
tells that a gap happened; a message a reader saw before the gap is not given to it again).
A link found dead by the keepalive is dropped at once, without waiting for a closing handshake.

Closing: ``close()`` takes at most about half a second whatever is in flight; a money-moving call
still unanswered then fails with ``OutcomeUnknown``.

Where and how: an :class:`~derivkit.core.endpoints.Endpoint` gives the URL of every (re)connect
and says whether the token is sent in an ``authorize`` frame (legacy v3) or the URL itself logs in
(the new API's one-time-password sockets); a :class:`~derivkit.core.transport.TransportFactory`
opens the socket. A handshake the server refuses with HTTP 4xx (a bad app id, a spent one-time
password) and refused credentials are fatal: the client closes and says why, it does not retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, overload

from derivkit.core.alarm import Alarm, off_loop, set_alarm
from derivkit.core.alarm import sleep as alarm_sleep
from derivkit.core.backoff import RetryPolicy
from derivkit.core.calls import KNOWN_CALLS, call_name, is_money_moving, is_read_only
from derivkit.core.codec import decode, encode
from derivkit.core.endpoints import Dialect, Endpoint, LegacyEndpoint
from derivkit.core.exceptions import (
    APIError,
    AuthError,
    ConnectionLost,
    DerivError,
    HandshakeRejected,
    OutcomeUnknown,
    ProtocolError,
    RateLimit,
    RequestTimeout,
    UsageError,
)
from derivkit.core.models import (
    AccountInfo,
)
from derivkit.core.protocol import (
    Action,
    Consumer,
    Forget,
    Multiplexer,
    PendingCall,
    Reject,
    Resolve,
    Unsolicited,
)
from derivkit.core.ratelimit import RateLimiter
from derivkit.core.secrets import SENSITIVE_KEYS, mask_secrets
from derivkit.core.shapes import one
from derivkit.core.subscription import Parser, PendingSubscription, Subscription
from derivkit.core.transport import Frame, Transport, TransportFactory

#: Longest text of a server-sent field quoted in a log line.
_LOGGED_FIELD = 80

__all__ = ["ConnectionState", "DerivConnection"]

logger = logging.getLogger("derivkit.core.connection")
#: The logger's own cache of ``isEnabledFor`` answers (emptied in place whenever a level
#: changes; empty when this Python has none): read on the call path instead of a method call.
_LOG_LEVELS: dict[int, bool] = getattr(logger, "_cache", {})

T = TypeVar("T")
ConnectionState = Literal["idle", "connecting", "connected", "reconnecting", "closed"]
StateListener = Callable[[ConnectionState], None]

_FORGET_TIMEOUT = 5.0
_DEBUG = logging.DEBUG
#: The calls request()'s fast path takes (website_status is read on the way back: not here).
_HOT_CALLS = KNOWN_CALLS - {"website_status"}


class _LinkDead(ConnectionLost):
    """The keepalive got no pong: the socket is open but nothing comes through."""


class DerivConnection:
    """A client for the Deriv WebSocket API v3 over one multiplexed connection.

    Args:
        endpoint: a full ``ws://``/``wss://`` URL (legacy v3: ``app_id`` and ``l`` are added
            unless present; a socket of the new API is left as it is), or an
            :class:`~derivkit.core.endpoints.Endpoint` (``OTPEndpoint`` for the new API's
            trading socket, ``PublicEndpoint`` for its market data).
        app_id: Deriv application id (1089 is Deriv's public test app); legacy URLs only.
        token: API token; when given, ``connect()`` authorizes (and re-authorizes after reconnects).
            An endpoint that logs in itself (``OTPEndpoint``) holds its own token instead.
        lang: language of server messages.
        transport: what opens the socket (:class:`~derivkit.core.transport.TransportFactory`):
            ``PicowsTransport`` (the default: the fastest), ``WebsocketsTransport`` (which
            also negotiates permessage-deflate and follows the ``HTTPS_PROXY`` environment
            variable), or a ``MockTransport``.
        request_timeout: seconds a call may wait for its reply (``RequestTimeout``).
        keepalive_interval: send ``{"ping": 1}`` every this many seconds; no pong within
            ``retry.pong_timeout`` means the link is dead (it is dropped and re-opened).
        reconnect: reconnect automatically when the connection drops.
        retry: backoff and re-try settings (:class:`RetryPolicy`).
        buffer_size: per-consumer buffer of tick-like streams (oldest dropped beyond it).
        on_unsolicited: called with every message that belongs to no call or stream.
        on_state_change: called with the new :data:`ConnectionState` on every change (the
            first state listener; see :meth:`add_state_listener`).
        respect_rate_limits: learn ``website_status.api_call_limits`` and throttle to them.
    """

    def __init__(
        self,
        endpoint: str | Endpoint | None = None,
        *,
        app_id: int = 1089,
        token: str | None = None,
        lang: str = "EN",
        transport: TransportFactory | None = None,
        request_timeout: float = 30.0,
        keepalive_interval: float = 30.0,
        reconnect: bool = True,
        retry: RetryPolicy | None = None,
        buffer_size: int = 1024,
        on_unsolicited: Callable[[dict[str, Any]], None] | None = None,
        on_state_change: Callable[[ConnectionState], None] | None = None,
        respect_rate_limits: bool = True,
    ) -> None:
        if type(buffer_size) is not int or buffer_size < 1:
            raise UsageError(f"buffer_size must be a positive integer, got {buffer_size!r}")
        if endpoint is None or isinstance(endpoint, str):
            endpoint = LegacyEndpoint(endpoint, app_id=app_id, lang=lang)
        if token is not None and not endpoint.authorizes:
            raise UsageError(
                f"{type(endpoint).__name__} logs in by itself: give it the token, not the client"
            )
        self.endpoint: Endpoint = endpoint
        #: Where the client connects (no secret in it).
        self.url = endpoint.describe()
        self._transport_factory: TransportFactory = transport or _default_transport()
        self.request_timeout = request_timeout
        self.keepalive_interval = keepalive_interval
        self.reconnect = reconnect
        self.retry = retry or RetryPolicy()
        self.account: AccountInfo | None = None
        self.reconnects = 0
        self._token = token
        self._mux = Multiplexer(buffer_size=buffer_size)
        self._pending = self._mux._pending  # the calls awaiting replies, for the hot paths
        self._limiter = RateLimiter()
        self._respect_rate_limits = respect_rate_limits
        self._on_unsolicited = on_unsolicited
        self._state_listeners: list[StateListener] = []
        if on_state_change is not None:
            self._state_listeners.append(on_state_change)
        self._state: ConnectionState = "idle"
        self._ready = asyncio.Event()
        self._transport: Transport | None = None
        #: The open transport's ``send_nowait`` (None: it has none, or no transport is open).
        self._nowait: Callable[[bytes], bool] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The loop while calls may take request()'s fast path (connected, no rate limits to
        #: respect), else None: kept by _set_state and _adopt_limits (see _update_fast_path).
        self._hot_loop: asyncio.AbstractEventLoop | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._task_group: asyncio.TaskGroup | None = None
        self._loop_time: Callable[[], float] = lambda: 0.0
        self._expiry_at = math.inf
        self._expiry_timer: Alarm | asyncio.TimerHandle | None = None
        self._fatal: DerivError | None = None

    def __repr__(self) -> str:
        auth = "authorized" if self.account else ("token set" if self._token else "no token")
        return f"<{type(self).__name__} {self.url} {self._state}, {auth}>"

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def pending_calls(self) -> int:
        """Calls awaiting a reply (for monitoring; stays flat as calls complete)."""
        return self._mux.pending_count

    @property
    def dialect(self) -> Dialect:
        """The API's field names: ``"v3"`` (legacy) or ``"new"`` (``underlying_symbol``)."""
        return self.endpoint.dialect

    def add_state_listener(self, listener: StateListener) -> None:
        """Call ``listener(state)`` on every state change from now on (on the client's loop).

        A listener added twice is called twice. A listener that raises is logged and the others
        are still called.
        """
        self._state_listeners.append(listener)

    def remove_state_listener(self, listener: StateListener) -> None:
        """Stop calling ``listener`` (its latest addition); unknown listeners are ignored."""
        for index in range(len(self._state_listeners) - 1, -1, -1):
            if self._state_listeners[index] == listener:
                del self._state_listeners[index]
                return

    def _set_state(self, state: ConnectionState) -> None:
        if state != self._state:
            self._state = state
            self._update_fast_path()
            for listener in tuple(self._state_listeners):  # a listener may remove itself
                try:
                    listener(state)
                except Exception:
                    logger.exception("state listener failed")

    async def connect(self) -> None:
        """Open the connection and authorize when a token was given.

        Raises:
            ConnectionLost: the server cannot be reached.
            HandshakeRejected: the server refused the handshake (HTTP 4xx: a bad app id, a
                spent one-time password).
            InvalidToken: the token was refused (the client is closed again).
            UsageError: already connected or closed.
        """
        if self._state != "idle":
            raise UsageError(f"cannot connect a client that is {self._state}")
        self._set_state("connecting")
        try:
            transport = await self._open_transport()
        except BaseException:
            self._set_state("idle")
            await self.endpoint.aclose()  # an HTTP client it opened; a later connect reopens it
            raise
        self._use_transport(transport)
        self._loop = asyncio.get_running_loop()
        # The loop's clock; asyncio's own loops read time.monotonic (one Python call less).
        self._loop_time = time.monotonic if off_loop(self._loop) else self._loop.time
        self._supervisor = asyncio.create_task(self._supervise(transport), name="derivkit")
        try:
            await self._log_in()
            self._set_state("connected")
            self._ready.set()
        except BaseException:
            await self.close()
            raise

    async def _open_transport(self) -> Transport:
        """Ask the endpoint where to go (a fresh one-time URL, maybe), then open the socket."""
        url = await self.endpoint.url()
        return await self._transport_factory.open(url)

    async def _log_in(self) -> None:
        if not self.endpoint.authorizes:
            self.account = self.endpoint.account
        elif self._token is not None:
            self.account = await self._authorize_now(self._token)

    async def close(self) -> None:
        """Close the connection, fail pending calls, end streams, and stop every task."""
        if self._state == "closed":
            return
        self._set_state("closed")
        self._ready.set()  # wakes callers waiting for a connection; they see "closed"
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and supervisor is not asyncio.current_task():
            supervisor.cancel()
            try:
                await supervisor
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
            except Exception:
                logger.exception("connection supervisor failed")
        if self._transport is not None:
            await self._transport.close(on_frame=self._route_frame)  # late replies still count
            self._use_transport(None)
        try:
            await self.endpoint.aclose()
        except Exception:
            logger.exception("closing the endpoint failed")
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
            self._expiry_timer = None
        self._apply_all(self._mux.close(self._fatal))

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- supervisor: one connection after another ------------------------------------------

    async def _supervise(self, transport: Transport) -> None:
        restoring = False
        while True:
            lost = await self._run_connection(transport, restoring)
            self._ready.clear()
            if self._fatal is None and self.reconnect:
                self._set_state("reconnecting")
            if isinstance(lost, _LinkDead):
                transport.abort()  # no closing handshake can pass a dead link
            else:
                await transport.close()
            self._use_transport(None)
            self._apply_all(self._mux.connection_lost())
            if self._fatal is not None or not self.reconnect:
                self._fatal = self._fatal or lost
                logger.warning("connection lost, not reconnecting: %s", self._fatal)
                self._set_state("closed")
                self._ready.set()  # wakes callers waiting for a connection; they see "closed"
                self._apply_all(self._mux.close(self._fatal))
                return
            logger.warning("connection lost (%s); reconnecting", lost)
            self._set_state("reconnecting")
            try:
                transport = await self._reopen()
            except Exception as fatal:  # DerivError: refused; anything else: a bug, said so
                if not isinstance(fatal, DerivError):
                    logger.error("internal error while reconnecting", exc_info=fatal)
                    fatal = ConnectionLost(f"internal error while reconnecting: {fatal!r}")
                self._fatal = fatal
                logger.warning("cannot reconnect, giving up: %s", fatal)
                self._set_state("closed")
                self._ready.set()
                self._apply_all(self._mux.close(self._fatal))
                return
            self.reconnects += 1
            restoring = True

    async def _reopen(self) -> Transport:
        """Reconnect with backoff until it works; raise what cannot be cured by waiting.

        Fatal: a handshake refused with HTTP 4xx, refused credentials, an endpoint that cannot
        say where to go (``APIError``, ``ProtocolError``, ``UsageError``).
        """
        for delay in self.retry.reconnect_delays():
            await asyncio.sleep(delay)
            try:
                return await self._open_transport()
            except HandshakeRejected:
                raise
            except ConnectionLost as exc:
                logger.info("reconnect failed: %s", exc)
            except (APIError, ProtocolError, UsageError):
                raise
        raise AssertionError("unreachable: backoff delays never end")

    async def _run_connection(self, transport: Transport, restoring: bool) -> DerivError:
        """Run reader and keepalive until the connection fails; return why it failed."""
        self._use_transport(transport)
        try:
            async with asyncio.TaskGroup() as group:
                self._task_group = group
                group.create_task(self._read_loop(transport), name="derivkit-reader")
                group.create_task(self._keepalive_loop(), name="derivkit-keepalive")
                if restoring:
                    group.create_task(self._restore(), name="derivkit-restore")
                if self._respect_rate_limits:
                    group.create_task(self._learn_limits(), name="derivkit-limits")
        except ExceptionGroup as group_error:
            return self._why_lost(group_error)
        finally:
            self._task_group = None
        return ConnectionLost("connection tasks ended")

    def _why_lost(self, group_error: ExceptionGroup[Exception]) -> DerivError:
        """Classify a failed connection: refused credentials and internal errors are fatal."""
        errors = _leaves(group_error)
        for error in errors:
            if isinstance(error, AuthError):
                self._fatal = error
                return error
        for kind in (_LinkDead, DerivError):
            for error in errors:
                if isinstance(error, kind):
                    return error
        logger.error("internal error in the connection tasks", exc_info=errors[0])
        self._fatal = ConnectionLost(f"internal error: {errors[0]!r}")
        return self._fatal

    async def _read_loop(self, transport: Transport) -> None:
        """The only reader of the socket: decode each frame and let the multiplexer route it.

        No frame can end this loop: only the transport failing does. A transport that pushes
        (one with ``run(on_frame)``, such as picows) routes each frame in its own callback.
        """
        route = self._route_frame
        run = getattr(transport, "run", None)
        if run is not None:
            await run(route)
        while True:
            route(await transport.recv())

    def _route_frame(self, raw: Frame) -> bool:
        """Route one frame; True when it settled a call (whose caller may send at once)."""
        try:
            message = decode(raw)
        except ValueError:
            self._report_malformed(raw)
            return False
        if type(message) is not dict:
            self._report_malformed(raw)
            return False
        if "subscription" not in message:  # stream messages (ticks) skip the calls' lane
            # The hot path, Multiplexer.take_reply written out: a plain successful reply (an
            # int req_id of a pending call, a msg_type string, no error, no secret to mask).
            req_id = message.get("req_id")
            if type(req_id) is int:
                pending = self._pending
                call = pending.get(req_id)
                if (
                    call is not None
                    and call.plain
                    and "error" not in message
                    and type(message.get("msg_type")) is str
                ):
                    del pending[req_id]
                    # Not done() first, nor suppress(): a caller rarely gives up meanwhile.
                    try:  # noqa: SIM105
                        call.waiter.set_result(message)
                    except asyncio.InvalidStateError:
                        pass  # the caller was cancelled
                    return True
        else:
            # The streams' hot path, Multiplexer.receive and _to_stream written out: a message
            # without error of a live stream found by its req_id, that cannot end it.
            req_id = message.get("req_id")
            if type(req_id) is int:
                stream = self._mux._streams_by_req.get(req_id)
                if (
                    stream is not None
                    and stream.state == "live"
                    and stream.subscription_id is not None
                    and "error" not in message
                    and "proposal_open_contract" not in message
                ):
                    try:
                        if message.get("msg_type") == stream.opening_type:
                            stream.snapshot = message
                        for consumer in stream.consumers:
                            consumer.push(message)
                    except Exception as exc:
                        self._mux.stream_failed(stream, exc)
                    return False
        try:
            actions = self._mux.receive(message)
        except Exception:  # the multiplexer settles its calls itself; this is a last resort
            logger.exception("a frame from the server could not be routed")
            self._report_malformed(raw)
            return False
        for action in actions:
            if type(action) is Resolve:  # the hot path, inline
                waiter = action.waiter
                if not waiter.done():
                    waiter.set_result(action.message)
            else:
                self._apply(action)
        return False

    def _report_malformed(self, raw: Frame) -> None:
        error = ProtocolError(f"malformed frame from server ({len(raw)} bytes), ignored")
        logger.warning("%s", error)
        self._report_unsolicited({"error": {"code": "ProtocolError", "message": str(error)}})

    def _apply_all(self, actions: list[Action]) -> None:
        for action in actions:
            self._apply(action)

    def _apply(self, action: Action) -> None:
        if isinstance(action, Resolve):
            if not action.waiter.done():
                action.waiter.set_result(action.message)
        elif isinstance(action, Reject):
            if not action.waiter.done():
                action.waiter.set_exception(action.error)
        elif isinstance(action, Forget):
            if self._task_group is not None:
                self._task_group.create_task(self._forget(action.subscription_id))
        elif isinstance(action, Unsolicited):
            self._report_unsolicited(action.message)

    def _report_unsolicited(self, message: dict[str, Any]) -> None:
        logger.info(
            "unsolicited message: msg_type=%s req_id=%s",
            _loggable(message.get("msg_type")),
            _loggable(message.get("req_id")),
        )
        if self._on_unsolicited is not None:
            try:
                self._on_unsolicited(message)
            except Exception:
                logger.exception("on_unsolicited hook failed")

    async def _keepalive_loop(self) -> None:
        """Ping every ``keepalive_interval``, whatever the traffic; a missing pong kills the link.

        Traffic alone proves nothing: replies may stop while streams flow, or the other way
        round. The wait for the pong covers sending the ping too (a stalled socket can block
        the send).
        """
        limit = self.retry.pong_timeout
        while True:
            await alarm_sleep(self.keepalive_interval)  # no asyncio timer pending meanwhile
            try:
                async with asyncio.timeout(limit):
                    await self._call({"ping": 1}, "ping", limit, gated=False)
            except (RequestTimeout, TimeoutError) as exc:
                raise _LinkDead(f"no pong within {limit:g}s; connection presumed dead") from exc

    async def _restore(self) -> None:
        """After a reconnect: re-authorize, then re-send read-only calls and every stream."""
        await self._log_in()
        for frame in self._mux.resume():
            await self._send(frame)
        self._set_state("connected")
        self._ready.set()
        logger.info("reconnected; %d stream(s) restored", len(self._mux.streams))

    async def _learn_limits(self) -> None:
        try:
            reply = await self._call({"website_status": 1}, "website_status", None, gated=False)
        except DerivError as exc:
            logger.debug("could not read rate limits: %s", exc)
            return
        self._adopt_limits(reply)

    def _adopt_limits(self, reply: Mapping[str, Any]) -> None:
        status = reply.get("website_status")
        limits = status.get("api_call_limits") if isinstance(status, Mapping) else None
        if isinstance(limits, Mapping):
            self._limiter.configure(limits)
            self._update_fast_path()

    def _update_fast_path(self) -> None:
        """Open request()'s fast path while connected with no rate limits to respect; close
        it otherwise (its one test then stands for the state, limiter and loop checks)."""
        usable = self._state == "connected" and not self._limiter._groups
        self._hot_loop = self._loop if usable else None

    async def _authorize_now(self, token: str) -> AccountInfo:
        reply = await self._call({"authorize": token}, "authorize", None, gated=False)
        return one(reply, AccountInfo, "authorize")

    # -- sending ---------------------------------------------------------------------------

    def _use_transport(self, transport: Transport | None) -> None:
        self._transport = transport
        self._nowait = getattr(transport, "send_nowait", None)

    async def _send(self, frame: dict[str, Any]) -> None:
        transport = self._transport
        if transport is None:
            raise ConnectionLost("not connected")
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("send %s", json.dumps(mask_secrets(frame)))
        await transport.send(encode(frame))

    def _check_usable(self) -> None:
        if self._state == "closed":
            if self._fatal is not None:
                raise ConnectionLost(f"the connection failed for good: {self._fatal}")
            raise UsageError("the client is closed")
        if self._state == "idle":
            raise UsageError("the client is not connected; use 'async with' or connect()")

    async def _wait_ready(self) -> None:
        if not self._ready.is_set():
            self._check_usable()
            await self._ready.wait()
        self._check_usable()

    async def _throttle(self, name: str) -> None:
        loop = asyncio.get_running_loop()
        while (delay := self._limiter.delay(name, loop.time())) > 0:
            logger.info("throttling %s for %.2fs to respect rate limits", name, delay)
            await asyncio.sleep(delay)
        self._limiter.record(name, loop.time())

    async def _call(
        self, payload: Mapping[str, Any], name: str, timeout: float | None, *, gated: bool = True
    ) -> dict[str, Any]:
        """Send one call and await its reply (no retries).

        Waiting for a connection or a rate-limit slot counts against the same time limit. The
        reply wait is bounded by the one expiry alarm of all calls (cheaper than a cancel
        scope per call, and kept off the event loop: :mod:`derivkit.core.alarm`).
        :meth:`request` has the usual case written out (keep them in step).
        """
        loop = self._loop or asyncio.get_running_loop()  # the one connect() ran on
        started = loop.time()
        # "connected" means ready (both change together, with no await between): one test for
        # the usual case, the full checks otherwise.
        if gated and (self._state != "connected" or self._limiter._groups):
            self._check_usable()
            if not self._ready.is_set() or self._limiter._groups:
                limit = timeout if timeout is not None else self.request_timeout
                await self._admit(name, limit, started + limit)
        future, call = self._open_call(payload, name, timeout, started)
        try:
            if not self._send_at_once(call):
                await self._send_call(call)
            return await future
        except BaseException:
            self._mux.cancel_call(call)  # a reply settles (and forgets) the call itself
            raise

    def _open_call(
        self, payload: Mapping[str, Any], name: str, timeout: float | None, started: float
    ) -> tuple[asyncio.Future[dict[str, Any]], PendingCall]:
        """Register a call (its deadline ``timeout`` after ``started``) and arm the expiry timer
        when its deadline is the earliest. Connected only (the loop is known)."""
        limit = timeout if timeout is not None else self.request_timeout
        future: asyncio.Future[dict[str, Any]] = (
            self._loop or asyncio.get_running_loop()
        ).create_future()
        call = self._mux.add_call(dict(payload), name, future, started + limit, limit)
        if call.deadline < self._expiry_at:
            self._arm_expiry(call.deadline)
        return future, call

    def _send_at_once(self, call: PendingCall) -> bool:
        """Send ``call`` now if the transport can write at once (False: await
        :meth:`_send_call`). Raises as :meth:`_send_call` does."""
        nowait = self._nowait
        if nowait is None or logger.isEnabledFor(logging.DEBUG):  # _send logs each frame
            return False
        try:
            return nowait(encode(call.payload))
        except ConnectionLost as exc:
            return self._unsent(call.name, exc)

    async def _send_call(self, call: PendingCall) -> None:
        try:
            await self._send(call.payload)
        except ConnectionLost as exc:
            self._unsent(call.name, exc)

    def _unsent(self, name: str, error: ConnectionLost) -> bool:
        """A call could not be sent: raise what its caller must see, or return True for a
        read-only call that the multiplexer re-sends once the connection is back."""
        if is_money_moving(name):
            raise OutcomeUnknown(
                f"connection failed while sending {name!r}; its outcome is unknown"
            ) from error
        if not is_read_only(name) or not self.reconnect:
            raise error
        return True

    async def _admit(self, name: str, limit: float, deadline: float) -> None:
        """Wait for the connection and for a rate-limit slot, until ``deadline``."""
        try:
            async with asyncio.timeout_at(deadline):
                await self._throttle(name)
                await self._wait_ready()
        except TimeoutError as exc:
            if not self._ready.is_set():
                raise ConnectionLost(f"not connected within {limit:g}s ({name!r})") from exc
            raise RequestTimeout(f"no rate-limit slot for {name!r} within {limit:g}s") from exc

    def _arm_expiry(self, when: float) -> None:
        """One alarm serves every pending call: it fires at the earliest deadline (off the
        loop: see :mod:`derivkit.core.alarm`)."""
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
        self._expiry_at = when
        self._expiry_timer = set_alarm(when, self._expire_calls)

    def _expire_calls(self) -> None:
        self._expiry_timer = None
        self._expiry_at = math.inf
        actions, next_deadline = self._mux.expire(self._loop_time())
        self._apply_all(actions)
        if next_deadline < math.inf:
            self._arm_expiry(next_deadline)

    # -- public raw API --------------------------------------------------------------------

    async def request(
        self, payload: Mapping[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send one call and return the whole reply message.

        Read-only calls answered with ``RateLimit`` are re-tried with backoff
        (``retry.rate_limit_retries`` times). Money-moving calls are sent exactly once.

        Raises:
            APIError: (a subclass of) the error the server answered with.
            RequestTimeout, ConnectionLost, OutcomeUnknown, UsageError.
        """
        loop = self._hot_loop
        if loop is not None and type(payload) is dict and "subscribe" not in payload:
            for name in payload:  # noqa: B007 (the first key: call_name's usual case)
                break  # (a loop, not next(iter()): 60 ns less)
            else:
                name = ""  # an empty request: the checks below refuse it
            debug = _LOG_LEVELS.get(_DEBUG)  # logger.isEnabledFor, cached
            if debug is None:
                debug = logger.isEnabledFor(_DEBUG)
            if not debug and name in _HOT_CALLS:  # (with debug on, _send_call logs each frame)
                # The usual case: _call's path (_open_call, _send_at_once) written out, the
                # hottest code of the client: one coroutine less per call, in time and in the
                # memory a pending call holds. The frame goes out first and the call's
                # bookkeeping follows: no reply can arrive before the next await, and a
                # sequential caller's round trip then waits for the send only.
                mux = self._mux
                frame = dict(payload)  # Multiplexer.add_call written out: a copy, its req_id
                req_id = frame["req_id"] = next(mux._ids)
                nowait = self._nowait
                sent = False
                unsent: ConnectionLost | None = None
                if nowait is not None:
                    try:  # (no local for the encoded frame: it would be kept while pending)
                        sent = nowait(encode(frame))
                    except ConnectionLost as exc:
                        unsent = exc
                limit = timeout if timeout is not None else self.request_timeout
                future: asyncio.Future[dict[str, Any]] = loop.create_future()
                deadline = self._loop_time() + limit
                call = mux._pending[req_id] = PendingCall(
                    req_id, frame, name, future, deadline, limit, False,
                    SENSITIVE_KEYS.isdisjoint(frame),
                )  # fmt: skip
                try:
                    if deadline < self._expiry_at:
                        self._arm_expiry(deadline)
                    if unsent is not None:
                        sent = self._unsent(name, unsent)
                    if not sent:
                        await self._send_call(call)
                    return await future
                except RateLimit as limited:
                    return await self._retry_rate_limited(payload, name, timeout, limited)
                except BaseException:
                    self._mux.cancel_call(call)  # a reply settles (and forgets) the call itself
                    raise
        # Every other case (no coroutine of its own: it would cost each call a frame, and
        # every call takes this way while the server's rate limits are respected).
        if (type(payload) is not dict and not isinstance(payload, Mapping)) or not payload:
            raise UsageError("a request is a non-empty dict, e.g. {'ping': 1}")
        if payload.get("subscribe"):
            raise UsageError("use subscribe() for a payload with 'subscribe'")
        name = call_name(payload)
        try:
            reply = await self._call(payload, name, timeout)
        except RateLimit as limited:
            reply = await self._retry_rate_limited(payload, name, timeout, limited)
        if name == "website_status":
            self._adopt_limits(reply)
        return reply

    async def _retry_rate_limited(
        self,
        payload: Mapping[str, Any],
        name: str,
        timeout: float | None,
        limited: RateLimit,
    ) -> dict[str, Any]:
        """Re-try a read-only call answered with ``RateLimit``, with backoff; else re-raise."""
        if not is_read_only(name) or self.retry.rate_limit_retries < 1:
            raise limited
        delays = self.retry.rate_limit_delays()
        for attempt in range(1, self.retry.rate_limit_retries + 1):
            await asyncio.sleep(next(delays))
            try:
                return await self._call(payload, name, timeout)
            except RateLimit:
                if attempt == self.retry.rate_limit_retries:
                    raise
        raise AssertionError("unreachable")

    @overload
    def subscribe(
        self, payload: Mapping[str, Any], *, parse: None = None, timeout: float | None = None
    ) -> PendingSubscription[dict[str, Any]]: ...

    @overload
    def subscribe(
        self, payload: Mapping[str, Any], *, parse: Parser[T], timeout: float | None = None
    ) -> PendingSubscription[T]: ...

    def subscribe(
        self,
        payload: Mapping[str, Any],
        *,
        parse: Parser[T] | None = None,
        timeout: float | None = None,
    ) -> PendingSubscription[T] | PendingSubscription[dict[str, Any]]:
        """Start (or join) a stream: a :class:`PendingSubscription` to await (a
        :class:`Subscription` once the first message arrived), to use with ``async with``, or to
        iterate with ``async for``.

        Identical requests share one upstream stream. The subscription yields the first message
        too, each message as ``parse`` makes it (a list of items per message), or the whole
        message dict without a parser. ``{"buy": ..., "subscribe": 1}`` yields the receipt,
        then the bought contract's ``proposal_open_contract`` states until it is sold.

        Raises:
            UsageError: at once, for a payload that is not a non-empty dict.
            APIError: when opened: the subscription failed (nothing is cached; retrying works).
            RequestTimeout, ConnectionLost: when opened.
            OutcomeUnknown: when opened, for a money-moving stream (``buy`` with ``subscribe``)
                sent but unanswered in time or when the connection failed: it may have executed.
        """
        if not isinstance(payload, Mapping) or not payload:
            raise UsageError("a subscription request is a non-empty dict")
        request = dict(payload)
        return PendingSubscription(lambda: self._subscribe_now(request, parse, timeout))

    async def _subscribe_now(
        self, payload: dict[str, Any], parse: Parser[T] | None, timeout: float | None
    ) -> Subscription[Any]:
        name = call_name(payload)
        limit = timeout if timeout is not None else self.request_timeout
        delays = None
        for attempt in range(self.retry.rate_limit_retries + 1):
            subscription = await self._open_subscription(payload, name, parse, limit)
            try:
                async with asyncio.timeout(limit):
                    await subscription.wait_first()
            except RateLimit:
                await subscription.aclose()
                if not is_read_only(name) or attempt == self.retry.rate_limit_retries:
                    raise
                delays = delays or self.retry.rate_limit_delays()
                await asyncio.sleep(next(delays))
                continue
            except TimeoutError as exc:
                await subscription.aclose()
                if is_money_moving(name):  # sent, so it may have executed (as for request())
                    raise OutcomeUnknown(
                        f"no reply to {name!r} within {limit:g}s; its outcome is unknown - "
                        "check the portfolio or statement before trying again"
                    ) from exc
                raise RequestTimeout(f"no first message for {name!r} within {limit:g}s") from exc
            except BaseException:
                await subscription.aclose()
                raise
            return subscription
        raise AssertionError("unreachable")

    async def _open_subscription(
        self, payload: Mapping[str, Any], name: str, parse: Parser[T] | None, limit: float
    ) -> Subscription[T]:
        try:
            async with asyncio.timeout(limit):
                await self._throttle(name)
                await self._wait_ready()
        except TimeoutError as exc:
            raise ConnectionLost(f"not connected within {limit:g}s ({name!r})") from exc
        consumer, frame = self._mux.open_stream(payload)
        subscription = Subscription(consumer, parse, self._close_consumer, self._release_consumer)
        if frame is not None:
            try:
                await self._send(frame)
            except ConnectionLost as exc:
                if is_money_moving(name):
                    await subscription.aclose()
                    raise OutcomeUnknown(
                        f"connection failed while sending {name!r}; its outcome is unknown"
                    ) from exc
                if not self.reconnect:
                    await subscription.aclose()
                    raise
        return subscription

    async def _close_consumer(self, consumer: Consumer) -> None:
        subscription_id = self._mux.close_consumer(consumer)
        if subscription_id is not None and self._ready.is_set():
            await self._forget(subscription_id)

    def _release_consumer(self, consumer: Consumer) -> None:
        """Close a consumer from synchronous code (a finalizer): forget in the background."""
        subscription_id = self._mux.close_consumer(consumer)
        group = self._task_group
        if subscription_id is not None and self._ready.is_set() and group is not None:
            # RuntimeError: the loop or the group is shutting down, and the stream with it.
            with contextlib.suppress(RuntimeError):
                group.create_task(self._forget(subscription_id), name="derivkit-forget")

    async def _forget(self, subscription_id: str) -> None:
        try:
            await self._call({"forget": subscription_id}, "forget", _FORGET_TIMEOUT, gated=False)
        except DerivError as exc:
            logger.debug("forget %s failed: %s", subscription_id, exc)


def _default_transport() -> TransportFactory:
    from derivkit.core.picows_transport import PicowsTransport

    return PicowsTransport


def _loggable(value: Any) -> object:
    """A server-sent field as it may appear in a log line: short, and never a deep structure."""
    if isinstance(value, str):
        return value if len(value) <= _LOGGED_FIELD else value[:_LOGGED_FIELD] + "..."
    if value is None or isinstance(value, int | float):
        return value
    return f"<{type(value).__name__}>"


def _leaves(group: ExceptionGroup[Exception]) -> list[Exception]:
    leaves: list[Exception] = []
    for error in group.exceptions:
        leaves.extend(_leaves(error) if isinstance(error, ExceptionGroup) else [error])
    return leaves
