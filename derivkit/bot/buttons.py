"""Inline buttons whose meaning stays on the server.

A button's ``callback_data`` is only ``b:`` and an opaque single nonce; what it does (an action
name and its arguments), for whom (the user who got it), and on which message (bound once the
message is sent) is kept here. A tap from another user, on another message, after expiry, after
a restart, or with made-up data finds nothing, so it cannot touch any message: the caller
answers it with a short "expired" toast. All buttons of one message form a :class:`Card`,
retired together once one of them has done its job (a Confirm, a Cancel).

In a fleet the cards also live in PostgreSQL: :meth:`Buttons.export` gives a user's live cards
as JSON when their update ends, :meth:`Buttons.load` puts them back when the next one starts
(on whichever instance), so a tap works wherever it lands.

Not thread-safe; use from the bot's event loop only.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

__all__ = ["PREFIX", "Button", "Buttons", "Card"]

PREFIX = "b:"
DAY = 86_400.0
MAX_CARDS_PER_USER = 100


@dataclass
class Button:
    action: str
    args: tuple[Any, ...]
    card: Card


@dataclass
class Card:
    """The buttons of one message."""

    id: str
    user_id: int
    chat_id: int
    expires_at: float
    message_id: int | None = None
    buttons: dict[str, Button] = field(default_factory=dict)
    retired: bool = False

    def button(self, label: str, action: str, *args: Any) -> InlineKeyboardButton:
        nonce = secrets.token_urlsafe(9)
        self.buttons[nonce] = Button(action, args, self)
        return InlineKeyboardButton(label, callback_data=f"{PREFIX}{nonce}")

    def markup(self, rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([list(row) for row in rows])

    def bind(self, message: Message | int) -> None:
        """The message these buttons belong to (only taps on it count)."""
        self.message_id = message if isinstance(message, int) else message.message_id


class Buttons:
    """Every live card, by user; see the module docstring."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cards: dict[int, OrderedDict[str, Card]] = {}

    def card(self, user_id: int, chat_id: int, *, ttl: float = DAY) -> Card:
        cards = self._cards.setdefault(user_id, OrderedDict())
        while len(cards) >= MAX_CARDS_PER_USER:
            _, oldest = cards.popitem(last=False)
            oldest.retired = True
        card = Card(secrets.token_urlsafe(6), user_id, chat_id, self._clock() + ttl)
        cards[card.id] = card
        return card

    def find(self, query: CallbackQuery) -> Button | None:
        """The button tapped, if it is live, the tapping user's, and on its own message."""
        data = query.data or ""
        if not data.startswith(PREFIX):
            return None
        nonce = data.removeprefix(PREFIX)
        card = self._card_holding(nonce, query.from_user.id)
        if card is None:
            return None
        button = card.buttons[nonce]
        message = query.message
        if (
            card.retired
            or card.user_id != query.from_user.id
            or message is None
            or card.message_id != message.message_id
            or card.chat_id != message.chat.id
        ):
            return None
        if self._clock() >= card.expires_at:
            self.retire(card)
            return None
        return button

    def _card_holding(self, nonce: str, user_id: int) -> Card | None:
        """The user's card with that button (another user's buttons are never looked at)."""
        for card in self._cards.get(user_id, {}).values():
            if nonce in card.buttons:
                return card
        return None

    def export(self, user_id: int, wall: Callable[[], float] = time.time) -> list[Any]:
        """The user's live cards as JSON (expiry as epoch seconds)."""
        offset = wall() - self._clock()
        return [
            {
                "id": card.id,
                "chat_id": card.chat_id,
                "expires_at": card.expires_at + offset,
                "message_id": card.message_id,
                "buttons": {
                    nonce: [button.action, list(button.args)]
                    for nonce, button in card.buttons.items()
                },
            }
            for card in self._cards.get(user_id, {}).values()
            if not card.retired
        ]

    def load(
        self, user_id: int, stored: list[Any] | None, wall: Callable[[], float] = time.time
    ) -> None:
        """Replace the user's cards with ``stored`` (from :meth:`export`)."""
        offset = self._clock() - wall()
        cards: OrderedDict[str, Card] = OrderedDict()
        for item in stored or []:
            card = Card(
                item["id"],
                user_id,
                item["chat_id"],
                item["expires_at"] + offset,
                item["message_id"],
            )
            for nonce, (action, args) in item["buttons"].items():
                card.buttons[nonce] = Button(action, tuple(args), card)
            cards[card.id] = card
        for old in self._cards.get(user_id, {}).values():
            if old.id not in cards:
                old.retired = True
        if cards:
            self._cards[user_id] = cards
        else:
            self._cards.pop(user_id, None)

    def card_by_id(self, user_id: int, card_id: str) -> Card | None:
        cards = self._cards.get(user_id)
        return None if cards is None else cards.get(card_id)

    def retire(self, card: Card) -> None:
        """Every button of ``card`` stops working."""
        card.retired = True
        cards = self._cards.get(card.user_id)
        if cards is not None:
            cards.pop(card.id, None)
            if not cards:
                del self._cards[card.user_id]
