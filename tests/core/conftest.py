"""The connection suites run over every transport: each test using ``transport`` runs twice."""

from __future__ import annotations

import pytest

from derivkit.core.picows_transport import PicowsTransport
from derivkit.core.transport import TransportFactory, WebsocketsTransport

TRANSPORTS: dict[str, TransportFactory] = {
    "websockets": WebsocketsTransport,
    "picows": PicowsTransport,
}


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> TransportFactory:
    """A transport class (the test runs once per transport)."""
    return TRANSPORTS[request.param]
