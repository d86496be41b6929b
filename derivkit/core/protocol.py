"""The multiplexer: routing for one Deriv connection, with no I/O and no asyncio.

:class:`Multiplexer` allocates ``req_id``\\s, keeps the map of calls awaiting a reply, the
registry of upstream streams and their local consumers, and decides what a decoded message
means. The asyncio layer (:mod:`derivkit.core.client`) only moves frames: it sends what the
multiplexer hands out and feeds it every message it reads. Waiters are opaque objects
(futures there, anything in tests).

Routing of an incoming message, in order:

1. its ``req_id`` belongs to a pending call: that call is resolved (or rejected with its error);
2. its ``req_id`` or ``subscription.id`` belongs to a stream: every consumer of the stream gets it;
3. it belongs to a call or stream that was given up recently: it is dropped quietly;
4. otherwise it is *unsolicited* and handed back to the caller to report.

Identical subscriptions (equal up to key order, ignoring ``req_id``, ``passthrough`` and
``subscribe``) share one upstream stream; each consumer has its own buffer. Tick-like streams keep a
bounded buffer that drops the oldest message for a slow consumer (counted in ``Consumer.dropped``);
account streams never drop. No consumer is given the same message twice (see
:mod:`derivkit.core.dedup`; counted in ``Consumer.duplicates``): a stream re-issued after a
reconnect starts with the latest message, which its readers have usually seen.

No message, however malformed, raises out of :meth:`Multiplexer.receive`: a reply that cannot be
understood rejects its call with :class:`ProtocolError`, so no waiter is ever left behind.

Not thread-safe: one event loop (or one test) drives it.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from derivkit.core.calls import ACCOUNT_STREAMS, call_name, is_money_moving, is_read_only
from derivkit.core.dedup import Scope, Seen, scope_of
from derivkit.core.exceptions import (
    ConnectionLost,
    DerivError,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
    api_error_from_reply,
)
from derivkit.core.secrets import SENSITIVE_KEYS, mask_secrets

__all__ = [
    "Consumer",
    "Forget",
    "Multiplexer",
    "PendingCall",
    "Reject",
    "Resolve",
    "Stream",
    "Unsolicited",
    "stream_key",
]

logger = logging.getLogger("derivkit.core.protocol")

_VOLATILE_KEYS = frozenset({"req_id", "passthrough", "subscribe"})
_RETIRED_MEMORY = 4096
DEFAULT_BUFFER = 1024


def stream_key(payload: Mapping[str, Any]) -> str:
    """The identity of a subscription request: canonical JSON without volatile keys."""
    stable = {key: value for key, value in payload.items() if key not in _VOLATILE_KEYS}
    return json.dumps(stable, sort_keys=True, separators=(",", ":"), default=str)


# ----------------------------------------------------------------------------- actions


# Actions are plain (not frozen) slotted dataclasses: one is made per reply, and a frozen
# dataclass's __init__ costs four times as much.


@dataclass(slots=True)
class Resolve:
    """Complete ``waiter`` with ``message`` (a successful reply)."""

    waiter: Any
    message: dict[str, Any]


@dataclass(slots=True)
class Reject:
    """Fail ``waiter`` with ``error``."""

    waiter: Any
    error: DerivError


@dataclass(slots=True)
class Forget:
    """Send ``{"forget": subscription_id}``: a stream nobody reads any more has opened upstream."""

    subscription_id: str


@dataclass(slots=True)
class Unsolicited:
    """A message that belongs to no call or stream; report it, never drop it silently."""

    message: dict[str, Any]


Action = Resolve | Reject | Forget | Unsolicited


# ----------------------------------------------------------------------------- records


class PendingCall(msgspec.Struct, eq=False):
    """One call awaiting its reply. ``req_id`` changes if it is re-sent after a reconnect.

    ``plain``: the request carries no secret, so its reply's ``echo_req`` needs no masking.
    A msgspec struct rather than a dataclass: built in C, about 0.2 µs instead of 0.5 µs on
    the call path (this machine), with the same size.
    """

    req_id: int
    payload: dict[str, Any]
    name: str
    waiter: Any
    deadline: float = math.inf
    timeout: float = math.inf
    resent: bool = False
    plain: bool = True

    def __repr__(self) -> str:  # not the payload: it may carry a token
        return f"<PendingCall {self.name} req_id={self.req_id}>"


class Consumer:
    """One local reader of a stream: its own buffer plus a wake-up hook.

    ``notify`` is called (synchronously) whenever a message arrives or the stream ends; the asyncio
    layer points it at an ``asyncio.Event.set``.
    """

    __slots__ = (
        "_buffer",
        "closed",
        "dropped",
        "duplicates",
        "ended",
        "error",
        "gaps",
        "notify",
        "seen",
        "stream",
    )

    def __init__(self, stream: Stream, maxlen: int | None) -> None:
        self.stream = stream
        self._buffer: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self.dropped = 0
        self.duplicates = 0
        self.gaps = 0
        self.ended = False
        self.closed = False
        self.error: DerivError | None = None
        self.notify: Callable[[], None] = _nothing
        self.seen = Seen()

    def push(self, message: dict[str, Any]) -> None:
        """Buffer ``message`` unless this consumer has seen it already (then count it)."""
        admitted = self.seen.admit(message, self.stream.scope)
        if admitted is None:
            self.duplicates += 1
            return
        buffer = self._buffer
        if buffer:  # the reader is awake (it sleeps on an empty buffer only): no notify
            if len(buffer) == buffer.maxlen:
                self.dropped += 1
            buffer.append(admitted)
            return
        buffer.append(admitted)
        self.notify()

    def pop(self) -> dict[str, Any] | None:
        """The oldest buffered message, or None when the buffer is empty."""
        return self._buffer.popleft() if self._buffer else None

    def end(self, error: DerivError | None = None) -> None:
        if not self.ended:
            self.ended = True
            self.error = error
            self.notify()

    @property
    def pending(self) -> int:
        return len(self._buffer)


def _nothing() -> None:
    return None


StreamState = Literal["opening", "live", "ended"]


@dataclass(slots=True, eq=False)
class Stream:
    """One upstream subscription shared by its consumers."""

    key: str
    payload: dict[str, Any]
    name: str
    req_id: int = 0
    subscription_id: str | None = None
    state: StreamState = "opening"
    needs_resend: bool = False
    opening_type: str | None = None
    snapshot: dict[str, Any] | None = None
    consumers: list[Consumer] = field(default_factory=list)
    scope: Scope = (None, None)

    def __post_init__(self) -> None:
        self.scope = scope_of(self.payload)

    @property
    def never_drops(self) -> bool:
        return self.name in ACCOUNT_STREAMS


# ----------------------------------------------------------------------------- multiplexer


class Multiplexer:
    """Request/stream bookkeeping for one logical connection (it survives reconnects)."""

    def __init__(self, *, buffer_size: int = DEFAULT_BUFFER) -> None:
        self.buffer_size = buffer_size
        self._ids: Iterator[int] = itertools.count(1)
        self._pending: dict[int, PendingCall] = {}
        self._streams_by_key: dict[str, Stream] = {}
        self._streams_by_req: dict[int, Stream] = {}
        self._streams_by_sub: dict[str, Stream] = {}
        self._retired_reqs: deque[int] = deque(maxlen=_RETIRED_MEMORY)
        self._retired_req_set: set[int] = set()
        self._retired_subs: deque[str] = deque(maxlen=_RETIRED_MEMORY)
        self._retired_sub_set: set[str] = set()

    # -- introspection -------------------------------------------------------------------

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def streams(self) -> list[Stream]:
        return list(self._streams_by_key.values())

    def next_req_id(self) -> int:
        return next(self._ids)

    # -- one-shot calls ------------------------------------------------------------------

    def open_call(
        self,
        payload: Mapping[str, Any],
        waiter: Any,
        *,
        now: float = 0.0,
        timeout: float = math.inf,
        name: str | None = None,
    ) -> PendingCall:
        """Register a call; the caller sends ``call.payload`` (which now carries ``req_id``).

        The call expires ``timeout`` after ``now`` (see :meth:`expire`), reconnects included.
        ``name`` is the payload's call name when the caller knows it already.
        """
        if payload.get("subscribe"):
            raise ValueError("a payload with 'subscribe' must go through open_stream")
        return self.add_call(
            dict(payload), name or call_name(payload), waiter, now + timeout, timeout
        )

    def add_call(
        self, frame: dict[str, Any], name: str, waiter: Any, deadline: float, timeout: float
    ) -> PendingCall:
        """:meth:`open_call` for the I/O layer's hot path: ``frame`` is a copy of the request
        (kept, and given its ``req_id``), ``name`` its call name; it has no ``subscribe``.
        ``DerivConnection.request`` has this written out (keep them in step)."""
        req_id = frame["req_id"] = next(self._ids)
        call = self._pending[req_id] = PendingCall(
            req_id, frame, name, waiter, deadline, timeout, False, SENSITIVE_KEYS.isdisjoint(frame)
        )
        return call

    def expire(self, now: float) -> tuple[list[Action], float]:
        """Fail every call whose deadline has passed.

        Returns the rejections and the next deadline among the calls still pending (``inf``
        when there is none), so the I/O layer needs a single timer for all calls.
        """
        actions: list[Action] = []
        next_deadline = math.inf
        for call in list(self._pending.values()):
            if call.deadline <= now:
                self.cancel_call(call)
                actions.append(Reject(call.waiter, _timeout_error(call)))
            elif call.deadline < next_deadline:
                next_deadline = call.deadline
        return actions, next_deadline

    def cancel_call(self, call: PendingCall) -> None:
        """Forget a call (timed out or cancelled); a late reply is dropped quietly."""
        if self._pending.pop(call.req_id, None) is not None:
            self._retire_req(call.req_id)

    # -- streams -------------------------------------------------------------------------

    def open_stream(self, payload: Mapping[str, Any]) -> tuple[Consumer, dict[str, Any] | None]:
        """Add a consumer for ``payload``'s stream.

        Returns the consumer and the frame to send, or None when an identical upstream stream
        already exists (a live one pre-fills the consumer with its latest snapshot).
        """
        name = call_name(payload)
        key = stream_key(payload) if not is_money_moving(name) else f"unique:{self.next_req_id()}"
        stream = self._streams_by_key.get(key)
        if stream is not None:
            consumer = self._add_consumer(stream)
            if stream.state == "live" and stream.snapshot is not None:
                consumer.push(stream.snapshot)
            return consumer, None
        stream = Stream(key=key, payload=dict(payload), name=name)
        stream.payload["subscribe"] = 1
        self._streams_by_key[key] = stream
        consumer = self._add_consumer(stream)
        return consumer, self._stream_frame(stream)

    def close_consumer(self, consumer: Consumer) -> str | None:
        """Detach a consumer. Returns a subscription id to ``forget`` when it was the last one."""
        if consumer.closed:
            return None
        consumer.closed = True
        consumer.end()
        stream = consumer.stream
        if consumer in stream.consumers:
            stream.consumers.remove(consumer)
        if stream.consumers or stream.state == "ended":
            return None
        if stream.state == "opening" and not stream.needs_resend:
            return None  # forgotten when its first reply arrives (see receive)
        subscription_id = stream.subscription_id
        self._drop_stream(stream)
        return subscription_id if not stream.needs_resend else None

    def _add_consumer(self, stream: Stream) -> Consumer:
        maxlen = None if stream.never_drops else self.buffer_size
        consumer = Consumer(stream, maxlen)
        stream.consumers.append(consumer)
        return consumer

    def _stream_frame(self, stream: Stream) -> dict[str, Any]:
        if stream.req_id and self._streams_by_req.pop(stream.req_id, None) is not None:
            self._retire_req(stream.req_id)
        stream.req_id = self.next_req_id()
        stream.state = "opening"
        self._streams_by_req[stream.req_id] = stream
        frame = dict(stream.payload)
        frame["req_id"] = stream.req_id
        return frame

    def _drop_stream(self, stream: Stream, error: DerivError | None = None) -> None:
        stream.state = "ended"
        if self._streams_by_key.get(stream.key) is stream:
            del self._streams_by_key[stream.key]
        if self._streams_by_req.pop(stream.req_id, None) is not None:
            self._retire_req(stream.req_id)
        if stream.subscription_id is not None:
            self._streams_by_sub.pop(stream.subscription_id, None)
            self._retire_sub(stream.subscription_id)
        for consumer in stream.consumers:
            consumer.end(error)

    # -- incoming ------------------------------------------------------------------------

    def take_reply(self, message: dict[str, Any]) -> Any:
        """The hot path of :meth:`receive`: when ``message`` is a plain successful reply to a
        pending call (an ``int`` ``req_id`` of ours, a ``msg_type`` string, no ``error``, no
        secret to mask), forget the call and return its waiter, to be resolved with ``message``.
        Otherwise None, and nothing changed: route the message with :meth:`receive`.
        ``DerivConnection._route_frame`` has this written out (keep them in step).
        """
        req_id = message.get("req_id")
        if type(req_id) is int:
            call = self._pending.get(req_id)
            if (
                call is not None
                and call.plain
                and "error" not in message
                and type(message.get("msg_type")) is str
            ):
                del self._pending[req_id]
                return call.waiter
        return None

    def receive(self, message: Mapping[str, Any]) -> list[Action]:
        """Route one decoded message; returns what the I/O layer must do about it."""
        if type(message) is not dict:
            return [Unsolicited({"raw": message})]
        req_id = message.get("req_id")
        if type(req_id) is not int:  # bool, float, str...: no request id of ours
            req_id = None
        if req_id is not None:
            call = self._pending.pop(req_id, None)
            if call is not None:
                return [self._settle_safely(call, message)]
            stream = self._streams_by_req.get(req_id)
            if stream is not None:
                return self._to_stream_safely(stream, message)
        subscription = message.get("subscription")
        sub_id = subscription.get("id") if isinstance(subscription, dict) else None
        if isinstance(sub_id, str):
            stream = self._streams_by_sub.get(sub_id)
            if stream is not None:
                return self._to_stream_safely(stream, message)
            if sub_id in self._retired_sub_set:
                return []
        if req_id is not None and req_id in self._retired_req_set:
            logger.debug("late message for finished request %d dropped", req_id)
            return []
        return [Unsolicited(dict(message))]

    def _settle_safely(self, call: PendingCall, message: dict[str, Any]) -> Action:
        """Settle ``call`` with ``message``; whatever goes wrong, the call is settled."""
        try:
            if not call.plain and "echo_req" in message:
                message["echo_req"] = mask_secrets(message["echo_req"])  # whatever the server did
            if "error" in message:
                return Reject(call.waiter, api_error_from_reply(message, call.payload, call.name))
            if type(message.get("msg_type")) is not str:
                return Reject(call.waiter, ProtocolError(f"reply to {call.name!r} has no msg_type"))
            return Resolve(call.waiter, message)
        except Exception as exc:  # a frame must never leave a waiter behind
            logger.warning("reply to %r could not be read: %r", call.name, exc)
            return Reject(call.waiter, ProtocolError(f"unreadable reply to {call.name!r}"))

    def _to_stream_safely(self, stream: Stream, message: dict[str, Any]) -> list[Action]:
        try:
            return self._to_stream(stream, message)
        except Exception as exc:
            self.stream_failed(stream, exc)
            return []

    def stream_failed(self, stream: Stream, exc: Exception) -> None:
        """A message of ``stream`` could not be read: end the stream rather than the reader."""
        logger.warning("message of stream %r could not be read: %r", stream.name, exc)
        self._drop_stream(stream, ProtocolError(f"unreadable message on {stream.name!r}"))

    def _to_stream(self, stream: Stream, message: dict[str, Any]) -> list[Action]:
        """``DerivConnection._route_frame`` has the usual case (a live stream's message that
        cannot end it) written out: keep them in step."""
        actions: list[Action] = []
        if "error" in message:
            error = api_error_from_reply(message, stream.payload, stream.name)
            if (
                stream.state == "live"
                and stream.name == "proposal_open_contract"
                and ("contract_id" not in stream.payload)
            ):
                logger.warning("error on one contract of an all-contracts stream: %s", error)
                return []
            self._drop_stream(stream, error)
            return []
        if stream.state == "opening":
            stream.state = "live"
            stream.opening_type = message.get("msg_type")
            subscription = message.get("subscription")
            sub_id = subscription.get("id") if isinstance(subscription, dict) else None
            if isinstance(sub_id, str):
                stream.subscription_id = sub_id
                self._streams_by_sub[sub_id] = stream
            if stream.name == "buy":
                self._remember_contract(stream, message)
            if not stream.consumers:
                if stream.subscription_id is not None:
                    actions.append(Forget(stream.subscription_id))
                self._drop_stream(stream)
                return actions
        if message.get("msg_type") == stream.opening_type:
            stream.snapshot = message
        for consumer in stream.consumers:
            consumer.push(message)
        if _is_final(message) or (stream.subscription_id is None and stream.state == "live"):
            self._drop_stream(stream)
        return actions

    @staticmethod
    def _remember_contract(stream: Stream, message: dict[str, Any]) -> None:
        """After ``buy`` + subscribe, the stream is about the bought contract from now on."""
        receipt = message.get("buy")
        contract_id = receipt.get("contract_id") if isinstance(receipt, dict) else None
        if contract_id is not None:
            stream.name = "proposal_open_contract"
            stream.payload = {
                "proposal_open_contract": 1,
                "contract_id": contract_id,
                "subscribe": 1,
            }

    # -- connection lifecycle ------------------------------------------------------------

    def connection_lost(self) -> list[Action]:
        """The socket is gone. Fails what cannot be re-sent; keeps the rest for :meth:`resume`.

        Read-only calls are kept to be re-sent once; money-moving calls fail with
        ``OutcomeUnknown``; other calls fail with ``ConnectionLost``. Every stream is kept for
        re-subscription and its consumers' ``gaps`` counter goes up.
        """
        actions: list[Action] = []
        for call in list(self._pending.values()):
            if is_read_only(call.name) and not call.resent:
                continue
            del self._pending[call.req_id]
            error: DerivError
            if is_money_moving(call.name):
                error = OutcomeUnknown(
                    f"connection lost after {call.name!r} was sent; its outcome is unknown - "
                    "check the portfolio or statement before trying again"
                )
            else:
                error = ConnectionLost(f"connection lost before {call.name!r} was answered")
            actions.append(Reject(call.waiter, error))
        for stream in list(self._streams_by_key.values()):
            if not stream.consumers:
                self._drop_stream(stream)
                continue
            if stream.name == "buy" and stream.state == "opening":
                self._drop_stream(
                    stream,
                    OutcomeUnknown("connection lost after 'buy' was sent; its outcome is unknown"),
                )
                continue
            if stream.subscription_id is not None:
                self._streams_by_sub.pop(stream.subscription_id, None)
                self._retire_sub(stream.subscription_id)
                stream.subscription_id = None
            if stream.state == "live":
                for consumer in stream.consumers:
                    consumer.gaps += 1
            stream.needs_resend = True
        return actions

    def resume(self) -> list[dict[str, Any]]:
        """Frames to send once the new connection is authorized: re-sent calls, then streams."""
        frames: list[dict[str, Any]] = []
        for call in list(self._pending.values()):
            if call.resent or not is_read_only(call.name):
                continue
            del self._pending[call.req_id]
            self._retire_req(call.req_id)
            call.req_id = self.next_req_id()
            call.payload["req_id"] = call.req_id
            call.resent = True
            self._pending[call.req_id] = call
            frames.append(call.payload)
        for stream in list(self._streams_by_key.values()):
            if stream.needs_resend:
                stream.needs_resend = False
                stream.snapshot = None
                frames.append(self._stream_frame(stream))
        return frames

    def close(self, error: DerivError | None = None) -> list[Action]:
        """The client is closing: fail every pending call and end every stream.

        A money-moving call still awaiting its reply (a ``buy`` stream still opening included)
        fails with ``OutcomeUnknown``: it was sent and may have executed.
        """
        reason = error or ConnectionLost("client closed")
        actions: list[Action] = []
        for call in self._pending.values():
            if is_money_moving(call.name):
                actions.append(Reject(call.waiter, _closed_unknown(call.name)))
            else:
                actions.append(Reject(call.waiter, reason))
        self._pending.clear()
        for stream in list(self._streams_by_key.values()):
            if stream.state == "opening" and is_money_moving(stream.name):
                self._drop_stream(stream, _closed_unknown(stream.name))
            else:
                self._drop_stream(stream, error)
        return actions

    # -- bounded memory of given-up ids --------------------------------------------------

    def _retire_req(self, req_id: int) -> None:
        if len(self._retired_reqs) == self._retired_reqs.maxlen:
            self._retired_req_set.discard(self._retired_reqs[0])
        self._retired_reqs.append(req_id)
        self._retired_req_set.add(req_id)

    def _retire_sub(self, sub_id: str) -> None:
        if len(self._retired_subs) == self._retired_subs.maxlen:
            self._retired_sub_set.discard(self._retired_subs[0])
        self._retired_subs.append(sub_id)
        self._retired_sub_set.add(sub_id)


def _closed_unknown(name: str) -> OutcomeUnknown:
    return OutcomeUnknown(
        f"the connection closed before {name!r} was answered; its outcome is unknown - "
        "check the portfolio or statement before trying again"
    )


def _timeout_error(call: PendingCall) -> DerivError:
    if is_money_moving(call.name):
        return OutcomeUnknown(
            f"no reply to {call.name!r} within {call.timeout:g}s; its outcome is unknown - "
            "check the portfolio or statement before trying again"
        )
    return RequestTimeout(f"no reply to {call.name!r} within {call.timeout:g}s")


def _is_final(message: Mapping[str, Any]) -> bool:
    """The last message of a contract stream: ``is_sold`` set."""
    poc = message.get("proposal_open_contract")
    return isinstance(poc, dict) and bool(poc.get("is_sold"))
