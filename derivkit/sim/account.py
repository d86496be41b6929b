"""Accounts, the ledger (transactions), buying/selling/settling contracts, statement and profit
table.

State lives per account (one per token) for the simulator's lifetime, so a client that reconnects
and authorizes again sees the same balance and contracts. The :class:`Broker` watches the feeds of
symbols with open contracts (one tick listener per symbol) and settles contracts on their exit
tick. Every balance change is one :class:`Transaction`, so ``balance == initial + sum(amounts)``
always holds.

Account listeners (session streams) are plain callbacks ``cb(kind, obj)`` with ``kind``
``"transaction"`` or ``"contract"``; they run synchronously on the event loop and must not raise.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from derivkit.sim.clock import SimClock
from derivkit.sim.errors import ApiError
from derivkit.sim.exclusion import SelfExclusion
from derivkit.sim.feed import Market, Tick
from derivkit.sim.products.base import Context, Contract, Product

log = logging.getLogger("derivkit.sim")

AccountListener = Callable[[str, Any], None]


@dataclass
class Transaction:
    transaction_id: int
    transaction_time: int
    action_type: str  # buy | sell | deposit
    amount: float
    balance_after: float
    contract: Contract | None = None
    reference_id: int | None = None

    def statement_row(self, app_id: int, description: bool) -> dict[str, Any]:
        row: dict[str, Any] = {
            "transaction_id": self.transaction_id,
            "transaction_time": self.transaction_time,
            "action_type": self.action_type,
            "amount": self.amount,
            "balance_after": self.balance_after,
            "app_id": app_id,
        }
        c = self.contract
        if c is not None:
            row["contract_id"] = c.contract_id
            row["payout"] = c.payout
            row["purchase_time"] = c.date_start
            row["shortcode"] = c.shortcode
            if description:
                row["longcode"] = c.longcode
        if self.reference_id is not None:
            row["reference_id"] = self.reference_id
        return row

    def stream_payload(self, currency: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action_type,
            "amount": self.amount,
            "balance": self.balance_after,
            "currency": currency,
            "transaction_id": self.transaction_id,
            "transaction_time": self.transaction_time,
        }
        c = self.contract
        if c is not None:
            out.update(
                contract_id=c.contract_id,
                symbol=c.spec.symbol,
                display_name=c.spec.display_name,
                longcode=c.longcode,
                purchase_time=c.date_start,
                date_expiry=c.date_expiry,
            )
            if c.barrier_text is not None:
                out["barrier"] = c.barrier_text
            out.update(c.transaction_extras())
        return out


class Account:
    """One trading account (``VRTC…`` virtual or ``CR…`` real)."""

    def __init__(
        self, loginid: str, token: str, is_virtual: bool, currency: str, balance: float
    ) -> None:
        self.loginid = loginid
        self.token = token
        self.is_virtual = is_virtual
        self.currency = currency
        self.initial_balance = round(balance, 2)
        self.balance = self.initial_balance
        self.transactions: list[Transaction] = []
        self.contracts: dict[int, Contract] = {}
        self.self_exclusion = SelfExclusion()
        self._listeners: list[AccountListener] = []

    def subscribe(self, cb: AccountListener) -> Callable[[], None]:
        self._listeners.append(cb)

        def unsubscribe() -> None:
            if cb in self._listeners:
                self._listeners.remove(cb)

        return unsubscribe

    def emit(self, kind: str, obj: Any) -> None:
        for cb in tuple(self._listeners):
            try:
                cb(kind, obj)
            except Exception:
                log.exception("account listener failed")

    def open_contracts(self) -> list[Contract]:
        return [c for c in self.contracts.values() if not c.is_sold]

    @property
    def landing_company(self) -> str:
        return "virtual" if self.is_virtual else "svg"

    def list_item(self) -> dict[str, Any]:
        """This account as an item of ``account_list`` (in ``authorize`` and ``account_list``)."""
        return {
            "account_category": "trading",
            "account_type": "binary",
            "broker": self.loginid.rstrip("0123456789"),
            "currency": self.currency,
            "currency_type": "fiat",
            "is_disabled": 0,
            "is_virtual": int(self.is_virtual),
            "landing_company_name": self.landing_company,
            "loginid": self.loginid,
        }


class Broker:
    """Buys, sells and settles contracts; owns contract and transaction id counters."""

    def __init__(self, market: Market, clock: SimClock) -> None:
        self.market = market
        self.clock = clock
        self._contract_ids = itertools.count(250_000_000_008, 20)
        self._transaction_ids = itertools.count(500_000_000_017, 20)
        self._open: dict[str, dict[int, tuple[Account, Contract]]] = {}
        self._monitors: dict[str, Callable[[Tick], None]] = {}

    # -- ledger ---------------------------------------------------------------------------------
    def _record(
        self,
        account: Account,
        action: str,
        amount: float,
        contract: Contract | None = None,
        reference_id: int | None = None,
    ) -> Transaction:
        account.balance = round(account.balance + amount, 2)
        txn = Transaction(
            next(self._transaction_ids),
            self.clock.epoch(),
            action,
            round(amount, 2),
            account.balance,
            contract,
            reference_id,
        )
        account.transactions.append(txn)
        return txn

    def topup(self, account: Account) -> Transaction:
        if not account.is_virtual:
            raise ApiError("PermissionDenied", "Top-up is only available for virtual accounts.")
        amount = round(account.initial_balance - account.balance, 2)
        if amount <= 0:
            raise ApiError("TopupVirtualError")
        txn = self._record(account, "deposit", amount)
        account.emit("transaction", txn)
        return txn

    # -- trading --------------------------------------------------------------------------------
    def buy(
        self,
        account: Account,
        product: Product,
        terms: Any,
        max_price: float,
        ctx: Context,
        by_parameters: bool = False,
    ) -> tuple[Contract, Transaction]:
        """Price at the latest tick and buy; raises the API's transaction-time errors."""
        feed = self.market.feed(terms.symbol)
        tick = feed.latest()
        spot = (tick.epoch, tick.quote)
        quote = product.quote(terms, feed.spec, spot, ctx)
        cur = account.currency
        if quote.ask_price > max_price + 1e-9:
            if by_parameters and getattr(terms, "basis", "stake") == "stake":
                raise ApiError(
                    "ContractCreationFailure",
                    "Contract's stake amount is more than the maximum purchase price.",
                )
            raise ApiError(
                "PriceMoved",
                "The underlying market has moved too much since you priced the contract. The "
                f"contract price has changed from {max_price:.2f} {cur} to "
                f"{quote.ask_price:.2f} {cur}.",
            )
        if quote.ask_price > account.balance + 1e-9:
            raise ApiError(
                "InsufficientBalance",
                f"Your account balance ({account.balance:.2f} {cur}) is insufficient "
                f"to buy this contract ({quote.ask_price:.2f} {cur}).",
            )
        account.self_exclusion.check_buy(
            quote.ask_price,
            self.clock.now(),
            ((t.transaction_time, t.action_type, t.amount) for t in account.transactions),
            len(account.open_contracts()),
        )
        limit = getattr(product, "max_open_per_symbol", None)
        if limit is not None:
            same = [
                c
                for c in account.open_contracts()
                if c.spec.symbol == terms.symbol and c.contract_type in product.contract_types
            ]
            if len(same) >= limit:
                raise ApiError(
                    "OpenPositionLimitExceeded",
                    "You have too many open positions for this contract type.",
                )
        now = self.clock.now()
        ids = (next(self._contract_ids), next(self._transaction_ids))
        contract = product.open(ids, terms, feed.spec, quote, spot, now)
        account.balance = round(account.balance - contract.buy_price, 2)
        txn = Transaction(
            ids[1], int(now), "buy", -contract.buy_price, account.balance, contract, None
        )
        account.transactions.append(txn)
        account.contracts[contract.contract_id] = contract
        self._watch(account, contract)
        account.emit("transaction", txn)
        return contract, txn

    def _open_contract(
        self, account: Account, contract_id: Any, code: str, message: str
    ) -> Contract:
        contract = account.contracts.get(contract_id) if isinstance(contract_id, int) else None
        if contract is None:
            raise ApiError(code, message)
        self.market.feed(contract.spec.symbol)  # advance: may settle the contract first
        return contract

    def sell(self, account: Account, contract_id: int, min_price: float) -> Transaction:
        contract = self._open_contract(
            account, contract_id, "InvalidSellContractProposal", "Unknown contract sell proposal"
        )
        if contract.is_sold:
            raise ApiError("InvalidSellContractProposal", "Unknown contract sell proposal")
        now = self.clock.now()
        reason = contract.sell_error(now)
        if reason is not None:
            raise ApiError("InvalidtoSell", reason)
        bid = contract.bid_price(now)
        if min_price > 0 and bid + 1e-9 < min_price:
            cur = account.currency
            raise ApiError(
                "PriceMoved",
                "The underlying market has moved too much since you priced the contract. The "
                f"contract sell price has changed from {min_price:.2f} {cur} to {bid:.2f} {cur}.",
            )
        status = "won" if contract.contract_type == "ACCU" else "sold"
        contract.mark_sold(bid, self.clock.epoch(), status)
        return self._close(account, contract)

    def cancel(self, account: Account, contract_id: int) -> Transaction:
        contract = self._open_contract(
            account,
            contract_id,
            "ContractNotFound",
            f"Contract not found for contract id: {contract_id}.",
        )
        contract.cancel(self.clock.now())
        return self._close(account, contract)

    def update(self, account: Account, contract_id: int, orders: dict[str, Any]) -> dict[str, Any]:
        contract = self._open_contract(
            account,
            contract_id,
            "ContractNotFound",
            "This contract was not found among your open positions.",
        )
        if contract.is_sold:
            raise ApiError("ContractIsSold", "Contract has expired.")
        result = contract.update(orders, self.clock.now())
        account.emit("contract", contract)
        return result

    def _close(self, account: Account, contract: Contract) -> Transaction:
        """Credit the sale/settlement, unwatch, notify (transaction before the final contract)."""
        txn = self._record(
            account, "sell", float(contract.sell_price or 0.0), contract, contract.transaction_id
        )
        contract.sell_transaction_id = txn.transaction_id
        self._unwatch(contract)
        account.emit("transaction", txn)
        account.emit("contract", contract)
        return txn

    # -- settlement -----------------------------------------------------------------------------
    def _watch(self, account: Account, contract: Contract) -> None:
        symbol = contract.spec.symbol
        book = self._open.setdefault(symbol, {})
        book[contract.contract_id] = (account, contract)
        if symbol not in self._monitors:

            def monitor(tick: Tick, symbol: str = symbol) -> None:
                self._on_tick(symbol, tick)

            self._monitors[symbol] = monitor
            self.market.feed(symbol).add_listener(monitor)

    def _unwatch(self, contract: Contract) -> None:
        symbol = contract.spec.symbol
        book = self._open.get(symbol, {})
        book.pop(contract.contract_id, None)
        if not book and symbol in self._monitors:
            self.market.feed(symbol).remove_listener(self._monitors.pop(symbol))

    def _on_tick(self, symbol: str, tick: Tick) -> None:
        for account, contract in list(self._open.get(symbol, {}).values()):
            if contract.on_tick(tick.epoch, tick.quote):
                self._close(account, contract)
            else:
                account.emit("contract", contract)


