"""End-to-end fixtures for the Telegram bot: the simulator (Deriv), a fake Bot API server
(Telegram), real DerivClients, a real SQLite database in a temporary data dir, and the
production ``running_bot`` lifecycle between them.

Everything talks over real loopback sockets: PTB's HTTPX layer to the fake, the core to the
simulator. Tests wait on the fake's outbox, never on sleeps. ``await bot.restart()`` stops the
bot and starts a new one on the same simulator, fake and data dir.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from derivkit.bot import running_bot
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.core import ContractSpec, DerivClient
from derivkit.settings import BotSettings
from derivkit.sim import RateLimits, Simulator
from derivkit.storage import Storage, TokenCipher, default_url
from tests.fakes.telegram_api import FakeTelegramAPI

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
DEMO_TOKEN = "demo-token-bot-0001"
REAL_TOKEN = "real-token-bot-0001"
OWNER = 111
FRIEND = 333
STRANGER = 222
READ_TRADE = ("read", "trade")


@dataclass
class BotHarness:
    """A running bot and handles on both of its servers."""

    api: FakeTelegramAPI
    sim: Simulator
    data_dir: Path
    settings: BotSettings
    options: dict[str, Any]
    client: DerivClient | None = None  # personal mode: the owner's client
    app: Any = None
    storage: Storage | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def rt(self) -> BotRuntime:
        return runtime(self.app)

    async def start(self) -> None:
        stack = self._stack
        options = self.options
        self.storage = await stack.enter_async_context(
            await Storage.open(
                options.get("database") or default_url(self.data_dir),
                TokenCipher.from_environment({}, self.data_dir),
            )
        )
        timeout = options.get("request_timeout", 10.0)
        if self.settings.multi_user:
            market = await stack.enter_async_context(
                DerivClient(self.sim.url, request_timeout=timeout)
            )
            owner = None
        else:
            owner = await stack.enter_async_context(
                DerivClient(self.sim.url, token=options["deriv_token"], request_timeout=timeout)
            )
            market = owner
        self.client = owner
        self.app = await stack.enter_async_context(
            running_bot(
                self.settings,
                storage=self.storage,
                market_client=market,
                owner_client=owner,
                endpoint=self.sim.url,
                base_url=self.api.base_url,
                base_file_url=self.api.base_file_url,
                poll_timeout=1,
                order_ttl=options.get("order_ttl", 30.0),
                keep_warm=options.get("keep_warm", 120.0),
                request_timeout=timeout,
            )
        )
        if not self.settings.webhook:
            await self.api.wait_until_polling()

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = AsyncExitStack()

    async def restart(self, **changes: Any) -> None:
        await self.stop()
        if changes:
            self.settings = replace(self.settings, **changes)
        await self.start()

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

    def account(self, token: str) -> Any:
        return self.sim.accounts[token]

    async def connect(self, user_id: int, token: str) -> dict[str, Any]:
        """``user_id`` connects ``token`` with ``/connect TOKEN``; returns the bot's answer."""
        return await self.send(f"/connect {token}", user_id=user_id)


StartBot = Callable[..., Awaitable[BotHarness]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until(condition: Callable[[], Any], timeout: float = 5.0) -> None:
    """Until ``condition()`` holds (checked every 10 ms), for state that no event announces
    (a row written, a socket closed on the server); fails after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        for _ in itertools.count():
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.01)


async def sellable_contract(client: DerivClient) -> int:
    """Buy a 10-minute CALL on R_100 with ``client`` (outside any bot) and return its id once
    it can be sold (past its entry tick)."""
    spec = ContractSpec("CALL", "R_100", amount=5, duration=10, duration_unit="m")
    receipt = await client.buy(spec, price=5)
    async with await client.open_contract(receipt.contract_id) as states:
        async for state in states:
            if state.is_valid_to_sell:
                return receipt.contract_id
    raise AssertionError("the contract's stream ended")


@pytest.fixture
async def start_bot(tmp_path: Path) -> AsyncIterator[StartBot]:
    """A factory: ``await start_bot(trading=True, ...)`` gives a running :class:`BotHarness`.

    ``accounts`` adds simulator accounts: ``{token: scopes}`` (virtual) for multi-user tests.
    """
    harnesses: list[BotHarness] = []
    async with AsyncExitStack() as stack:

        async def start(
            *,
            mode: str = "personal",
            trading: bool | None = True,
            allowed: tuple[int, ...] = (OWNER,),
            max_stake: float = 50.0,
            max_open: int = 5,
            daily_loss: float | None = None,
            real_money: bool = False,
            real_money_users: tuple[int, ...] = (),
            deriv_token: str = DEMO_TOKEN,
            accounts: dict[str, tuple[str, ...]] | None = None,
            real_accounts: dict[str, tuple[str, ...]] | None = None,
            order_ttl: float = 30.0,
            request_timeout: float = 10.0,
            keep_warm: float = 120.0,
            session_idle: float = 600.0,
            max_sessions: int = 1000,
            connect_rate: float = 1000.0,
            no_send_limit: bool = False,
            webhook: bool = False,
            database: str | None = None,
            speed: float = 20,
            start_epoch: int | None = None,
        ) -> BotHarness:
            sim = await stack.enter_async_context(
                Simulator(
                    seed=11,
                    speed=speed,
                    start_epoch=start_epoch,
                    tokens=[DEMO_TOKEN],
                    real_tokens=[REAL_TOKEN],
                    scopes=("read", "trade"),  # what /connect asks for: the bot never needs more
                    rate_limits=RateLimits.unlimited(),
                )
            )
            for token, scopes in (accounts or {}).items():
                sim.add_account(token, scopes=scopes)
            for token, scopes in (real_accounts or {}).items():
                sim.add_account(token, real=True, scopes=scopes)
            api = await stack.enter_async_context(FakeTelegramAPI(token=BOT_TOKEN))
            settings = BotSettings(
                token=BOT_TOKEN,
                mode=mode,
                allowed_users=frozenset(allowed),
                trading=trading,
                max_stake=max_stake,
                max_open=max_open,
                daily_loss=daily_loss,
                real_money=real_money,
                real_money_users=frozenset(real_money_users),
                session_idle=session_idle,
                max_sessions=max_sessions,
                connect_rate=connect_rate,
                no_send_limit=no_send_limit,
            )
            if webhook:
                port = free_port()
                settings = replace(
                    settings,
                    webhook=f"http://127.0.0.1:{port}/telegram/hook",
                    listen=f"127.0.0.1:{port}",
                )
            options = {
                "database": database,
                "deriv_token": deriv_token,
                "order_ttl": order_ttl,
                "request_timeout": request_timeout,
                "keep_warm": keep_warm,
            }
            harness = BotHarness(api, sim, tmp_path / "data", settings, options)
            harnesses.append(harness)
            await harness.start()
            return harness

        try:
            yield start
        finally:
            for harness in harnesses:
                await harness.stop()
