"""``derivkit status``: is the API up, what time is it there, how far away is it, what limits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import typer

from derivkit.cli.app import GLOBALS_EPILOG, app
from derivkit.cli.output import Column
from derivkit.cli.runner import Session, run
from derivkit.formatting import utc


@app.command("status", epilog=GLOBALS_EPILOG)
def status_command(ctx: typer.Context) -> None:
    """Site status, server time, round-trip latency and rate limits."""

    async def body(session: Session) -> None:
        api = session.api
        status, server_time = await session.fetch(
            asyncio.gather(api.website_status(), api.server_time())
        )
        latencies = [await api.ping() for _ in range(3)]
        latency_ms = round(sorted(latencies)[1] * 1000, 1)
        limits = _limit_rows(status.api_call_limits)
        payload = {
            "site_status": status.site_status,
            "message": status.message,
            "server_time": server_time,
            "clock_offset_s": round(server_time - time.time(), 1),
            "latency_ms": latency_ms,
            "endpoint": api.url,
            "api_call_limits": status.api_call_limits,
        }
        if session.out.json_mode:
            session.out.data(payload)
            return
        out = session.out
        colour = "green" if status.site_status == "up" else "red"
        out.console.print(
            f"Site:        [{colour}]{status.site_status}[/]  {status.message}".rstrip()
        )
        out.console.print(f"Endpoint:    {api.url}", markup=False)
        out.console.print(f"Server time: {utc(server_time)} UTC")
        out.console.print(f"Latency:     {latency_ms} ms (median of 3 pings)")
        columns = [
            Column("group"),
            Column("applies_to", "Applies to"),
            Column("minutely", "Per minute", numeric=True),
            Column("hourly", "Per hour", numeric=True),
        ]
        out.table(limits, columns, title="Rate limits", empty="No rate limits announced.")

    run(ctx, body)


def _limit_rows(limits: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for group, spec in limits.items():
        if not isinstance(spec, dict):
            continue
        rows.append(
            {
                "group": group,
                "applies_to": spec.get("applies_to", ""),
                "minutely": spec.get("minutely", spec.get("max", "")),
                "hourly": spec.get("hourly", ""),
            }
        )
    return rows
