"""A strategy run's trades in derivkit's trade journal (the database the bot writes too).

Every order is recorded before it is sent (status ``sending``), then as bought, refused, of unknown
outcome, resolved and settled, tagged ``origin="strategy"`` with the run id and the strategy's
name, so that ``derivkit stats --by strategy`` and the bot's journal see the same trades.

Concurrency: one :class:`RunJournal` per run, used from the run's event loop; each method is one
short transaction. Cancellation: a cancelled write leaves the entry in its previous state, which
the next run's reader shows as it is (never as a trade that did not happen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from derivkit.core.models import AccountInfo
    from derivkit.storage import Storage
    from derivkit.strategy.engine import Order

__all__ = ["RunJournal"]


class RunJournal:
    """Records one run's orders in ``storage``, for the account the run trades on."""

    def __init__(
        self, storage: Storage, account: AccountInfo, *, run_id: str, strategy: str
    ) -> None:
        self.storage = storage
        self.account = account
        self.run_id = run_id
        self.strategy = strategy

    async def sending(self, order: Order, request: dict[str, Any]) -> int:
        """Record ``order`` before it goes out; the entry's id."""
        from derivkit.storage import NewTrade

        entry = await self.storage.journal_open(
            NewTrade(
                loginid=self.account.loginid,
                is_virtual=bool(self.account.is_virtual),
                currency=self.account.currency or "USD",
                symbol=order.symbol,
                contract_type=order.trade.contract_type,
                stake=order.stake,
                max_price=order.stake,
                request=request,
                origin="strategy",
                run_id=self.run_id,
                strategy=self.strategy,
            )
        )
        return entry.id

    async def bought(self, entry_id: int, receipt: dict[str, Any]) -> None:
        await self.storage.journal_bought(entry_id, receipt)

    async def refused(self, entry_id: int, error: str) -> None:
        await self.storage.journal_failed(entry_id, error)

    async def unknown(self, entry_id: int, error: str) -> None:
        await self.storage.journal_unknown(entry_id, error)

    async def resolved(self, entry_id: int, contract_id: int | None, buy_price: float) -> None:
        """An unknown outcome found out: ``contract_id`` bought, or None (nothing bought)."""
        if contract_id is None:
            await self.storage.journal_not_bought(entry_id, "the account shows no such contract")
        else:
            await self.storage.journal_bought(
                entry_id, {"contract_id": contract_id, "buy_price": buy_price}
            )

    async def settled(
        self, contract_id: int, *, sell_price: float, profit: float, at: float
    ) -> None:
        await self.storage.journal_settled(
            contract_id, sell_price=sell_price, profit=profit, settled_at=at
        )
