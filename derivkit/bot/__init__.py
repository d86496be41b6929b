"""derivkit's Telegram bot (python-telegram-bot 22), a personal bot over one Deriv connection.

The owner runs ``derivkit bot run``; allow-listed Telegram users (by id) get quotes, balance,
portfolio and results, and — when the owner turns trading on — buy and sell behind Confirm
buttons. Needs the ``bot`` extra: ``pip install 'derivkit[bot]'``.
"""

from derivkit.bot.app import attach_core, build_application, detach_core, running_bot

__all__ = ["attach_core", "build_application", "detach_core", "running_bot"]
