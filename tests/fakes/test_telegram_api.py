"""The fake Telegram Bot API, exercised through PTB 22's real HTTP code paths."""

from __future__ import annotations

import asyncio
import html
import re
import struct
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import (
    AnyApplication,
    FakeTelegramAPI,
    application_builder,
    parse_telegram_html,
    running_application,
)

pytestmark = pytest.mark.timeout(15)

TOKEN = "123456:TEST"
USER = 111
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="pick:yes"),
            InlineKeyboardButton("No", callback_data="pick:no"),
        ]
    ]
)


def api_error(text: str) -> str:
    """A pattern for PTB's view of a Telegram error: PTB drops "Bad Request: " and applies
    ``str.capitalize()`` to the rest, lower-casing it (BUTTON_DATA_INVALID -> Button_data_invalid).
    """
    return "(?i)" + re.escape(text)


def png(width: int = 3, height: int = 2) -> bytes:
    """A valid, tiny grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    """A plain Bot (no Application) with one private chat open."""
    api.open_chat(USER)
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as plain:
        yield plain


def build_app(api: FakeTelegramAPI, token: str = TOKEN) -> AnyApplication:
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=1))
        .build()
    )


def demo_app(
    api: FakeTelegramAPI,
) -> tuple[AnyApplication, list[object]]:
    """/start offers Yes/No; a tap answers and edits; other text is deleted (a pasted token)."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message
        await update.effective_message.reply_text(
            "Pick <b>one</b>", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
        )

    async def picked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query and query.data
        await query.answer("Noted")
        await query.edit_message_text(f"You picked {query.data.removeprefix('pick:')}")

    async def swallow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_chat
        await update.effective_message.delete()
        await update.effective_chat.send_message("Stored; your message was deleted.")

    errors: list[object] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app = build_app(api)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(picked, pattern=r"^pick:"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, swallow))
    app.add_error_handler(on_error)
    return app, errors


# -- round trips through a polling Application ----------------------------------------------------


async def test_start_up_and_command_round_trip(api: FakeTelegramAPI) -> None:
    app, errors = demo_app(api)
    async with running_application(app, api):
        sent = api.user_sends("/start")
        reply = await api.next_bot_message(chat_id=USER)

        assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        assert reply["method"] == "sendMessage"
        assert reply["chat_id"] == USER
        assert reply["message_id"] == sent["message_id"] + 1
        assert reply["text"] == "Pick one"
        assert reply["raw_text"] == "Pick <b>one</b>"
        assert reply["parse_mode"] == "HTML"
        assert reply["entities"] == [{"type": "bold", "offset": 5, "length": 3}]
        assert reply["buttons"] == ["Yes", "No"]
        assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "pick:yes"

    methods = [call.method for call in api.outbox()]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    first_poll = api.outbox("getUpdates")[0].params
    assert first_poll["timeout"] == 1
    assert errors == []


async def test_command_addressed_to_the_bot_by_name(api: FakeTelegramAPI) -> None:
    app, errors = demo_app(api)
    async with running_application(app, api):
        sent = api.user_sends("/start@derivkit_test_bot now", chat_type="group")
        reply = await api.next_bot_message()

    assert sent["entities"][0]["length"] == len("/start@derivkit_test_bot")
    assert sent["chat"]["type"] == "group"
    assert reply["chat_id"] == sent["chat"]["id"] < 0
    assert reply["text"] == "Pick one"
    assert errors == []


async def test_tap_answers_and_edits_the_same_message(api: FakeTelegramAPI) -> None:
    app, errors = demo_app(api)
    async with running_application(app, api):
        api.user_sends("/start")
        offer = await api.next_bot_message()
        query_id = api.user_taps(offer["message_id"], label="Yes")
        edited = await api.next_bot_message()
        answer = await api.wait_for(lambda call: call.method == "answerCallbackQuery")

        assert edited["method"] == "editMessageText"
        assert edited["message_id"] == offer["message_id"]
        assert edited["text"] == "You picked yes"
        assert edited["reply_markup"] is None  # an edit without reply_markup drops the keyboard
        assert answer.ok and answer.params["callback_query_id"] == query_id
        assert api.answered_callbacks == {query_id: {"text": "Noted"}}
        with pytest.raises(LookupError, match="no button"):
            api.user_taps(offer["message_id"], data="pick:no")  # the keyboard is gone

    shown = api.transcript(USER)[1]
    assert (shown.text, shown.history, shown.buttons) == ("You picked yes", ["Pick <b>one</b>"], [])
    assert errors == []


