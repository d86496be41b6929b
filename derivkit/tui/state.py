"""What the dashboard remembers between runs: the watchlist, the chart's granularity and the
digit window, in ``dashboard.json`` in the config dir (not ``config.toml``: this is state, not
settings).

Written whole to a temporary file and renamed, so a crash never leaves half a file; an unreadable
or malformed file is ignored (the defaults apply) and replaced at the next change.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["STATE_FILE", "DashboardState", "load_state", "save_state"]

STATE_FILE = "dashboard.json"

logger = logging.getLogger("derivkit.tui.state")


@dataclass
class DashboardState:
    symbols: list[str] = field(default_factory=list)  # empty: the defaults
    granularity: int = 0  # 0: ticks
    digit_window: int = 1000


def load_state(path: Path) -> DashboardState:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DashboardState()
    except (OSError, ValueError) as error:
        logger.warning("ignoring unreadable dashboard state %s: %s", path, error)
        return DashboardState()
    state = DashboardState()
    if not isinstance(data, dict):
        return state
    symbols = data.get("symbols")
    if isinstance(symbols, list) and all(isinstance(s, str) for s in symbols):
        state.symbols = list(dict.fromkeys(symbols))
    if isinstance(data.get("granularity"), int):
        state.granularity = data["granularity"]
    if isinstance(data.get("digit_window"), int):
        state.digit_window = data["digit_window"]
    return state


def save_state(path: Path, state: DashboardState) -> None:
    """Write ``state`` atomically; a failure is logged, never raised (it is not worth a crash)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("could not save the dashboard state to %s: %s", path, error)
