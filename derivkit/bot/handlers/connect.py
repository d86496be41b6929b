"""/connect, /disconnect and /account: a user's own Deriv account (multi-user mode).

The token arrives as ``/connect TOKEN`` or as the next private message after ``/connect``;
that message is deleted at once (and the user told whether it worked) before anything else is
done with it. The token is checked with one ``authorize``: a token with the ``admin`` scope is
refused, ``payments`` is warned about, ``read`` is required (``trade`` for trading). Only then
is it stored, encrypted, and its connection kept as the user's session. The token never
appears in a reply, a log line or PTB's data.
"""

from __future__ import annotations

from html import escape

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from derivkit.bot.handlers.common import reply
from derivkit.bot.runtime import runtime
from derivkit.bot.sessions import AtCapacity
from derivkit.core import ConnectionLost, DerivError, InvalidToken, RequestTimeout, UsageError
from derivkit.storage import ConnectedAccount
from derivkit.tokenstore import check_deriv_token

__all__ = [
    "account_command",
    "ask_for_token",
    "connect_command",
    "disconnect_command",
    "token_message",
]

TOKEN_PAGE = "https://app.deriv.com/account/api-token"
PERSONAL = "This bot trades its owner's Deriv account; /connect is for multi-user bots."


async def delete_quietly(message: Message) -> bool:
    """Delete a message the user sent (their token); False if Telegram would not."""
    try:
        return bool(await message.delete())
    except TelegramError:
        return False


def _deleted_note(deleted: bool) -> str:
    if deleted:
        return (
            "🔒 I deleted your message with the token. It has passed through Telegram, so "
            "prefer a token made just for this bot."
        )
    return "⚠️ I could not delete your message with the token: delete it yourself now."


async def connect_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    if message.chat.type != ChatType.PRIVATE:  # the gate handles groups; never take a token here
        return
    if not rt.settings.multi_user:
        note = ""
        if args:
            note = "\n" + _deleted_note(await delete_quietly(message)) + " Revoke that token."
        await reply(update, PERSONAL + note)
        return
    if args:
        deleted = await delete_quietly(message)  # first, before anything can fail
        if not rt.limits.allow_connect(user.id):
            await reply(update, _deleted_note(deleted) + "\n" + _too_many())
            return
        await take_token(update, context, args[0], deleted)
        return
    if not rt.limits.allow_connect(user.id):
        await reply(update, _too_many())
        return
    await ask_for_token(update, context)


def _too_many() -> str:
    return "⏳ Too many /connect attempts; try again in an hour."


async def ask_for_token(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    if not rt.settings.multi_user:
        await reply(update, PERSONAL)
        return
    rt.expect_token(user.id)
    await reply(
        update,
        "Send me your Deriv API token now, as a message on its own; I will delete it at once.\n"
        f"Make one at {TOKEN_PAGE} with the scopes <b>read</b> and <b>trade</b> only "
        "(never admin). I wait two minutes.",
    )


async def token_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The private message after /connect: the token."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    deleted = await delete_quietly(message)
    await take_token(update, context, message.text.strip(), deleted)


async def take_token(
    update: Update, context: ContextTypes.DEFAULT_TYPE, token: str, deleted: bool
) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    note = _deleted_note(deleted)
    try:
        check_deriv_token(token)
    except UsageError:
        await reply(update, f"{note}\n❌ That is not a Deriv API token (letters, digits, - and _).")
        return
    try:
        client = await rt.sessions.connect(token, user.id)
    except InvalidToken:
        await reply(update, f"{note}\n❌ Deriv refused that token. Check it and /connect again.")
        return
    except (ConnectionLost, RequestTimeout):
        await reply(update, f"{note}\n❌ I cannot reach Deriv right now; try again in a moment.")
        return
    account = client.account
    scopes = set(account.scopes if account else ())
    refusal = None
    if account is None:
        refusal = "Deriv did not describe the account."
    elif "admin" in scopes:
        refusal = (
            "Refused: this token has the <b>admin</b> scope, which can change your account. "
            "Make a token with <b>read</b> and <b>trade</b> only, and delete this one."
        )
    elif "read" not in scopes:
        refusal = "Refused: this token lacks the <b>read</b> scope, which every view needs."
    if refusal is not None or account is None:
        await client.close()
        await reply(update, f"{note}\n❌ {refusal}")
        return
    record = await rt.storage.store_token(
        user.id,
        token,
        ConnectedAccount(
            loginid=account.loginid,
            is_virtual=bool(account.is_virtual),
            currency=account.currency,
            scopes=tuple(account.scopes),
        ),
    )
    rt.remember(record)
    try:
        await rt.sessions.adopt(user.id, client)
    except (DerivError, AtCapacity):  # stored: the session opens on a later command
        await client.close()
    kind = "DEMO" if account.is_virtual else "REAL MONEY"
    lines = [
        note,
        f"✅ Connected <b>{escape(account.loginid)}</b> · <b>{kind}</b> · "
        f"{escape(account.currency or '-')}",
        f"Scopes: {escape(', '.join(account.scopes))}",
    ]
    if "payments" in scopes:
        lines.append(
            "⚠️ This token has the <b>payments</b> scope: it can move money out of the account. "
            "A token with read and trade is enough here."
        )
    if "trade" not in scopes:
        lines.append("Without the <b>trade</b> scope you can look, but not trade.")
    if not account.is_virtual and not rt.settings.may_trade_real_money(user.id):
        lines.append("Real-money trading is not enabled for you on this bot; views work.")
    lines.append("Your token is stored encrypted. /disconnect forgets it.")
    await reply(update, "\n".join(lines))


async def disconnect_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    if not rt.settings.multi_user:
        await reply(update, PERSONAL)
        return
    removed = await rt.storage.forget_token(user.id)
    await rt.sessions.drop(user.id)
    stored = await rt.storage.get_user(user.id)
    if stored is not None:
        rt.remember(stored)
    if not removed:
        await reply(update, "No Deriv account was connected.")
        return
    await reply(
        update,
        "🔌 Disconnected: I deleted your token. Revoke it in Deriv's API-token page too: "
        f"{TOKEN_PAGE}",
    )


async def account_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    if not rt.settings.multi_user:
        session = rt.sessions.owner
        account = session.account if session else None
        if account is None:
            await reply(update, "No account.")
            return
        scopes = ", ".join(account.scopes) or "-"
        kind = "DEMO" if account.is_virtual else "REAL MONEY"
        await reply(
            update,
            f"The owner's account: <b>{escape(account.loginid)}</b> · <b>{kind}</b> · "
            f"{escape(account.currency)}\nScopes: {escape(scopes)}",
        )
        return
    record = await rt.user(user.id)
    if record.account is None:
        await reply(update, "No Deriv account connected. /connect to connect one.")
        return
    acc = record.account
    kind = "DEMO" if acc.is_virtual else "REAL MONEY"
    open_now = rt.sessions.peek(user.id) is not None
    trading = "off" if record.paused or not rt.settings.trading_on else "on"
    if not acc.is_virtual and not rt.settings.may_trade_real_money(user.id):
        trading = "off (real money not enabled for you)"
    await reply(
        update,
        f"Connected: <b>{escape(acc.loginid)}</b> · <b>{kind}</b> · {escape(acc.currency)}\n"
        f"Scopes: {escape(', '.join(acc.scopes))}\n"
        f"Trading: {trading}\n"
        f"Connection: {'open' if open_now else 'idle (opens on your next command)'}",
    )
