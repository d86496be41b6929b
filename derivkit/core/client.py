"""DerivClient: the typed Deriv API on top of one :class:`DerivConnection`.

Each method sends one call (or opens one stream) through the connection and returns small typed
objects from :mod:`derivkit.core.models`. A reply of an unexpected shape, or with a field of the
wrong type, raises :class:`ProtocolError`; everything else (errors, timeouts, reconnects,
cancellation) behaves as documented on :class:`DerivConnection`.

Stream methods are named for what they yield, in the plural: ``ticks``, ``candles``,
``balances``, ``proposals``, ``contract_states``, ``transactions``. Each returns a
:class:`~derivkit.core.subscription.PendingSubscription` (await it, ``async with`` it or
``async for`` over it). ``watch_balance``, ``watch_proposal`` and ``open_contract`` are the
older names of three of them and stay.

On the new API (``client.dialect == "new"``) contract parameters are sent with the new names
(``underlying_symbol``); models read either.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Any, Final, Literal, overload

from derivkit.core.connection import DerivConnection
from derivkit.core.contracts import ContractUpdate, ContractUpdateEntry, open_contract_from
from derivkit.core.exceptions import UsageError
from derivkit.core.models import (
    AccountInfo,
    ActiveSymbol,
    Balance,
    BuyReceipt,
    Candle,
    ContractOffer,
    History,
    OpenContract,
    PortfolioContract,
    ProfitTableEntry,
    Proposal,
    SellReceipt,
    StatementEntry,
    Tick,
    Transaction,
    WebsiteStatus,
)
from derivkit.core.shapes import (
    candles_from,
    history_from,
    listed,
    one,
    parse_candles,
    payload_parser,
    shaped,
)
from derivkit.core.specs import AnySpec
from derivkit.core.subscription import PendingSubscription

__all__ = ["KEEP", "DerivClient"]


class _Keep(enum.Enum):
    KEEP = "keep"


#: ``update_contract`` default: leave that order as it is (``None`` removes it).
KEEP: Final = _Keep.KEEP


class DerivClient(DerivConnection):
    """The Deriv WebSocket API v3 with typed results; see :class:`DerivConnection` for the
    constructor, lifecycle, ``request`` and ``subscribe``."""

    async def authorize(self, token: str) -> AccountInfo:
        """Log this connection in; the token is kept to re-authorize after reconnects."""
        reply = await self.request({"authorize": token})
        self._token = token
        self.account = one(reply, AccountInfo, "authorize")
        return self.account

    async def ping(self) -> float:
        """Round-trip time of one ``ping`` in seconds."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self.request({"ping": 1})
        return loop.time() - started

    async def server_time(self) -> int:
        """The server's clock as an epoch."""
        reply = await self.request({"time": 1})
        return shaped(reply, lambda reply: int(reply["time"]))

    async def website_status(self) -> WebsiteStatus:
        """Site status, call limits and currency settings (also adopted as rate limits)."""
        reply = await self.request({"website_status": 1})
        return one(reply, WebsiteStatus, "website_status")

    async def active_symbols(self, *, brief: bool = True) -> list[ActiveSymbol]:
        reply = await self.request({"active_symbols": "brief" if brief else "full"})
        return listed(reply, ActiveSymbol, "active_symbols")

    async def contracts_for(self, symbol: str, *, currency: str = "USD") -> list[ContractOffer]:
        reply = await self.request({"contracts_for": symbol, "currency": currency})
        return listed(reply, ContractOffer, "contracts_for", "available")

    async def balance(self) -> Balance:
        reply = await self.request({"balance": 1})
        return one(reply, Balance, "balance")

    def balances(self) -> PendingSubscription[Balance]:
        """A stream of the account balance; never drops an update."""
        return self.subscribe({"balance": 1}, parse=payload_parser(Balance, "balance"))

    watch_balance = balances

    def ticks(self, symbol: str) -> PendingSubscription[Tick]:
        """A stream of ticks of ``symbol``, starting with the current one."""
        return self.subscribe({"ticks": symbol}, parse=payload_parser(Tick, "tick"))

    @overload
    async def ticks_history(
        self,
        symbol: str,
        *,
        count: int = ...,
        style: Literal["ticks"] = ...,
        granularity: int | None = ...,
        end: str | int = ...,
    ) -> History: ...

    @overload
    async def ticks_history(
        self,
        symbol: str,
        *,
        count: int = ...,
        style: Literal["candles"],
        granularity: int | None = ...,
        end: str | int = ...,
    ) -> list[Candle]: ...

    async def ticks_history(
        self,
        symbol: str,
        *,
        count: int = 1000,
        style: Literal["ticks", "candles"] = "ticks",
        granularity: int | None = None,
        end: str | int = "latest",
    ) -> History | list[Candle]:
        """Past ticks (``History``) or candles (``list[Candle]``) of ``symbol``."""
        payload = _history_payload(symbol, count, style, granularity, end)
        reply = await self.request(payload)
        if style == "candles":
            return shaped(reply, candles_from)
        return shaped(reply, history_from)

    def candles(
        self, symbol: str, *, granularity: int = 60, count: int = 100
    ) -> PendingSubscription[Candle]:
        """The last ``count`` candles, then live updates (the forming candle repeats)."""
        payload = _history_payload(symbol, count, "candles", granularity, "latest")
        return self.subscribe(payload, parse=parse_candles)

    def contract_parameters(self, spec: AnySpec) -> dict[str, Any]:
        """``spec`` as this server's API takes it (``underlying_symbol`` on the new API)."""
        params = spec.parameters()
        if self.dialect == "new" and "symbol" in params:
            params = {("underlying_symbol" if k == "symbol" else k): v for k, v in params.items()}
        return params

    async def proposal(self, spec: AnySpec) -> Proposal:
        """The price of a contract of any product (the proposal id is single-use)."""
        reply = await self.request({"proposal": 1, **self.contract_parameters(spec)})
        return one(reply, Proposal, "proposal")

    def proposals(self, spec: AnySpec) -> PendingSubscription[Proposal]:
        """A contract's price, re-quoted when it changes (Deriv sends nothing more for prices
        that cannot change, such as digits)."""
        payload = {"proposal": 1, **self.contract_parameters(spec)}
        return self.subscribe(payload, parse=payload_parser(Proposal, "proposal"))

    watch_proposal = proposals

    async def buy(
        self, contract: Proposal | AnySpec | str, *, price: float | None = None
    ) -> BuyReceipt:
        """Buy a contract, by proposal (or its id) or directly from a spec of any product.

        ``price`` is the most you accept to pay (defaults to a proposal's ``ask_price``). Sent
        exactly once: if the reply is lost, ``OutcomeUnknown`` is raised.
        """
        payload: dict[str, Any]
        if isinstance(contract, Proposal):
            payload = {"buy": contract.id, "price": contract.ask_price if price is None else price}
        elif price is None:
            raise UsageError("buy needs price= (the most you accept to pay)")
        elif isinstance(contract, str):
            payload = {"buy": contract, "price": price}
        else:
            payload = {"buy": "1", "price": price, "parameters": self.contract_parameters(contract)}
        reply = await self.request(payload)
        return one(reply, BuyReceipt, "buy")

    async def sell(self, contract_id: int, price: float = 0) -> SellReceipt:
        """Sell an open contract; ``price`` is the least you accept (0 = at market)."""
        reply = await self.request({"sell": contract_id, "price": price})
        return one(reply, SellReceipt, "sell")

    async def cancel_contract(self, contract_id: int) -> SellReceipt:
        """Cancel a multiplier bought with deal cancellation while its window is open: the stake
        comes back (not the fee). Sent exactly once, like ``sell``."""
        reply = await self.request({"cancel": contract_id})
        return one(reply, SellReceipt, "cancel")

    async def update_contract(
        self,
        contract_id: int,
        *,
        take_profit: float | None | _Keep = KEEP,
        stop_loss: float | None | _Keep = KEEP,
    ) -> ContractUpdate:
        """Set (an amount), remove (``None``) or keep (the default) the take profit and stop loss
        of an open multiplier (turbos: take profit only). Sent exactly once."""
        orders: dict[str, float | None] = {}
        if not isinstance(take_profit, _Keep):
            orders["take_profit"] = take_profit
        if not isinstance(stop_loss, _Keep):
            orders["stop_loss"] = stop_loss
        if not orders:
            raise UsageError("update_contract needs take_profit= or stop_loss= (None removes)")
        reply = await self.request(
            {"contract_update": 1, "contract_id": contract_id, "limit_order": orders}
        )
        return one(reply, ContractUpdate, "contract_update")

    async def contract_update_history(
        self, contract_id: int, *, limit: int | None = None
    ) -> list[ContractUpdateEntry]:
        """Every order set on a contract, newest first (those set at purchase included)."""
        payload: dict[str, Any] = {"contract_update_history": 1, "contract_id": contract_id}
        if limit is not None:
            payload["limit"] = limit
        reply = await self.request(payload)
        return listed(reply, ContractUpdateEntry, "contract_update_history")

    async def portfolio(self) -> list[PortfolioContract]:
        reply = await self.request({"portfolio": 1})
        return listed(reply, PortfolioContract, "portfolio", "contracts")

    def contract_states(self, contract_id: int) -> PendingSubscription[OpenContract]:
        """Live state of one contract, typed by product (:class:`MultiplierContract`,
        :class:`AccumulatorContract`, ...); the stream ends after the message with ``is_sold``."""
        payload = {"proposal_open_contract": 1, "contract_id": contract_id}
        return self.subscribe(
            payload, parse=payload_parser(_OpenContracts, "proposal_open_contract")
        )

    open_contract = contract_states

    def transactions(self) -> PendingSubscription[Transaction]:
        """Every buy, sell and deposit on the account as it happens; never drops one."""
        return self.subscribe(
            {"transaction": 1}, parse=payload_parser(Transaction, "transaction", required="action")
        )

    async def statement(self, *, limit: int = 100, offset: int = 0) -> list[StatementEntry]:
        reply = await self.request(
            {"statement": 1, "description": 1, "limit": limit, "offset": offset}
        )
        return listed(reply, StatementEntry, "statement", "transactions")

    async def profit_table(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        date_from: int | None = None,
        date_to: int | None = None,
    ) -> list[ProfitTableEntry]:
        """Settled contracts, newest first; ``date_from``/``date_to`` (epochs) bound the period
        reported."""
        payload: dict[str, Any] = {
            "profit_table": 1,
            "description": 1,
            "limit": limit,
            "offset": offset,
            "sort": "DESC",
        }
        # The schema types both dates as strings (an epoch or YYYY-MM-DD); an integer is refused.
        if date_from is not None:
            payload["date_from"] = str(int(date_from))
        if date_to is not None:
            payload["date_to"] = str(int(date_to))
        reply = await self.request(payload)
        return listed(reply, ProfitTableEntry, "profit_table", "transactions")


class _OpenContracts:
    """``payload_parser`` model that picks each message's product class."""

    @staticmethod
    def from_dict(data: dict[str, Any]) -> OpenContract:
        return open_contract_from(data)


def _history_payload(
    symbol: str, count: int, style: str, granularity: int | None, end: str | int
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ticks_history": symbol,
        "end": str(end),
        "count": count,
        "style": style,
    }
    if style == "candles":
        payload["granularity"] = granularity or 60
    elif granularity is not None:
        raise UsageError("granularity applies to candles only")
    return payload
