"""Self-exclusion: the trading limits an account holder sets on themselves with
``set_self_exclusion``, held by the server and enforced on every ``buy`` whatever the client.

As at Deriv, self-exclusion is for real-money accounts (a virtual one gets ``PermissionDenied``),
and a limit, once set, can only be lowered through the API (raising or removing it takes the
company). Checked at ``buy`` (``Broker.buy``), in the account's currency, over UTC days:

* ``max_losses`` / ``max_7day_losses`` / ``max_30day_losses``: net loss of the period (stakes
  paid minus what contracts returned) plus the new stake, ``DailyLossLimitExceeded`` (or the 7-
  and 30-day codes) beyond it;
* ``max_turnover`` (and 7/30-day): stakes paid in the period plus the new one;
* ``max_open_bets``: open contracts, ``OpenPositionLimitExceeded``.

Synchronous; mutated only on the event loop thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from derivkit.sim.errors import ApiError
from derivkit.sim.validation import SELF_EXCLUSION_AMOUNTS

__all__ = ["SelfExclusion"]

DAY = 86_400
_WINDOWS = {"max": 1, "max_7day": 7, "max_30day": 30}
_LOSS_CODES = {
    1: ("DailyLossLimitExceeded", "You have exceeded your daily limit on losses."),
    7: ("7DayLossLimitExceeded", "You have exceeded your 7-day limit on losses."),
    30: ("30DayLossLimitExceeded", "You have exceeded your 30-day limit on losses."),
}
_TURNOVER_CODES = {
    1: ("DailyTurnoverLimitExceeded", "You have exceeded your daily limit on turnover."),
    7: ("7DayTurnoverLimitExceeded", "You have exceeded your 7-day limit on turnover."),
    30: ("30DayTurnoverLimitExceeded", "You have exceeded your 30-day limit on turnover."),
}
#: What ``set_self_exclusion`` sets: the money limits the request validation knows, then the rest.
_SETTABLE = (
    *SELF_EXCLUSION_AMOUNTS,
    "max_open_bets",
    "session_duration_limit",
    "exclude_until",
    "timeout_until",
)


@dataclass
class SelfExclusion:
    """One account's limits (absent: no limit)."""

    limits: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        """The ``get_self_exclusion`` payload: only what is set."""
        return dict(self.limits)

    def update(self, requested: Mapping[str, Any]) -> None:
        """Apply a ``set_self_exclusion`` request; a limit may only go down.

        Raises ApiError: nothing to set, or a limit raised or removed.
        """
        given = {key: value for key, value in requested.items() if key in _SETTABLE}
        if not given:
            raise ApiError(
                "SetSelfExclusionError", "Please provide at least one self-exclusion setting."
            )
        for key, value in given.items():
            current = self.limits.get(key)
            if current is None or not isinstance(value, int | float):
                continue
            if value == 0 or value > current:
                raise ApiError(
                    "SetSelfExclusionError",
                    f"Please enter a number between 0 and {current}.",
                    {"field": key},
                )
        for key, value in given.items():
            if isinstance(value, int | float) and value == 0 and key not in self.limits:
                continue  # 0 for a limit never set: nothing to do
            self.limits[key] = value

    def check_buy(
        self, price: float, now: float, movements: Iterable[tuple[int, str, float]], open_bets: int
    ) -> None:
        """Raise the API's error if buying at ``price`` now would break a limit."""
        limits = self.limits
        if not limits:
            return
        if "max_open_bets" in limits and open_bets >= limits["max_open_bets"]:
            raise ApiError(
                "OpenPositionLimitExceeded",
                "You have reached the maximum number of open positions set in your "
                "self-exclusion settings.",
            )
        rows = list(movements)
        today = int(now) // DAY * DAY
        for prefix, days in _WINDOWS.items():
            since = today - (days - 1) * DAY
            paid = sum(
                -amount for when, action, amount in rows if when >= since and action == "buy"
            )
            back = sum(
                amount for when, action, amount in rows if when >= since and action == "sell"
            )
            losses = limits.get(f"{prefix}_losses")
            if losses is not None and paid - back + price > losses + 1e-9:
                raise ApiError(*_LOSS_CODES[days])
            turnover = limits.get(f"{prefix}_turnover")
            if turnover is not None and paid + price > turnover + 1e-9:
                raise ApiError(*_TURNOVER_CODES[days])
