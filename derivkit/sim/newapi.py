"""The new Deriv API's shape, for a :class:`~derivkit.sim.Simulator` started with ``new_api=True``.

Additive: the legacy ``/websockets/v3`` socket is unchanged. With ``new_api`` the simulator also
serves (shared docs, deriv-protocol.md §3):

* REST on ``sim.rest_url`` (HTTP/1.1 on localhost, parsed with h11), each call with a
  ``Deriv-App-ID`` header and ``Authorization: Bearer <token>`` (the simulator's tokens serve as
  personal access tokens): ``GET /trading/v1/options/accounts`` lists the token's account, and
  ``POST /trading/v1/options/accounts/{account_id}/otp`` returns
  ``{"data": {"url": "ws://.../trading/v1/options/ws/demo?otp=..."}}``. Errors are
  ``{"errors": [{"status", "code", "message"}], "meta": {...}}`` with 400/401/404.
* ``/trading/v1/options/ws/public``: market data without login (account calls are refused with
  ``AuthorizationRequired``).
* ``/trading/v1/options/ws/demo`` and ``/ws/real`` with ``?otp=``: the OTP's account, logged in
  from the first frame, no ``authorize``. An OTP opens one connection only and lapses after
  :data:`OTP_LIFETIME` seconds: reusing it gets the handshake refused with HTTP 401 (a missing one:
  400), as Deriv refuses it.
* The new field names on those sockets: contract parameters take ``underlying_symbol`` (and refuse
  ``symbol``); ``active_symbols`` items carry ``underlying_symbol``, ``underlying_symbol_name``,
  ``pip_size`` (decimals) and no spot or display fields; portfolio entries, transactions and open
  contracts name their ``underlying_symbol``; ``authorize`` and ``loginid`` do not exist.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import h11

if TYPE_CHECKING:
    from derivkit.sim.account import Account
    from derivkit.sim.server import Simulator

__all__ = [
    "NEW_API_PREFIX",
    "OTP_LIFETIME",
    "Login",
    "OptionsRest",
    "from_new_request",
    "to_new_api",
]

log = logging.getLogger("derivkit.sim.newapi")

NEW_API_PREFIX = "/trading/v1/options/ws/"
ACCOUNTS_PATH = "/trading/v1/options/accounts"
#: Seconds an OTP stays valid (wall clock), as Deriv documents.
OTP_LIFETIME = 120.0
#: Calls that do not exist on the new API's sockets.
REMOVED_CALLS = frozenset({"authorize", "logout"})


@dataclass(slots=True)
class Login:
    """How a connection logged in: which dialect it speaks and, on a trading socket, as whom."""

    dialect: str  # "v3" or "new"
    account: Account | None = None


def account_type(account: Account) -> str:
    return "demo" if account.is_virtual else "real"


class OTPs:
    """One-time passwords: issued per account, each good for one handshake within its lifetime."""

    def __init__(self) -> None:
        self._issued: dict[str, tuple[Account, float]] = {}
        self.issued = 0
        self.refused = 0

    def issue(self, account: Account) -> str:
        now = time.monotonic()
        for otp, (_, expiry) in list(self._issued.items()):
            if expiry <= now:
                del self._issued[otp]
        otp = secrets.token_urlsafe(24)
        self._issued[otp] = (account, now + OTP_LIFETIME)
        self.issued += 1
        return otp

    def redeem(self, otp: str) -> Account | None:
        """The OTP's account, once; None when it is unknown, spent or expired."""
        entry = self._issued.pop(otp, None)
        if entry is None or entry[1] <= time.monotonic():
            self.refused += 1
            return None
        return entry[0]


def error_body(status: int, code: str, message: str, path: str, method: str) -> bytes:
    body = {
        "errors": [{"status": status, "code": code, "message": message}],
        "meta": {"endpoint": path, "method": method, "timing": 1},
    }
    return json.dumps(body).encode()


def handshake_login(sim: Simulator, path: str) -> Login | tuple[int, bytes]:
    """The login of a WebSocket handshake to ``path``, or the (status, body) refusing it."""
    parts = urlsplit(path)
    if not parts.path.startswith(NEW_API_PREFIX):
        return Login("v3")
    kind = parts.path[len(NEW_API_PREFIX) :].strip("/")
    if not sim.new_api or kind not in ("public", "demo", "real"):
        return 404, error_body(404, "NotFound", "Resource not found", parts.path, "GET")
    if kind == "public":
        return Login("new")
    otp = parse_qs(parts.query).get("otp", [""])[0]
    if not otp:
        message = "OTP parameter is required"
        return 400, error_body(400, "ValidationError", message, parts.path, "GET")
    account = sim.otps.redeem(otp)
    if account is None or account_type(account) != kind:
        return 401, error_body(
            401, "Unauthorized", "Invalid or expired OTP token", parts.path, "GET"
        )
    return Login("new", account)


# -- field names -----------------------------------------------------------------------------


