"""derivkit's Telegram bot (python-telegram-bot 22), for one owner or for many users.

``personal`` mode: the owner runs ``derivkit bot run`` with their Deriv token; allow-listed
Telegram users (by id) get quotes, balance, portfolio and results, and, when the owner turns
trading on, buy and sell behind Confirm buttons. ``multi-user`` mode: every Telegram user
connects their own Deriv account (``/connect``); their token is stored encrypted and each gets
their own connection. Needs the ``bot`` extra: ``pip install 'derivkit[bot]'``.
"""

from derivkit.bot.app import attach_core, build_application, detach_core, running_bot

__all__ = ["attach_core", "build_application", "detach_core", "running_bot"]
