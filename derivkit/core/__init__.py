"""derivkit.core: one multiplexed Deriv WebSocket API v3 connection and a typed client.

Front-end free: nothing here imports the CLI, the dashboard, the bot, or their libraries.

The names below are imported on first use (PEP 562), so that importing one submodule (say
``derivkit.core.exceptions``) does not load the connection stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from derivkit.core.backoff import RetryPolicy, backoff_delays
    from derivkit.core.client import KEEP, DerivClient
    from derivkit.core.connection import ConnectionState, DerivConnection, StateListener
    from derivkit.core.contracts import (
        AccumulatorContract,
        ContractUpdate,
        ContractUpdateEntry,
        MultiplierContract,
        TurbosContract,
        VanillaContract,
        open_contract_from,
    )
    from derivkit.core.endpoints import Endpoint, LegacyEndpoint, OTPEndpoint, PublicEndpoint
    from derivkit.core.exceptions import (
        AlreadySubscribed,
        APIError,
        AuthError,
        AuthorizationRequired,
        ConnectionLost,
        DerivError,
        HandshakeRejected,
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
        Cancellation,
        Candle,
        ContractOffer,
        ContractSpec,
        History,
        OpenContract,
        Order,
        PortfolioContract,
        ProfitTableEntry,
        Proposal,
        SellReceipt,
        StatementEntry,
        Tick,
        Transaction,
        WebsiteStatus,
    )
    from derivkit.core.picows_transport import PicowsTransport
    from derivkit.core.protocol import Multiplexer
    from derivkit.core.specs import (
        AccumulatorSpec,
        AnySpec,
        MultiplierSpec,
        TurbosSpec,
        VanillaSpec,
    )
    from derivkit.core.subscription import PendingSubscription, Subscription
    from derivkit.core.testing import MockTransport
    from derivkit.core.transport import (
        DEFAULT_ENDPOINT,
        Transport,
        TransportFactory,
        WebsocketsTransport,
    )

_SOURCES = {
    "RetryPolicy": "derivkit.core.backoff",
    "backoff_delays": "derivkit.core.backoff",
    "KEEP": "derivkit.core.client",
    "DerivClient": "derivkit.core.client",
    "ConnectionState": "derivkit.core.connection",
    "DerivConnection": "derivkit.core.connection",
    "StateListener": "derivkit.core.connection",
    "Endpoint": "derivkit.core.endpoints",
    "LegacyEndpoint": "derivkit.core.endpoints",
    "OTPEndpoint": "derivkit.core.endpoints",
    "PublicEndpoint": "derivkit.core.endpoints",
    "AccumulatorContract": "derivkit.core.contracts",
    "ContractUpdate": "derivkit.core.contracts",
    "ContractUpdateEntry": "derivkit.core.contracts",
    "MultiplierContract": "derivkit.core.contracts",
    "TurbosContract": "derivkit.core.contracts",
    "VanillaContract": "derivkit.core.contracts",
    "open_contract_from": "derivkit.core.contracts",
    "AlreadySubscribed": "derivkit.core.exceptions",
    "APIError": "derivkit.core.exceptions",
    "AuthError": "derivkit.core.exceptions",
    "AuthorizationRequired": "derivkit.core.exceptions",
    "ConnectionLost": "derivkit.core.exceptions",
    "DerivError": "derivkit.core.exceptions",
    "HandshakeRejected": "derivkit.core.exceptions",
    "InputValidationFailed": "derivkit.core.exceptions",
    "InsufficientBalance": "derivkit.core.exceptions",
    "InvalidContractProposal": "derivkit.core.exceptions",
    "InvalidSymbol": "derivkit.core.exceptions",
    "InvalidToken": "derivkit.core.exceptions",
    "MarketIsClosed": "derivkit.core.exceptions",
    "OutcomeUnknown": "derivkit.core.exceptions",
    "ProtocolError": "derivkit.core.exceptions",
    "RateLimit": "derivkit.core.exceptions",
    "RequestTimeout": "derivkit.core.exceptions",
    "UsageError": "derivkit.core.exceptions",
    "AccountInfo": "derivkit.core.models",
    "ActiveSymbol": "derivkit.core.models",
    "Balance": "derivkit.core.models",
    "BuyReceipt": "derivkit.core.models",
    "Cancellation": "derivkit.core.models",
    "Candle": "derivkit.core.models",
    "ContractOffer": "derivkit.core.models",
    "ContractSpec": "derivkit.core.models",
    "History": "derivkit.core.models",
    "OpenContract": "derivkit.core.models",
    "Order": "derivkit.core.models",
    "PortfolioContract": "derivkit.core.models",
    "ProfitTableEntry": "derivkit.core.models",
    "Proposal": "derivkit.core.models",
    "SellReceipt": "derivkit.core.models",
    "StatementEntry": "derivkit.core.models",
    "Tick": "derivkit.core.models",
    "Transaction": "derivkit.core.models",
    "WebsiteStatus": "derivkit.core.models",
    "Multiplexer": "derivkit.core.protocol",
    "AccumulatorSpec": "derivkit.core.specs",
    "AnySpec": "derivkit.core.specs",
    "MultiplierSpec": "derivkit.core.specs",
    "TurbosSpec": "derivkit.core.specs",
    "VanillaSpec": "derivkit.core.specs",
    "PicowsTransport": "derivkit.core.picows_transport",
    "PendingSubscription": "derivkit.core.subscription",
    "Subscription": "derivkit.core.subscription",
    "MockTransport": "derivkit.core.testing",
    "DEFAULT_ENDPOINT": "derivkit.core.transport",
    "Transport": "derivkit.core.transport",
    "TransportFactory": "derivkit.core.transport",
    "WebsocketsTransport": "derivkit.core.transport",
}

__all__ = [
    "DEFAULT_ENDPOINT",
    "KEEP",
    "APIError",
    "AccountInfo",
    "AccumulatorContract",
    "AccumulatorSpec",
    "ActiveSymbol",
    "AlreadySubscribed",
    "AnySpec",
    "AuthError",
    "AuthorizationRequired",
    "Balance",
    "BuyReceipt",
    "Cancellation",
    "Candle",
    "ConnectionLost",
    "ConnectionState",
    "ContractOffer",
    "ContractSpec",
    "ContractUpdate",
    "ContractUpdateEntry",
    "DerivClient",
    "DerivConnection",
    "DerivError",
    "Endpoint",
    "HandshakeRejected",
    "History",
    "InputValidationFailed",
    "InsufficientBalance",
    "InvalidContractProposal",
    "InvalidSymbol",
    "InvalidToken",
    "LegacyEndpoint",
    "MarketIsClosed",
    "MockTransport",
    "Multiplexer",
    "MultiplierContract",
    "MultiplierSpec",
    "OTPEndpoint",
    "OpenContract",
    "Order",
    "OutcomeUnknown",
    "PendingSubscription",
    "PicowsTransport",
    "PortfolioContract",
    "ProfitTableEntry",
    "Proposal",
    "ProtocolError",
    "PublicEndpoint",
    "RateLimit",
    "RequestTimeout",
    "RetryPolicy",
    "SellReceipt",
    "StateListener",
    "StatementEntry",
    "Subscription",
    "Tick",
    "Transaction",
    "Transport",
    "TransportFactory",
    "TurbosContract",
    "TurbosSpec",
    "UsageError",
    "VanillaContract",
    "VanillaSpec",
    "WebsiteStatus",
    "WebsocketsTransport",
    "backoff_delays",
    "open_contract_from",
]


def __getattr__(name: str) -> Any:
    try:
        module = _SOURCES[name]
    except KeyError:
        raise AttributeError(f"module 'derivkit.core' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
