"""derivkit.core: one multiplexed Deriv WebSocket API v3 connection and a typed client.

Front-end free: nothing here imports the CLI, the dashboard, the bot, or their libraries.
"""

from derivkit.core.backoff import RetryPolicy, backoff_delays
from derivkit.core.client import DerivClient
from derivkit.core.connection import ConnectionState, DerivConnection
from derivkit.core.exceptions import (
    AlreadySubscribed,
    APIError,
    AuthError,
    AuthorizationRequired,
    ConnectionLost,
    DerivError,
    InputValidationFailed,
    InsufficientBalance,
    InvalidContractProposal,
    InvalidSymbol,
    InvalidToken,
    MarketIsClosed,
    OutcomeUnknown,
    ProtocolError,
    RateLimit,
    RequestTimeout,
    UsageError,
)
from derivkit.core.models import (
    AccountInfo,
    ActiveSymbol,
    Balance,
    BuyReceipt,
    Candle,
    ContractOffer,
    ContractSpec,
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
from derivkit.core.protocol import Multiplexer
from derivkit.core.subscription import Subscription
from derivkit.core.transport import DEFAULT_ENDPOINT

__all__ = [
    "DEFAULT_ENDPOINT",
    "APIError",
    "AccountInfo",
    "ActiveSymbol",
    "AlreadySubscribed",
    "AuthError",
    "AuthorizationRequired",
    "Balance",
    "BuyReceipt",
    "Candle",
    "ConnectionLost",
    "ConnectionState",
    "ContractOffer",
    "ContractSpec",
    "DerivClient",
    "DerivConnection",
    "DerivError",
    "History",
    "InputValidationFailed",
    "InsufficientBalance",
    "InvalidContractProposal",
    "InvalidSymbol",
    "InvalidToken",
    "MarketIsClosed",
    "Multiplexer",
    "OpenContract",
    "OutcomeUnknown",
    "PortfolioContract",
    "ProfitTableEntry",
    "Proposal",
    "ProtocolError",
    "RateLimit",
    "RequestTimeout",
    "RetryPolicy",
    "SellReceipt",
    "StatementEntry",
    "Subscription",
    "Tick",
    "Transaction",
    "UsageError",
    "WebsiteStatus",
    "backoff_delays",
]