async def test_deleting_the_users_message_is_flagged(api: FakeTelegramAPI) -> None:
    app, errors = demo_app(api)
    async with running_application(app, api):
        secret = api.user_sends("a1-SecretToken1234")
        notice = await api.next_bot_message()

        with pytest.raises(BadRequest, match=api_error("message to delete not found")):
            await app.bot.delete_message(USER, secret["message_id"])

    assert notice["text"] == "Stored; your message was deleted."
    assert api.deleted_messages == [(USER, secret["message_id"])]
    token_message, reply = api.transcript(USER)
    assert token_message.deleted and token_message.text == "a1-SecretToken1234"
    assert not reply.deleted and reply.from_bot
    assert "(deleted)" in api.format_transcript(USER)
    assert errors == []


# PTB 22.x itself warns when it builds RetryAfter (int retry_after is deprecated since 22.2).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_is_retried_by_the_rate_limiter(api: FakeTelegramAPI) -> None:
    app, errors = demo_app(api)
    async with running_application(app, api):
        api.fault("sendMessage", code=429, retry_after=1)
        started = time.monotonic()
        api.user_sends("/start")
        reply = await api.next_bot_message(timeout=5)
        elapsed = time.monotonic() - started

    calls = api.outbox("sendMessage")
    assert [call.status for call in calls] == [429, 200]
    assert calls[0].response["parameters"] == {"retry_after": 1}
    assert reply["text"] == "Pick one"
    assert 1.0 <= elapsed < 3.0
    assert errors == []


async def test_drop_pending_updates_discards_what_came_before_start(api: FakeTelegramAPI) -> None:
    app, errors = demo_app(api)
    api.user_sends("/start")  # sent while the bot was offline
    async with running_application(app, api, drop_pending_updates=True):
        api.user_sends("hello")
        await api.next_bot_message()

    assert [call.result["text"] for call in api.outbox("sendMessage")] == [
        "Stored; your message was deleted."
    ]
    assert api.outbox("deleteWebhook")[0].params == {"drop_pending_updates": True}
    assert errors == []


async def test_stop_is_fast_and_confirms_the_offset(api: FakeTelegramAPI) -> None:
    app, _ = demo_app(api)
    async with running_application(app, api):
        api.user_sends("/start")
        await api.next_bot_message()
        await api.wait_for(lambda call: call.method == "getUpdates" and bool(call.result))
        stopping = time.monotonic()
    stop_took = time.monotonic() - stopping

    last_poll = api.outbox("getUpdates")[-1]
    delivered = [u for call in api.outbox("getUpdates") for u in call.result]
    assert last_poll.params["timeout"] == 0
    assert last_poll.params["offset"] == delivered[-1]["update_id"] + 1
    assert api.pending_updates == 0
    assert stop_took < 1.0


async def test_wrong_token_is_invalid_token(api: FakeTelegramAPI) -> None:
    app = build_app(api, token="123456:WRONG")
    with pytest.raises(InvalidToken) as raised:
        async with running_application(app, api):
            pass  # pragma: no cover

    # PTB puts the token in the message: never log this exception unredacted.
    assert "123456:WRONG" in str(raised.value)

    (call,) = api.outbox()
    assert (call.method, call.status, call.response) == (
        "getMe",
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


async def test_running_application_refuses_an_app_pointed_elsewhere(api: FakeTelegramAPI) -> None:
    app = ApplicationBuilder().token(TOKEN).build()  # would talk to api.telegram.org
    with pytest.raises(ValueError, match="not the fake"):
        async with running_application(app, api):
            pass  # pragma: no cover
    assert api.outbox() == []


async def test_application_builder_helper(api: FakeTelegramAPI) -> None:
    app = application_builder(api).build()
    assert app.bot.base_url == f"{api.base_url}{TOKEN}"
    assert app.bot.base_file_url == f"{api.base_file_url}{TOKEN}"
    assert isinstance(app.bot.rate_limiter, AIORateLimiter)


# -- Telegram's refusals, through a plain Bot ------------------------------------------------------


async def test_answering_a_callback_twice_is_rejected(api: FakeTelegramAPI, bot: Bot) -> None:
    offer = await bot.send_message(USER, "Go?", reply_markup=KEYBOARD)
    query_id = api.user_taps(offer.message_id, data="pick:no")

    assert await bot.answer_callback_query(query_id, text="ok") is True
    with pytest.raises(BadRequest, match=api_error("query is too old")):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=api_error("query ID is invalid")):
        await bot.answer_callback_query("cbq-999")


