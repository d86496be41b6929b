"""``derivkit config``: where settings live, what they resolve to, and the stored token."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from derivkit.cli.app import settings as resolved_settings
from derivkit.cli.errors import reported
from derivkit.cli.prompts import ask_secret
from derivkit.cli.runner import output_for

if TYPE_CHECKING:
    from derivkit.tokenstore import TokenStore

config_app = typer.Typer(help="Show and change derivkit's settings.", no_args_is_help=True)


@config_app.command("path")
def path_command(ctx: typer.Context) -> None:
    """Print the config directory (settings and the encrypted token)."""
    from derivkit.settings import config_dir

    directory = str(config_dir())
    output_for(ctx).data({"config_dir": directory}, directory)


@config_app.command("show")
def show_command(ctx: typer.Context) -> None:
    """Resolved settings and where each came from (tokens only masked)."""
    from derivkit.core import DEFAULT_ENDPOINT
    from derivkit.core.secrets import mask_token
    from derivkit.settings import config_dir, resolve_bot_settings
    from derivkit.tokenstore import TokenStore

    out = output_for(ctx)
    with reported(out):
        settings = resolved_settings(ctx)
        bot = resolve_bot_settings(stored_token=TokenStore.for_bot().load())
    payload = {
        "endpoint": settings.endpoint or DEFAULT_ENDPOINT,
        "app_id": settings.app_id,
        "token": mask_token(settings.token) if settings.token else None,
        "token_source": settings.token_source,
        "sim": settings.sim,
        "bot_token": mask_token(bot.token) if bot.token else None,
        "bot_allowed_users": sorted(bot.allowed_users),
        "bot_trading": bot.trading,
        "bot_max_stake": bot.max_stake,
        "bot_max_open": bot.max_open,
        "bot_daily_loss": bot.daily_loss,
        "config_dir": str(config_dir()),
    }
    human = "\n".join(
        f"{key:<17} {'-' if value is None else value}" for key, value in payload.items()
    )
    out.data(payload, human)


def _config_keys_help() -> str:
    from derivkit.settings import CONFIG_KEYS

    return "One of: " + ", ".join(CONFIG_KEYS) + "."


@config_app.command("set")
def set_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help=_config_keys_help())],
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Store a setting in the config file (checked first: a bad value is refused, not saved)."""
    from derivkit.settings import config_dir, config_setting, load_config, save_config

    out = output_for(ctx)
    with reported(out):
        config_setting(key)
        directory = config_dir()
        values = load_config(directory)
        values[key] = value
        path = save_config(directory, values)
    saved = load_config(directory)[key]
    out.data({"saved": key, "value": saved, "path": str(path)}, f"Saved {key} in {path}", err=True)


@config_app.command("set-token")
def set_token_command(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Argument(help="The token; omit it to be prompted (or to read it from stdin)."),
    ] = None,
) -> None:
    """Store an API token, encrypted. Create tokens at app.deriv.com (Settings > API token)."""
    from derivkit.tokenstore import TokenStore

    store_token(ctx, TokenStore.default(), token, what="API token")


def store_token(ctx: typer.Context, store: TokenStore, token: str | None, *, what: str) -> None:
    """Save ``token`` in ``store``; without it, prompt (hidden) on a terminal or read stdin.
    Ctrl-C at the prompt stores nothing (exit 130)."""
    out = output_for(ctx)
    label = what[0].upper() + what[1:]
    with reported(out):
        if token is None:
            if sys.stdin.isatty():
                token = ask_secret(label, not_done=f"no {what} stored.")
            else:
                token = sys.stdin.readline().strip()
        store.save(token or "")
    out.data(
        {"saved": what, "path": str(store.token_path)},
        f"{label} saved (encrypted) in {store.token_path}",
        err=True,
    )


@config_app.command("clear-token")
def clear_token_command(ctx: typer.Context) -> None:
    """Remove the stored token."""
    from derivkit.tokenstore import TokenStore

    removed = TokenStore.default().clear()
    message = "Token removed." if removed else "No token was stored."
    output_for(ctx).data({"removed": removed}, message, err=True)
