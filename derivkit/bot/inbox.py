"""The webhook receiver: Telegram's POSTs in, each update handed to ``accept`` before the 200.

python-telegram-bot's own webhook server answers 200 once an update is in its in-memory queue,
so an instance killed before processing it loses it (Telegram never sends it again). This
receiver answers only after ``accept(data)`` returns: in a fleet that commits the update to
PostgreSQL (:meth:`derivkit.bot.fleet.Fleet.accept`), so an accepted update survives its
instance. When ``accept`` fails (the database is down) the answer is 500 and Telegram sends the
update again (to this or, behind a load balancer, another instance).

The request checks are PTB's (``telegram.ext._utils.webhookhandler``): JSON only, and the
``X-Telegram-Bot-Api-Secret-Token`` header must equal the secret given to ``setWebhook``
(compared in constant time); anything else is 403, a body that is not a JSON object 400. The
server is tornado's, as PTB's is. Runs on the bot's event loop; :meth:`WebhookReceiver.stop`
closes the listening socket and every connection.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import tornado.web
from tornado.httpserver import HTTPServer

__all__ = ["SECRET_HEADER", "WebhookReceiver"]

logger = logging.getLogger("derivkit.bot.inbox")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Accept = Callable[[dict[str, Any]], Awaitable[None]]


class _Hook(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(self, secret: str, accept: Accept) -> None:
        self.secret = secret
        self.accept = accept

    async def post(self) -> None:
        if self.request.headers.get("Content-Type") != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        given = self.request.headers.get(SECRET_HEADER, "")
        if not given or not hmac.compare_digest(given.encode(), self.secret.encode()):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN, reason="Wrong or no secret token")
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST, reason="Not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST, reason="Not an update")
        try:
            await self.accept(data)
        except Exception as error:  # not accepted: Telegram sends it again
            logger.warning("update %s not accepted: %s", data["update_id"], type(error).__name__)
            raise tornado.web.HTTPError(HTTPStatus.INTERNAL_SERVER_ERROR) from None
        self.set_status(HTTPStatus.OK)

    def log_exception(self, *args: Any) -> None:
        return None  # logged above, without the request (it may carry a token)


class _App(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        return None  # no access log: the bot logs what it does with each update


class WebhookReceiver:
    """Serves ``path`` at ``host:port``; every checked update goes to ``accept``."""

    def __init__(self, path: str, secret: str, accept: Accept) -> None:
        if not secret:
            raise ValueError("the webhook needs a secret token")
        route = "/" + path.strip("/")
        app = _App([(rf"{route}/?", _Hook, {"secret": secret, "accept": accept})])
        self._server = HTTPServer(app)
        self._running = False

    def __repr__(self) -> str:
        return f"<WebhookReceiver {'running' if self._running else 'stopped'}>"

    def start(self, host: str, port: int) -> None:
        self._server.listen(port, address=host)
        self._running = True

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self._server.stop()
        await self._server.close_all_connections()