async def test_tap_carries_the_bot_message(api: FakeTelegramAPI, bot: Bot) -> None:
    offer = await bot.send_message(USER, "Go?", reply_markup=KEYBOARD)
    api.user_taps(offer.message_id, data="pick:yes")
    (update,) = await bot.get_updates(timeout=0)

    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    assert (query.data, query.from_user.id) == ("pick:yes", USER)
    assert query.message.message_id == offer.message_id
    assert query.message.reply_markup == KEYBOARD
    with pytest.raises(LookupError):
        api.user_taps(offer.message_id, label="Maybe")
    forged = api.user_taps(offer.message_id, data="pick:forged", strict=False)
    assert forged.startswith("cbq-")


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("x" * 4097, None, "message is too long"),
        ("<b>" + "x" * 4097 + "</b>", ParseMode.HTML, "message is too long"),
        ("", None, "message text is empty"),
        ("<b> </b>", ParseMode.HTML, "message text is empty"),
        ("<b>unclosed", ParseMode.HTML, 'end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", ParseMode.HTML, 'expected "</i>", found "</b>"'),
        ("<div>x</div>", ParseMode.HTML, 'Unsupported start tag "div" at byte offset 0'),
        ("1 < 2", ParseMode.HTML, 'Unsupported start tag "" at byte offset 2'),
        ("é <br>", ParseMode.HTML, 'Unsupported start tag "br" at byte offset 3'),
        ('<span class="x">y</span>', ParseMode.HTML, 'Unsupported start tag "span"'),
        ("x</b>", ParseMode.HTML, "Unexpected end tag"),
        ("hi", "HTML5", "unsupported parse_mode"),
    ],
)
async def test_bad_text_is_rejected(
    bot: Bot, text: str, parse_mode: str | None, error: str
) -> None:
    with pytest.raises(BadRequest, match=api_error(error)):
        await bot.send_message(USER, text, parse_mode=parse_mode)


async def test_good_text_is_accepted(api: FakeTelegramAPI, bot: Bot) -> None:
    await bot.send_message(USER, "x" * 4096)
    text = (
        f'<b>{html.escape("R_100 < 5 & >")}</b> <a href="https://deriv.com">d</a> '
        '<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span> '
        '<pre><code class="language-python">p</code></pre> <blockquote expandable>q</blockquote>'
    )
    sent = await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert sent.text == "R_100 < 5 & > d s t p q"
    assert sent.text_html.startswith("<b>R_100 &lt; 5 &amp; &gt;</b>")
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [
        ("bold", 0, 13),
        ("text_link", 14, 1),
        ("spoiler", 16, 1),
        ("spoiler", 18, 1),
        ("pre", 20, 1),
        ("expandable_blockquote", 22, 1),
    ]
    assert sent.entities[4].language == "python"
    assert (await api.next_bot_message())["text"] == "x" * 4096


def test_html_offsets_are_utf16() -> None:
    plain, entities = parse_telegram_html("😀 <i>é😀</i> &#x41;&nbsp;AT&T")
    assert plain == "😀 é😀 A&nbsp;AT&T"
    assert entities == [{"type": "italic", "offset": 3, "length": 3}]


@pytest.mark.parametrize(
    ("data", "ok"), [("x" * 64, True), ("x" * 65, False), ("é" * 32, True), ("é" * 33, False)]
)
async def test_callback_data_is_limited_to_64_bytes(bot: Bot, data: str, ok: bool) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=data)]])
    if ok:
        await bot.send_message(USER, "fits", reply_markup=markup)
    else:
        with pytest.raises(BadRequest, match=api_error("BUTTON_DATA_INVALID")):
            await bot.send_message(USER, "too long", reply_markup=markup)


