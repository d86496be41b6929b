"""Connection-core benchmark: derivkit vs a picows reference, a bare ``websockets`` loop,
python-deriv-api 0.1.6, and derivkit as it is on ``main``.

    .venv/bin/python benchmarks/bench_core.py [--quick] [--repeats N] [--main REF] [--no-write]

Starts ``bench_server.py`` in its own process, runs every client scenario in its own subprocess
(python-deriv-api with ``benchmarks/.venv-pda/bin/python``, created by ``setup_pda.sh`` when it is
missing; "derivkit (main)" from ``git archive REF`` in ``benchmarks/.derivkit-main``), repeats
each measurement, prints a table of medians with ratios and pass/fail per target, and replaces
the core section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from results import RESULTS, cpu_model, write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLIENTS = HERE / "clients"
PDA_PYTHON = HERE / ".venv-pda" / "bin" / "python"
MAIN_TREE = HERE / ".derivkit-main"

CLIENT_ORDER = ("picows", "bare", "derivkit", "dk_ws", "main", "pda")
CLIENT_LABEL = {
    "picows": "picows reference",
    "bare": "bare websockets",
    "derivkit": "derivkit (picows)",
    "dk_ws": "derivkit (websockets)",
    "main": "derivkit (main)",
    "pda": "python-deriv-api",
}
#: What each derivkit client runs with (the client script is the same).
CLIENT_ENV = {
    "derivkit": {"BENCH_DERIVKIT_TRANSPORT": "picows"},
    "dk_ws": {"BENCH_DERIVKIT_TRANSPORT": "websockets"},
    "main": {"PYTHONPATH": str(MAIN_TREE)},
}


@dataclass
class Plan:
    repeats: int
    memory_repeats: int
    seq_calls: int
    conc_total: int
    ticks_one: int
    ticks_hundred_each: int
    memory_counts: tuple[int, ...] = (1000, 10000)
    scenario_timeout: float = 60.0


FULL = Plan(
    repeats=3,
    memory_repeats=3,
    seq_calls=5000,
    conc_total=20000,
    ticks_one=100_000,
    ticks_hundred_each=1000,
)
QUICK = Plan(
    repeats=3,
    memory_repeats=1,
    seq_calls=2000,
    conc_total=6000,
    ticks_one=30_000,
    ticks_hundred_each=300,
)


@dataclass
class Measurement:
    """One row of the table: a scenario, how to run it, and how to read its result."""

    key: str
    label: str
    unit: str
    args: list[str]
    extract: Callable[[dict[str, Any]], float]
    memory: bool = False
    higher_is_better: bool = True
    only: tuple[str, ...] | None = None  # clients that run this row (None: all)
    values: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def median(self, client: str) -> float | None:
        values = self.values.get(client)
        return statistics.median(values) if values else None


def _rate(result: dict[str, Any]) -> float:
    return float(result["rate"])


def _cpu(result: dict[str, Any]) -> float:
    return float(result.get("cpu_us_per_call", result.get("cpu_us_per_tick")))


def _per_call(count: int) -> Callable[[dict[str, Any]], float]:
    def extract(result: dict[str, Any]) -> float:
        return float(result["counts"][str(count)]["bytes_per_call"])

    return extract


def build_measurements(plan: Plan) -> list[Measurement]:
    rows = [
        Measurement(
            "seq", "(a) sequential ping", "calls/s", ["seq", "--n", str(plan.seq_calls)], _rate
        )
    ]
    rows.append(
        Measurement(
            "seq_mux",
            "(a) sequential ping, bare with reader task + future (multiplexing floor)",
            "calls/s",
            ["conc", "--callers", "1", "--n", str(plan.seq_calls)],
            _rate,
            only=("bare",),
        )
    )
    for callers in (1, 10, 100, 1000):
        per = max(1, plan.conc_total // callers)
        rows.append(
            Measurement(
                f"conc{callers}",
                f"(b) {callers} concurrent callers x {per} pings",
                "calls/s",
                ["conc", "--callers", str(callers), "--n", str(per)],
                _rate,
            )
        )
    rows.append(
        Measurement(
            "ticks1",
            f"(c) 1 flooding subscription x {plan.ticks_one} ticks",
            "ticks/s",
            ["ticks", "--streams", "1", "--n", str(plan.ticks_one)],
            _rate,
        )
    )
    rows.append(
        Measurement(
            "ticks100",
            f"(c) 100 flooding subscriptions x {plan.ticks_hundred_each} ticks",
            "ticks/s",
            ["ticks", "--streams", "100", "--n", str(plan.ticks_hundred_each)],
            _rate,
        )
    )
    # The client process's own CPU per call or tick, from the same runs: far steadier than the
    # wall-clock rates on a shared machine, and what a client costs whatever else runs.
    for row in list(rows):
        if row.key in ("seq", "conc1", "conc10", "conc100", "conc1000", "ticks1", "ticks100"):
            unit = "µs/tick" if row.key.startswith("ticks") else "µs/call"
            rows.append(
                Measurement(
                    f"cpu_{row.key}",
                    f"(e) client CPU, {row.label[4:]}",
                    unit,
                    row.args,
                    _cpu,
                    higher_is_better=False,
                    only=row.only,
                )
            )
    counts = ",".join(str(c) for c in plan.memory_counts)
    for count in plan.memory_counts:
        rows.append(
            Measurement(
                f"pending{count}",
                f"(d) RSS per pending call, {count} awaiting replies",
                "bytes/call",
                ["pending", "--counts", counts],
                _per_call(count),
                memory=True,
                higher_is_better=False,
            )
        )
    for count in plan.memory_counts:
        rows.append(
            Measurement(
                f"completed{count}",
                f"(d) RSS kept per completed call, after {count}",
                "bytes/call",
                ["completed", "--counts", counts, "--callers", "100"],
                _per_call(count),
                memory=True,
                higher_is_better=False,
            )
        )
    return rows


# ----------------------------------------------------------------------------- processes


class Server:
    def __init__(self, deflate: bool) -> None:
        command = [sys.executable, str(HERE / "bench_server.py")]
        if deflate:
            command.append("--deflate")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.url = f"ws://127.0.0.1:{line[1]}"
        self.hold_url = f"ws://127.0.0.1:{line[2]}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def client_command(client: str) -> list[str]:
    if client == "pda":
        return [str(PDA_PYTHON), str(CLIENTS / "pda_client.py")]
    script = "derivkit" if client in CLIENT_ENV else client
    return [sys.executable, str(CLIENTS / f"{script}_client.py")]


def run_client(
    client: str, server: Server, args: list[str], timeout: float
) -> tuple[dict[str, Any] | None, str | None]:
    command = [*client_command(client), server.url, *args]
    command += ["--hold-url", server.hold_url, "--timeout", str(timeout)]
    env = {**os.environ, **CLIENT_ENV.get(client, {})}  # main: PYTHONPATH before site-packages
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout + 30, cwd=ROOT, env=env
        )
    except subprocess.TimeoutExpired:
        return None, f"killed after {timeout + 30:g}s"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"exit {done.returncode}: {tail}"
    result = json.loads(lines[-1])
    if "error" in result:
        return result, str(result["error"])
    return result, None


def run_order(clients: list[str], repeat: int) -> list[str]:
    """The order of the clients in one repeat of a row.

    The picows reference and derivkit (picows), whose ratio the targets are, run back to back,
    first one then the other in alternate repeats, so that each pair shares the machine's load
    of those seconds (the paired ratio); the other clients follow, each repeat starting with
    another one.
    """
    pair = [c for c in ("picows", "derivkit") if c in clients]
    if repeat % 2:
        pair.reverse()
    rest = [c for c in clients if c not in pair]
    shift = repeat % len(rest) if rest else 0
    return pair + rest[shift:] + rest[:shift]


def ensure_main(ref: str) -> str | None:
    """Export ``ref``'s derivkit package to benchmarks/.derivkit-main; why it failed, or None."""
    if MAIN_TREE.exists():
        subprocess.run(["rm", "-rf", str(MAIN_TREE)], check=True)
    MAIN_TREE.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "derivkit"], capture_output=True, cwd=ROOT, check=False
    )
    if archive.returncode != 0:
        return archive.stderr.decode(errors="replace").strip()[-200:]
    subprocess.run(["tar", "-x", "-C", str(MAIN_TREE)], input=archive.stdout, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], capture_output=True, text=True, cwd=ROOT
    )
    (MAIN_TREE / "COMMIT").write_text(commit.stdout.strip())
    return None


