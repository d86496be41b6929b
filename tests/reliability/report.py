"""Figures of the reliability suites: printed, and appended as JSON lines to the file named by
``DERIVKIT_RELIABILITY_REPORT`` when it is set (RELIABILITY.md quotes them).

Sizes and seeds come from the environment, so a longer run by hand is one variable away."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import time
from collections.abc import Callable
from typing import Any


def setting(name: str, default: int) -> int:
    """An integer knob of a suite, e.g. ``DERIVKIT_CHAOS_FAULTS``."""
    return int(os.environ.get(name, default))


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def record(suite: str, figures: dict[str, Any]) -> None:
    line = {
        "suite": suite,
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        **figures,
    }
    print(f"\n[{suite}] " + json.dumps(line))
    path = os.environ.get("DERIVKIT_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


async def until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> None:
    """Wait until ``predicate()`` holds, for counts that no event announces (sockets closing
    on the far side); raises ``TimeoutError`` after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - nothing to wait on but the count itself
            await asyncio.sleep(step)
