"""``derivkit sim``: run the offline Deriv API simulator. ``derivkit.sim`` is imported lazily."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from derivkit.cli.runner import StopSignals

sim_app = typer.Typer(
    name="sim",
    no_args_is_help=True,
    help="Offline Deriv WebSocket API v3 simulator.",
)


@sim_app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0 picks a free one).")] = 8765,
    token: Annotated[
        list[str] | None,
        typer.Option(
            "--token", help="Virtual-account token (repeatable); default: one demo token."
        ),
    ] = None,
    real_token: Annotated[
        list[str] | None,
        typer.Option("--real-token", help="Real-money (CR) account token, for testing guards."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for deterministic prices.")
    ] = None,
    balance: Annotated[float, typer.Option("--balance", help="Starting balance.")] = 10000.0,
    speed: Annotated[float, typer.Option("--speed", help="Simulated seconds per second.")] = 1.0,
    idle_timeout: Annotated[
        float, typer.Option("--idle-timeout", help="Close connections idle for N seconds.")
    ] = 120.0,
    start_epoch: Annotated[
        int | None, typer.Option("--start-epoch", help="Simulated epoch at start (default: now).")
    ] = None,
    scopes: Annotated[
        str | None,
        typer.Option(
            "--scopes",
            help="Comma-separated scopes of every token (default: read, trade, "
            "trading_information, payments, admin).",
        ),
    ] = None,
    delay: Annotated[
        float, typer.Option("--delay", help="Seconds added before every message sent (latency).")
    ] = 0.0,
    token_delay: Annotated[
        list[str] | None,
        typer.Option(
            "--token-delay",
            metavar="TOKEN=SECONDS",
            help="Extra delay of every message to one token's connections (repeatable).",
        ),
    ] = None,
) -> None:
    """Serve ws://HOST:PORT/websockets/v3 until Ctrl-C."""
    if speed <= 0:
        raise typer.BadParameter("must be positive", param_hint="--speed")
    if delay < 0:
        raise typer.BadParameter("must not be negative", param_hint="--delay")
    slow: dict[str, float] = {}
    for item in token_delay or []:
        slow_token, _, seconds = item.partition("=")
        try:
            slow[slow_token] = float(seconds)
        except ValueError:
            raise typer.BadParameter("use TOKEN=SECONDS", param_hint="--token-delay") from None
    from derivkit.sim import Simulator  # lazy: keeps CLI start-up fast

    signals = StopSignals()

    async def run(sim: Simulator) -> None:
        signals.install()
        async with sim:
            if not token:
                typer.echo(f"Demo token: {sim.token}")
            for t in real_token or []:
                typer.echo(f"Real-money token: {t}")
            typer.echo(f"Listening on {sim.url}")
            await signals.stop.wait()

    try:
        sim = Simulator(
            host=host,
            port=port,
            tokens=token or None,
            real_tokens=real_token or None,
            seed=seed,
            balance=balance,
            speed=speed,
            idle_timeout=idle_timeout,
            start_epoch=start_epoch,
            scopes=[s.strip() for s in scopes.split(",") if s.strip()] if scopes else None,
        )
        sim.faults.delay = delay
        sim.faults.token_delay.update(slow)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--token") from None
    try:
        asyncio.run(run(sim))
        if signals.interrupted:
            raise typer.Exit(130)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
