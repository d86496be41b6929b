"""``derivkit bot``: run the Telegram bot, and keep its token (encrypted).

``derivkit.bot`` and python-telegram-bot are imported only when the bot runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from derivkit.cli.app import GLOBALS_EPILOG
from derivkit.cli.app import settings as resolve_from_context
from derivkit.cli.config import store_token
from derivkit.cli.errors import (
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandError,
    reported,
)
from derivkit.cli.runner import StopSignals, open_session, output_for
from derivkit.settings import data_dir, option_help, setting

bot_app = typer.Typer(
    name="bot",
    no_args_is_help=True,
    help="A Telegram bot for your Deriv account (needs derivkit[bot]).",
)

NO_BOT_TOKEN = (
    "no Telegram bot token: create a bot with @BotFather, then run `derivkit bot set-token` "
    f"or set {setting('bot_token').env}"
)


@bot_app.command("run", epilog=GLOBALS_EPILOG)
def run_command(
    ctx: typer.Context,
    allow: Annotated[
        list[int] | None,
        typer.Option(
            "--allow", metavar="USER_ID", help=option_help("allowed_users"), show_default=False
        ),
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help=option_help("mode"), show_default=False)
    ] = None,
    trading: Annotated[
        bool | None,
        typer.Option("--trading/--no-trading", help=option_help("trading"), show_default=False),
    ] = None,
    max_stake: Annotated[
        float | None, typer.Option("--max-stake", help=option_help("max_stake"))
    ] = None,
    max_open: Annotated[
        int | None, typer.Option("--max-open", help=option_help("max_open"))
    ] = None,
    daily_loss: Annotated[
        float | None, typer.Option("--daily-loss", help=option_help("daily_loss"))
    ] = None,
    real_money: Annotated[
        bool, typer.Option("--real-money", help=option_help("real_money"))
    ] = False,
    real_money_user: Annotated[
        list[int] | None,
        typer.Option(
            "--real-money-user",
            metavar="USER_ID",
            help=option_help("real_money_users"),
            show_default=False,
        ),
    ] = None,
    database: Annotated[
        str | None, typer.Option("--database", help=option_help("database"), show_default=False)
    ] = None,
    session_idle: Annotated[
        str | None,
        typer.Option("--session-idle", help=option_help("session_idle"), show_default=False),
    ] = None,
    max_sessions: Annotated[
        int | None,
        typer.Option("--max-sessions", help=option_help("max_sessions"), show_default=False),
    ] = None,
    connect_rate: Annotated[
        float | None,
        typer.Option("--connect-rate", help=option_help("connect_rate"), show_default=False),
    ] = None,
    no_send_limit: Annotated[
        bool, typer.Option("--no-send-limit", help=option_help("no_send_limit"))
    ] = False,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help=option_help("api_url"), show_default=False)
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option("--webhook", metavar="URL", help=option_help("webhook"), show_default=False),
    ] = None,
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen", metavar="HOST:PORT", help=option_help("listen"), show_default=False
        ),
    ] = None,
    connection_cap: Annotated[
        int | None,
        typer.Option("--connection-cap", help=option_help("connection_cap"), show_default=False),
    ] = None,
) -> None:
    """Run the bot until Ctrl-C. Uses the Deriv token of `derivkit config set-token` (or --sim)."""
    from derivkit.settings import resolve_bot_settings
    from derivkit.tokenstore import TokenStore

    out = output_for(ctx)
    with reported(out):
        if out.json_mode:
            raise CommandError("--json does not apply to `bot run`", EXIT_USAGE)
        try:  # first: without the extra, no setting or token can help
            from derivkit.bot import running_bot
            from derivkit.bot.logsafety import protect_logging
        except ImportError:
            raise CommandError(
                "the bot needs its extra: pip install 'derivkit[bot]'", EXIT_USAGE
            ) from None
        settings = resolve_from_context(ctx)
        bot_settings = resolve_bot_settings(
            allowed_users=allow,
            trading=trading,
            max_stake=max_stake,
            max_open=max_open,
            daily_loss=daily_loss,
            real_money=real_money,
            api_url=api_url,
            mode=mode,
            real_money_users=real_money_user,
            database=database,
            session_idle=session_idle,
            max_sessions=max_sessions,
            connect_rate=connect_rate,
            no_send_limit=no_send_limit,
            webhook=webhook,
            listen=listen,
            connection_cap=connection_cap,
            stored_token=TokenStore.for_bot().load(),
        )
        if not bot_settings.token:
            raise CommandError(NO_BOT_TOKEN, EXIT_AUTH)

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    secrets = [bot_settings.token, settings.token or "", bot_settings.secret_token()]
    protect_logging(secrets, [handler])
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG if out.verbose else logging.INFO)
    if not out.verbose:  # the embedded simulator's and the socket library's chatter
        logging.getLogger("websockets").setLevel(logging.WARNING)

    if not bot_settings.allowed_users and not bot_settings.multi_user:
        out.warn("nobody is allowed yet: only /whoami answers. Add users with --allow ID")
    if bot_settings.multi_user:
        served = "everyone" if not bot_settings.allowed_users else "the allowed users"
        out.warn(f"multi-user mode: {served} may /connect their own Deriv account")
    if bot_settings.trading_on:
        limits = f"at most {bot_settings.max_stake:g} per contract, {bot_settings.max_open} open"
        if bot_settings.daily_loss is not None:
            limits += f", daily loss limit {bot_settings.daily_loss:g}"
        out.warn(f"trading is ON: /buy and /sell, {limits}")

    signals = StopSignals()

    async def main() -> None:
        from derivkit.storage import Storage, TokenCipher, default_url

        signals.install()
        url = bot_settings.database or default_url(data_dir())
        async with (
            open_session(settings, out, needs_token=not bot_settings.multi_user) as session,
            await Storage.open(url, TokenCipher.from_environment()) as storage,
            running_bot(
                bot_settings,
                storage=storage,
                market_client=session.api,
                owner_client=None if bot_settings.multi_user else session.api,
                endpoint=session.api.url,
                app_id=settings.app_id,
                base_url=bot_settings.api_url,
            ),
        ):
            if bot_settings.webhook:
                out.note(f"Bot running on webhooks at {bot_settings.listen}; Ctrl-C stops it.")
            else:
                out.note("Bot running; Ctrl-C stops it.")
            await signals.stop.wait()

    try:
        with reported(out, secrets=secrets):
            asyncio.run(main())
    finally:
        logging.getLogger().removeHandler(handler)
    out.note("Bot stopped.")
    if signals.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


@bot_app.command("set-token")
def set_token_command(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Argument(help="Omit it to be prompted (or to read it from stdin)."),
    ] = None,
) -> None:
    """Store the Telegram bot token (from @BotFather), encrypted."""
    from derivkit.tokenstore import TokenStore

    store_token(ctx, TokenStore.for_bot(), token, what="bot token")


@bot_app.command("clear-token")
def clear_token_command(ctx: typer.Context) -> None:
    """Remove the stored bot token."""
    from derivkit.tokenstore import TokenStore

    removed = TokenStore.for_bot().clear()
    output_for(ctx).note("Bot token removed." if removed else "No bot token was stored.")
