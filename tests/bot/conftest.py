"""End-to-end fixtures for the Telegram bot: the simulator (Deriv), a fake Bot API server
(Telegram), a real DerivClient and the production ``running_bot`` lifecycle between them.

Everything talks over real loopback sockets: PTB's HTTPX layer to the fake, the core to the
simulator. Tests wait on the fake's outbox, never on sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from derivkit.bot import running_bot
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.core import DerivClient
from derivkit.settings import BotSettings
from derivkit.sim import RateLimits, Simulator
from tests.fakes.telegram_api import FakeTelegramAPI

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
DEMO_TOKEN = "demo-token-bot-0001"
REAL_TOKEN = "real-token-bot-0001"
OWNER = 111
FRIEND = 333
STRANGER = 222


@dataclass
class BotHarness:
    """A running bot and handles on both of its servers."""

    api: FakeTelegramAPI
    sim: Simulator
    client: DerivClient
    app: Any

    @property
    def rt(self) -> BotRuntime:
        return runtime(self.app)

    async def send(self, text: str, user_id: int = OWNER, **kwargs: Any) -> dict[str, Any]:
        """``user_id`` sends ``text``; returns the bot's next message in that chat."""
        message = self.api.user_sends(text, user_id=user_id, **kwargs)
        return await self.api.next_bot_message(chat_id=message["chat"]["id"])

    async def tap(
        self, message: dict[str, Any], label: str, user_id: int = OWNER, **kwargs: Any
    ) -> str:
        return self.api.user_taps(
            message["message_id"],
            label=label,
            user_id=user_id,
            chat_id=message["chat_id"],
            **kwargs,
        )

    async def answer_to(self, query_id: str) -> dict[str, Any]:
        call = await self.api.wait_for(
            lambda c: (
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
            )
        )
        return call.params


StartBot = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def start_bot() -> AsyncIterator[StartBot]:
    """A factory: ``await start_bot(trading=True, ...)`` gives a running :class:`BotHarness`."""
    async with AsyncExitStack() as stack:

        async def start(
            *,
            trading: bool = True,
            allowed: tuple[int, ...] = (OWNER,),
            max_stake: float = 50.0,
            max_open: int = 5,
            daily_loss: float | None = None,
            real_money: bool = False,
            deriv_token: str = DEMO_TOKEN,
            order_ttl: float = 30.0,
            request_timeout: float = 10.0,
        ) -> BotHarness:
            sim = await stack.enter_async_context(
                Simulator(
                    seed=11,
                    speed=20,
                    tokens=[DEMO_TOKEN],
                    real_tokens=[REAL_TOKEN],
                    rate_limits=RateLimits.unlimited(),
                )
            )
            api = await stack.enter_async_context(FakeTelegramAPI(token=BOT_TOKEN))
            client = await stack.enter_async_context(
                DerivClient(sim.url, token=deriv_token, request_timeout=request_timeout)
            )
            settings = BotSettings(
                token=BOT_TOKEN,
                allowed_users=frozenset(allowed),
                trading=trading,
                max_stake=max_stake,
                max_open=max_open,
                daily_loss=daily_loss,
                real_money=real_money,
            )
            app = await stack.enter_async_context(
                running_bot(
                    client,
                    settings,
                    base_url=api.base_url,
                    base_file_url=api.base_file_url,
                    poll_timeout=1,
                    order_ttl=order_ttl,
                )
            )
            await api.wait_until_polling()
            return BotHarness(api, sim, client, app)

        yield start
