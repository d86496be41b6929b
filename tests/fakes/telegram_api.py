"""A fake Telegram Bot API server for offline end-to-end tests of a PTB 22 bot.

An aiohttp server on ``127.0.0.1`` (port 0) that PTB's real HTTPX layer talks to: long-polled
``getUpdates``, form-encoded and multipart bodies, HTTP status to exception mapping and
``AIORateLimiter`` retries all run as in production. It is strict where Telegram is strict
(empty or over-long text, bad HTML, ``callback_data`` over 64 bytes, no-op edits, callback
queries answered twice, unknown messages) and answers with Telegram's own error descriptions.

Usage::

    async with FakeTelegramAPI() as api:
        app = application_builder(api).build()
        app.add_handler(CommandHandler("start", start))
        async with running_application(app, api):
            api.user_sends("/start")
            reply = await api.next_bot_message()
            api.user_taps(reply["message_id"], label="Confirm")
            edited = await api.next_bot_message()

Webhooks: after the bot's ``setWebhook`` the fake POSTs every update to the webhook URL with
Telegram's ``X-Telegram-Bot-Api-Secret-Token`` header (``getUpdates`` is then refused with 409,
as Telegram does), re-trying an update until an endpoint answers 2xx. ``balance(urls)`` makes
it play the load balancer in front of a fleet too: updates go round-robin to ``urls`` (one that
fails is skipped, the update re-tried on the next), and ``duplicate_every=N`` also delivers
every Nth update to a second instance, as a retrying proxy may.

The test side (``user_sends``, ``user_taps``, ``fault`` ...) is synchronous and runs on the
same event loop as the server; waiting (``next_bot_message``, ``wait_for``) is condition
based with a timeout, never sleep-and-hope.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

__all__ = [
    "AnyApplication",
    "ApiCall",
    "ApiError",
    "Chat",
    "Fault",
    "FakeTelegramAPI",
    "StoredFile",
    "StoredMessage",
    "Strictness",
    "application_builder",
    "parse_telegram_html",
    "running_application",
]

JSON = dict[str, Any]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
_T = TypeVar("_T")

DEFAULT_TOKEN = "123456:TEST"
BOT_USERNAME = "derivkit_test_bot"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
# Parameters whose string value is free text: never JSON-decoded ("123" stays a string).
_TEXT_PARAMS = frozenset(
    [
        "text",
        "caption",
        "callback_query_id",
        "parse_mode",
        "action",
        "url",
        "file_id",
        "inline_message_id",
        "language_code",
        "photo",
        "document",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
        "message_effect_id",
        "business_connection_id",
    ]
)


def _now() -> int:
    return int(time.time())


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    return None


# -- errors and faults ---------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API refusal: becomes ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def _default_description(code: int, retry_after: int | None) -> str:
    if code == 429:
        return f"Too Many Requests: retry after {retry_after}"
    return {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
        502: "Bad Gateway",
    }.get(code, "Internal Server Error")


@dataclass
class Fault:
    """A scheduled failure: the next ``times`` matching calls get ``code`` (None: until reset)."""

    method: str  # lower-cased method name, or "*" for every method
    code: int
    description: str
    retry_after: int | None = None
    times: int | None = 1
    when: Callable[[JSON], bool] | None = None  # narrows the fault to calls whose params match

    def matches(self, method: str, params: JSON) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method not in ("*", method.lower()):
            return False
        return self.when is None or self.when(params)

    def fire(self) -> ApiError:
        if self.times is not None:
            self.times -= 1
        return ApiError(self.code, self.description, self.retry_after)


@dataclass
class Hold:
    """The next ``times`` matching calls are held: never run, never answered until the fake
    closes (a call in flight from a bot that is then killed). ``held`` counts them."""

    method: str  # lower-cased method name
    times: int
    when: Callable[[JSON], bool] | None = None
    held: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, params: JSON) -> bool:
        if self.held >= self.times or self.method != method.lower():
            return False
        return self.when is None or self.when(params)


# -- Telegram's HTML subset ----------------------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _TelegramHTMLParser(HTMLParser):
    """Turns Telegram-flavoured HTML into plain text plus entities, or raises ApiError."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._parts: list[str] = []
        self._length = 0  # UTF-16 units emitted so far
        self._open: list[tuple[str, dict[str, str | None], int]] = []
        self.entities: list[JSON] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def finish(self) -> None:
        self.close()
        if self._open:
            tag = self._open[-1][0]
            raise self._error(f'Can\'t find end tag corresponding to start tag "{tag}"')

    def _error(self, reason: str) -> ApiError:
        return bad_request(f"can't parse entities: {reason}")

    def _byte_offset(self, extra_chars: int = 0) -> int:
        line, column = self.getpos()
        index = self._line_starts[line - 1] + column + extra_chars
        return len(self._source[:index].encode())

    def _emit(self, text: str) -> None:
        self._parts.append(text)
        self._length += _utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        supported = tag in _HTML_ENTITY_TYPES and (
            tag != "span" or attributes.get("class") == "tg-spoiler"
        )
        if not supported:
            raise self._error(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        self._open.append((tag, attributes, self._length))

    def handle_endtag(self, tag: str) -> None:
        offset = self._byte_offset()
        if not self._open:
            raise self._error(f"Unexpected end tag at byte offset {offset}")
        open_tag, attributes, start = self._open.pop()
        if tag != open_tag:
            raise self._error(
                f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", '
                f'found "</{tag}>"'
            )
        length = self._length - start
        if length:
            self._add_entity(tag, attributes, start, length)

    def _add_entity(self, tag: str, attrs: dict[str, str | None], offset: int, length: int) -> None:
        entity: JSON = {"type": _HTML_ENTITY_TYPES[tag], "offset": offset, "length": length}
        if tag == "a":
            if not attrs.get("href"):
                return  # Telegram drops a link without an address
            entity["url"] = attrs["href"]
        elif tag == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id") or ""
        elif tag == "code" and self._open and self._open[-1][0] == "pre":
            language = (attrs.get("class") or "").removeprefix("language-")
            if language:
                self._open[-1][1]["language"] = language
                return  # <pre><code class="language-x"> is one pre entity with a language
        elif tag == "pre" and attrs.get("language"):
            entity["language"] = attrs["language"]
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        index = data.find("<")
        if index >= 0:  # html.parser passes a '<' that starts no valid tag through as data
            name = re.match(r"[^\s<>]*", data[index + 1 :])
            tag = name.group(0) if name else ""
            offset = self._byte_offset(index)
            raise self._error(f'Unsupported start tag "{tag}" at byte offset {offset}')
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        if name in _NAMED_REFS:
            self._emit(_NAMED_REFS[name])
            return
        line, column = self.getpos()
        index = self._line_starts[line - 1] + column
        end = index + 1 + len(name)
        terminated = self._source[end : end + 1] == ";"
        self._emit(f"&{name};" if terminated else f"&{name}")

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self._emit(chr(code))
        except (ValueError, OverflowError):
            self._emit(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        raise self._error(f'Unsupported start tag "!--" at byte offset {self._byte_offset()}')

    def handle_decl(self, decl: str) -> None:
        raise self._error(f'Unsupported start tag "!" at byte offset {self._byte_offset()}')

    def handle_pi(self, data: str) -> None:
        raise self._error(f'Unsupported start tag "?" at byte offset {self._byte_offset()}')

    def unknown_decl(self, data: str) -> None:
        raise self._error(f'Unsupported start tag "!" at byte offset {self._byte_offset()}')


def parse_telegram_html(source: str) -> tuple[str, list[JSON]]:
    """Parse ``parse_mode=HTML`` text as Telegram does: (plain text, entities) or ApiError 400."""
    parser = _TelegramHTMLParser(source)
    # html.parser drops a bare "&" at the very end of its input ("AT&T" -> "ATT"); a sentinel
    # character keeps the real end away from it and is cut off again below.
    parser.feed(source + "\x00")
    parser.finish()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return parser.text.removesuffix("\x00"), entities


# -- validation ----------------------------------------------------------------------------


@dataclass
class Strictness:
    """Telegram's refusals that the fake enforces.

    ``known_chats``: sending to a chat no user has written in fails with "chat not found" (a bot
    cannot start a private chat); open one with ``FakeTelegramAPI.open_chat`` or switch this off.
    """

    known_chats: bool = True

    def formatted(self, source: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
        """The plain text and entities Telegram derives from ``source``."""
        mode = str(parse_mode or "").lower()
        if mode == "html":
            return parse_telegram_html(source)
        if mode not in ("", "markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode")
        return source, entities if isinstance(entities, list) else []

    def message_text(self, params: JSON) -> tuple[str, str, list[JSON]]:
        """(source, plain text, entities) of a ``text`` parameter."""
        source = params.get("text")
        if source is None or str(source).strip() == "":
            raise bad_request("message text is empty")
        source = str(source)
        plain, entities = self.formatted(source, params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise bad_request("message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        return source, plain, entities

    def caption(self, params: JSON) -> tuple[str | None, str | None, list[JSON]]:
        """(source, plain text, entities) of an optional ``caption`` parameter."""
        source = params.get("caption")
        if source is None or str(source) == "":
            return None, None, []
        source = str(source)
        entities_in = params.get("caption_entities")
        plain, entities = self.formatted(source, params.get("parse_mode"), entities_in)
        if len(plain) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return source, plain, entities

    def reply_markup(self, markup: Any) -> JSON | None:
        """Validate a decoded ``reply_markup``; inline keyboards are checked button by button."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup  # reply keyboards, ForceReply, ReplyKeyboardRemove: kept as sent
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        for button in (button for row in rows for button in row):
            self._inline_button(button)
        return markup

    @staticmethod
    def _inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        if not any(action in button for action in BUTTON_ACTIONS):
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not re.match(r"(https?|tg)://\S+$", str(url)):
            raise bad_request("BUTTON_URL_INVALID")

    @staticmethod
    def commands(commands: Any) -> list[JSON]:
        """Validate ``setMyCommands``' list of ``{"command", "description"}`` objects."""
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        checked = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            checked.append({"command": name, "description": description})
        return checked


def _inline_keyboard(markup: JSON | None) -> JSON | None:
    """The markup a message shows: a non-empty inline keyboard, else None."""
    if markup and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def _buttons(markup: JSON | None) -> list[JSON]:
    keyboard = _inline_keyboard(markup)
    return [button for row in keyboard["inline_keyboard"] for button in row] if keyboard else []


# -- stored state ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedPart:
    """A file part of a multipart request."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file, served by ``getFile`` and ``GET /file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    file_path: str
    filename: str
    content_type: str
    data: bytes

    def to_api(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG; 1x1 for anything else (the fake does not decode images)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return 1, 1


@dataclass
class StoredMessage:
    """One message of a chat as Telegram keeps it: plain text plus entities, current markup."""

    chat_id: int
    message_id: int
    sender: JSON  # a User object
    date: int
    text: str | None = None  # as displayed (HTML parsed away); None for a photo
    caption: str | None = None
    source: str | None = None  # text or caption exactly as sent
    entities: list[JSON] = field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: JSON | None = None  # as sent, decoded
    photo: list[JSON] | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    history: list[str] = field(default_factory=list)  # earlier texts/captions, oldest first
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return bool(self.sender.get("is_bot"))

    @property
    def keyboard(self) -> JSON | None:
        """The inline keyboard the user sees, or None."""
        return _inline_keyboard(self.reply_markup)

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline buttons, row by row."""
        return [button["text"] for button in _buttons(self.reply_markup)]

    def to_api(self, chat: JSON) -> JSON:
        """The Message object Telegram would return."""
        message: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": chat,
            "date": self.date,
        }
        if self.photo is not None:
            message["photo"] = self.photo
            if self.caption is not None:
                message["caption"] = self.caption
                if self.entities:
                    message["caption_entities"] = self.entities
        else:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        if self.keyboard:
            message["reply_markup"] = self.keyboard
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        return message

    def describe(self) -> str:
        who = "bot" if self.from_bot else self.sender.get("username") or "user"
        body = self.text if self.photo is None else f"[photo] {self.caption or ''}".rstrip()
        flags = " (deleted)" if self.deleted else " (edited)" if self.edit_date else ""
        lines = [f"[{self.message_id}] {who}{flags}: {body}"]
        if self.keyboard:
            for row in self.keyboard["inline_keyboard"]:
                lines.append("    " + " ".join(f"[{button['text']}]" for button in row))
        return "\n".join(lines)


@dataclass
class Chat:
    """A chat and its transcript; user and bot messages share one message_id counter."""

    id: int
    type: str = "private"
    first_name: str | None = None
    username: str | None = None
    title: str | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def to_api(self) -> JSON:
        chat: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or "Tester"
            if self.username:
                chat["username"] = self.username
        else:
            chat["title"] = self.title or "Test group"
        return chat

    def add(self, **fields: Any) -> StoredMessage:
        message = StoredMessage(chat_id=self.id, message_id=next(self._ids), **fields)
        self.messages[message.message_id] = message
        return message

    def live(self, message_id: Any) -> StoredMessage | None:
        """The message with that id unless it is unknown or deleted."""
        message = self.messages.get(_as_int(message_id) or 0)
        return None if message is None or message.deleted else message

    def message_api(self, message: StoredMessage) -> JSON:
        return message.to_api(self.to_api())


@dataclass(frozen=True)
class ApiCall:
    """One Bot API call as the fake answered it."""

    seq: int
    method: str  # as the client spelled it, e.g. "sendMessage"
    params: JSON  # decoded: reply_markup, commands, entities ... are objects
    files: dict[str, UploadedPart]
    status: int
    response: JSON

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    def summary(self) -> str:
        shown = {k: v for k, v in self.params.items() if k in ("chat_id", "message_id", "text")}
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"#{self.seq} {self.method} {shown} -> {outcome}"


class _Signal:
    """Wakes every waiter on ``notify()``; check a condition, then ``await wait(timeout)``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event  # taken before suspending, so no notify is missed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()


class UpdateQueue:
    """Pending updates; ids only grow (also across ``reset``), offsets confirm and drop."""

    def __init__(self) -> None:
        self._pending: list[JSON] = []
        self._ids = itertools.count(1)
        self.allowed: list[str] | None = None  # remembered from getUpdates, as Telegram does
        self.changed = _Signal()

    def __len__(self) -> int:
        return len(self._pending)

    def push(self, kind: str, payload: JSON) -> JSON | None:
        if self.allowed and kind not in self.allowed:
            return None  # Telegram never creates updates the bot did not subscribe to
        update = {"update_id": next(self._ids), kind: payload}
        self._pending.append(update)
        self.changed.notify()
        return update

    def confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def ready(self, limit: int) -> list[JSON]:
        return self._pending[:limit]

    def pop(self) -> JSON | None:
        """The oldest pending update, removed (webhook delivery)."""
        return self._pending.pop(0) if self._pending else None

    def clear(self) -> None:
        self._pending.clear()


# -- the server -------------------------------------------------------------------------------

Handler = Callable[[JSON, dict[str, UploadedPart]], Awaitable[Any]]


class FakeTelegramAPI:
    """``async with FakeTelegramAPI() as api:`` serves the Bot API on ``api.base_url``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        strictness: Strictness | None = None,
    ) -> None:
        self.token = token
        self.strictness = strictness or Strictness()
        head = token.split(":", 1)[0]
        self.bot_user: JSON = {
            "id": int(head) if head.isdigit() else 1,
            "is_bot": True,
            "first_name": "DerivKit Test",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.crashes: list[BaseException] = []  # bugs in the fake itself, re-raised on exit
        self._updates = UpdateQueue()
        self._activity = _Signal()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = False
        self._polls_waiting = 0  # getUpdates calls currently held open
        #: setWebhook's parameters while a webhook is set (url, secret_token, ...), else None.
        self.webhook: JSON | None = None
        self.webhook_targets: list[str] = []  # balance(): the fleet behind the webhook URL
        self.duplicate_every = 0
        self.deliveries: list[tuple[int, str, int]] = []  # (update_id, url, HTTP status or 0)
        self._delivered = 0
        self._next_target = 0
        self._delivery: asyncio.Task[None] | None = None
        self._delivery_slots = asyncio.Semaphore(40)
        self._seq = itertools.count(1)
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendchataction": self._send_chat_action,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "deletemessage": self._delete_message,
            "sendphoto": self._send_photo,
            "getfile": self._get_file,
        }
        self._init_state()

    def _init_state(self) -> None:
        self._chats: dict[int, Chat] = {}
        self._calls: list[ApiCall] = []
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._callbacks: dict[str, JSON] = {}
        self._callback_ids = itertools.count(1)
        self._files: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._bot_messages: list[JSON] = []  # events for next_bot_message, consumed in order
        self.answered_callbacks: dict[str, JSON] = {}  # callback query id -> answer params
        self.deleted_messages: list[tuple[int, int]] = []  # (chat_id, message_id)

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegramAPI:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._serve_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._serve_file)
        # handler_cancellation: a long poll whose client went away (PTB cancels it on stop)
        # ends at once instead of idling until its timeout.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site.port
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._updates.changed.notify()  # release pending long polls
        for hold in self._holds:
            hold.released.set()
        if self._delivery is not None:
            self._delivery.cancel()
            await asyncio.gather(self._delivery, return_exceptions=True)
            self._delivery = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.crashes and exc_info[0] is None:
            raise RuntimeError("the fake Telegram API crashed") from self.crashes[0]

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"http://127.0.0.1:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)`` (not derived from base_url by PTB)."""
        return f"http://127.0.0.1:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        if not self._port:
            raise RuntimeError("FakeTelegramAPI is not running; use `async with`")
        return self._port

    # -- the user's side -----------------------------------------------------------------------

    def open_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        first_name: str = "Tester",
        username: str | None = None,
        title: str | None = None,
    ) -> Chat:
        """The chat with that id, created if new (an existing chat keeps its type)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = Chat(chat_id, chat_type, first_name, username, title)
            self._chats[chat_id] = chat
        return chat

    def user_sends(
        self,
        text: str,
        user_id: int = 111,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Tester",
        date: int | None = None,
        *,
        username: str | None = None,
    ) -> JSON:
        """The user sends ``text``; queues a ``message`` update and returns the Message.

        A leading ``/command`` (also ``/command@botname``) gets a ``bot_command`` entity.
        The message joins the transcript, so the bot can delete it (e.g. a pasted token).
        """
        if chat_id is None:
            chat_id = user_id if chat_type == "private" else -1_000_000_000_000 - user_id
        chat = self.open_chat(
            chat_id, chat_type, first_name=first_name, username=username, title=None
        )
        entities = []
        command = _LEADING_COMMAND.match(text)
        if command:
            length = _utf16_len(command.group(0))
            entities.append({"type": "bot_command", "offset": 0, "length": length})
        message = chat.add(
            sender=self._user(user_id, first_name, username),
            date=_now() if date is None else date,
            text=text,
            source=text,
            entities=entities,
        )
        payload = chat.message_api(message)
        self._updates.push("message", payload)
        return payload

    def user_taps(
        self,
        message_id: int,
        data: str | None = None,
        label: str | None = None,
        user_id: int = 111,
        chat_id: int | None = None,
        *,
        first_name: str = "Tester",
        strict: bool = True,
    ) -> str:
        """The user taps an inline button of the bot's message; returns the callback query id.

        The button is found by ``data`` (its callback_data) and/or ``label`` (its text); no such
        button raises LookupError. ``strict=False`` with ``data`` skips the lookup, to replay a
        stale or forged tap.
        """
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chats.get(chat_id)
        message = chat.live(message_id) if chat else None
        if chat is None or message is None or not message.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        if data is None and label is None:
            raise ValueError("user_taps needs data or label")
        if strict or data is None:
            data = self._find_button(message, data, label)["callback_data"]
        query_id = f"cbq-{next(self._callback_ids)}"
        query = {
            "id": query_id,
            "from": self._user(user_id, first_name, None),
            "message": chat.message_api(message),
            "chat_instance": str(chat.id),
            "data": data,
        }
        self._callbacks[query_id] = query
        self._updates.push("callback_query", query)
        return query_id

    @staticmethod
    def _find_button(message: StoredMessage, data: str | None, label: str | None) -> JSON:
        for button in _buttons(message.reply_markup):
            if data is not None and button.get("callback_data") != data:
                continue
            if label is not None and button.get("text") != label:
                continue
            if "callback_data" not in button:
                raise LookupError(f"button {button['text']!r} is not a callback button")
            return button
        shown = [(b.get("text"), b.get("callback_data")) for b in _buttons(message.reply_markup)]
        raise LookupError(
            f"message {message.message_id} has no button data={data!r} label={label!r}; "
            f"buttons: {shown}"
        )

    def _user(self, user_id: int, first_name: str, username: str | None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        return user

    # -- inspection -------------------------------------------------------------------------

    def outbox(self, method: str | None = None) -> list[ApiCall]:
        """Every call answered so far (refusals and faults included), oldest first."""
        if method is None:
            return list(self._calls)
        return [call for call in self._calls if call.method.lower() == method.lower()]

    def transcript(self, chat_id: int) -> list[StoredMessage]:
        """The chat's messages in order: user and bot, deleted ones flagged, edits applied."""
        chat = self._chats.get(chat_id)
        return list(chat.messages.values()) if chat else []

    def format_transcript(self, chat_id: int) -> str:
        """The transcript as readable lines, for assertion messages."""
        return "\n".join(message.describe() for message in self.transcript(chat_id))

    def file_bytes(self, file_id: str) -> bytes:
        """What the bot uploaded under ``file_id``."""
        return self._files[file_id].data

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """What the bot set with setMyCommands for that scope (default scope if None)."""
        return list(self._commands.get(self._scope_key(scope, language_code), []))

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    async def next_bot_message(self, chat_id: int | None = None, timeout: float = 5.0) -> JSON:
        """The next message the bot sent or edited (not yet returned by this method).

        A dict: method, chat_id, message_id, text (as displayed), raw_text (as sent), caption,
        parse_mode, entities, reply_markup (decoded), buttons (labels), photo, message (the
        Message object returned to the bot).
        """

        def find() -> JSON | None:
            for event in self._bot_messages:
                if not event["consumed"] and chat_id in (None, event["chat_id"]):
                    event["consumed"] = True
                    return {k: v for k, v in event.items() if k != "consumed"}
            return None

        where = "" if chat_id is None else f" in chat {chat_id}"
        return await self._until(find, timeout, f"no bot message{where} within {timeout} s")

    async def wait_for(
        self, predicate: Callable[[ApiCall], bool], timeout: float = 5.0, *, since: int = 0
    ) -> ApiCall:
        """The first outbox entry (from index ``since``) matching ``predicate``; waits for it."""

        def find() -> ApiCall | None:
            return next((call for call in self._calls[since:] if predicate(call)), None)

        return await self._until(find, timeout, f"no matching API call within {timeout} s")

    async def wait_until_polling(self, timeout: float = 5.0) -> None:
        """Wait until a ``getUpdates`` long poll is held open (the bot is listening)."""
        await self._until(
            lambda: True if self._polls_waiting else None, timeout, "no getUpdates long poll"
        )

    async def _until(self, find: Callable[[], _T | None], timeout: float, what: str) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := find()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n".join(call.summary() for call in self._calls[-12:]) or "(empty)"
                raise AssertionError(f"{what}; recent outbox:\n{recent}")
            await self._activity.wait(remaining)
        return found

    # -- control ------------------------------------------------------------------------------

    def fault(
        self,
        method: str,
        code: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int | None = 1,
        *,
        when: Callable[[JSON], bool] | None = None,
    ) -> Fault:
        """Fail the next ``times`` calls of ``method`` ("*": any; times=None: until reset).

        Faults apply after the token check and before the method runs. A 429 always carries
        ``parameters.retry_after`` (default 1) so PTB raises RetryAfter.
        """
        if code == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(
            method=method.lower() if method != "*" else "*",
            code=code,
            description=description or _default_description(code, retry_after),
            retry_after=retry_after,
            times=times,
            when=when,
        )
        self._faults.append(fault)
        return fault

    def hold(self, method: str, *, times: int, when: Callable[[JSON], bool] | None = None) -> Hold:
        """Hold the next ``times`` calls of ``method`` (matching ``when``): they never run and
        get no answer until the fake closes (then a 502)."""
        hold = Hold(method.lower(), times, when)
        self._holds.append(hold)
        return hold

    def balance(self, urls: list[str], *, duplicate_every: int = 0) -> None:
        """Deliver webhooks round-robin to ``urls`` (a fleet behind a load balancer) instead of
        the URL the bot set; every ``duplicate_every``-th update also goes to the next one."""
        self.webhook_targets = list(urls)
        self.duplicate_every = duplicate_every

    def reset(self) -> None:
        """Forget chats, updates, outbox, faults, commands, callbacks and files.

        Update ids keep growing, so a polling bot does not drop new updates as confirmed.
        """
        self._updates.clear()
        self._init_state()

    # -- HTTP plumbing --------------------------------------------------------------------------

    async def _serve_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: JSON = {}
        files: dict[str, UploadedPart] = {}
        try:
            try:
                params, files = await _read_params(request)
            except ValueError as exc:  # malformed JSON, form or multipart body
                raise bad_request(f"can't parse request body: {exc}") from exc
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            for fault in self._faults:
                if fault.matches(method, params):
                    raise fault.fire()
            hold = next((h for h in self._holds if h.matches(method, params)), None)
            if hold is not None:
                hold.held += 1
                self._activity.notify()
                await hold.released.wait()
                raise ApiError(502, "Bad Gateway")  # the held call never ran
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            status, body = 200, {"ok": True, "result": await handler(params, files)}
        except ApiError as error:
            status, body = error.code, error.payload()
        except Exception as exc:  # a bug in the fake: answer 500, fail the test on exit
            self.crashes.append(exc)
            status, body = 500, ApiError(500, f"Internal Server Error: {exc!r}").payload()
        self._calls.append(ApiCall(next(self._seq), method, params, files, status, body))
        self._activity.notify()
        return web.json_response(body, status=status)

    async def _serve_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.data, content_type=stored.content_type)

    # -- helpers for methods ------------------------------------------------------------------

    def _chat(self, params: JSON) -> Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat_id = _as_int(raw)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None and chat_id is not None and not self.strictness.known_chats:
            chat = self.open_chat(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _editable(self, params: JSON) -> tuple[Chat, StoredMessage]:
        if params.get("inline_message_id"):
            raise bad_request("message to edit not found")  # inline messages are not faked
        chat = self._chat(params)
        if params.get("message_id") in (None, ""):
            raise bad_request("message identifier is not specified")
        message = chat.live(params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _reply_to(self, chat: Chat, params: JSON) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            target, lenient = reply.get("message_id"), reply.get("allow_sending_without_reply")
        else:
            target = params.get("reply_to_message_id")
            lenient = params.get("allow_sending_without_reply")
        if target is None:
            return None
        if chat.live(target) is None:
            if lenient:
                return None
            raise bad_request("message to be replied not found")
        return _as_int(target)

    def _bot_message(self, method: str, chat: Chat, message: StoredMessage) -> JSON:
        """Record a sent or edited bot message for next_bot_message; return its Message."""
        api_message = chat.message_api(message)
        self._bot_messages.append(
            {
                "method": method,
                "chat_id": chat.id,
                "message_id": message.message_id,
                "text": message.text,
                "raw_text": message.source,
                "caption": message.caption,
                "parse_mode": message.parse_mode,
                "entities": list(message.entities),
                "reply_markup": message.reply_markup,
                "buttons": message.buttons,
                "photo": message.photo[-1]["file_id"] if message.photo else None,
                "message": api_message,
                "consumed": False,
            }
        )
        return api_message

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # -- Bot API methods ------------------------------------------------------------------------

    async def _get_me(self, params: JSON, files: dict[str, UploadedPart]) -> JSON:
        return dict(self.bot_user)

    async def _delete_webhook(self, params: JSON, files: dict[str, UploadedPart]) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, UploadedPart]) -> JSON:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _set_webhook(self, params: JSON, files: dict[str, UploadedPart]) -> bool:
        url = params.get("url")
        if not url:  # Telegram: an empty url removes the webhook
            return await self._delete_webhook(params, files)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._updates.allowed = allowed or None
        self.webhook = {
            "url": url,
            "secret_token": None if secret is None else str(secret),
            "max_connections": _as_int(params.get("max_connections")) or 40,
        }
        if self._delivery is None:
            self._delivery = asyncio.create_task(self._deliver_forever(), name="fake-webhooks")
        return True

    # -- webhook delivery ------------------------------------------------------------------

    async def _deliver_forever(self) -> None:
        """POST pending updates while a webhook is set (at most 40 at once, like Telegram)."""
        import aiohttp

        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            try:
                while not self._closing:
                    update = self._updates.pop() if self.webhook is not None else None
                    if update is None:
                        await self._updates.changed.wait(1.0)
                        continue
                    await self._delivery_slots.acquire()
                    task = asyncio.create_task(self._deliver(session, update))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _targets(self) -> list[str]:
        assert self.webhook is not None
        return self.webhook_targets or [self.webhook["url"]]

    async def _deliver(self, session: Any, update: JSON) -> None:
        try:
            self._delivered += 1
            twice = self.duplicate_every and self._delivered % self.duplicate_every == 0
            start = self._next_target
            self._next_target += 1
            first = await self._post_until_accepted(session, update, start)
            if twice and len(self._targets()) > 1:
                await self._post_until_accepted(session, update, first + 1)
        except Exception as exc:  # a bug in the fake: fail the test on exit
            self.crashes.append(exc)
        finally:
            self._delivery_slots.release()

    async def _post_until_accepted(self, session: Any, update: JSON, start: int) -> int:
        """POST ``update`` to the targets from index ``start`` on, round and round, until one
        answers 2xx (for at most ~30 s); returns the index that took it."""
        import aiohttp

        for attempt in range(300):
            if self.webhook is None:
                return start
            targets = self._targets()
            index = (start + attempt) % len(targets)
            url = targets[index]
            headers = {"Content-Type": "application/json"}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
            status = 0
            try:
                async with session.post(url, data=json.dumps(update), headers=headers) as reply:
                    status = reply.status
            except (TimeoutError, aiohttp.ClientError, OSError):
                status = 0
            self.deliveries.append((update["update_id"], url, status))
            self._activity.notify()
            if 200 <= status < 300:
                return index
            if attempt % len(targets) == len(targets) - 1:
                await asyncio.sleep(0.1)  # every target refused: wait a moment, then again
        raise AssertionError(f"update {update['update_id']} was never accepted by a webhook")

    async def _set_my_commands(self, params: JSON, files: dict[str, UploadedPart]) -> bool:
        commands = self.strictness.commands(params.get("commands"))
        self._commands[self._scope_key(params.get("scope"), params.get("language_code"))] = commands
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, UploadedPart]) -> list[JSON]:
        return self.my_commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_my_commands(self, params: JSON, files: dict[str, UploadedPart]) -> bool:
        self._commands.pop(self._scope_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def _send_chat_action(self, params: JSON, files: dict[str, UploadedPart]) -> bool:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _get_updates(self, params: JSON, files: dict[str, UploadedPart]) -> list[JSON]:
        """Long poll: confirm ``offset``, then wait up to ``timeout`` s for pending updates."""
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._updates.confirm(_as_int(params.get("offset")))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._updates.allowed = allowed or None
        limit = min(max(_as_int(params.get("limit")) or 100, 1), 100)
        try:
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except (TypeError, ValueError):
            raise bad_request("wrong parameter timeout") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (ready := self._updates.ready(limit)) and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._polls_waiting += 1
            self._activity.notify()
            try:
                await self._updates.changed.wait(remaining)
            finally:
                self._polls_waiting -= 1
        return ready

    async def _send_message(self, params: JSON, files: dict[str, UploadedPart]) -> JSON:
        chat = self._chat(params)
        source, plain, entities = self.strictness.message_text(params)
        markup = self.strictness.reply_markup(params.get("reply_markup"))
        message = chat.add(
            sender=self.bot_user,
            date=_now(),
            text=plain,
            source=source,
            entities=entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=self._reply_to(chat, params),
        )
        return self._bot_message("sendMessage", chat, message)

    async def _edit_message_text(self, params: JSON, files: dict[str, UploadedPart]) -> JSON:
        chat, message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        source, plain, entities = self.strictness.message_text(params)
        markup = self.strictness.reply_markup(params.get("reply_markup"))
        if (plain, entities, _inline_keyboard(markup)) == (
            message.text,
            message.entities,
            message.keyboard,
        ):
            raise bad_request(NOT_MODIFIED)
        message.history.append(message.source or "")
        message.text, message.source, message.entities = plain, source, entities
        message.parse_mode, message.reply_markup = params.get("parse_mode"), markup
        message.edit_date = _now()
        return self._bot_message("editMessageText", chat, message)

    async def _edit_message_caption(self, params: JSON, files: dict[str, UploadedPart]) -> JSON:
        chat, message = self._editable(params)
        if message.photo is None:
            raise bad_request("there is no caption in the message to edit")
        source, plain, entities = self.strictness.caption(params)
        markup = self.strictness.reply_markup(params.get("reply_markup"))
        if (plain, entities, _inline_keyboard(markup)) == (
            message.caption,
            message.entities,
            message.keyboard,
        ):
            raise bad_request(NOT_MODIFIED)
        message.history.append(message.source or "")
        message.caption, message.source, message.entities = plain, source, entities
        message.parse_mode, message.reply_markup = params.get("parse_mode"), markup
        message.edit_date = _now()
        return self._bot_message("editMessageCaption", chat, message)

    async def _edit_message_reply_markup(
        self, params: JSON, files: dict[str, UploadedPart]
    ) -> JSON:
        chat, message = self._editable(params)
        markup = self.strictness.reply_markup(params.get("reply_markup"))
        if _inline_keyboard(markup) == message.keyboard:
            raise bad_request(NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_date = _now()
        return self._bot_message("editMessageReplyMarkup", chat, message)

    async def _answer_callback_query(self, params: JSON, files: dict[str, UploadedPart]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callbacks or query_id in self.answered_callbacks:
            raise bad_request(QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        self.answered_callbacks[query_id] = {
            k: v for k, v in params.items() if k != "callback_query_id"
        }
        return True

    async def _delete_message(self, params: JSON, files: dict[str, UploadedPart]) -> bool:
        chat = self._chat(params)
        message = chat.live(params.get("message_id"))
        if message is None:
            raise bad_request("message to delete not found")
        message.deleted = True
        self.deleted_messages.append((chat.id, message.message_id))
        return True

    async def _send_photo(self, params: JSON, files: dict[str, UploadedPart]) -> JSON:
        chat = self._chat(params)
        stored = self._photo_file(params, files)
        source, plain, entities = self.strictness.caption(params)
        markup = self.strictness.reply_markup(params.get("reply_markup"))
        width, height = _image_size(stored.data)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.data),
        }
        message = chat.add(
            sender=self.bot_user,
            date=_now(),
            caption=plain,
            source=source,
            entities=entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            photo=[size],
            reply_to_message_id=self._reply_to(chat, params),
        )
        return self._bot_message("sendPhoto", chat, message)

    def _photo_file(self, params: JSON, files: dict[str, UploadedPart]) -> StoredFile:
        """The uploaded ``photo`` part (or attach://name part), or a known file_id."""
        photo = params.get("photo")
        part = files.get("photo")
        if part is None and isinstance(photo, str) and photo.startswith("attach://"):
            part = files.get(photo.removeprefix("attach://"))
        if part is not None:
            if not part.data:
                raise bad_request("file must be non-empty")
            number = next(self._file_ids)
            stored = StoredFile(
                file_id=f"file-{number}",
                file_unique_id=f"unique-{number}",
                file_path=f"photos/file_{number}_{part.filename}",
                filename=part.filename,
                content_type=part.content_type,
                data=part.data,
            )
            self._files[stored.file_id] = stored
            return stored
        if isinstance(photo, str) and photo in self._files:
            return self._files[photo]
        if photo:
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request("there is no photo in the request")

    async def _get_file(self, params: JSON, files: dict[str, UploadedPart]) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.to_api()


# -- request parsing ----------------------------------------------------------------------------


def _decode_value(name: str, value: Any) -> Any:
    """PTB form-encodes objects, numbers and booleans as JSON text; decode them."""
    if not isinstance(value, str) or name in _TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, UploadedPart]]:
    """Query string plus a form-encoded, multipart or JSON body, decoded."""
    raw: JSON = dict(request.query)
    files: dict[str, UploadedPart] = {}
    if request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = bytes(await part.read())
                    kind = part.headers.get("Content-Type", "application/octet-stream")
                    files[part.name] = UploadedPart(part.name, part.filename, kind, data)
                else:
                    raw[part.name] = await part.text()
        else:
            raw.update(await request.post())
    return {name: _decode_value(name, value) for name, value in raw.items()}, files


