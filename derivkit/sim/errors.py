"""API error type raised by handlers and turned into ``{"error": {...}}`` replies by the session.

Pure data; no I/O. Safe to raise from any synchronous handler code.
"""

from __future__ import annotations

from typing import Any

#: Default English messages per error code (Deriv translates them via ``l=``; we do not).
MESSAGES: dict[str, str] = {
    "BadRequest": "The application sent an invalid request.",
    "SanityCheckFailed": "Parameters sanity check failed.",
    "UnrecognisedRequest": "Unrecognised request.",
    "CallError": "Sorry, an error occurred while processing your request.",
    "InputValidationFailed": "Input validation failed.",
    "AuthorizationRequired": "Please log in.",
    "InvalidToken": "The token is invalid.",
    "PermissionDenied": "Permission denied.",
    "InvalidSymbol": "Symbol is invalid.",
    "AlreadySubscribed": "You are already subscribed.",
    "InvalidContractProposal": "Unknown contract proposal",
    "InsufficientBalance": "Your account balance is insufficient for this transaction.",
    "RateLimit": "You have reached the rate limit.",
    "PriceMoved": "The underlying market has moved too much since you priced the contract.",
    "ContractBuyValidationError": "The contract could not be validated.",
    "InvalidSellContractProposal": "This contract cannot be sold.",
    "TopupVirtualError": "Your balance is higher than the permitted amount.",
}

#: Codes that Deriv reports with ``msg_type: "error"`` rather than the call's own msg_type.
FRAMEWORK_CODES = frozenset(
    {"BadRequest", "SanityCheckFailed", "UnrecognisedRequest", "Timeout", "ResponseTooLarge"}
)


class ApiError(Exception):
    """An error reply. ``details`` is only sent when non-empty (as Deriv does)."""

    def __init__(
        self, code: str, message: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, code)
        self.details = details or None
        super().__init__(f"{code}: {self.message}")

    def to_json(self) -> dict[str, Any]:
        """The value of the reply's ``error`` key."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def validation_error(details: dict[str, str]) -> ApiError:
    """``InputValidationFailed`` naming the offending fields."""
    fields = ", ".join(sorted(details))
    return ApiError("InputValidationFailed", f"Input validation failed: {fields}", details)
