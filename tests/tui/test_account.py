"""The account panel: DEMO/REAL, a balance that follows the account, or market data only."""

from __future__ import annotations

from textual.widgets import Label

from derivkit.core import ContractSpec, DerivClient
from derivkit.formatting import money
from derivkit.tui.messages import BalanceChanged
from derivkit.tui.widgets.account_panel import MARKET_DATA_ONLY, AccountPanel
from tests.tui.conftest import DEMO_TOKEN, REAL_TOKEN, dashboard, text_of


def panel_text(ui) -> str:
    panel = ui.app.main_screen.query_one(AccountPanel)
    return " ".join(text_of(label) for label in panel.query(Label))


async def test_demo_balance_follows_a_buy_made_by_another_client(sim):
    async with dashboard(sim, ["R_100"], token=DEMO_TOKEN) as ui:
        account = ui.client.account
        assert account is not None and account.is_virtual
        text = panel_text(ui)
        assert "DEMO" in text and "REAL" not in text and account.loginid in text
        assert money(account.balance, account.currency) in text
        assert ui.app.sub_title == f"demo {account.loginid}"

        async with DerivClient(sim.url, token=DEMO_TOKEN) as other:
            receipt = await other.buy(ContractSpec("CALL", "R_10", 10, 5, "t"), price=10)
        assert receipt.balance_after < account.balance
        await ui.wait_for(
            lambda: any(
                isinstance(m, BalanceChanged) and m.balance == receipt.balance_after
                for m in ui.messages
            ),
            "the balance stream to report the buy",
        )
        await ui.wait_for(
            lambda: money(receipt.balance_after, account.currency) in panel_text(ui),
            "the panel to show the new balance",
        )


async def test_a_real_account_is_labelled_real(sim):
    async with dashboard(sim, ["R_100"], token=REAL_TOKEN) as ui:
        account = ui.client.account
        assert account is not None and not account.is_virtual
        text = panel_text(ui)
        assert "REAL" in text and "DEMO" not in text and account.loginid in text
        assert ui.app.main_screen.query_one(AccountPanel).has_class("-real")


async def test_without_a_token_market_data_only(sim):
    async with dashboard(sim, ["R_100"], token=None) as ui:
        assert ui.client.account is None
        assert panel_text(ui).strip() == MARKET_DATA_ONLY
        assert ui.app.sub_title == "market data only"
        await ui.wait_for_ticks(["R_100"], count=2)
        assert not any(isinstance(m, BalanceChanged) for m in ui.messages)
        assert ui.notifications("error") == []