def ensure_pda() -> str | None:
    """Create benchmarks/.venv-pda when missing; returns why it is unusable, or None."""
    if PDA_PYTHON.exists():
        return None
    print("creating benchmarks/.venv-pda (python-deriv-api 0.1.6) ...", flush=True)
    done = subprocess.run(["bash", str(HERE / "setup_pda.sh")], capture_output=True, text=True)
    if done.returncode != 0 or not PDA_PYTHON.exists():
        return f"setup_pda.sh failed: {done.stderr.strip()[-300:]}"
    return None


# ----------------------------------------------------------------------------- reporting


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit.startswith("µs"):
        return f"{value:.2f}"
    if unit == "bytes/call":
        return f"{value:,.0f}"
    return f"{value:,.0f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _paired(row: Measurement, client: str, other: str) -> float | None:
    """The median of the per-repeat ratios ``client / other`` (runs of one repeat are close in
    time, so they share the machine's load): steadier than the ratio of the medians."""
    ours, theirs = row.values.get(client, []), row.values.get(other, [])
    if not ours or len(ours) != len(theirs):
        return None
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _cell(row: Measurement, client: str) -> str:
    text = _fmt(row.median(client), row.unit)
    errors = row.errors.get(client)
    if errors:
        runs = len(row.values.get(client, [])) + len(errors)
        text += f" ({len(errors)}/{runs} failed: {errors[0]})"
    return text