async def test_edits_follow_telegrams_rules(api: FakeTelegramAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>Price</b>", parse_mode="HTML", reply_markup=KEYBOARD)

    with pytest.raises(
        BadRequest, match=api_error("message is not modified: specified new message")
    ):
        await bot.edit_message_text(
            "<b>Price</b>", USER, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD
        )
    with pytest.raises(BadRequest, match=api_error("message is not modified")):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=api_error("message to edit not found")):
        await bot.edit_message_text("x", USER, 999)

    # Same text, no markup: the keyboard goes, which is a modification.
    edited = await bot.edit_message_text("<b>Price</b>", USER, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    # Same visible text without the bold entity is a modification too.
    await bot.edit_message_text("Price", USER, sent.message_id)
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=KEYBOARD)

    events = [await api.next_bot_message() for _ in range(4)]
    assert [e["method"] for e in events] == [
        "sendMessage",
        "editMessageText",
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    assert events[-1]["buttons"] == ["Yes", "No"]
    assert api.transcript(USER)[0].history == ["<b>Price</b>", "<b>Price</b>"]


async def test_user_messages_cannot_be_edited(api: FakeTelegramAPI, bot: Bot) -> None:
    sent = api.user_sends("mine")
    with pytest.raises(BadRequest, match=api_error("message can't be edited")):
        await bot.edit_message_text("yours", USER, sent["message_id"])


async def test_send_photo_uploads_multipart_bytes(api: FakeTelegramAPI, bot: Bot) -> None:
    image = png(3, 2)
    sent = await bot.send_photo(
        USER, photo=image, caption="<b>chart</b>", parse_mode="HTML", filename="chart.png"
    )

    (call,) = api.outbox("sendPhoto")
    assert call.files["photo"].data == image
    assert call.files["photo"].filename == "chart.png"
    assert call.params["caption"] == "<b>chart</b>"
    size = sent.photo[-1]
    assert (size.width, size.height, size.file_size) == (3, 2, len(image))
    assert sent.caption == "chart" and sent.caption_entities[0].type == "bold"
    assert api.file_bytes(size.file_id) == image

    downloaded = await (await bot.get_file(size.file_id)).download_as_bytearray()
    assert bytes(downloaded) == image
    resent = await bot.send_photo(USER, photo=size.file_id)  # by file_id, no upload
    assert resent.photo[-1].file_id == size.file_id
    event = await api.next_bot_message()
    assert (event["method"], event["caption"], event["photo"]) == (
        "sendPhoto",
        "chart",
        size.file_id,
    )


async def test_unknown_chat_method_and_misc(api: FakeTelegramAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=api_error("chat not found")):
        await bot.send_message(999, "hello?")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")
    assert api.outbox("sendTelepathy")[0].response == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert await bot.send_chat_action(USER, "typing") is True
    with pytest.raises(BadRequest, match=api_error("wrong parameter action")):
        await bot.send_chat_action(USER, "dancing")


async def test_commands_are_validated_and_stored(api: FakeTelegramAPI, bot: Bot) -> None:
    assert await bot.set_my_commands([("start", "Start"), ("balance", "Show balance")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "balance"]
    assert api.my_commands() == [
        {"command": "start", "description": "Start"},
        {"command": "balance", "description": "Show balance"},
    ]
    with pytest.raises(BadRequest, match=api_error("BOT_COMMAND_INVALID")):
        await bot.set_my_commands([("Bad-Name", "nope")])
    with pytest.raises(BadRequest, match=api_error("BOT_COMMAND_DESCRIPTION_INVALID")):
        await bot.set_my_commands([("empty", " ")])


async def test_faults_other_than_429(api: FakeTelegramAPI, bot: Bot) -> None:
    api.fault("sendMessage", code=403, times=2, when=lambda params: params["text"] == "blocked")
    with pytest.raises(Forbidden, match=api_error("bot was blocked by the user")):
        await bot.send_message(USER, "blocked")
    assert (await bot.send_message(USER, "fine")).text == "fine"  # does not match `when`
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "blocked")
    assert (await bot.send_message(USER, "blocked")).text == "blocked"  # used up


async def test_long_poll_waits_for_an_update(api: FakeTelegramAPI, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=3))
    await api.wait_until_polling()
    started = time.monotonic()
    api.user_sends("/start")
    (update,) = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 0.5  # woken by the update, not by the poll timeout
    assert update.message is not None and update.message.text == "/start"
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert api.pending_updates == 0


async def test_waits_fail_fast_with_the_outbox(api: FakeTelegramAPI, bot: Bot) -> None:
    await bot.send_chat_action(USER, "typing")
    with pytest.raises(AssertionError, match=r"no bot message within 0.05 s; recent outbox:\n#"):
        await api.next_bot_message(timeout=0.05)
    with pytest.raises(AssertionError, match="sendChatAction"):
        await api.wait_for(lambda call: call.method == "sendPhoto", timeout=0.05)


