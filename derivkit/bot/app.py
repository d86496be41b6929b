"""The Telegram application: handlers wired to one shared Deriv client, and its lifetime.

PTB's ``run_polling()`` owns the event loop, so derivkit drives the lifecycle by hand
(:func:`running_bot`): initialize, attach the core, start polling (dropping updates queued while
the bot was down), start, and on exit the reverse. ``post_init``/``post_shutdown`` never run on this
path; :func:`attach_core`/:func:`detach_core` do their work instead. Everything runs on the
caller's event loop; handlers process one update at a time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    TypeHandler,
)

from derivkit.bot.access import command_name, gate
from derivkit.bot.alerts import Alert, PriceAlerts
from derivkit.bot.handlers import account, alerts, info, market, trading
from derivkit.bot.limits import UserRateLimits
from derivkit.bot.orders import PendingOrders
from derivkit.bot.render import alert_fired, settlement
from derivkit.bot.runtime import RUNTIME_KEY, BotRuntime
from derivkit.bot.watchers import ContractWatchers
from derivkit.core import (
    APIError,
    ConnectionLost,
    DerivClient,
    DerivError,
    OpenContract,
    RequestTimeout,
    Tick,
)
from derivkit.settings import BotSettings

__all__ = [
    "attach_core",
    "build_application",
    "detach_core",
    "error_text",
    "on_error",
    "running_bot",
]

logger = logging.getLogger("derivkit.bot")

DEFAULT_ORDER_TTL = 30.0


def build_application(
    settings: BotSettings, *, base_url: str | None = None, base_file_url: str | None = None
) -> Application:  # type: ignore[type-arg]
    """The bot with every handler registered. ``base_url`` points at a self-hosted Bot API
    server (or a test double); by default Telegram's."""
    if not settings.token:
        raise ValueError("the bot needs its Telegram token")
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, protect_content=True))
        .rate_limiter(AIORateLimiter(max_retries=2))
    )
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_file_url or file_url(base_url))
    application = builder.build()
    application.add_handler(TypeHandler(Update, gate), group=-1)
    application.add_handlers(
        [
            CommandHandler(["start", "help"], info.help_command),
            CommandHandler("whoami", info.whoami_command),
            CommandHandler("price", market.price_command),
            CommandHandler("balance", account.balance_command),
            CommandHandler("portfolio", account.portfolio_command),
            CommandHandler("profit", account.profit_command),
            CommandHandler("buy", trading.buy_command),
            CommandHandler("sell", trading.sell_command),
            CommandHandler("alert", alerts.alert_command),
            CommandHandler("alerts", alerts.alerts_command),
            CallbackQueryHandler(account.refresh_balance, pattern=f"^{account.BALANCE_BUTTON}$"),
            CallbackQueryHandler(trading.sell_button, pattern=f"^{account.SELL_BUTTON_PREFIX}"),
            CallbackQueryHandler(trading.confirm_order, pattern=f"^{trading.CONFIRM_PREFIX}"),
            CallbackQueryHandler(trading.cancel_order, pattern=f"^{trading.CANCEL_PREFIX}"),
            CallbackQueryHandler(alerts.delete_alert, pattern=f"^{alerts.DELETE_PREFIX}"),
        ]
    )
    application.add_error_handler(on_error)
    return application


def file_url(base_url: str) -> str:
    """A Bot API server's file URL from its method URL: ``http://h:8081/bot`` ->
    ``http://h:8081/file/bot`` (the layout of Telegram's and of telegram-bot-api servers)."""
    root, bot = base_url.rstrip("/").rsplit("/", 1)
    return f"{root}/file/{bot}"


async def attach_core(
    application: Application,  # type: ignore[type-arg]
    client: DerivClient,
    settings: BotSettings,
    *,
    order_ttl: float = DEFAULT_ORDER_TTL,
) -> BotRuntime:
    """Give the handlers the Deriv client, and publish the command list (private chats)."""

    async def notify_settled(chat_id: int, contract: OpenContract) -> None:
        await application.bot.send_message(chat_id, settlement(contract))

    async def notify_alert(alert: Alert, tick: Tick) -> None:
        await application.bot.send_message(alert.chat_id, alert_fired(alert, tick))

    rt = BotRuntime(
        client=client,
        settings=settings,
        orders=PendingOrders(ttl=order_ttl),
        watchers=ContractWatchers(client, notify_settled),
        alerts=PriceAlerts(client, notify_alert),
        limits=UserRateLimits(),
    )
    application.bot_data[RUNTIME_KEY] = rt
    await application.bot.set_my_commands(
        [BotCommand(name, description) for name, description in info.COMMANDS],
        scope=BotCommandScopeAllPrivateChats(),
    )
    return rt


async def detach_core(application: Application) -> None:  # type: ignore[type-arg]
    """Stop the settlement watches and price alerts; the client itself belongs to the caller."""
    rt = application.bot_data.pop(RUNTIME_KEY, None)
    if isinstance(rt, BotRuntime):
        await rt.watchers.close()
        await rt.alerts.close()


@asynccontextmanager
async def running_bot(
    client: DerivClient,
    settings: BotSettings,
    *,
    base_url: str | None = None,
    base_file_url: str | None = None,
    poll_timeout: float = 10.0,
    order_ttl: float = DEFAULT_ORDER_TTL,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot, polling and handling updates, for the body of the ``async with``.

    Cancelling the body stops the bot cleanly: polling ends, watches are cancelled, pending
    orders die with it (none is ever sent later).
    """
    application = build_application(settings, base_url=base_url, base_file_url=base_file_url)
    updater = application.updater
    assert updater is not None
    try:
        await application.initialize()  # getMe: a wrong token fails here
    except BaseException:
        await application.bot.shutdown()  # Application.shutdown() skips a failed initialize
        raise
    try:
        await attach_core(application, client, settings, order_ttl=order_ttl)
        await updater.start_polling(
            timeout=int(poll_timeout),
            poll_interval=0,
            drop_pending_updates=True,
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
        )
        await application.start()
        yield application
    finally:
        await detach_core(application)
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()


def error_text(error: BaseException) -> str:
    """What the user is told when a command fails (HTML-escaped)."""
    if isinstance(error, APIError):
        return f"❌ {escape(error.message)}"
    if isinstance(error, ConnectionLost):
        return "❌ Lost the connection to Deriv; I am reconnecting. Try again in a moment."
    if isinstance(error, RequestTimeout):
        return "❌ Deriv did not answer in time. Try again in a moment."
    if isinstance(error, DerivError):
        return f"❌ {escape(str(error))}"
    return "❌ Something went wrong on my side; the owner can see it in the bot's log."


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (type, user id, command: no message text, no user data) and tell the user."""
    error = context.error
    if error is None:
        return
    user_id = command = None
    if isinstance(update, Update):
        user_id = update.effective_user.id if update.effective_user else None
        command = command_name(update)
    if isinstance(error, DerivError):
        logger.warning("%s from user %s: %s", command, user_id, type(error).__name__)
    else:
        logger.error("%s from user %s failed", command, user_id, exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(error_text(error)[:190], show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(error_text(error))
    except Exception as reply_error:  # telling the user failed too: log, never loop
        logger.warning(
            "could not report an error to user %s: %s", user_id, type(reply_error).__name__
        )
