"""Running strategies, visible to other processes: a small status file per run.

Each ``derivkit run`` writes ``<data dir>/runs/<run id>.json`` (its pid, strategy, symbol, state
and running totals) after every event, and removes it when it exits. Any process of the same
user (``derivkit strategies``, ``derivkit stop``, the dashboard, the bot) lists them with
:func:`running` and stops one with :func:`request_stop`, which sends the run SIGTERM: no new
purchases, open contracts followed to settlement. A file whose process is gone is stale and
removed on sight.

Files are replaced atomically (written beside, then renamed), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from derivkit.settings import data_dir, write_private

__all__ = ["RunRecord", "RunRegistry"]


@dataclass
class RunRecord:
    """What another process can know of a running strategy."""

    run_id: str
    pid: int
    strategy: str
    symbol: str
    loginid: str = ""
    started: float = field(default_factory=time.time)
    state: str = "running"
    runs: int = 0
    won: int = 0
    lost: int = 0
    profit: float = 0.0
    stake: float = 0.0
    open: int = 0
    updated: float = field(default_factory=time.time)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, but not ours to stop
        return True
    return True


class RunRegistry:
    """The status files of one user's running strategies."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else data_dir() / "runs"

    @staticmethod
    def new_run_id() -> str:
        return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)

    def path(self, run_id: str) -> Path:
        return self.directory / f"{run_id}.json"

    def publish(self, record: RunRecord) -> None:
        record.updated = time.time()
        write_private(self.path(record.run_id), json.dumps(asdict(record)).encode())

    def remove(self, run_id: str) -> None:
        self.path(run_id).unlink(missing_ok=True)

    def running(self) -> list[RunRecord]:
        """Every live run, oldest first (stale files are removed)."""
        records = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                record = RunRecord.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError):
                continue
            if not _alive(record.pid):
                path.unlink(missing_ok=True)
                continue
            records.append(record)
        return sorted(records, key=lambda record: record.started)

    def request_stop(self, run_id: str | None = None) -> list[RunRecord]:
        """Ask one run (or all) to stop buying; returns the runs asked."""
        asked = []
        for record in self.running():
            if run_id is not None and record.run_id != run_id:
                continue
            try:
                os.kill(record.pid, signal.SIGTERM)
            except ProcessLookupError:
                self.remove(record.run_id)
                continue
            asked.append(record)
        return asked
