"""Server-side subscriptions: one :class:`Stream` per ``subscription.id`` on one connection.

A stream pre-renders its envelope (``echo_req``, ``req_id``, ``passthrough``, ``subscription``)
once, so each message is a string concatenation plus the payload. ``close`` is idempotent and runs
the stream's cleanup callbacks (unregistering it from feeds/accounts); it never awaits.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from derivkit.sim.session import Request, Session


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def new_id() -> str:
    """A Deriv-shaped subscription/proposal id (36 chars, matches ``^[\\w-]{32,128}$``)."""
    return str(uuid.uuid4())


class Stream:
    """One live subscription; ``kind`` is its ``forget_all`` type, ``key`` its dedup key."""

    __slots__ = ("_cleanups", "closed", "id", "key", "kind", "msg_type", "prefix", "session")

    def __init__(
        self,
        session: Session,
        kind: str,
        key: Hashable,
        msg_type: str,
        req: Request,
        stream_id: str | None = None,
    ) -> None:
        self.session = session
        self.kind = kind
        self.key = key
        self.msg_type = msg_type
        self.id = stream_id or new_id()
        self.closed = False
        self._cleanups: list[Callable[[], None]] = []
        env: dict[str, Any] = {"echo_req": req.echo_req, "msg_type": msg_type}
        if req.passthrough is not None:
            env["passthrough"] = req.passthrough
        if req.req_id is not None:
            env["req_id"] = req.req_id
        env["subscription"] = {"id": self.id}
        self.prefix = f'{dumps(env)[:-1]},"{msg_type}":'

    def on_close(self, cb: Callable[[], None]) -> None:
        self._cleanups.append(cb)

    def emit(self, payload: dict[str, Any]) -> None:
        """Send ``payload`` (its ``id`` is set to this stream's id)."""
        if self.closed:
            return
        payload["id"] = self.id
        if self.session.dialect == "new":
            from derivkit.sim.newapi import to_new_api

            payload = to_new_api(self.msg_type, payload)
        self.session.enqueue(f"{self.prefix}{dumps(payload)}}}")

    def emit_list(self, payload: list[Any]) -> None:
        """Send a list payload (``ticks_batch``); the stream id is in ``subscription`` only."""
        if not self.closed:
            self.session.enqueue(f"{self.prefix}{dumps(payload)}}}")

    def emit_core(self, core: str) -> None:
        """Fast path for ticks: ``core`` ends with ``"id":"``."""
        if not self.closed:
            self.session.enqueue(f'{self.prefix}{core}{self.id}"}}}}')

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.session.drop_stream(self)
        for cb in self._cleanups:
            with contextlib.suppress(Exception):  # cleanup must not break the caller
                cb()
        self._cleanups.clear()