@dataclass
class Target:
    name: str
    observed: str
    passed: bool | None


def evaluate(rows: dict[str, Measurement], counts: tuple[int, ...]) -> list[Target]:
    targets: list[Target] = []

    def add(name: str, ratio: float | None, limit: float, at_least: bool) -> None:
        passed = None if ratio is None else (ratio >= limit if at_least else ratio <= limit)
        targets.append(Target(name, _fmt_ratio(ratio), passed))

    for key, what in (
        ("seq", "sequential"),
        ("conc1", "1 caller"),
        ("conc10", "10 concurrent callers"),
        ("conc100", "100 concurrent callers"),
        ("conc1000", "1000 concurrent callers"),
        ("ticks1", "ticks/s, 1 subscription"),
        ("ticks100", "ticks/s, 100 subscriptions"),
    ):
        add(
            f"{what} >= 1.0x the picows reference",
            _ratio(rows[key].median("derivkit"), rows[key].median("picows")),
            1.0,
            True,
        )
        paired = _paired(rows[key], "derivkit", "picows")
        if paired is not None:
            targets[-1].observed += f" (paired: {paired:.2f}x)"
    for key in ("seq", "conc10", "conc100", "conc1000", "ticks1", "ticks100"):
        row = rows[f"cpu_{key}"]
        add(
            f"(info) client CPU ({key}) <= 1.0x the picows reference",
            _ratio(row.median("derivkit"), row.median("picows")),
            1.0,
            False,
        )
    for count in counts:
        row = rows[f"pending{count}"]
        add(
            f"memory per pending call ({count}) <= derivkit on main",
            _ratio(row.median("derivkit"), row.median("main")),
            1.0,
            False,
        )
    seq = rows["seq"]
    add(
        "sequential >= 0.95x bare loop",
        _ratio(seq.median("derivkit"), seq.median("bare")),
        0.95,
        True,
    )
    add(
        "(info) sequential vs the bare multiplexing floor (reader task + future) >= 0.95x",
        _ratio(seq.median("derivkit"), rows["seq_mux"].median("bare")),
        0.95,
        True,
    )
    conc = rows["conc100"]
    add(
        "100 concurrent callers >= 4x python-deriv-api",
        _ratio(conc.median("derivkit"), conc.median("pda")),
        4.0,
        True,
    )
    for key, what in (("ticks1", "1 subscription"), ("ticks100", "100 subscriptions")):
        add(
            f"ticks/s ({what}) >= 1.3x python-deriv-api",
            _ratio(rows[key].median("derivkit"), rows[key].median("pda")),
            1.3,
            True,
        )
    for count in counts:
        row = rows[f"pending{count}"]
        add(
            f"memory per pending call ({count}) <= 1/3 of python-deriv-api",
            _ratio(row.median("derivkit"), row.median("pda")),
            1 / 3,
            False,
        )
    for count in counts:
        kept = rows[f"completed{count}"].median("derivkit")
        # RSS moves in 4 KiB pages; ~0 per call means under 16 bytes/call (< 160 KiB for 10,000).
        passed = None if kept is None else kept <= 16
        observed = "n/a" if kept is None else f"{kept:.1f} bytes/call"
        targets.append(Target(f"no growth per completed call ({count})", observed, passed))
    return targets


