"""Offline Deriv WebSocket API v3 simulator.

Usage::

    async with Simulator(seed=1, speed=50) as sim:
        async with websockets.asyncio.client.connect(sim.url) as ws:
            await ws.send(json.dumps({"authorize": sim.token, "req_id": 1}))

``Simulator(*, host="127.0.0.1", port=0, tokens=None, real_tokens=None, seed=None, balance=10000.0,
currency="USD", speed=1.0, rate_limits=None, idle_timeout=120.0, start_epoch=None)``

* ``sim.url`` is ``ws://HOST:PORT/websockets/v3`` (any path and query such as ``?app_id=1089&l=EN``
  is accepted); ``sim.token`` is the first token (one demo token is made when ``tokens`` is None).
  ``tokens`` give virtual ``VRTC…`` accounts, ``real_tokens`` real-money ``CR…`` accounts
  (is_virtual 0).
* Time: simulated epoch = ``start_epoch + elapsed_real * speed`` (``start_epoch`` defaults to now).
  2-second indices tick on even epochs, the others every second. The same ``seed`` and
  ``start_epoch`` give the same ticks at the same epochs whatever the clients do; with another
  ``start_epoch`` the path is the same relative to the start.
* Idle connections (no request for ``idle_timeout`` seconds of wall-clock time, whatever the
  ``speed``: clients keep alive by the clock) are closed.
* Rate limits: :class:`RateLimits` per connection, real time; ``ping``, ``time``, ``forget`` and
  ``forget_all`` are exempt. ``RateLimits.unlimited()`` switches them off.
* Products (:mod:`derivkit.sim.products`, products doc §2-§6): binaries (Rise/Fall and Equal,
  Higher/Lower, Touch/No Touch, Ends/Stays between, digits, Asians, High/Low ticks, Only
  ups/downs), Multipliers (commission, stop out, take profit/stop loss, deal cancellation),
  Accumulators, Turbos and Vanillas, with ``cancel``, ``contract_update`` and
  ``contract_update_history``. Binaries cost the fair model probability plus the doc's
  commission (``BASE_COMMISSION`` 1.2 % of payout, digits 1 %, ...); fair means fair to the
  simulator's own settlement (rounded quotes, barriers checked on ticks).
* Settlement: entry tick = first tick strictly after purchase (turbos, vanillas: the purchase
  tick); Rise/Fall exit on the N-th tick after entry, digits and Asians on the N-th counting the
  entry; timed contracts on the last tick at or before expiry (days: 23:59:59 UTC); path
  dependent contracts end at the deciding tick. Digit contracts use the last digit of the quote
  formatted to the symbol's pip size.
* Requests are checked as strictly as the official v3 send schemas (unknown or mistyped fields
  are ``InputValidationFailed`` naming them); errors carry the codes of the stage that refused.
  Each call needs its schema's ``auth_scopes`` (any one of them; :mod:`derivkit.sim.scopes`): a
  token made without them (``scopes=`` of ``Simulator`` or ``add_account``) gets
  ``PermissionDenied`` ("Permission denied, requires trade scope.") and the call does nothing.
  All accounts belong to one user: ``authorize`` with ``tokens`` enables ``loginid``, and
  ``balance`` with ``account: "all"`` reports each.

Fault hooks (``sim.faults``, see :mod:`derivkit.sim.faults`): ``drop_connections()``, ``delay``
(seconds), ``mute`` (bool), ``pause_symbol(symbol)`` / ``resume_symbol(symbol)``, ``reset()``.
``sim.connections_accepted`` counts accepted connections; ``sim.connections`` is the number open
now.
"""

from derivkit.sim.pricing import BASE_COMMISSION
from derivkit.sim.ratelimit import RateLimits
from derivkit.sim.server import Simulator

__all__ = ["BASE_COMMISSION", "RateLimits", "Simulator"]
