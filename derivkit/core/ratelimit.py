"""Client-side throttling seeded from ``website_status.api_call_limits``.

Sliding windows per call group (a minute and an hour each). The limiter only computes how long a
call must wait; the asyncio layer does the waiting. Until the server has announced its limits the
limiter lets everything through. A fractional limit (0.5 a minute) means one call per longer
window (two minutes); a limit that is not a positive finite number is ignored. Not thread-safe.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

__all__ = ["RateLimiter"]

EXEMPT_CALLS = frozenset({"ping", "time", "forget", "forget_all"})
_GROUP_CALLS: dict[str, frozenset[str] | None] = {
    "max_requestes_general": None,  # sic: Deriv's spelling; applies to every non-exempt call
    "max_requests_general": None,
    "max_requests_outcome": frozenset({"portfolio", "statement", "profit_table", "proposal"}),
    "max_requests_pricing": frozenset({"proposal", "proposal_open_contract"}),
}
_WINDOWS = {"minutely": 60.0, "hourly": 3600.0}


def _budget(limit: Any, span: float) -> tuple[int, float] | None:
    """``limit`` calls per ``span`` seconds as a whole number of calls per window, or None."""
    if isinstance(limit, bool) or not isinstance(limit, int | float):
        return None
    if (isinstance(limit, float) and not math.isfinite(limit)) or limit <= 0:
        return None
    if limit >= 1:
        return int(limit), span
    return 1, span / limit


class _Window:
    __slots__ = ("limit", "span", "stamps")

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        stamps = self.stamps
        while stamps and stamps[0] <= now - self.span:
            stamps.popleft()
        if len(stamps) < self.limit:
            return 0.0
        return stamps[len(stamps) - self.limit] + self.span - now


class RateLimiter:
    """How long a call must wait so that no announced per-connection limit is exceeded."""

    def __init__(self) -> None:
        self._groups: list[tuple[frozenset[str] | None, list[_Window]]] = []
        self._windows: dict[tuple[str, str], _Window] = {}

    @property
    def configured(self) -> bool:
        return bool(self._groups)

    def configure(self, api_call_limits: Mapping[str, Any]) -> None:
        """Adopt the limits a ``website_status`` reply announced (unknown groups are ignored).

        Calls already counted stay counted when the same limits are announced again.
        """
        groups: list[tuple[frozenset[str] | None, list[_Window]]] = []
        for group, spec in api_call_limits.items():
            if group not in _GROUP_CALLS or not isinstance(spec, Mapping):
                continue
            windows = []
            for field, span in _WINDOWS.items():
                budget = _budget(spec.get(field), span)
                if budget is None:
                    continue
                calls, window_span = budget
                window = self._windows.setdefault((group, field), _Window(calls, window_span))
                window.limit, window.span = calls, window_span
                windows.append(window)
            if windows:
                groups.append((_GROUP_CALLS[group], windows))
        self._groups = groups

    def _windows_for(self, name: str) -> list[_Window]:
        if name in EXEMPT_CALLS:
            return []
        return [w for calls, ws in self._groups if calls is None or name in calls for w in ws]

    def delay(self, name: str, now: float) -> float:
        """Seconds to wait before ``name`` may be sent (0 when it may go now)."""
        return max((w.wait(now) for w in self._windows_for(name)), default=0.0)

    def record(self, name: str, now: float) -> None:
        """Count ``name`` as sent at ``now``."""
        for window in self._windows_for(name):
            window.stamps.append(now)