#: Ratio columns: derivkit (picows) over each of these.
RATIO_OVER = ("picows", "bare", "dk_ws", "main", "pda")


def render_table(rows: list[Measurement]) -> str:
    names = " | ".join(CLIENT_LABEL[c] for c in CLIENT_ORDER)
    ratios = " | ".join(f"dk / {CLIENT_LABEL[c]}" for c in RATIO_OVER)
    header = f"| measurement | unit | {names} | {ratios} |"
    align = "|---|---|" + "---:|" * (len(CLIENT_ORDER) + len(RATIO_OVER))
    lines = [header, align]
    for row in rows:
        dk = row.median("derivkit")
        cells = " | ".join(_cell(row, c) for c in CLIENT_ORDER)
        shown = " | ".join(_fmt_ratio(_ratio(dk, row.median(c))) for c in RATIO_OVER)
        lines.append(f"| {row.label} | {row.unit} | {cells} | {shown} |")
    return "\n".join(lines)


def render_runs(rows: list[Measurement]) -> str:
    lines = ["| measurement | client | runs |", "|---|---|---|"]
    for row in rows:
        for client in CLIENT_ORDER:
            values = row.values.get(client, [])
            shown = ", ".join(f"{v:,.0f}" for v in values) or "-"
            lines.append(f"| {row.key} | {CLIENT_LABEL[client]} | {shown} |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    pda_ws = "n/a"
    if PDA_PYTHON.exists():
        done = subprocess.run(
            [str(PDA_PYTHON), "-c", "import websockets; print(websockets.__version__)"],
            capture_output=True,
            text=True,
        )
        pda_ws = done.stdout.strip() or "n/a"
    import websockets

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    import picows

    main_commit = MAIN_TREE / "COMMIT"
    return {
        "date": subprocess.run(["date"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "pda_websockets": pda_ws,
        "commit": commit or "unknown",
        "main_commit": main_commit.read_text() if main_commit.exists() else "n/a",
        "picows": picows.__version__,
    }


def render_section(
    rows: list[Measurement],
    targets: list[Target],
    info: dict[str, str],
    command: str,
    plan: Plan,
    deflate: bool,
) -> str:
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    target_lines = "\n".join(
        f"| {t.name} | {t.observed} | **{verdict[t.passed]}** |" for t in targets
    )
    return f"""## Connection core (`bench_core.py`)

- Date: {info["date"]}; load average (1, 5, 15 min) {info["load_before"]} at the start, \
{info["load_after"]} at the end (2 cores shared with other jobs)
- Machine: {info["cpu"]}, {info["cores"]} cores; Python {info["python"]}; websockets \
{info["websockets"]} (derivkit, bare), {info["pda_websockets"]} (python-deriv-api 0.1.6); \
picows {info["picows"]}; derivkit at commit {info["commit"]} (working tree as checked out), \
"derivkit (main)" at {info["main_commit"]}
- Command: `{command}`
- Server: `bench_server.py` in its own process on 127.0.0.1, permessage-deflate \
{"on" if deflate else "off"}; every client scenario runs in its own subprocess. Throughput rows: \
median of {plan.repeats} runs; memory rows: median of {plan.memory_repeats} runs (RSS = VmRSS \
from /proc/self/status inside the client, after `gc.collect()`).

{render_table(rows)}

| target | observed (derivkit / reference; paired: median of the per-repeat ratios) | result |
|---|---|---|
{target_lines}

How to read it:

- **derivkit (picows)** is derivkit with `transport=PicowsTransport`, **derivkit (websockets)**
  the same code with `WebsocketsTransport`, **derivkit (main)** derivkit as it is on the `--main`
  ref (commit above), with its default transport. The `dk / ...` columns divide derivkit
  (picows) by each.
- **picows reference** (`clients/picows_client.py`) is derivkit's design at its leanest on picows:
  frames decoded with orjson in picows' callback, replies routed to `req_id` futures, each stream
  buffered and read by its own consumer task (`async for`), and nothing else (no timeouts,
  reconnects, de-duplication or rate limits).
- The machine is shared (2 cores, other jobs running): the runs of one cell spread by up to 3x
  (see "All runs"), so a ratio of medians is good to about +-15 % at best; the targets use it.
  "paired" is the median over the repeats of derivkit's run divided by the reference's run of
  the same repeat (seconds apart, under about the same load): the steadier estimate of the
  same ratio. In each repeat the reference and derivkit (picows) run back to back, in
  alternate order (the other clients after them). The memory rows are stable to a few bytes.
- **bare websockets** is the floor: for (a) a plain send-then-recv loop (no reader task, no
  futures); for (b), (c), (d) a single reader task with a `req_id -> future` dict (the minimal
  correct multiplexing; a plain loop cannot have several calls in flight), ticks counted inside the
  reader (no per-stream buffer or consumer task).
- The "multiplexing floor" row is the bare client's reader-task path with one caller: the price of
  any design where one task reads the socket and hands replies to callers (one extra event-loop hop
  per call). The first target compares derivkit with the plain loop, the "(info)" line with this.
- (b) every caller is a task doing its share of pings back to back on the one connection.
- (c) the server pushes each stream's ticks as fast as the socket takes them; the time runs from the
  first subscribe to the last tick consumed, all ticks are consumed (a drop would be shown).
- (e) the client process's CPU time (user + system, `time.process_time()`) over the measured
  part of the same runs as (a)-(c), per call or tick: lower is better, and much steadier than
  the rates when other jobs share the machine.
- (d) "pending": N tasks each awaiting a ping that the hold port never answers; RSS growth / N,
  including the task, the library's bookkeeping and the sent frame. "completed": RSS growth / N
  over N completed pings (100 in flight at a time) after a warm-up round of the same size; 0 means
  less than one 4 KiB page over N calls.

<details><summary>All runs</summary>

{render_runs(rows)}

</details>
"""


# ----------------------------------------------------------------------------- main


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, under 2 minutes")
    parser.add_argument("--repeats", type=int, help="override the number of throughput runs")
    parser.add_argument("--deflate", action="store_true", help="server accepts permessage-deflate")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--main", default="main", help="git ref of the 'derivkit (main)' column")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.repeats:
        plan.repeats = args.repeats
    rows = build_measurements(plan)
    clients = list(CLIENT_ORDER)
    pda_problem = ensure_pda()
    if pda_problem:
        print(f"python-deriv-api unavailable: {pda_problem}", flush=True)
        clients.remove("pda")
    main_problem = ensure_main(args.main)
    if main_problem:
        print(f"derivkit at {args.main} unavailable: {main_problem}", flush=True)
        clients.remove("main")

    started = time.monotonic()
    load_before = _load()
    server = Server(args.deflate)
    try:
        for repeat in range(plan.repeats):
            runs: dict[tuple[str, ...], tuple[dict[str, Any] | None, str | None]] = {}
            order = run_order(clients, repeat)
            for row in rows:
                if row.memory and repeat >= plan.memory_repeats:
                    continue
                for client in order:
                    if row.only is not None and client not in row.only:
                        continue
                    key = (client, *row.args)  # rows that share a run (memory) share its result
                    if key not in runs:
                        runs[key] = run_client(client, server, row.args, plan.scenario_timeout)
                    result, error = runs[key]
                    if error is None and result is not None:
                        row.values.setdefault(client, []).append(row.extract(result))
                        row.extra.setdefault(client, []).append(result)
                    else:
                        row.errors.setdefault(client, []).append(error or "no result")
            print(f"repeat {repeat + 1}/{plan.repeats} done ({time.monotonic() - started:.0f}s)")
    finally:
        server.stop()

    by_key = {row.key: row for row in rows}
    targets = evaluate(by_key, plan.memory_counts)
    print()
    print(render_table(rows))
    print()
    for target in targets:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[target.passed]
        print(f"{verdict:4}  {target.name}: {target.observed}")
    print(f"\ntotal {time.monotonic() - started:.0f}s")
    if not args.no_write:
        command = "python benchmarks/bench_core.py" + " ".join(
            [""] + [shlex.quote(a) for a in sys.argv[1:]]
        )
        info = {**machine(), "load_before": load_before, "load_after": _load()}
        section = render_section(rows, targets, info, command, plan, args.deflate)
        write_section("bench_core", section)
        print(f"updated {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