def from_new_request(call: str, request: dict[str, Any]) -> dict[str, Any] | str:
    """A new-API request in the legacy names the handlers take, or the name of a field the new
    API does not have (to be refused)."""
    if call == "proposal":
        if "symbol" in request:
            return "symbol"
        if "underlying_symbol" in request:
            request = dict(request)
            request["symbol"] = request.pop("underlying_symbol")
    elif call == "buy" and isinstance(request.get("parameters"), dict):
        params = request["parameters"]
        if "symbol" in params:
            return "parameters.symbol"
        if "underlying_symbol" in params:
            params = dict(params)
            params["symbol"] = params.pop("underlying_symbol")
            request = {**request, "parameters": params}
    if "loginid" in request:
        return "loginid"
    return request


_SYMBOL_DROPS = (
    "display_name",
    "market_display_name",
    "submarket_display_name",
    "subgroup_display_name",
    "spot",
    "spot_age",
    "spot_percentage_change",
    "spot_time",
    "pip",
    "symbol",
    "symbol_type",
)


def _symbol_item(item: dict[str, Any]) -> dict[str, Any]:
    pip = float(item.get("pip", 0.01))
    renamed = {k: v for k, v in item.items() if k not in _SYMBOL_DROPS}
    renamed["underlying_symbol"] = item.get("symbol")
    renamed["underlying_symbol_name"] = item.get("display_name")
    renamed["underlying_symbol_type"] = item.get("symbol_type")
    renamed["pip_size"] = max(0, len(f"{pip:.10f}".rstrip("0").split(".")[1]))
    return renamed


def _renamed(body: dict[str, Any], old: str) -> dict[str, Any]:
    if old not in body:
        return body
    out = {k: v for k, v in body.items() if k != old}
    out["underlying_symbol"] = body[old]
    return out


def to_new_api(msg_type: str, body: Any) -> Any:
    """A reply's payload under ``msg_type`` with the new API's field names."""
    if msg_type == "active_symbols" and isinstance(body, list):
        return [_symbol_item(item) if isinstance(item, dict) else item for item in body]
    if msg_type == "portfolio" and isinstance(body, dict):
        contracts = body.get("contracts")
        if isinstance(contracts, list):
            return {**body, "contracts": [_renamed(c, "symbol") for c in contracts]}
    if msg_type == "transaction" and isinstance(body, dict):
        return _renamed(body, "symbol")
    if msg_type == "proposal_open_contract" and isinstance(body, dict):
        return _renamed(body, "underlying")
    return body


# -- REST ------------------------------------------------------------------------------------


class OptionsRest:
    """The REST half of the new API on localhost: accounts and one-time WebSocket URLs."""

    def __init__(self, sim: Simulator, host: str, port: int = 0) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    connection.receive_data(data)
                    if not data:
                        break
                    continue
                if isinstance(event, h11.Request):
                    if not await self._answer(connection, reader, writer, event):
                        break
                    if connection.our_state is h11.MUST_CLOSE:
                        break
                    connection.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    break
        except (h11.RemoteProtocolError, ConnectionError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _answer(
        self,
        connection: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
    ) -> bool:
        """Read the request's body (ignored), send the answer; False when the peer is gone."""
        while True:
            event = connection.next_event()
            if isinstance(event, h11.EndOfMessage):
                break
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                if not data:
                    return False
                connection.receive_data(data)
        self.requests += 1
        method = request.method.decode()
        path = urlsplit(request.target.decode()).path
        headers = {name.decode().lower(): value.decode() for name, value in request.headers}
        status, body = self.route(method, path, headers)
        writer.write(
            connection.send(
                h11.Response(
                    status_code=status,
                    headers=[
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))),
                    ],
                )
            )
            or b""
        )
        writer.write(connection.send(h11.Data(data=body)) or b"")
        writer.write(connection.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        return True

    def route(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        """Answer one REST call: (status, JSON body)."""
        short = path.removeprefix("/trading/v1/options")
        if not headers.get("deriv-app-id"):
            message = "Deriv-App-ID header is required"
            return 400, error_body(400, "ValidationError", message, short, method)
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        account = self.sim.accounts.get(token)
        if account is None:
            return 401, error_body(
                401, "Unauthorized", "Invalid or missing authentication credentials", short, method
            )
        meta = {"endpoint": short, "method": method, "timing": 1}
        if path == ACCOUNTS_PATH and method == "GET":
            item = {
                "account_id": account.loginid,
                "balance": account.balance,
                "currency": account.currency,
                "group": "row",
                "status": "active",
                "account_type": account_type(account),
            }
            return 200, json.dumps({"data": [item], "meta": meta}).encode()
        prefix, _, rest = path.partition(ACCOUNTS_PATH + "/")
        account_id, _, action = rest.partition("/")
        if prefix == "" and rest and action == "otp" and method == "POST":
            if account_id != account.loginid:
                return 404, error_body(404, "AccountNotFound", "Resource not found", short, method)
            otp = self.sim.otps.issue(account)
            kind = account_type(account)
            url = f"ws://{self.sim.host}:{self.sim.port}{NEW_API_PREFIX}{kind}?otp={otp}"
            return 200, json.dumps({"data": {"url": url}, "meta": meta}).encode()
        return 404, error_body(404, "NotFound", "Resource not found", short, method)
