"""derivkit.tui: the live dashboard (``derivkit dashboard``), a Textual app.

Needs the ``tui`` extra (``pip install 'derivkit[tui]'``). Build a connected
:class:`~derivkit.core.DerivClient` for market data and, with a token, an opened
:class:`AccountLink`, then ``await run_dashboard(client, symbols, account=link)``, or drive
``DerivDashboard`` yourself. The dashboard follows the client's connection state through a
state listener (``client.add_state_listener``) of its own.
"""

from derivkit.tui.account_link import AccountLink
from derivkit.tui.app import DEFAULT_SYMBOLS, DerivDashboard, run_dashboard

__all__ = ["DEFAULT_SYMBOLS", "AccountLink", "DerivDashboard", "run_dashboard"]
