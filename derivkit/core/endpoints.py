"""Where a connection goes and how it logs in: the legacy v3 socket or the new Deriv API.

An :class:`Endpoint` hands the connection a URL for every (re)connect and says how it logs in:

* :class:`LegacyEndpoint`: ``wss://ws.derivws.com/websockets/v3?app_id=..&l=..``; the client's
  token goes in an ``authorize`` frame over the socket (after every reconnect too).
* :class:`OTPEndpoint`: the new API's trading socket. Each connection needs a fresh URL with a
  single-use one-time password, fetched over REST with a personal access token (or an OAuth2
  access token): ``POST /trading/v1/options/accounts/{account_id}/otp``. No ``authorize`` frame.
* :class:`PublicEndpoint`: the new API's public socket (market data, no login).

The new API also renames fields (``symbol`` is ``underlying_symbol`` in contract parameters):
an endpoint's ``dialect`` tells the client which names to send. Models read both names.

:class:`LegacyEndpoint` and :class:`PublicEndpoint` are one fixed URL each (one base class).

Concurrency: ``url()`` is awaited by the connection's own task, one call at a time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

from derivkit.core.exceptions import (
    APIError,
    ConnectionLost,
    InvalidToken,
    ProtocolError,
    UsageError,
)
from derivkit.core.models import AccountInfo
from derivkit.core.transport import build_url

if TYPE_CHECKING:
    import httpx

__all__ = [
    "NEW_API_PUBLIC",
    "NEW_API_REST",
    "Dialect",
    "Endpoint",
    "LegacyEndpoint",
    "OTPEndpoint",
    "PublicEndpoint",
    "describe_url",
]

logger = logging.getLogger("derivkit.core.endpoints")

Dialect = Literal["v3", "new"]

NEW_API_REST = "https://api.derivws.com"
NEW_API_PUBLIC = "wss://api.derivws.com/trading/v1/options/ws/public"

#: Query parameters that carry a secret (the new API's one-time password) and are never shown.
_SECRET_QUERY = ("otp", "token")


def describe_url(url: str) -> str:
    """``url`` without its query when that carries a secret (for reprs, logs and errors)."""
    parts = urlsplit(url)
    if any(f"{name}=" in parts.query for name in _SECRET_QUERY):
        return parts._replace(query="otp=<not shown>").geturl()
    return url


class Endpoint(Protocol):
    """A connection's destination and login, asked again before every (re)connect."""

    @property
    def dialect(self) -> Dialect:
        """The field names the server speaks: ``"v3"`` (legacy) or ``"new"``."""
        ...

    @property
    def authorizes(self) -> bool:
        """True when the client logs in with an ``authorize`` frame (its ``token``)."""
        ...

    @property
    def account(self) -> AccountInfo | None:
        """The account the socket acts for when the endpoint logs in itself (else None)."""
        ...

    def describe(self) -> str:
        """Where it connects, with no secret in it."""
        ...

    async def url(self) -> str:
        """The URL for the next connection.

        Raises:
            AuthError: the credentials were refused (fatal).
            ConnectionLost: the URL could not be fetched now (a later try may work).
        """
        ...

    async def aclose(self) -> None:
        """Release what the endpoint holds (an HTTP client)."""
        ...


class _FixedEndpoint:
    """A socket at one fixed URL, the same for every (re)connect: what :class:`LegacyEndpoint`
    and :class:`PublicEndpoint` share. Holds nothing to release; a subclass sets ``dialect``
    and ``authorizes`` and checks the URL it is given."""

    dialect: Dialect
    authorizes: bool
    account: AccountInfo | None = None

    def __init__(self, url: str) -> None:
        self._url = url

    def describe(self) -> str:
        return describe_url(self._url)

    async def url(self) -> str:
        return self._url

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


class LegacyEndpoint(_FixedEndpoint):
    """The Deriv WebSocket API v3: one fixed URL, ``app_id`` and ``l`` in its query."""

    dialect: Dialect = "v3"
    authorizes = True

    def __init__(self, url: str | None = None, *, app_id: int = 1089, lang: str = "EN") -> None:
        super().__init__(build_url(url, app_id, lang))


class PublicEndpoint(_FixedEndpoint):
    """The new API's public socket: ticks, history, symbols, proposals; no login, no app id."""

    dialect: Dialect = "new"
    authorizes = False

    def __init__(self, url: str = NEW_API_PUBLIC) -> None:
        fixed = build_url(url, 0, "")
        if fixed != url:
            raise UsageError(f"not a socket of the new Deriv API: {url!r}")
        super().__init__(fixed)


