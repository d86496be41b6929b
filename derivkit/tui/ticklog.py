"""Every recent tick of each watched symbol, and the last-digit statistics drawn from them.

Pure Python (no Textual, no ``derivkit.core``). The stream workers append each tick as it arrives
(through the screen), so no tick is lost to the repaint's coalescing; history is merged in by
epoch (a tick seen live and in the history counts once). Mutated only on the event loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from derivkit.formatting import price

__all__ = ["DIGIT_WINDOWS", "KEEP", "DigitStats", "TickLog", "digit_stats", "last_digit"]

#: The digit panel's windows (ticks); the log keeps the largest.
DIGIT_WINDOWS = (100, 500, 1000)
KEEP = max(DIGIT_WINDOWS)
#: Over/under shares: digits above OVER, digits below UNDER (as DIGITOVER 4 / DIGITUNDER 5).
OVER = 4
UNDER = 5


def last_digit(quote: float, pip_size: int | None) -> int:
    """The last digit of the quote as shown at its pip size (``1234.50`` -> 0), as Deriv
    settles digit contracts."""
    return int(price(quote, pip_size)[-1])


class TickLog:
    """One symbol's last ``keep`` ticks as (epoch, quote), oldest first."""

    def __init__(self, keep: int = KEEP) -> None:
        self._ticks: deque[tuple[int, float]] = deque(maxlen=keep)
        self.pip_size: int | None = None
        self.version = 0  # bumped on every change, so painters can skip unchanged logs

    def __len__(self) -> int:
        return len(self._ticks)

    def append(self, epoch: int, quote: float, pip_size: int | None) -> bool:
        """Take a live tick; False for one not newer than the last (a repeat)."""
        if pip_size is not None:
            self.pip_size = pip_size
        if self._ticks and epoch <= self._ticks[-1][0]:
            return False
        self._ticks.append((epoch, quote))
        self.version += 1
        return True

    def backfill(self, times: Iterable[int], quotes: Iterable[float], pip_size: int | None) -> None:
        """Merge past ticks in by epoch (live ticks win on the same epoch)."""
        if self.pip_size is None:
            self.pip_size = pip_size
        merged = dict(zip(times, quotes, strict=False))
        merged.update(self._ticks)
        keep = self._ticks.maxlen
        self._ticks = deque(sorted(merged.items()), maxlen=keep)
        self.version += 1

    def ticks(self, count: int | None = None) -> list[tuple[int, float]]:
        """The last ``count`` ticks as (epoch, quote) (all if None), oldest first."""
        return list(self._ticks)[-count:] if count else list(self._ticks)

    def quotes(self, count: int | None = None) -> list[float]:
        """The last ``count`` quotes (all if None), oldest first."""
        return [quote for _, quote in self.ticks(count)]

    def digits(self, count: int | None = None) -> list[int]:
        return [last_digit(quote, self.pip_size) for quote in self.quotes(count)]


@dataclass(frozen=True, slots=True)
class DigitStats:
    """Last digits over the last ``count`` ticks (at most ``window``)."""

    window: int
    count: int
    counts: tuple[int, ...]  # per digit 0-9
    even: int
    odd: int
    over: int  # digits > OVER
    under: int  # digits < UNDER
    parity_streak: tuple[str, int]  # ("even" | "odd" | "", length of the current run)
    digit_streak: tuple[int | None, int]  # (the last digit, how many ticks in a row)
    last_seen: tuple[int | None, ...]  # per digit: ticks ago (0 = the last tick), None if unseen

    def share(self, part: int) -> float:
        """``part`` as a percentage of the ticks counted (0 without ticks)."""
        return 100.0 * part / self.count if self.count else 0.0


def _run_length(values: Sequence[object]) -> int:
    if not values:
        return 0
    last, length = values[-1], 0
    for value in reversed(values):
        if value != last:
            break
        length += 1
    return length


def digit_stats(digits: Sequence[int], window: int) -> DigitStats:
    """Statistics of the last ``window`` of ``digits`` (oldest first)."""
    recent = list(digits[-window:])
    counts = [0] * 10
    for digit in recent:
        counts[digit] += 1
    last_seen: list[int | None] = [None] * 10
    for ago, digit in enumerate(reversed(recent)):
        if last_seen[digit] is None:
            last_seen[digit] = ago
    parities = ["even" if d % 2 == 0 else "odd" for d in recent]
    even = sum(counts[0::2])
    return DigitStats(
        window=window,
        count=len(recent),
        counts=tuple(counts),
        even=even,
        odd=len(recent) - even,
        over=sum(counts[OVER + 1 :]),
        under=sum(counts[:UNDER]),
        parity_streak=(parities[-1] if parities else "", _run_length(parities)),
        digit_streak=(recent[-1] if recent else None, _run_length(recent)),
        last_seen=tuple(last_seen),
    )
