"""The one exception tree of derivkit.

::

    DerivError                     root; ``retryable`` says whether trying again can help
    ├── UsageError (ValueError)    the client was used wrongly (bad state, bad payload)
    ├── ConnectionLost (ConnectionError)
    │   │                          the socket failed; the call was not acted on, or was read-only
    │   ├── OutcomeUnknown         a money-moving call was sent but its reply never came
    │   └── HandshakeRejected      the server refused the connection (HTTP 4xx): never retried
    ├── RequestTimeout (TimeoutError)
    │                              no reply within the request timeout (pending entry removed)
    ├── ProtocolError              the server sent a frame that is not a valid API message
    └── APIError                   the server answered with ``{"error": {...}}``
        ├── AuthError
        │   ├── InvalidToken
        │   └── AuthorizationRequired
        ├── RateLimit
        ├── InvalidSymbol
        ├── MarketIsClosed
        ├── InsufficientBalance
        ├── InputValidationFailed
        ├── AlreadySubscribed
        └── InvalidContractProposal

Secrets never appear in any of these: requests are stored masked (see :mod:`derivkit.core.secrets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from derivkit.core.secrets import mask_secrets

__all__ = [
    "APIError",
    "AlreadySubscribed",
    "AuthError",
    "AuthorizationRequired",
    "ConnectionLost",
    "DerivError",
    "HandshakeRejected",
    "InputValidationFailed",
    "InsufficientBalance",
    "InvalidContractProposal",
    "InvalidSymbol",
    "InvalidToken",
    "MarketIsClosed",
    "OutcomeUnknown",
    "ProtocolError",
    "RateLimit",
    "RequestTimeout",
    "UsageError",
    "api_error_from_reply",
]


class DerivError(Exception):
    """Root of every error derivkit raises."""

    retryable: ClassVar[bool] = False
    """True when the same call may succeed if simply tried again later."""


class UsageError(DerivError, ValueError):
    """The client was used wrongly: closed, not connected, or given a malformed payload."""


class ConnectionLost(DerivError, ConnectionError):
    """The connection failed before a reply arrived. The call was not acted on, or was read-only."""

    retryable = True


class OutcomeUnknown(ConnectionLost):
    """A money-moving call (buy, sell, ...) was sent but no reply arrived.

    It is never re-sent automatically: check ``portfolio``/``statement``/``profit_table`` (or the
    ``transaction`` stream) to learn whether it executed before trying again.
    """

    retryable = False


class HandshakeRejected(ConnectionLost):
    """The server answered the WebSocket handshake with an HTTP refusal (a 4xx status: a bad
    app id, a spent or expired one-time password, an unknown path).

    Fatal: trying the same URL again cannot help, so the client never retries it by itself.

    Attributes:
        status: the HTTP status code (401, 403, ...).
    """

    retryable = False

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RequestTimeout(DerivError, TimeoutError):
    """No reply within the request timeout; the pending entry has been removed."""

    retryable = True


class ProtocolError(DerivError):
    """The server sent something that is not a valid Deriv API message."""


class APIError(DerivError):
    """The server answered a call with an error.

    Attributes:
        code: Deriv's stable error code, e.g. ``"InvalidSymbol"``.
        message: the server's (translated) message.
        details: per-field details, when the server sent them.
        msg_type: the reply's ``msg_type``.
        req_id: the request id the reply carried.
        request: the request with secrets masked.
    """

    code_name: ClassVar[str | None] = None

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        msg_type: str | None = None,
        req_id: int | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.msg_type = msg_type
        self.req_id = req_id
        self.request: dict[str, Any] = mask_secrets(dict(request or {}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class AuthError(APIError):
    """The call needs a valid login."""


class InvalidToken(AuthError):
    code_name = "InvalidToken"


class AuthorizationRequired(AuthError):
    code_name = "AuthorizationRequired"


class RateLimit(APIError):
    code_name = "RateLimit"
    retryable = True


class InvalidSymbol(APIError):
    code_name = "InvalidSymbol"


class MarketIsClosed(APIError):
    code_name = "MarketIsClosed"
    retryable = True


class InsufficientBalance(APIError):
    code_name = "InsufficientBalance"


class InputValidationFailed(APIError):
    code_name = "InputValidationFailed"


class AlreadySubscribed(APIError):
    code_name = "AlreadySubscribed"


class InvalidContractProposal(APIError):
    code_name = "InvalidContractProposal"
    retryable = True
    """Re-price (ask for a new proposal) and buy again."""


class _TransientAPIError(APIError):
    retryable = True


_BY_CODE: dict[str, type[APIError]] = {
    cls.code_name: cls
    for cls in (
        InvalidToken,
        AuthorizationRequired,
        RateLimit,
        InvalidSymbol,
        MarketIsClosed,
        InsufficientBalance,
        InputValidationFailed,
        AlreadySubscribed,
        InvalidContractProposal,
    )
    if cls.code_name
}
_TRANSIENT_CODES = frozenset({"CallError", "WrongResponse", "Timeout", "PriceMoved"})


def api_error_from_reply(
    reply: Mapping[str, Any], request: Mapping[str, Any] | None = None, name: str | None = None
) -> APIError | ProtocolError:
    """The typed error for a reply carrying ``error``.

    An error object of the wrong shape (not an object; ``code`` not a non-empty string;
    ``message`` not a string; ``details`` not an object) is a :class:`ProtocolError`: the reply
    says the call failed but not how. ``name`` is the call's name, for that error's text.
    """
    error = reply.get("error")
    problem = _error_shape_problem(error)
    if problem is not None:
        about = f" to {name!r}" if name else ""
        return ProtocolError(f"the server's error object in a reply{about} is malformed: {problem}")
    assert isinstance(error, Mapping)
    code: str = error["code"]
    message: str = error.get("message", "")
    details = error.get("details")
    cls = _BY_CODE.get(code) or (_TransientAPIError if code in _TRANSIENT_CODES else APIError)
    req_id = reply.get("req_id")
    msg_type = reply.get("msg_type")
    echo = reply.get("echo_req")
    return cls(
        code,
        message,
        details=details,
        msg_type=msg_type if isinstance(msg_type, str) else None,
        req_id=req_id if isinstance(req_id, int) and not isinstance(req_id, bool) else None,
        request=request if request is not None else echo if isinstance(echo, Mapping) else None,
    )


def _error_shape_problem(error: Any) -> str | None:
    if not isinstance(error, Mapping):
        return f"an object was expected, not {type(error).__name__}"
    code = error.get("code")
    if not isinstance(code, str) or not code:
        return f"'code' must be a non-empty string, not {type(code).__name__}"
    if not isinstance(error.get("message", ""), str):
        return f"'message' must be a string, not {type(error['message']).__name__}"
    details = error.get("details")
    if details is not None and not isinstance(details, Mapping):
        return f"'details' must be an object, not {type(details).__name__}"
    return None
