"""Site status, time, ping and stream management (forget, forget_all)."""

from __future__ import annotations

from typing import Any

from derivkit.sim.handlers.common import Body, wants_stream
from derivkit.sim.session import Request, Session


def website_status(s: Session, r: Request) -> Body:
    payload: dict[str, Any] = {
        "api_call_limits": s.sim.rate_limits.api_call_limits(),
        "clients_country": "id",
        "currencies_config": {
            s.sim.currency: {
                "fractional_digits": 2,
                "is_deposit_suspended": 0,
                "is_suspended": 0,
                "is_withdrawal_suspended": 0,
                "name": "US Dollar" if s.sim.currency == "USD" else s.sim.currency,
                "stake_default": 10,
                "transfer_between_accounts": {
                    "fees": {},
                    "limits": {"max": 2500.0, "min": 1.0},
                },
                "type": "fiat",
            }
        },
        "site_status": "up",
        "supported_languages": ["EN"],
        "terms_conditions_version": "Version 1 2024-01-01",
    }
    if not wants_stream(r):
        return {"msg_type": "website_status", "website_status": payload}
    stream = s.open_stream("website_status", ("website_status",), "website_status", r)
    return {
        "msg_type": "website_status",
        "website_status": payload,
        "subscription": {"id": stream.id},
    }


def time_(s: Session, r: Request) -> Body:
    return {"msg_type": "time", "time": s.sim.clock.epoch()}


def ping(s: Session, r: Request) -> Body:
    return {"msg_type": "ping", "ping": "pong"}


def forget(s: Session, r: Request) -> Body:
    stream = s.streams.get(r.args["forget"])
    if stream is None:
        return {"msg_type": "forget", "forget": 0}
    stream.close()
    return {"msg_type": "forget", "forget": 1}


def forget_all(s: Session, r: Request) -> Body:
    raw = r.args["forget_all"]
    kinds = [raw] if isinstance(raw, str) else raw  # types checked by the schema
    ids = []
    for stream in list(s.streams.values()):
        if stream.kind in kinds:
            ids.append(stream.id)
            stream.close()
    return {"msg_type": "forget_all", "forget_all": ids}