class OTPEndpoint:
    """The new API's trading socket, reached through a fresh one-time-password URL each time.

    Args:
        token: a personal access token (or OAuth2 access token) with the ``trade`` scope; sent
            as ``Authorization: Bearer`` to the REST API only, never over the socket.
        app_id: your application's id (``Deriv-App-ID`` header).
        account_id: the Options account to trade on; by default the first account of
            ``account_type`` that ``GET /trading/v1/options/accounts`` lists.
        account_type: ``"demo"`` or ``"real"`` (only used to pick the account).
        rest_url: the REST API's base URL.
        timeout: seconds each REST call may take.
        http: an ``httpx.AsyncClient`` to use (it is not closed); one is made otherwise.

    The token never appears in a repr, a log line or an error.
    """

    dialect: Dialect = "new"
    authorizes = False

    def __init__(
        self,
        token: str,
        *,
        app_id: int | str,
        account_id: str | None = None,
        account_type: Literal["demo", "real"] = "demo",
        rest_url: str = NEW_API_REST,
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not token:
            raise UsageError("OTPEndpoint needs a token (a personal access token)")
        parts = urlsplit(rest_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"rest_url must be an http(s) URL, got {rest_url!r}")
        self._token = token
        self.app_id = str(app_id)
        self.account_id = account_id
        self.account_type = account_type
        self.rest_url = rest_url.rstrip("/")
        self.timeout = timeout
        self._http = http
        self._owns_http = http is None
        self.account: AccountInfo | None = None
        #: One-time URLs fetched so far (for monitoring; each is used for one connection).
        self.otps_fetched = 0

    def describe(self) -> str:
        account = self.account_id or f"first {self.account_type} account"
        return f"{self.rest_url} (one-time URL for {account})"

    def __repr__(self) -> str:
        return f"<OTPEndpoint {self.describe()}>"

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx  # only the new API needs it: importing the core stays cheap

            self._http = httpx.AsyncClient(timeout=self.timeout)
        return self._http

    async def _call(self, method: str, path: str) -> Any:
        """One REST call; its ``data`` on success, the mapped error otherwise."""
        import httpx

        headers = {
            "Authorization": f"Bearer {self._token}",
            "Deriv-App-ID": self.app_id,
            "Accept": "application/json",
        }
        try:
            response = await self._client().request(
                method, self.rest_url + path, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:  # never the request itself: its headers hold the token
            raise ConnectionLost(f"cannot reach {self.rest_url}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise _rest_error(response.status_code, body, method, path)
        if not isinstance(body, dict) or "data" not in body:
            raise ProtocolError(f"{method} {path}: the reply has no 'data'")
        return body["data"]

    async def _find_account(self) -> str:
        data = await self._call("GET", "/trading/v1/options/accounts")
        if not isinstance(data, list):
            raise ProtocolError("GET /trading/v1/options/accounts: 'data' is not a list")
        for item in data:
            if isinstance(item, dict) and item.get("account_type") == self.account_type:
                self.account = _account_info(item)
                account_id = item.get("account_id")
                if isinstance(account_id, str) and account_id:
                    return account_id
        raise UsageError(f"no {self.account_type} Options account for this token")

    async def url(self) -> str:
        if self.account_id is None:
            self.account_id = await self._find_account()
        data = await self._call("POST", f"/trading/v1/options/accounts/{self.account_id}/otp")
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or urlsplit(url).scheme not in ("ws", "wss"):
            raise ProtocolError("the OTP reply carries no WebSocket URL")
        self.otps_fetched += 1
        if self.account is None:
            self.account = AccountInfo(loginid=self.account_id)
        logger.debug("fetched a one-time URL: %s", describe_url(url))
        return url

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None and self._owns_http:
            await http.aclose()


def _account_info(item: dict[str, Any]) -> AccountInfo:
    """A REST account entry as the :class:`AccountInfo` the legacy ``authorize`` gives."""
    balance = item.get("balance")
    return AccountInfo(
        loginid=str(item.get("account_id") or ""),
        currency=str(item.get("currency") or ""),
        balance=float(balance) if isinstance(balance, int | float) else 0.0,
        is_virtual=1 if item.get("account_type") == "demo" else 0,
        raw=dict(item),
    )


def _rest_error(status: int, body: Any, method: str, path: str) -> APIError | ConnectionLost:
    """The derivkit error for a REST error reply ``{"errors": [{status, code, message}]}``."""
    code, message = f"HTTP{status}", ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = str(errors[0].get("code") or code)
        message = str(errors[0].get("message") or "")
    text = message or f"{method} {path} failed"
    request = {"method": method, "path": path}
    if status in (401, 403):
        return InvalidToken(code, text, request=request)
    if status >= 500 or status in (408, 429):
        return ConnectionLost(f"{method} {path}: HTTP {status} {code}: {text}")
    return APIError(code, text, request=request)