async def test_reset_forgets_the_session_but_not_update_ids(api: FakeTelegramAPI) -> None:
    first = api.user_sends("one")
    api.fault("getMe", code=500, times=None)
    api.reset()
    api.user_sends("two")
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        (update,) = await bot.get_updates(timeout=0)
    assert update.update_id > 1 and update.message is not None
    assert update.message.message_id == first["message_id"]  # a fresh chat
    assert [call.method for call in api.outbox()] == ["getMe", "getUpdates"]


async def test_raw_http_bodies_and_error_envelopes(api: FakeTelegramAPI) -> None:
    """JSON bodies, query strings and form values that look like JSON, without PTB."""
    api.open_chat(USER)
    async with httpx.AsyncClient(base_url=api.base_url.removesuffix("/bot")) as http:
        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        sent = await http.post(
            f"/bot{TOKEN}/sendMessage", json={"chat_id": USER, "text": "hi", "reply_markup": markup}
        )
        digits = await http.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": "111", "text": "123"})
        me = await http.get(f"/bot{TOKEN}/getMe")
        wrong = await http.get("/bot123456:NOPE/getMe")
        unknown = await http.post(f"/bot{TOKEN}/sendTelepathy")
        no_file = await http.get(f"/file/bot{TOKEN}/photos/none.png")

    assert sent.json()["result"]["reply_markup"] == markup
    assert digits.json()["result"]["text"] == "123"  # free text is never JSON-decoded
    assert me.json()["result"] == {**api.bot_user, "id": 123456, "username": "derivkit_test_bot"}
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert (unknown.status_code, unknown.json()["description"]) == (
        404,
        "Not Found: method not found",
    )
    assert no_file.status_code == 404
    assert [call.params["chat_id"] for call in api.outbox("sendMessage")] == [USER, USER]


async def test_a_crash_in_the_fake_fails_the_test() -> None:
    async def broken(params: dict[str, Any], files: dict[str, Any]) -> Any:
        raise KeyError("oops")

    with pytest.raises(RuntimeError, match="crashed") as raised:
        async with FakeTelegramAPI() as api, httpx.AsyncClient() as http:
            api._handlers["getme"] = broken
            response = await http.get(f"{api.base_url}{api.token}/getMe")
            assert response.status_code == 500
    assert isinstance(raised.value.__cause__, KeyError)


# -- webhooks ---------------------------------------------------------------------------------


async def test_webhooks_go_round_robin_with_duplicates_and_skip_a_dead_instance():
    """Three endpoints behind the fake's "load balancer": updates alternate, every 3rd also
    goes to the next one, and an endpoint that fails is skipped (the update lands elsewhere)."""
    from aiohttp import web

    received: dict[int, list[int]] = {0: [], 1: [], 2: []}
    secrets: list[str | None] = []
    eight = asyncio.Event()  # 6 updates, 2 of them twice

    def endpoint(index: int):
        async def take(request: web.Request) -> web.Response:
            secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
            if index == 2:
                return web.Response(status=502)  # the dead instance
            received[index].append((await request.json())["update_id"])
            if len(received[0]) + len(received[1]) == 8:
                eight.set()
            return web.Response(text="ok")

        return take

    runners = []
    urls = []
    for index in range(3):
        app = web.Application()
        app.router.add_post("/hook", endpoint(index))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook")
    try:
        async with FakeTelegramAPI(TOKEN) as api:
            bot = Bot(TOKEN, base_url=api.base_url)
            async with bot:
                assert await bot.set_webhook("https://bot.example/hook", secret_token="s3cret")
                assert (await bot.get_webhook_info()).url == "https://bot.example/hook"
                with pytest.raises(Exception, match="webhook is active"):
                    await bot.get_updates()
            api.balance(urls, duplicate_every=3)
            sent = [api.user_sends(f"/n {n}")["message_id"] for n in range(6)]
            assert len(sent) == 6
            async with asyncio.timeout(10):
                await eight.wait()
            assert len(set(received[0]) | set(received[1])) == 6
            both = set(received[0]) & set(received[1])
            assert len(both) == 2  # the 3rd and the 6th
            assert set(secrets) == {"s3cret"}
            assert any(status == 502 for _, _, status in api.deliveries)
    finally:
        for runner in runners:
            await runner.cleanup()