# -- reports ------------------------------------------------------------------------------------
def statement(
    account: Account,
    *,
    limit: int = 100,
    offset: int = 0,
    action_type: str | None = None,
    date_from: int | None = None,
    date_to: int | None = None,
    description: bool = False,
    app_id: int = 1089,
) -> dict[str, Any]:
    rows = [
        t
        for t in reversed(account.transactions)
        if (action_type is None or t.action_type == action_type)
        and (date_from is None or t.transaction_time >= date_from)
        and (date_to is None or t.transaction_time <= date_to)
    ]
    page = rows[offset : offset + limit]
    return {
        "count": len(page),
        "transactions": [t.statement_row(app_id, description) for t in page],
    }


def profit_table(
    account: Account,
    *,
    limit: int = 50,
    offset: int = 0,
    date_from: int | None = None,
    date_to: int | None = None,
    sort: str = "DESC",
    contract_types: list[str] | None = None,
    description: bool = False,
    app_id: int = 1089,
) -> dict[str, Any]:
    sold = [
        c
        for c in account.contracts.values()
        if c.is_sold
        and (contract_types is None or c.contract_type in contract_types)
        and (date_from is None or (c.sell_time or 0) >= date_from)
        and (date_to is None or (c.sell_time or 0) <= date_to)
    ]
    sold.sort(key=lambda c: (c.sell_time or 0, c.sell_transaction_id or 0), reverse=sort == "DESC")
    page = sold[offset : offset + limit]
    rows = []
    for c in page:
        row: dict[str, Any] = {
            "app_id": app_id,
            "buy_price": c.buy_price,
            "contract_id": c.contract_id,
            "payout": c.payout,
            "purchase_time": c.date_start,
            "sell_price": c.sell_price,
            "sell_time": c.sell_time,
            "transaction_id": c.sell_transaction_id,
        }
        if description:
            row.update(
                contract_type=c.contract_type,
                duration_type=c.duration_type(),
                longcode=c.longcode,
                shortcode=c.shortcode,
                underlying_symbol=c.spec.symbol,
                **c.profit_table_extras(),
            )
        rows.append(row)
    return {"count": len(rows), "transactions": rows}


def portfolio(account: Account, contract_types: list[str] | None = None) -> dict[str, Any]:
    out = []
    for c in account.open_contracts():
        if contract_types is not None and c.contract_type not in contract_types:
            continue
        out.append(
            {
                "contract_id": c.contract_id,
                "transaction_id": c.transaction_id,
                "contract_type": c.contract_type,
                "symbol": c.spec.symbol,
                "currency": account.currency,
                "buy_price": c.buy_price,
                "payout": c.payout,
                "purchase_time": c.date_start,
                "date_start": c.date_start,
                "expiry_time": c.date_expiry,
                "shortcode": c.shortcode,
                "longcode": c.longcode,
                "app_id": 1089,
            }
        )
    return {"contracts": out}
