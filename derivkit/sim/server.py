"""The :class:`Simulator`: a websockets server speaking Deriv API v3 on
``ws://HOST:PORT/websockets/v3``.

Lifecycle: ``await sim.start()`` binds the socket (port 0 picks a free port) and starts the
simulated clock; ``await sim.stop()`` closes every connection, waits for their handlers, and
cancels the feed pump tasks, so no task outlives ``stop``. ``async with Simulator(...) as sim``
does both. Accounts (balances, contracts, transactions) belong to the simulator and survive client
reconnects.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Sequence
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from derivkit.sim.account import ALL_SCOPES, SHARED_USER, Account, Broker
from derivkit.sim.clock import SimClock
from derivkit.sim.faults import Faults
from derivkit.sim.feed import Market
from derivkit.sim.handlers import HANDLERS
from derivkit.sim.newapi import OptionsRest, OTPs, handshake_login
from derivkit.sim.ratelimit import RateLimits
from derivkit.sim.session import Session
from derivkit.sim.symbols import SYMBOLS

_TOKEN = re.compile(r"^[\w\-]{1,128}$")


class Simulator:
    """An offline Deriv WebSocket API v3 server (the package docstring has the full contract)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Sequence[str] | None = None,
        real_tokens: Sequence[str] | None = None,
        seed: int | str | None = None,
        balance: float = 10000.0,
        currency: str = "USD",
        speed: float = 1.0,
        rate_limits: RateLimits | None = None,
        idle_timeout: float = 120.0,
        start_epoch: int | None = None,
        scopes: Sequence[str] | None = None,
        separate_users: bool = False,
        new_api: bool = False,
    ) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        if not idle_timeout > 0:
            raise ValueError("idle_timeout must be positive")
        self.host = host
        self.port = port
        self.seed = str(seed) if seed is not None else secrets.token_hex(8)
        self.balance = float(balance)
        self.currency = currency
        self.speed = float(speed)
        self.rate_limits = rate_limits or RateLimits()
        self.idle_timeout = float(idle_timeout)
        self.start_epoch = start_epoch
        rng = random.Random(f"{self.seed}:tokens")
        if tokens is None or (not tokens and not real_tokens):
            tokens = [f"simDemo{rng.getrandbits(48):012x}"]
        self.tokens = list(tokens)
        self.real_tokens = list(real_tokens or [])
        all_tokens = self.tokens + self.real_tokens
        if len(set(all_tokens)) != len(all_tokens):
            raise ValueError("tokens must be unique")
        for tok in all_tokens:
            if not isinstance(tok, str) or not _TOKEN.match(tok):
                raise ValueError(f"invalid token {tok!r}: use 1-128 of [A-Za-z0-9_-]")
        self.scopes = tuple(scopes) if scopes is not None else ALL_SCOPES
        self.accounts: dict[str, Account] = {}
        self._virtual_count = self._real_count = 0
        self._last_user = SHARED_USER
        for tok in self.tokens:
            self._register(tok, real=False, scopes=self.scopes, own_user=separate_users)
        for tok in self.real_tokens:
            self._register(tok, real=True, scopes=self.scopes, own_user=separate_users)
        #: The first virtual token (or the first real one when only real tokens were given).
        self.token = (self.tokens or self.real_tokens)[0]
        self.faults = Faults(self._drop_all, self._pause, self._resume)
        #: call name -> (handler, needs authorize); see :mod:`derivkit.sim.handlers`.
        self.handlers = HANDLERS
        self.connections_accepted = 0
        #: Serve the new API too: REST on ``rest_url`` and its sockets (:mod:`derivkit.sim.newapi`).
        self.new_api = new_api
        self.otps = OTPs()
        #: Handshakes refused (HTTP 4xx), by status.
        self.handshakes_refused: dict[int, int] = {}
        self._rest: OptionsRest | None = None
        self._logins: dict[int, object] = {}
        self._sessions: set[Session] = set()
        self._server: Server | None = None
        self._clock: SimClock | None = None
        self._market: Market | None = None
        self._broker: Broker | None = None

    def add_account(
        self, token: str, *, real: bool = False, scopes: Sequence[str] | None = None
    ) -> Account:
        """A new account for ``token`` (virtual ``VRTC…``, or real ``CR…``), with the token's
        ``scopes`` (default: the simulator's), owned by a Deriv user of its own (its
        ``account_list`` shows only it). Works before and after ``start``."""
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise ValueError(f"invalid token {token!r}: use 1-128 of [A-Za-z0-9_-]")
        if token in self.accounts:
            raise ValueError("tokens must be unique")
        (self.real_tokens if real else self.tokens).append(token)
        chosen = self.scopes if scopes is None else scopes
        return self._register(token, real=real, scopes=chosen, own_user=True)

    def _register(
        self, token: str, *, real: bool, scopes: Sequence[str], own_user: bool
    ) -> Account:
        if real:
            self._real_count += 1
            loginid = f"CR{9000000 + self._real_count}"
        else:
            self._virtual_count += 1
            loginid = f"VRTC{9000000 + self._virtual_count}"
        user_id = SHARED_USER
        if own_user:
            self._last_user += 1
            user_id = self._last_user
        account = Account(
            loginid, token, not real, self.currency, self.balance, tuple(scopes), user_id
        )
        self.accounts[token] = account
        return account

    # -- components (available after start) ----------------------------------------------------
    @property
    def clock(self) -> SimClock:
        if self._clock is None:
            raise RuntimeError("simulator not started")
        return self._clock

    @property
    def market(self) -> Market:
        if self._market is None:
            raise RuntimeError("simulator not started")
        return self._market

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            raise RuntimeError("simulator not started")
        return self._broker

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/websockets/v3"

    @property
    def rest_url(self) -> str:
        """The new API's REST base URL (``new_api=True`` only)."""
        if self._rest is None:
            raise RuntimeError("the simulator serves the new API only with new_api=True")
        return self._rest.url

    @property
    def public_url(self) -> str:
        """The new API's public (market data) socket."""
        return f"ws://{self.host}:{self.port}/trading/v1/options/ws/public"

    @property
    def connections(self) -> int:
        """Currently open client connections."""
        return len(self._sessions)

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._server is not None or self._clock is not None:
            raise RuntimeError("simulator already started")
        self._clock = SimClock(self.speed, self.start_epoch)
        self._market = Market(self.seed, self._clock, int(self._clock.start_epoch))
        start = self._clock.start_epoch
        for symbol in self.faults.paused:  # paused before the start: no tick after it
            self._market.feed(symbol, start).pause(start)
        self._broker = Broker(self._market, self._clock)
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            max_size=2**20,
            compression="deflate",
            process_request=self._check_handshake,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.new_api:
            self._rest = OptionsRest(self, self.host)
            await self._rest.start()

    async def stop(self) -> None:
        rest, self._rest = self._rest, None
        if rest is not None:
            await rest.stop()
        server, self._server = self._server, None
        if server is not None:
            server.close(close_connections=True)
            await server.wait_closed()
        if self._market is not None:
            await self._market.close()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _check_handshake(self, ws: ServerConnection, request: Request) -> Response | None:
        """Refuse a handshake the new API would refuse (a spent OTP: 401), else note its login."""
        login = handshake_login(self, request.path)
        if isinstance(login, tuple):
            status, body = login
            self.handshakes_refused[status] = self.handshakes_refused.get(status, 0) + 1
            headers = Headers([("Content-Type", "application/json")])
            headers["Content-Length"] = str(len(body))
            return Response(status, "Refused", headers, body)
        self._logins[id(ws)] = login
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections_accepted += 1
        login = self._logins.pop(id(ws), None)
        session = Session(self, ws, login)
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)

    # -- fault hooks ----------------------------------------------------------------------------
    def _drop_all(self) -> int:
        sessions = list(self._sessions)
        for s in sessions:
            s.abort()
        return len(sessions)

    def _pause(self, symbol: str) -> None:
        """Stop ``symbol``'s ticks now; before :meth:`start`, from the simulator's first instant
        (so that no tick depends on how long the start took)."""
        if symbol not in SYMBOLS:
            raise KeyError(symbol)
        if self._market is not None:
            self._market.feed(symbol).pause()

    def _resume(self, symbol: str) -> None:
        if symbol not in SYMBOLS:
            raise KeyError(symbol)
        if self._market is not None:
            self._market.feed(symbol).resume()
