"""Shared by the benchmark scripts: the machine they ran on, and RESULTS.md's marked sections.

Each script owns one section between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` and
replaces only that, so a run of one benchmark leaves the others' figures alone.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["RESULTS", "cpu_model", "machine_line", "write_section"]

RESULTS = Path(__file__).with_name("RESULTS.md")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line() -> str:
    """``Intel(R) Xeon(R) Processor, 2 cores; Python 3.11.7``."""
    return f"{cpu_model()}, {os.cpu_count() or 1} cores; Python {platform.python_version()}"


def write_section(name: str, body: str) -> None:
    """Put ``body`` between NAME's markers in RESULTS.md (appended if the section is new)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text)
