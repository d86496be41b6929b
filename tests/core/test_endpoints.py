"""The fixed-URL endpoints (legacy v3 and the new API's public socket): the URL each connect
gets, how they log in, and that a secret in the URL never shows in ``describe`` or ``repr``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from derivkit.core import DerivClient, LegacyEndpoint, PublicEndpoint, UsageError
from derivkit.core.endpoints import NEW_API_PUBLIC


async def test_a_legacy_endpoint_gives_one_url_with_its_app_id_and_language_and_authorizes():
    endpoint = LegacyEndpoint("wss://example.test/websockets/v3", app_id=4321, lang="DE")
    first = await endpoint.url()
    assert first == await endpoint.url()  # the same URL for every (re)connect
    query = parse_qs(urlsplit(first).query)
    assert query == {"app_id": ["4321"], "l": ["DE"]}
    assert (endpoint.dialect, endpoint.authorizes, endpoint.account) == ("v3", True, None)
    assert repr(endpoint) == f"<LegacyEndpoint {first}>"
    assert endpoint.describe() == first
    await endpoint.aclose()
    assert await endpoint.url() == first  # closing holds nothing: it still answers


async def test_a_legacy_endpoint_keeps_the_app_id_its_url_carries():
    endpoint = LegacyEndpoint("wss://example.test/websockets/v3?app_id=77&l=FR", app_id=1)
    assert parse_qs(urlsplit(await endpoint.url()).query) == {"app_id": ["77"], "l": ["FR"]}


async def test_a_public_endpoint_is_the_new_apis_socket_without_login():
    endpoint = PublicEndpoint()
    assert await endpoint.url() == NEW_API_PUBLIC  # no app_id, no l added
    assert (endpoint.dialect, endpoint.authorizes, endpoint.account) == ("new", False, None)
    assert repr(endpoint) == f"<PublicEndpoint {NEW_API_PUBLIC}>"
    with pytest.raises(UsageError, match="not a socket of the new Deriv API"):
        PublicEndpoint("wss://ws.derivws.com/websockets/v3")
    with pytest.raises(UsageError, match="ws:// or wss://"):
        PublicEndpoint("https://api.derivws.com/trading/v1/options/ws/public")


async def test_a_secret_in_a_fixed_url_is_never_shown():
    legacy = LegacyEndpoint("wss://example.test/websockets/v3?otp=s3cr3t-otp")
    public = PublicEndpoint("wss://example.test/trading/v1/options/ws/public?token=s3cr3t-tok")
    for endpoint in (legacy, public):
        assert "s3cr3t" in await endpoint.url()  # the connection gets it
        assert "s3cr3t" not in endpoint.describe() and "s3cr3t" not in repr(endpoint)
        assert "otp=<not shown>" in endpoint.describe()


def test_a_plain_url_becomes_a_legacy_endpoint_and_a_token_needs_one_that_authorizes():
    client = DerivClient("wss://example.test/websockets/v3", app_id=55)
    assert isinstance(client.endpoint, LegacyEndpoint) and "app_id=55" in client.url
    with pytest.raises(UsageError, match="PublicEndpoint logs in by itself"):
        DerivClient(PublicEndpoint(), token="a1-token")
