"""AccountLink: the dashboard's authorized connection, kept apart from its market data.

The dashboard streams prices on an unauthenticated client and everything of the account (balance,
contracts, buying and selling) on the link's client. When the link's client fails for good (the
token is refused at a re-authorization after a reconnect, say, because it was revoked), the market
data goes on untouched; :meth:`reopen` then connects a fresh client, reading the token again.

Concurrency: used on the dashboard's event loop only. Each client the link makes reports its
connection states to the attached screen as :class:`AccountStateChanged`, tagged with the client's
serial, so a replaced client's last words are told apart.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from textual.message_pump import MessagePump

from derivkit.core import AuthorizationRequired, DerivClient
from derivkit.tui.messages import AccountStateChanged

__all__ = ["AccountLink"]

TokenSource = str | Callable[[], str | None]


class AccountLink:
    """Makes and owns the authorized client.

    Args:
        endpoint: the server's URL (``app_id`` included or added as for any client).
        token: the token, or a callable that returns the current one (re-read by :meth:`reopen`).
        client_options: passed to each :class:`DerivClient` (``app_id``, ``retry``, ...).
    """

    def __init__(self, endpoint: str, token: TokenSource, **client_options: Any) -> None:
        self._endpoint = endpoint
        self._token = token
        self._options = client_options
        self._serials = itertools.count(1)
        self._target: MessagePump | None = None
        self.client: DerivClient | None = None
        self.serial = 0

    def __repr__(self) -> str:
        state = self.client.state if self.client else "no client"
        return f"<AccountLink {self._endpoint} {state}>"

    def attach(self, target: MessagePump) -> None:
        self._target = target

    def detach(self, target: MessagePump) -> None:
        if self._target is target:
            self._target = None

    def _current_token(self) -> str | None:
        return self._token() if callable(self._token) else self._token

    async def open(self) -> DerivClient:
        """Connect and authorize a new client (raises what ``connect()`` raises, e.g.
        ``InvalidToken``; the failed client is closed)."""
        token = self._current_token()
        if not token:
            raise AuthorizationRequired("AuthorizationRequired", "no API token is configured")
        serial = next(self._serials)
        client = DerivClient(
            self._endpoint,
            token=token,
            on_state_change=lambda state: self._report(serial, state),
            **self._options,
        )
        await client.connect()
        self.client, self.serial = client, serial
        return client

    async def reopen(self) -> DerivClient:
        """Close the current client (if any) and open a new one."""
        old, self.client = self.client, None
        if old is not None:
            await old.close()
        return await self.open()

    async def aclose(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.close()

    def _report(self, serial: int, state: str) -> None:
        if self._target is not None:
            self._target.post_message(AccountStateChanged(state, serial))
