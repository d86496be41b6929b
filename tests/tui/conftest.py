"""Dashboard tests: a real Simulator and a real DerivClient on this loop, the app under a Pilot.

``wait_for`` polls a condition between Pilot pauses until it holds or the time is up; nothing
sleeps and hopes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from textual.content import Content
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Static

from derivkit.core import DerivClient, RetryPolicy
from derivkit.sim import RateLimits, Simulator
from derivkit.tui import AccountLink, DerivDashboard
from derivkit.tui.widgets.quote_table import QuoteTable

DEMO_TOKEN = "demo-token-0001"
REAL_TOKEN = "real-token-0001"
SIZE = (120, 40)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        seed=11,
        speed=20,
        tokens=[DEMO_TOKEN],
        real_tokens=[REAL_TOKEN],
        rate_limits=RateLimits.unlimited(),
    ) as simulator:
        yield simulator


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], object], what: str, timeout: float = 15.0
) -> None:
    """Pause the Pilot until ``condition()`` is true; fail naming ``what`` after ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await pilot.pause(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


def text_of(widget: Static) -> str:
    """The plain text a Static/Label shows."""
    visual = widget.visual
    return visual.plain if isinstance(visual, Content) else str(visual)


@dataclass
class Harness:
    """A running dashboard: the app, its Pilot, its client, and every message it handled."""

    app: DerivDashboard
    pilot: Pilot[None]
    market: DerivClient
    link: AccountLink | None
    sim: Simulator
    messages: list[Message] = field(default_factory=list)

    @property
    def client(self) -> DerivClient:
        """The authorized (account) client if there is one, else the market client."""
        if self.link is not None and self.link.client is not None:
            return self.link.client
        return self.market

    def pause_feeds(self, symbols: Sequence[str] | None = None) -> None:
        """Stop the simulator's ticks (of the watched symbols by default): Pilot key presses
        run several times faster without a stream to paint (issue 8)."""
        for symbol in symbols if symbols is not None else self.rows():
            self.sim.faults.pause_symbol(symbol)

    @property
    def table(self) -> QuoteTable:
        return self.app.main_screen.query_one(QuoteTable)

    def notifications(self, severity: str | None = None) -> list[str]:
        return [
            m.notification.message
            for m in self.messages
            if isinstance(m, Notify) and severity in (None, m.notification.severity)
        ]

    def rows(self) -> list[str]:
        return [str(key.value) for key in self.table.rows]

    def received(self, symbol: str) -> int:
        return int(self.table.cell_text(symbol, "ticks"))

    async def wait_for(self, condition: Callable[[], object], what: str, timeout: float = 15.0):
        await wait_for(self.pilot, condition, what, timeout)

    async def wait_for_ticks(self, symbols: Sequence[str], count: int = 2) -> None:
        await self.wait_for(
            lambda: all(self.received(symbol) >= count for symbol in symbols),
            f"{count} ticks shown for each of {list(symbols)}",
        )


@asynccontextmanager
async def dashboard(
    sim: Simulator,
    symbols: Sequence[str] = ("R_100", "R_50"),
    *,
    token: str | None = DEMO_TOKEN,
    retry: RetryPolicy | None = None,
    size: tuple[int, int] = SIZE,
    **options: object,
) -> AsyncIterator[Harness]:
    """A market-data client connected to ``sim`` (the dashboard adds its own state listener),
    an account link with ``token`` (none without), and the dashboard running on them;
    ``options`` go to :class:`DerivDashboard`."""
    link = None
    async with DerivClient(sim.url, retry=retry, request_timeout=10) as market:
        if token is not None:
            link = AccountLink(sim.url, token, retry=retry, request_timeout=10)
            await link.open()
        try:
            app = DerivDashboard(market, symbols, account=link, **options)
            messages: list[Message] = []
            async with app.run_test(size=size, message_hook=messages.append) as pilot:
                yield Harness(app, pilot, market, link, sim, messages)
        finally:
            if link is not None:
                await link.aclose()
