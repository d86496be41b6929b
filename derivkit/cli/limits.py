"""``derivkit limits``: trading limits that hold even when derivkit does not run.

``limits set --server`` writes them into the account's self-exclusion (``set_self_exclusion``):
the server then refuses any buy beyond them, from any app, even if a strategy's process dies
mid-martingale. Deriv lets a real-money account lower such a limit through the API but not raise
or remove it (that takes their support), and needs a token with the ``admin`` scope; virtual
accounts have no self-exclusion. Without ``--server`` the limit is derivkit's own: the default
``daily_loss`` stop of every ``derivkit run``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from derivkit.cli.app import examples
from derivkit.cli.errors import EXIT_AUTH, EXIT_USAGE, CommandError, reported
from derivkit.cli.prompts import confirm, interactive
from derivkit.cli.runner import Session, output_for, run
from derivkit.formatting import money

limits_app = typer.Typer(
    name="limits",
    no_args_is_help=True,
    help="Trading limits: the server's self-exclusion (--server), or derivkit's own.",
)

#: Where Deriv users make API tokens (and choose their scopes).
TOKEN_PAGE = "https://app.deriv.com/account/api-token"
#: Options of ``limits set --server`` and the self-exclusion field each one sets.
SERVER_FIELDS = {
    "daily_loss": "max_losses",
    "daily_turnover": "max_turnover",
    "max_open": "max_open_bets",
}
_LABELS = {
    "max_losses": "Daily loss limit",
    "max_7day_losses": "7-day loss limit",
    "max_30day_losses": "30-day loss limit",
    "max_turnover": "Daily turnover limit",
    "max_7day_turnover": "7-day turnover limit",
    "max_30day_turnover": "30-day turnover limit",
    "max_open_bets": "Open positions",
    "max_balance": "Maximum balance",
}


@limits_app.command(
    "show",
    epilog=examples("derivkit limits show", "derivkit --json limits show"),
)
def show_command(ctx: typer.Context) -> None:
    """The limits the server enforces on this account (its self-exclusion), and derivkit's."""

    async def body(session: Session) -> None:
        from derivkit.settings import resolve_run_limits

        reply = await session.fetch(session.api.request({"get_self_exclusion": 1}))
        server: dict[str, Any] = dict(reply.get("get_self_exclusion") or {})
        local = resolve_run_limits()
        payload = {"server": server, "derivkit": {"daily_loss": local}}
        currency = session.currency
        lines = ["On the server (self-exclusion):"]
        shown = [key for key in _LABELS if key in server]
        for key in shown:
            value = server[key]
            text = str(value) if key == "max_open_bets" else money(value, currency)
            lines.append(f"  {_LABELS[key]:<22} {text}")
        if not shown:
            lines.append("  none")
        daily = money(local, currency) if local is not None else "none"
        lines.append(f"derivkit's own (every `derivkit run`): daily loss {daily}")
        session.out.data(payload, "\n".join(lines))

    run(ctx, body, needs_token=True)


@limits_app.command(
    "set",
    epilog=examples(
        "derivkit limits set --daily-loss 50 --server",
        "derivkit limits set --daily-loss 20",
    ),
)
def set_command(
    ctx: typer.Context,
    daily_loss: Annotated[
        float | None,
        typer.Option("--daily-loss", min=0.01, metavar="AMOUNT", help="Most a day may lose."),
    ] = None,
    daily_turnover: Annotated[
        float | None,
        typer.Option(
            "--daily-turnover",
            min=0.01,
            metavar="AMOUNT",
            help="Most a day may stake (--server only).",
        ),
    ] = None,
    max_open: Annotated[
        int | None,
        typer.Option(
            "--max-open", min=1, metavar="N", help="Most contracts open at once (--server only)."
        ),
    ] = None,
    server: Annotated[
        bool,
        typer.Option(
            "--server",
            help="Write the limits into the account's self-exclusion: enforced by the server, "
            "and only lowered later, never raised, through the API.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Set a daily loss limit (and more with --server)."""
    out = output_for(ctx)
    chosen = {"daily_loss": daily_loss, "daily_turnover": daily_turnover, "max_open": max_open}
    given = {name: value for name, value in chosen.items() if value is not None}
    with reported(out):
        if not given:
            raise CommandError("nothing to set: give --daily-loss, --daily-turnover or --max-open")
        if not server:
            if set(given) != {"daily_loss"}:
                raise CommandError(
                    "--daily-turnover and --max-open are server limits: add --server", EXIT_USAGE
                )
            from derivkit.settings import config_dir, load_config, save_config

            directory = config_dir()
            values = load_config(directory)
            values["run_daily_loss"] = daily_loss
            path = save_config(directory, values)
            out.data(
                {"derivkit": {"daily_loss": daily_loss}},
                f"Saved: every `derivkit run` stops before a buy that could lose more than "
                f"{daily_loss:g} in a day ({path}).",
                err=True,
            )
            return

    request = {"set_self_exclusion": 1, **{SERVER_FIELDS[k]: v for k, v in given.items()}}

    async def body(session: Session) -> None:
        account = session.api.account
        if account is not None and account.is_virtual:
            raise CommandError(
                f"{account.loginid} is a demo account: Deriv keeps no self-exclusion for it. "
                "Use `derivkit limits set --daily-loss X` (derivkit's own limit) instead.",
                EXIT_USAGE,
            )
        if account is not None and "admin" not in account.scopes:
            raise CommandError(
                f"your token for {account.loginid} lacks the admin scope, which writing the "
                "self-exclusion needs (Deriv refuses it with PermissionDenied). Make a token with "
                f"the admin scope at {TOKEN_PAGE}, pass it for this command only (--token or "
                "DERIV_API_TOKEN) and delete it afterwards; nothing was changed.",
                EXIT_AUTH,
            )
        currency = session.currency
        summary = ", ".join(
            f"{_LABELS[SERVER_FIELDS[k]].lower()} {v if k == 'max_open' else money(v, currency)}"
            for k, v in given.items()
        )
        if not yes:
            if not interactive():
                raise CommandError(
                    "not changing the self-exclusion without confirmation: pass --yes",
                    EXIT_USAGE,
                )
            question = (
                f"Set {summary} on {account.loginid if account else 'this account'}? It can "
                "be lowered later but not raised or removed through the API"
            )
            if not confirm(question, not_done="nothing changed."):
                session.out.note("Nothing changed.")
                raise typer.Exit(0)
        await session.fetch(session.api.request(request))
        reply = await session.fetch(session.api.request({"get_self_exclusion": 1}))
        limits = reply.get("get_self_exclusion") or {}
        session.out.data({"server": limits}, f"The server now enforces: {summary}.")

    run(ctx, body, needs_token=True)
