"""Telegram handlers, a module per group of commands. Each handler reads the shared
:class:`~derivkit.bot.runtime.BotRuntime`; Deriv errors it does not handle reach the
application's error handler, which answers the user."""