# -- PTB helpers --------------------------------------------------------------------------------


def application_builder(
    api: FakeTelegramAPI, token: str | None = None
) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """An ApplicationBuilder pointed at the fake, with ``AIORateLimiter(max_retries=1)``."""
    return (
        ApplicationBuilder()
        .token(token or api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=1))
    )


@contextlib.asynccontextmanager
async def running_application(
    app: AnyApplication,
    api: FakeTelegramAPI | None = None,
    *,
    drop_pending_updates: bool = False,
    timeout: float = 5.0,
) -> AsyncIterator[AnyApplication]:
    """Run ``app`` with derivkit's manual lifecycle; tear down in reverse.

    ``initialize()`` -> ``updater.start_polling(timeout=1, poll_interval=0)`` -> ``start()``;
    on exit ``updater.stop()`` -> ``stop()`` -> ``shutdown()``, as ``run_polling`` does. Every
    step is bounded by ``timeout`` s. ``post_init``/``post_shutdown`` are not called (PTB
    only calls them from ``run_polling``). With ``api``, refuses an app pointed elsewhere.
    """
    if api is not None and not app.bot.base_url.startswith(api.base_url):
        raise ValueError(f"the application talks to {app.bot.base_url}, not the fake")
    try:
        async with asyncio.timeout(timeout):
            await app.initialize()
    except BaseException:
        # Application.shutdown() is a no-op when initialize() failed, which would leave the
        # bot's HTTP clients open: close them here.
        await app.bot.shutdown()
        raise
    try:
        if app.updater is not None:
            async with asyncio.timeout(timeout):
                await app.updater.start_polling(
                    timeout=1, poll_interval=0, drop_pending_updates=drop_pending_updates
                )
        async with asyncio.timeout(timeout):
            await app.start()
        yield app
    finally:
        async with asyncio.timeout(timeout):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
