"""Resolving a lost buy from the account's statement: which row is the order's contract."""

from __future__ import annotations

from derivkit.core import DerivClient, MockTransport
from derivkit.purchases import LostBuy, find_purchase

SENT_AT = 1_800_000_000


def row(contract_id: int, shortcode: str, amount: float, at: int, action: str = "buy") -> dict:
    return {
        "transaction_id": contract_id * 2,
        "transaction_time": at,
        "action_type": action,
        "amount": amount,
        "balance_after": 1000.0,
        "contract_id": contract_id,
        "shortcode": shortcode,
        "longcode": "",
    }


STATEMENT = [
    row(9, "CALL_R_100_20.00_1800000030_5T_S0P_0", -10.0, SENT_AT + 30),  # later, same shape
    row(8, "CALL_R_100_19.50_1800000004_5T_S0P_0", -10.0, SENT_AT + 4),  # the one
    row(7, "CALL_R_100_19.50_1800000003_5T_S0P_0", 19.5, SENT_AT + 3, "sell"),  # a sale
    row(6, "PUT_R_100_19.50_1800000002_5T_S0P_0", -10.0, SENT_AT + 2),  # another type
    row(5, "CALL_R_50_19.50_1800000002_5T_S0P_0", -10.0, SENT_AT + 2),  # another symbol
    row(4, "CALL_R_100_40.00_1800000002_5T_S0P_0", -20.0, SENT_AT + 2),  # dearer than offered
    row(3, "CALL_R_100_19.50_1799999000_5T_S0P_0", -10.0, SENT_AT - 1000),  # long before
    row(2, "CALL_R_100_19.50_1800000001_5T_S0P_0", -10.0, SENT_AT + 1),  # known already
]


async def find(buy: LostBuy, statement: list[dict], known=(2,)):
    def server(request: dict) -> dict | None:
        if "statement" in request:
            return {"statement": {"count": len(statement), "transactions": statement}}
        return None

    async with DerivClient(transport=MockTransport(server)) as api:
        return await find_purchase(api, buy, known=known)


async def test_the_earliest_matching_buy_not_known_is_the_orders():
    found = await find(LostBuy("CALL", "R_100", 10.0, SENT_AT), STATEMENT)
    assert found is not None
    assert (found.contract_id, found.buy_price, found.purchase_time) == (8, 10.0, SENT_AT + 4)


async def test_nothing_matching_means_nothing_was_bought():
    assert await find(LostBuy("CALL", "R_100", 10.0, SENT_AT), STATEMENT[2:]) is None
    assert await find(LostBuy("DIGITEVEN", "R_100", 10.0, SENT_AT), STATEMENT) is None


async def test_symbols_match_in_any_case_and_a_known_contract_is_skipped():
    found = await find(LostBuy("CALL", "r_100", 10.0, SENT_AT), STATEMENT, known=(2, 8, 9))
    assert found is None
    found = await find(LostBuy("CALL", "r_100", 10.0, SENT_AT), STATEMENT, known=())
    assert found is not None and found.contract_id == 2


async def test_of_two_buys_in_one_second_the_first_executed_is_the_orders():
    same_second = [  # the statement lists the newest first
        row(12, "CALL_R_100_19.50_1800000005_5T_S0P_0", -10.0, SENT_AT + 1),
        row(11, "CALL_R_100_19.50_1800000005_5T_S0P_0", -10.0, SENT_AT + 1),
    ]
    found = await find(LostBuy("CALL", "R_100", 10.0, SENT_AT), same_second, known=())
    assert found is not None and found.contract_id == 11
    found = await find(LostBuy("CALL", "R_100", 10.0, SENT_AT), same_second[::-1], known=())
    assert found is not None and found.contract_id == 11  # whatever order the rows come in
    found = await find(LostBuy("CALL", "R_100", 10.0, SENT_AT), same_second, known=(11,))
    assert found is not None and found.contract_id == 12  # the next lost buy gets the next


async def test_the_purchase_carries_what_a_buy_reply_would():
    statement = [
        row(8, "CALL_R_100_19.50_1800000004_5T_S0P_0", -9.876, SENT_AT + 4)
        | {"payout": 19.5, "longcode": "Win payout if Volatility 100 Index rises."},
        row(7, "MULTUP_R_100_10.00_100_1800000003_4953600000_0_0.00_N1", -10.0, SENT_AT + 3),
    ]
    found = await find(LostBuy("CALL", "R_100", 10.0, SENT_AT), statement, known=())
    assert found is not None
    assert found.receipt() == {
        "contract_id": 8,
        "transaction_id": 16,
        "buy_price": 9.88,
        "payout": 19.5,
        "purchase_time": SENT_AT + 4,
        "shortcode": "CALL_R_100_19.50_1800000004_5T_S0P_0",
        "longcode": "Win payout if Volatility 100 Index rises.",
    }
    found = await find(LostBuy("MULTUP", "R_100", 10.0, SENT_AT), statement, known=())
    assert found is not None and found.payout is None and found.contract_id == 7
