"""``derivkit sim``: run the offline Deriv API simulator. ``derivkit.sim`` is imported lazily."""

from __future__ import annotations

import asyncio
import errno
from typing import Annotated

import typer

from derivkit.cli.app import examples
from derivkit.cli.errors import EXIT_CONNECTION, EXIT_INTERRUPTED, CommandError, reported
from derivkit.cli.runner import StopSignals, output_for

sim_app = typer.Typer(
    name="sim",
    no_args_is_help=True,
    help="Offline Deriv WebSocket API v3 simulator.",
)


def _positive(value: float) -> float:
    if not value > 0:
        raise typer.BadParameter(f"must be positive, got {value:g}")
    return value


SERVE_EXAMPLES = examples(
    "derivkit sim serve --token demo1        # then, in another terminal:",
    "derivkit --endpoint ws://127.0.0.1:8765/websockets/v3 --token demo1 balance",
    "derivkit sim serve --port 0 --seed 1 --speed 10 --json",
)


@sim_app.command("serve", epilog=SERVE_EXAMPLES)
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port", min=0, max=65535, metavar="PORT", help="TCP port (0 picks a free one)."
        ),
    ] = 8765,
    token: Annotated[
        list[str] | None,
        typer.Option(
            "--token",
            metavar="TOKEN",
            help="Virtual-account token (repeatable), so that clients can keep using it across "
            "restarts; default: one demo token, new each run unless --seed is given.",
            show_default=False,
        ),
    ] = None,
    real_token: Annotated[
        list[str] | None,
        typer.Option(
            "--real-token",
            metavar="TOKEN",
            help="Real-money (CR) account token, for testing guards.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", metavar="N", help="Seed for deterministic prices and demo token."),
    ] = None,
    balance: Annotated[
        float, typer.Option("--balance", min=0, metavar="AMOUNT", help="Starting balance.")
    ] = 10000.0,
    speed: Annotated[
        float,
        typer.Option(
            "--speed", metavar="X", callback=_positive, help="Simulated seconds per second."
        ),
    ] = 1.0,
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout",
            metavar="SECONDS",
            callback=_positive,
            help="Close connections idle for this long.",
        ),
    ] = 120.0,
    start_epoch: Annotated[
        int | None,
        typer.Option(
            "--start-epoch", metavar="EPOCH", help="Simulated epoch at start (default: now)."
        ),
    ] = None,
    scopes: Annotated[
        str | None,
        typer.Option(
            "--scopes",
            metavar="SCOPES",
            help="Comma-separated scopes of every token; each call needs the scopes Deriv's "
            "schema lists, else PermissionDenied (default: read, trade, "
            "trading_information, payments, admin).",
            show_default=False,
        ),
    ] = None,
    separate_users: Annotated[
        bool,
        typer.Option(
            "--separate-users",
            help="Make each token its own Deriv user (its account_list shows only its account), "
            "as the users of a multi-user bot are.",
        ),
    ] = False,
    delay: Annotated[
        float,
        typer.Option(
            "--delay", min=0, metavar="SECONDS", help="Seconds added before every message sent."
        ),
    ] = 0.0,
    token_delay: Annotated[
        list[str] | None,
        typer.Option(
            "--token-delay",
            metavar="TOKEN=SECONDS",
            help="Extra delay of every message to one token's connections (repeatable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve ws://HOST:PORT/websockets/v3 until Ctrl-C.

    Accounts, contracts and balances live as long as the server: point the CLI, the dashboard and
    the bot at it with --endpoint and --token to share one account between commands.
    """
    from derivkit.sim import Simulator  # lazy: keeps CLI start-up fast

    out = output_for(ctx)
    slow: dict[str, float] = {}
    for item in token_delay or []:
        slow_token, _, seconds = item.partition("=")
        try:
            slow[slow_token] = float(seconds)
        except ValueError:
            raise typer.BadParameter("use TOKEN=SECONDS", param_hint="--token-delay") from None
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
            separate_users=separate_users,
        )
    except ValueError as exc:  # the other values were checked above: a token is wrong
        raise typer.BadParameter(str(exc), param_hint="--token / --real-token") from None
    sim.faults.delay = delay
    sim.faults.token_delay.update(slow)
    signals = StopSignals()

    async def serve_until_stopped() -> None:
        signals.install()
        try:
            await sim.start()
        except OSError as error:
            raise CommandError(_bind_error(host, port, error), EXIT_CONNECTION) from None
        try:
            payload = {"url": sim.url, "tokens": sim.tokens, "real_tokens": sim.real_tokens}
            lines = [f"Demo token: {t}" for t in sim.tokens if not token]
            lines += [f"Real-money token: {t}" for t in sim.real_tokens]
            lines.append(f"Listening on {sim.url}")
            out.stream_item(payload, "\n".join(lines))  # one line: the server runs on
            out.note(f"Use it: derivkit --endpoint {sim.url} --token {sim.token} balance")
            await signals.stop.wait()
        finally:
            await sim.stop()

    with reported(out):
        asyncio.run(serve_until_stopped())
    if signals.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def _bind_error(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another `derivkit sim serve`?); "
            "pick another with --port, or --port 0 for a free one"
        )
    reason = error.strerror or str(error)
    return f"cannot listen on {host}:{port}: {reason}; check --host and --port"
