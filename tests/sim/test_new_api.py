"""The simulator's new-API shape, over real HTTP and WebSocket connections."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from derivkit.sim import Simulator, newapi


@pytest.fixture
async def sim():
    async with Simulator(seed=2, new_api=True) as simulator:
        yield simulator


def headers(token: str | None, app_id: str | None = "1089") -> dict[str, str]:
    out = {}
    if token is not None:
        out["Authorization"] = f"Bearer {token}"
    if app_id is not None:
        out["Deriv-App-ID"] = app_id
    return out


async def otp_url(sim: Simulator, http: httpx.AsyncClient) -> str:
    path = f"/trading/v1/options/accounts/{sim.accounts[sim.token].loginid}/otp"
    reply = await http.post(sim.rest_url + path, headers=headers(sim.token))
    assert reply.status_code == 200
    return reply.json()["data"]["url"]


async def refused_status(url: str) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url):
            pass
    response = caught.value.response
    return response.status_code, json.loads(response.body)


async def test_rest_refuses_what_deriv_refuses(sim):
    accounts = sim.rest_url + "/trading/v1/options/accounts"
    async with httpx.AsyncClient() as http:
        missing_app = await http.get(accounts, headers=headers(sim.token, app_id=None))
        assert missing_app.status_code == 400
        assert missing_app.json()["errors"][0]["code"] == "ValidationError"
        bad_token = await http.get(accounts, headers=headers("nope"))
        assert bad_token.status_code == 401 and bad_token.json()["meta"]["method"] == "GET"
        other = await http.post(accounts + "/CR0000000/otp", headers=headers(sim.token))
        assert other.status_code == 404
        listed = (await http.get(accounts, headers=headers(sim.token))).json()["data"]
        assert listed[0]["account_type"] == "demo" and listed[0]["balance"] == 10000


async def test_an_otp_opens_one_connection_only(sim):
    async with httpx.AsyncClient() as http:
        url = await otp_url(sim, http)
    assert "/trading/v1/options/ws/demo?otp=" in url
    async with connect(url) as ws:
        await ws.send(json.dumps({"balance": 1, "req_id": 1}))
        assert json.loads(await ws.recv())["balance"]["balance"] == 10000
        await ws.send(json.dumps({"authorize": sim.token, "req_id": 2}))
        assert json.loads(await ws.recv())["error"]["code"] == "UnrecognisedRequest"
    status, body = await refused_status(url)
    assert status == 401 and body["errors"][0]["message"] == "Invalid or expired OTP token"
    status, _ = await refused_status(url.split("?")[0])
    assert status == 400
    status, _ = await refused_status(url.replace("/demo?", "/real?"))
    assert status == 401
    assert sim.handshakes_refused == {401: 2, 400: 1}


async def test_an_otp_lapses(sim, monkeypatch):
    async with httpx.AsyncClient() as http:
        url = await otp_url(sim, http)
    monkeypatch.setattr(newapi, "OTP_LIFETIME", 0.0)
    async with httpx.AsyncClient() as http:
        lapsed = await otp_url(sim, http)
    status, _ = await refused_status(lapsed)
    assert status == 401
    async with connect(url):  # issued with the normal lifetime: still good
        pass


async def test_the_new_api_is_off_unless_asked_for():
    async with Simulator(seed=2) as legacy:
        status, _ = await refused_status(legacy.public_url)
        assert status == 404
        with pytest.raises(RuntimeError, match="new_api=True"):
            _ = legacy.rest_url
        async with connect(legacy.url) as ws:  # the legacy socket as ever
            await ws.send(json.dumps({"active_symbols": "brief", "req_id": 1}))
            item = json.loads(await ws.recv())["active_symbols"][0]
            assert "symbol" in item and "pip" in item and "underlying_symbol" not in item


async def test_the_public_socket_speaks_the_new_names(sim):
    async with connect(sim.public_url) as ws:
        await ws.send(json.dumps({"active_symbols": "brief", "req_id": 1}))
        items = {i["underlying_symbol"]: i for i in json.loads(await ws.recv())["active_symbols"]}
        assert items["R_50"]["pip_size"] == 4 and "spot" not in items["R_50"]
        await ws.send(json.dumps({"balance": 1, "req_id": 2}))
        assert json.loads(await ws.recv())["error"]["code"] == "AuthorizationRequired"
        await ws.send(json.dumps({"ticks": "R_50", "req_id": 3}))
        tick = json.loads(await ws.recv())["tick"]
        assert tick["symbol"] == "R_50" and {"epoch", "quote"} <= set(tick)
