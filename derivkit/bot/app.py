"""The Telegram application: handlers wired to the bot's services, and its lifetime.

PTB's ``run_polling()`` owns the event loop, so derivkit drives the lifecycle by hand
(:func:`running_bot`): initialize, attach the services (:func:`attach_core`), start polling
(dropping updates queued while the bot was down) or, with ``settings.webhook``, derivkit's
webhook receiver (:mod:`derivkit.bot.inbox`: the secret token checked on every request; in a
fleet each update committed to the database before Telegram gets its 200) and ``setWebhook``
(queued updates are kept, since other instances of a fleet may still be serving), start, and
on exit the reverse. ``post_init``/``post_shutdown`` never run on this path.

Updates run concurrently across users and in order per user
(:class:`~derivkit.bot.updates.PerUserUpdateProcessor`). Everything runs on the caller's event
loop. The Deriv clients and the storage belong to the caller; the bot opens (and closes) only the
per-user sessions of multi-user mode.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from derivkit.bot.access import command_name, gate
from derivkit.bot.alerts import PriceAlerts
from derivkit.bot.delivery import Delivery, Outbox
from derivkit.bot.errors import error_text
from derivkit.bot.fleet import Fleet
from derivkit.bot.handlers import (
    account,
    alerts,
    connect,
    contracts,
    fallback,
    info,
    market,
    strategies,
    trading,
)
from derivkit.bot.handlers import (
    settings as user_settings,
)
from derivkit.bot.handlers.common import on_button
from derivkit.bot.inbox import WebhookReceiver
from derivkit.bot.interrupted import finish_interrupted
from derivkit.bot.marketdata import MarketData, UnknownSymbol
from derivkit.bot.orders import PendingOrders
from derivkit.bot.render import alert_fired
from derivkit.bot.runtime import RUNTIME_KEY, BotRuntime
from derivkit.bot.sending import InFlightLimiter
from derivkit.bot.sessions import AccountSessions, AtCapacity, NotConnected, TokenRefused
from derivkit.bot.trades import TradeDesk
from derivkit.bot.updates import PerUserUpdateProcessor
from derivkit.core import DerivClient, DerivError, Tick
from derivkit.settings import BotSettings
from derivkit.storage import AlertRecord, Storage
from derivkit.storage.fleet import FleetStore
from derivkit.storage.notices import NoticeStore
from derivkit.storage.tombstones import OrderTombstones

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
#: Pauses between attempts of setWebhook at startup (seconds).
WEBHOOK_RETRY_DELAYS = (1.0, 2.0, 4.0)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
#: HTTP connections to the Bot API (and, without Telegram's pacing, calls in flight): the HTTP
#: client scans its whole pool for every request, so a small pool is the fast one. A local Bot
#: API server answers in a millisecond; Telegram's, paced to 30 messages a second, in ~100 ms.
LOCAL_CONNECTIONS = 8
TELEGRAM_CONNECTIONS = 32
#: What a user who turned connection notices on (/notify connection on) is told.
CONNECTION_NOTICES = {
    "reconnecting": "📡 Lost the connection to your Deriv account; reconnecting…",
    "connected": "📡 Connected to your Deriv account again.",
}

COMMAND_HANDLERS = (
    (["start", "help"], info.help_command),
    ("whoami", info.whoami_command),
    ("status", info.status_command),
    ("connect", connect.connect_command),
    ("disconnect", connect.disconnect_command),
    ("account", connect.account_command),
    ("price", market.price_command),
    ("chart", market.chart_command),
    ("symbols", market.symbols_command),
    ("contracts", market.contracts_command),
    ("balance", account.balance_command),
    ("portfolio", account.portfolio_command),
    ("profit", account.profit_command),
    ("statement", account.statement_command),
    ("history", account.history_command),
    ("stats", account.stats_command),
    ("quote", trading.quote_command),
    ("buy", trading.buy_command),
    ("sell", trading.sell_command),
    ("sellall", trading.sellall_command),
    ("update", contracts.update_command),
    ("cancel", contracts.cancel_command),
    ("strategies", strategies.strategies_command),
    ("alert", alerts.alert_command),
    ("alerts", alerts.alerts_command),
    ("unalert", alerts.unalert_command),
    ("limits", user_settings.limits_command),
    ("stop", user_settings.stop_command),
    ("resume", user_settings.resume_command),
    ("notify", user_settings.notify_command),
)


def build_application(
    settings: BotSettings,
    *,
    base_url: str | None = None,
    base_file_url: str | None = None,
    concurrent: int = 256,
) -> Application:  # type: ignore[type-arg]
    """The bot with every handler registered. ``base_url`` points at a self-hosted Bot API
    server (or a test double); by default Telegram's."""
    if not settings.token:
        raise ValueError("the bot needs its Telegram token")
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, protect_content=True))
        .concurrent_updates(PerUserUpdateProcessor(concurrent))
        .connection_pool_size(LOCAL_CONNECTIONS if settings.no_send_limit else TELEGRAM_CONNECTIONS)
    )
    if settings.no_send_limit:
        builder = builder.rate_limiter(InFlightLimiter(LOCAL_CONNECTIONS))
    else:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=2))  # type: ignore[arg-type]
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_file_url or file_url(base_url))
    application = builder.build()
    application.add_handler(TypeHandler(Update, gate), group=-1)
    application.add_handlers(
        [CommandHandler(names, callback) for names, callback in COMMAND_HANDLERS]
    )
    application.add_handlers(
        [
            CallbackQueryHandler(on_button),  # every tap: live buttons run, others expire
            MessageHandler(filters.ALL, fallback.other_message),
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
    settings: BotSettings,
    *,
    storage: Storage,
    market_client: DerivClient,
    owner_client: DerivClient | None = None,
    endpoint: str | None = None,
    app_id: int = 1089,
    order_ttl: float = DEFAULT_ORDER_TTL,
    keep_warm: float = 120.0,
    request_timeout: float = 30.0,
    instance: str | None = None,
) -> BotRuntime:
    """What ``post_init`` would do: build the services, resume alerts, watches and unfinished
    trades (and finish the cards of Confirms a stopped process left half done), publish the
    command list.

    Personal mode needs ``owner_client`` (the owner's authorized client, also used for market
    data unless ``market_client`` is another); multi-user mode opens a session per user at
    ``endpoint`` itself. Multi-user mode on PostgreSQL storage joins the fleet of instances
    sharing that database (:mod:`derivkit.bot.fleet`; ``instance`` names this one).
    """
    if not settings.multi_user and owner_client is None:
        raise ValueError("personal mode needs the owner's Deriv client")
    fleet = None
    if settings.multi_user and FleetStore.supported(storage):
        fleet = Fleet(
            FleetStore(storage), instance=instance, connection_cap=settings.connection_cap
        )
    delivery = Delivery(application.bot, storage)
    outbox = Outbox(delivery, NoticeStore(storage), fleet.instance if fleet else "local")
    desk = TradeDesk(storage, delivery, owners=lambda: sorted(settings.allowed_users))
    desk.outbox = outbox
    market = MarketData(market_client, keep_warm=keep_warm)

    async def notify_alert(alert: AlertRecord, tick: Tick) -> None:
        await delivery.notify(alert.telegram_id, alert.chat_id, "alert", alert_fired(alert, tick))

    def connection_notice(user_id: int, state: str) -> None:
        text = CONNECTION_NOTICES.get(state)
        if text is not None:
            desk.spawn(delivery.notify(user_id, user_id, "connection", text), "notice")

    sessions = AccountSessions(
        storage,
        endpoint=endpoint,
        app_id=app_id,
        on_settled=desk.settled,
        on_open=desk.resume,
        on_state=connection_notice,
        owner_client=None if settings.multi_user else owner_client,
        idle=settings.session_idle,
        max_sessions=settings.max_sessions,
        connect_rate=settings.connect_rate,
        request_timeout=request_timeout,
    )
    rt = BotRuntime(
        settings=settings,
        storage=storage,
        market=market,
        sessions=sessions,
        desk=desk,
        delivery=delivery,
        orders=PendingOrders(
            ttl=order_ttl,
            store=fleet.store if fleet else None,
            tombstones=None if fleet else OrderTombstones(storage.engine),
            holder=fleet.instance if fleet else "",
        ),
        alerts=PriceAlerts(
            market, storage, notify_alert, fleet=fleet, outbox=outbox, render=alert_fired
        ),
        outbox=outbox,
        job_queue=application.job_queue,
        fleet=fleet,
    )
    if fleet is not None:
        desk.fleet = sessions.fleet = fleet
        delivery.cache_levels = False
        processor = application.update_processor
        assert isinstance(processor, PerUserUpdateProcessor)
        processor.turn = fleet.turn
    application.bot_data[RUNTIME_KEY] = rt
    await sessions.start()
    await rt.alerts.start()
    outbox.start()  # notices a stopped sender left, sent
    if fleet is not None:
        await fleet.start(rt, application)  # its scans take the duties nobody holds
    else:
        await finish_interrupted(rt)  # Confirms a stopped process left at "Sending…"
        if settings.multi_user:
            await _resume_users(rt)
    await application.bot.set_my_commands(
        [BotCommand(name, description) for name, description in info.COMMANDS],
        scope=BotCommandScopeAllPrivateChats(),
    )
    return rt


async def _resume_users(rt: BotRuntime) -> None:
    """After a restart: open the sessions of users whose trades are not over (their contracts
    are followed again, unknown outcomes resolved, untold settlements told)."""
    pending = {entry.telegram_id for entry in await rt.storage.journal_to_follow(origin="bot")}
    for user_id in sorted(uid for uid in pending if uid is not None):
        rt.desk.spawn(_open_quietly(rt, user_id), f"resume-{user_id}")


async def _open_quietly(rt: BotRuntime, user_id: int) -> None:
    try:
        await rt.sessions.get(user_id)
    except (DerivError, Exception) as error:
        logger.warning("could not resume the account of user %s: %s", user_id, type(error).__name__)


async def detach_core(application: Application) -> None:  # type: ignore[type-arg]
    """Stop the background work and close the sessions the bot opened; the clients given to
    :func:`attach_core` and the storage belong to the caller."""
    rt = application.bot_data.pop(RUNTIME_KEY, None)
    if isinstance(rt, BotRuntime):
        if rt.fleet is not None:
            await rt.fleet.close()  # its leases freed: other instances take over at once
        await rt.desk.close()
        await rt.alerts.close()
        if rt.outbox is not None:
            await rt.outbox.close()
        await rt.sessions.close()
        await rt.market.close()


@asynccontextmanager
async def running_bot(
    settings: BotSettings,
    *,
    storage: Storage,
    market_client: DerivClient,
    owner_client: DerivClient | None = None,
    endpoint: str | None = None,
    app_id: int = 1089,
    base_url: str | None = None,
    base_file_url: str | None = None,
    poll_timeout: float = 10.0,
    order_ttl: float = DEFAULT_ORDER_TTL,
    keep_warm: float = 120.0,
    request_timeout: float = 30.0,
    instance: str | None = None,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot, polling and handling updates, for the body of the ``async with``.

    Cancelling the body stops the bot cleanly: polling ends, watches are cancelled, pending
    orders die with it (none is ever sent later); what the journal holds is resumed next time.
    """
    application = build_application(settings, base_url=base_url, base_file_url=base_file_url)
    updater = application.updater
    assert updater is not None
    receiver: WebhookReceiver | None = None
    try:
        await application.initialize()  # getMe: a wrong token fails here
    except BaseException:
        await application.bot.shutdown()  # Application.shutdown() skips a failed initialize
        raise
    try:
        await attach_core(
            application,
            settings,
            storage=storage,
            market_client=market_client,
            owner_client=owner_client,
            endpoint=endpoint,
            app_id=app_id,
            order_ttl=order_ttl,
            keep_warm=keep_warm,
            request_timeout=request_timeout,
            instance=instance,
        )
        if settings.webhook:
            receiver = await _start_webhook(application, settings)
        else:
            await updater.start_polling(
                timeout=int(poll_timeout),
                poll_interval=0,
                drop_pending_updates=True,
                allowed_updates=ALLOWED_UPDATES,
            )
        await application.start()
        yield application
    finally:
        if receiver is not None:
            await receiver.stop()
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await detach_core(application)
        await application.shutdown()


async def _start_webhook(
    application: Application,  # type: ignore[type-arg]
    settings: BotSettings,
) -> WebhookReceiver:
    """derivkit's webhook receiver (:mod:`derivkit.bot.inbox`) at ``settings.listen``, then
    ``setWebhook`` with the secret token (pending updates kept: a fleet's other instances may
    be serving them). In a fleet each update is committed to the database before its 200."""
    assert settings.webhook
    rt = application.bot_data[RUNTIME_KEY]
    fleet = rt.fleet

    async def accept(data: dict[str, Any]) -> None:
        if fleet is not None:
            await fleet.accept(data)
        else:  # one process: as PTB's own server does, queued in memory
            await application.update_queue.put(Update.de_json(data, application.bot))

    receiver = WebhookReceiver(urlsplit(settings.webhook).path, settings.secret_token(), accept)
    host, port = settings.listen_address()
    receiver.start(host, port)
    try:
        for delay in (*WEBHOOK_RETRY_DELAYS, None):
            try:
                await application.bot.set_webhook(
                    settings.webhook,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                    secret_token=settings.secret_token(),
                )
                break
            except (NetworkError, RetryAfter) as error:
                if delay is None:
                    raise
                logger.warning("setWebhook failed (%s); trying again", type(error).__name__)
                await asyncio.sleep(delay)
    except BaseException:
        await receiver.stop()
        raise
    return receiver


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (type, user id, command: no message text, no user data) and tell the user."""
    error = context.error
    if error is None:
        return
    user_id = command = None
    if isinstance(update, Update):
        user_id = update.effective_user.id if update.effective_user else None
        command = command_name(update)
    if isinstance(error, DerivError | UnknownSymbol | NotConnected | TokenRefused | AtCapacity):
        logger.warning("%s from user %s: %s", command, user_id, type(error).__name__)
    else:
        logger.error("%s from user %s failed", command, user_id, exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            from derivkit.bot.handlers.common import plain

            await update.callback_query.answer(plain(error_text(error)), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(error_text(error))
    except Exception as reply_error:  # telling the user failed too: log, never loop
        logger.warning(
            "could not report an error to user %s: %s", user_id, type(reply_error).__name__
        )
