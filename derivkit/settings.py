"""The one settings table of every front-end, and its resolver: flag, then environment, then
config file, then default.

Each :class:`Setting` in :data:`SETTINGS` says everything derivkit knows about one setting: its
flag, environment variable, config-file key, default, parser and help text. The CLI's ``--help``,
``derivkit config set`` and ``config show``, and both resolvers read this table; nothing else
spells an environment variable's name. Tokens are settings too, but at rest they live in the
encrypted token store (:mod:`derivkit.tokenstore`), never in ``config.toml``.

The config directory is the platform's user config dir, or ``DERIVKIT_CONFIG_DIR``; the data
directory (token key, databases) the user data dir, or ``DERIVKIT_DATA_DIR``.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from derivkit.core.exceptions import UsageError
from derivkit.core.secrets import mask_token

__all__ = [
    "BOT_MODES",
    "CONFIG_KEYS",
    "SETTINGS",
    "BotSettings",
    "Setting",
    "Settings",
    "config_dir",
    "data_dir",
    "load_config",
    "option_help",
    "parse_app_id",
    "parse_bool",
    "parse_mode",
    "parse_seconds",
    "parse_positive_amount",
    "parse_positive_count",
    "parse_user_ids",
    "resolve_bot_settings",
    "resolve_run_limits",
    "resolve_settings",
    "save_config",
    "setting",
    "write_private",
]

CONFIG_FILE = "config.toml"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})

Parser = Callable[[Any, str], Any]


# ----------------------------------------------------------------------------- parsers
# Each takes the raw value and where it came from, and raises a UsageError naming that source.


def parse_text(value: Any, source: str) -> str:
    text = str(value).strip()
    if any(ord(char) < 32 for char in text):
        raise UsageError(f"{source} must not contain control characters, got {value!r}")
    return text


def parse_endpoint(value: Any, source: str) -> str:
    from derivkit.core.transport import build_url

    text = parse_text(value, source)
    try:
        build_url(text, 1089, "EN")
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}") from None
    return text


def parse_app_id(value: Any, source: str) -> int:
    """A positive whole app id, or a :class:`UsageError` naming where the bad value came from."""
    if isinstance(value, bool):
        raise UsageError(f"app id from {source} must be a whole number, got {value!r}")
    try:
        app_id = int(str(value).strip())
    except ValueError:
        raise UsageError(f"app id from {source} must be a whole number, got {value!r}") from None
    if app_id <= 0:
        raise UsageError(f"app id from {source} must be positive, got {app_id}")
    return app_id


def parse_bool(value: Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(f"{source} must be true or false, got {value!r}")


def parse_positive_amount(value: Any, source: str) -> float:
    if isinstance(value, bool):
        raise UsageError(f"{source} must be a number, got {value!r}")
    try:
        amount = float(str(value).strip())
    except ValueError:
        raise UsageError(f"{source} must be a number, got {value!r}") from None
    if not amount > 0 or not math.isfinite(amount):
        raise UsageError(f"{source} must be a positive amount, got {value!r}")
    return amount


def parse_positive_count(value: Any, source: str) -> int:
    if isinstance(value, bool):
        raise UsageError(f"{source} must be a whole number, got {value!r}")
    try:
        count = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{source} must be a whole number, got {value!r}") from None
    if count <= 0:
        raise UsageError(f"{source} must be positive, got {value!r}")
    return count


def parse_webhook_url(value: Any, source: str) -> str:
    """The public URL Telegram posts updates to (``https://...``; ``http://`` behind a proxy
    or in tests)."""
    from urllib.parse import urlsplit

    text = parse_text(value, source)
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{source} must be an https:// URL, got {value!r}")
    return text


def parse_listen(value: Any, source: str) -> str:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) the webhook server binds."""
    text = parse_text(value, source)
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{source} must be HOST:PORT, e.g. 0.0.0.0:8080, got {value!r}")
    return text


def parse_webhook_secret(value: Any, source: str) -> str:
    import re

    text = str(value).strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", text):
        raise UsageError(f"{source} must be 1-256 of A-Z, a-z, 0-9, _ and - (not shown here)")
    return text


BOT_MODES = ("personal", "multi-user")


def parse_mode(value: Any, source: str) -> str:
    """``personal`` or ``multi-user`` (any case; ``multi_user`` and ``multi`` accepted)."""
    text = str(value).strip().lower().replace("_", "-")
    if text == "multi":
        text = "multi-user"
    if text not in BOT_MODES:
        raise UsageError(f"{source} must be one of {', '.join(BOT_MODES)}, got {value!r}")
    return text


def parse_seconds(value: Any, source: str) -> float:
    """A positive number of seconds (``90``, ``90s``, ``10m``, ``1h``)."""
    text = str(value).strip().lower()
    scale = {"s": 1.0, "m": 60.0, "h": 3600.0}.get(text[-1:]) if text else None
    number = text[:-1] if scale is not None else text
    amount = parse_positive_amount(number, source) if number else None
    if amount is None:
        raise UsageError(f"{source} must be a number of seconds, got {value!r}")
    return amount * (scale or 1.0)


def parse_user_ids(value: Any, source: str) -> frozenset[int]:
    """Telegram user ids from ``"1,2 3"`` or a list; a :class:`UsageError` names a bad one."""
    items = value if isinstance(value, list | tuple | set | frozenset) else str(value).split(",")
    ids: set[int] = set()
    for item in items:
        for word in str(item).split():
            try:
                user_id = int(word)
            except ValueError:
                raise UsageError(
                    f"Telegram user ids from {source} are whole numbers, got {word!r}"
                ) from None
            if user_id <= 0:
                raise UsageError(f"Telegram user ids from {source} are positive, got {user_id}")
            ids.add(user_id)
    return frozenset(ids)


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Setting:
    """Everything derivkit knows about one setting.

    Attributes:
        name: the attribute on :class:`Settings` / :class:`BotSettings`.
        help: one sentence for ``--help`` (the env var and default are appended by
            :func:`option_help`).
        parse: ``(raw value, source) -> value``; raises a UsageError naming the source.
        default: the value when no source gives one.
        flag: the command-line option, if any.
        env: the environment variable, if any.
        config_key: the key in ``config.toml``; None when the setting is never stored there.
        merge: ``"first"`` (flag > env > config > default) or ``"union"`` (every source adds to
            a set, e.g. the bot's allowlist).
        secret: a token: never shown, stored only in the encrypted token store.
    """

    name: str
    help: str
    parse: Parser
    default: Any = None
    flag: str | None = None
    env: str | None = None
    config_key: str | None = None
    merge: Literal["first", "union"] = "first"
    secret: bool = False
    scope: Literal["api", "bot"] = "api"

    def source_name(self, kind: Literal["flag", "env", "config"]) -> str:
        if kind == "flag":
            return self.flag or self.name
        if kind == "env":
            return self.env or self.name
        return f"{self.config_key} in {CONFIG_FILE}"


def _shown_default(value: Any) -> str | None:
    if value is None or value is False:
        return None
    return f"{value:g}" if isinstance(value, float) else str(value)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "endpoint",
        "API URL, ws:// or wss://.",
        parse_endpoint,
        flag="--endpoint",
        env="DERIV_ENDPOINT",
        config_key="endpoint",
    ),
    Setting(
        "app_id",
        "Deriv app id.",
        parse_app_id,
        default=1089,
        flag="--app-id",
        env="DERIV_APP_ID",
        config_key="app_id",
    ),
    Setting(
        "token",
        "Deriv API token (or `derivkit config set-token`, stored encrypted).",
        parse_text,
        flag="--token",
        env="DERIV_API_TOKEN",
        secret=True,
    ),
    Setting(
        "sim",
        "Use the embedded offline simulator.",
        parse_bool,
        default=False,
        flag="--sim",
        env="DERIVKIT_SIM",
    ),
    Setting(
        "bot_token",
        "Telegram bot token from @BotFather (or `derivkit bot set-token`, stored encrypted).",
        parse_text,
        env="DERIVKIT_BOT_TOKEN",
        secret=True,
        scope="bot",
    ),
    Setting(
        "allowed_users",
        "Telegram user id allowed to use the bot (repeatable; ask the bot /whoami).",
        parse_user_ids,
        default=frozenset(),
        flag="--allow",
        env="DERIVKIT_BOT_ALLOWED_USERS",
        config_key="bot_allowed_users",
        merge="union",
        scope="bot",
    ),
    Setting(
        "mode",
        "personal: the owner's Deriv account for allowed users; multi-user: each user connects "
        "their own with /connect.",
        parse_mode,
        default="personal",
        flag="--mode",
        env="DERIVKIT_BOT_MODE",
        config_key="bot_mode",
        scope="bot",
    ),
    Setting(
        "trading",
        "Allow /buy and /sell (multi-user mode: on for demo accounts unless --no-trading).",
        parse_bool,
        flag="--trading",
        env="DERIVKIT_BOT_TRADING",
        config_key="bot_trading",
        scope="bot",
    ),
    Setting(
        "max_stake",
        "Most a contract may cost.",
        parse_positive_amount,
        default=50.0,
        flag="--max-stake",
        env="DERIVKIT_BOT_MAX_STAKE",
        config_key="bot_max_stake",
        scope="bot",
    ),
    Setting(
        "max_open",
        "Most contracts open at once.",
        parse_positive_count,
        default=5,
        flag="--max-open",
        env="DERIVKIT_BOT_MAX_OPEN",
        config_key="bot_max_open",
        scope="bot",
    ),
    Setting(
        "daily_loss",
        "Refuse a buy that could take the day's losses past this (default: no limit).",
        parse_positive_amount,
        flag="--daily-loss",
        env="DERIVKIT_BOT_DAILY_LOSS",
        config_key="bot_daily_loss",
        scope="bot",
    ),
    Setting(
        "real_money",
        "Allow trading when the Deriv token is a real-money account.",
        parse_bool,
        default=False,
        flag="--real-money",
        scope="bot",
    ),
    Setting(
        "run_daily_loss",
        "Every `derivkit run` stops before a buy that could lose more than this in a day.",
        parse_positive_amount,
        env="DERIVKIT_RUN_DAILY_LOSS",
        config_key="run_daily_loss",
        scope="api",
    ),
    Setting(
        "real_money_users",
        "Multi-user mode: a Telegram user id who may trade a real-money account (repeatable).",
        parse_user_ids,
        default=frozenset(),
        flag="--real-money-user",
        env="DERIVKIT_BOT_REAL_MONEY_USERS",
        config_key="bot_real_money_users",
        merge="union",
        scope="bot",
    ),
    Setting(
        "database",
        "Database URL for users, alerts and the trade journal (default: SQLite in the data dir).",
        parse_text,
        flag="--database",
        env="DERIVKIT_DATABASE_URL",
        config_key="bot_database",
        scope="bot",
    ),
    Setting(
        "session_idle",
        "Close a user's Deriv connection after this many idle seconds (or 10m, 1h).",
        parse_seconds,
        default=600.0,
        flag="--session-idle",
        env="DERIVKIT_BOT_SESSION_IDLE",
        config_key="bot_session_idle",
        scope="bot",
    ),
    Setting(
        "max_sessions",
        "Most users' Deriv connections open at once.",
        parse_positive_count,
        default=1000,
        flag="--max-sessions",
        env="DERIVKIT_BOT_MAX_SESSIONS",
        config_key="bot_max_sessions",
        scope="bot",
    ),
    Setting(
        "connect_rate",
        "Most new Deriv connections opened per second (reconnects after an outage are spread).",
        parse_positive_amount,
        default=20.0,
        flag="--connect-rate",
        env="DERIVKIT_BOT_CONNECT_RATE",
        config_key="bot_connect_rate",
        scope="bot",
    ),
    Setting(
        "no_send_limit",
        "Do not pace messages to Telegram's 30 a second (for a self-hosted Bot API server).",
        parse_bool,
        default=False,
        flag="--no-send-limit",
        env="DERIVKIT_BOT_NO_SEND_LIMIT",
        scope="bot",
    ),
    Setting(
        "webhook",
        "Receive updates by webhook at this public URL instead of polling (several instances "
        "may share it behind a load balancer).",
        parse_webhook_url,
        flag="--webhook",
        env="DERIVKIT_BOT_WEBHOOK",
        config_key="bot_webhook",
        scope="bot",
    ),
    Setting(
        "listen",
        "Where the webhook server listens, HOST:PORT (the proxy forwards the webhook URL here).",
        parse_listen,
        default="127.0.0.1:8080",
        flag="--listen",
        env="DERIVKIT_BOT_LISTEN",
        config_key="bot_listen",
        scope="bot",
    ),
    Setting(
        "webhook_secret",
        "The secret Telegram sends with every webhook (A-Z, a-z, 0-9, _ and -; default: derived "
        "from the bot token, so every instance agrees).",
        parse_webhook_secret,
        env="DERIVKIT_BOT_WEBHOOK_SECRET",
        scope="bot",
    ),
    Setting(
        "connection_cap",
        "Most Deriv connections one user may have open across every instance of the bot.",
        parse_positive_count,
        default=5,
        flag="--connection-cap",
        env="DERIVKIT_BOT_CONNECTION_CAP",
        config_key="bot_connection_cap",
        scope="bot",
    ),
    Setting(
        "api_url",
        "A self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot (default: Telegram's).",
        parse_text,
        flag="--api-url",
        env="DERIVKIT_BOT_API_URL",
        scope="bot",
    ),
)

_BY_NAME = {item.name: item for item in SETTINGS}
_BY_CONFIG_KEY = {item.config_key: item for item in SETTINGS if item.config_key}
#: The keys ``config.toml`` may hold, in table order.
CONFIG_KEYS = tuple(_BY_CONFIG_KEY)


def setting(name: str) -> Setting:
    """The table entry called ``name`` (KeyError for a name not in the table)."""
    return _BY_NAME[name]


def config_setting(key: str) -> Setting:
    """The setting stored under config-file key ``key``; a UsageError lists the known keys."""
    try:
        return _BY_CONFIG_KEY[key]
    except KeyError:
        raise UsageError(f"unknown setting {key!r}; known: {', '.join(CONFIG_KEYS)}") from None


def option_help(name: str) -> str:
    """``--help`` text for a setting's flag: its sentence, env var and default, from the table."""
    item = setting(name)
    extras = []
    if item.env:
        extras.append(f"env {item.env}" + ("=1" if item.parse is parse_bool else ""))
    shown = _shown_default(item.default)
    if shown and item.merge == "first" and item.parse is not parse_bool:
        extras.append(f"default {shown}")
    if item.config_key:
        extras.append(f"config {item.config_key}")
    text = item.help.rstrip(".")
    return f"{text} ({'; '.join(extras)})." if extras else f"{text}."


# ----------------------------------------------------------------------------- files


def _user_dir(environ: Mapping[str, str] | None, override_var: str, kind: str) -> Path:
    environ = os.environ if environ is None else environ
    override = environ.get(override_var)
    if override:
        return Path(override)
    import platformdirs

    finder = platformdirs.user_config_path if kind == "config" else platformdirs.user_data_path
    return finder("derivkit", appauthor=False)


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where derivkit keeps its settings (``DERIVKIT_CONFIG_DIR`` overrides the platform's)."""
    return _user_dir(environ, "DERIVKIT_CONFIG_DIR", "config")


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where derivkit keeps its data, e.g. the token key (``DERIVKIT_DATA_DIR`` overrides)."""
    return _user_dir(environ, "DERIVKIT_DATA_DIR", "data")


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (file 0600, new folders 0700).

    The data goes to a temporary file beside ``path`` that then replaces it, so a crash never
    leaves a half-written file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def load_config(directory: Path) -> dict[str, Any]:
    """The config file's known values, as stored ({} when there is none)."""
    path = directory / CONFIG_FILE
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"{path} is not valid TOML ({exc}); fix or delete it, or run `derivkit config set`"
        ) from exc
    return {key: data[key] for key in CONFIG_KEYS if key in data}


def _stored_form(value: Any) -> Any:
    """A parsed value as TOML can hold it (sets become sorted lists)."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def save_config(directory: Path, values: Mapping[str, Any]) -> Path:
    """Write the config file (mode 0600) with tomli-w. Each value is checked by its setting's
    parser first, so what is written always reads back; tokens go to the token store."""
    import tomli_w

    stored: dict[str, Any] = {}
    for key, value in values.items():
        item = config_setting(key)
        stored[key] = _stored_form(item.parse(value, f"{key} (config)"))
    path = directory / CONFIG_FILE
    write_private(path, tomli_w.dumps(stored).encode())
    return path


# ----------------------------------------------------------------------------- resolving


@dataclass(frozen=True)
class _Sources:
    flags: Mapping[str, Any]
    environ: Mapping[str, str]
    config: Mapping[str, Any]


def _resolve(item: Setting, sources: _Sources) -> Any:
    """One setting's value: flag > environment > config file > default (or their union)."""
    found: list[Any] = []
    flag = sources.flags.get(item.name)
    if flag is not None:
        found.append(item.parse(flag, item.source_name("flag")))
    if item.env and sources.environ.get(item.env, "").strip():
        found.append(item.parse(sources.environ[item.env], item.source_name("env")))
    if item.config_key and item.config_key in sources.config:
        found.append(item.parse(sources.config[item.config_key], item.source_name("config")))
    if item.merge == "union":
        return frozenset().union(*found) if found else item.default
    return found[0] if found else item.default


def _sources(
    flags: Mapping[str, Any], environ: Mapping[str, str] | None, directory: Path | None
) -> _Sources:
    environ = os.environ if environ is None else environ
    config = load_config(directory if directory is not None else config_dir(environ))
    return _Sources(flags, environ, config)


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. ``token`` never shows in ``repr``."""

    endpoint: str | None = None
    app_id: int = setting("app_id").default
    token: str | None = field(default=None, repr=False)
    token_source: str = "none"
    sim: bool = False
    json: bool = False
    verbose: bool = False

    def __repr__(self) -> str:
        return (
            f"Settings(endpoint={self.endpoint!r}, app_id={self.app_id}, "
            f"token={mask_token(self.token)} ({self.token_source}), sim={self.sim})"
        )


def _token(
    item: Setting, flag: str | None, environ: Mapping[str, str], stored: str | None
) -> tuple[str | None, str]:
    """A token and where it came from: flag > environment > encrypted store."""
    candidates = (("flag", flag), ("env", environ.get(item.env or "")), ("config", stored))
    for source, candidate in candidates:
        if candidate and candidate.strip():
            return candidate.strip(), source
    return None, "none"


def resolve_settings(
    *,
    endpoint: str | None = None,
    app_id: int | None = None,
    token: str | None = None,
    sim: bool | None = None,
    json: bool = False,
    verbose: bool = False,
    environ: Mapping[str, str] | None = None,
    stored_token: str | None = None,
    directory: Path | None = None,
) -> Settings:
    """Resolve the connection settings: flag > environment > config file > default.

    ``stored_token`` is the token from the encrypted store (the config file's token), if any.
    """
    sources = _sources(
        {"endpoint": endpoint, "app_id": app_id, "sim": True if sim else None},
        environ,
        directory,
    )
    resolved_token, token_source = _token(setting("token"), token, sources.environ, stored_token)
    return Settings(
        endpoint=_resolve(setting("endpoint"), sources),
        app_id=_resolve(setting("app_id"), sources),
        token=resolved_token,
        token_source=token_source,
        sim=_resolve(setting("sim"), sources),
        json=json,
        verbose=verbose,
    )


def resolve_run_limits(
    *, environ: Mapping[str, str] | None = None, directory: Path | None = None
) -> float | None:
    """The daily loss limit every strategy run applies unless told otherwise (None: none)."""
    value: float | None = _resolve(setting("run_daily_loss"), _sources({}, environ, directory))
    return value


def resolve_database_url(
    database: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    directory: Path | None = None,
) -> str | None:
    """The trade journal's database URL (``--database``, ``DERIVKIT_DATABASE_URL`` or the
    config's ``bot_database``; the bot and strategy runs share it), None for the default."""
    flags = {} if database is None else {"database": database}
    value: str | None = _resolve(setting("database"), _sources(flags, environ, directory))
    return value


@dataclass(frozen=True)
class BotSettings:
    """What the Telegram bot may do. ``token`` (the bot's) never shows in ``repr``.

    Personal mode (the owner's account): deny by default, no allowed users means nobody but
    ``/whoami``; trading is off unless asked for, a real-money account is refused unless
    ``real_money``. Multi-user mode (each user's own account): everyone is served unless an
    allowlist is set; demo accounts trade unless trading is turned off; real money only for
    ``real_money_users``. A buy is also refused when ``max_open`` contracts are open, or when it
    could take the day's losses (settled losses plus every open stake) past ``daily_loss``:
    these are the operator's caps, within which each user may set lower limits.
    """

    token: str | None = field(default=None, repr=False)
    allowed_users: frozenset[int] = frozenset()
    mode: str = setting("mode").default
    trading: bool | None = None
    max_stake: float = setting("max_stake").default
    max_open: int = setting("max_open").default
    daily_loss: float | None = None
    real_money: bool = False
    real_money_users: frozenset[int] = frozenset()
    database: str | None = None
    session_idle: float = setting("session_idle").default
    max_sessions: int = setting("max_sessions").default
    connect_rate: float = setting("connect_rate").default
    no_send_limit: bool = False
    api_url: str | None = None
    webhook: str | None = None
    listen: str = setting("listen").default
    webhook_secret: str | None = field(default=None, repr=False)
    connection_cap: int = setting("connection_cap").default

    @property
    def multi_user(self) -> bool:
        return self.mode == "multi-user"

    @property
    def trading_on(self) -> bool:
        """Whether trade commands work at all: ``--trading`` in personal mode; in multi-user
        mode unless ``--no-trading``."""
        return self.trading if self.trading is not None else self.multi_user

    def serves(self, user_id: int) -> bool:
        """Whether the bot answers ``user_id`` at all: personal mode only allowed users;
        multi-user mode everyone, unless an allowlist is set."""
        if self.multi_user and not self.allowed_users:
            return True
        return user_id in self.allowed_users

    def secret_token(self) -> str:
        """The webhook's secret token: the configured one, else one derived from the bot token
        (the same on every instance, useless without the token)."""
        if self.webhook_secret:
            return self.webhook_secret
        import hashlib

        return hashlib.sha256(b"derivkit-webhook:" + (self.token or "").encode()).hexdigest()

    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)

    def may_trade_real_money(self, user_id: int) -> bool:
        if self.multi_user:
            return user_id in self.real_money_users
        return self.real_money

    def __repr__(self) -> str:
        return (
            f"BotSettings(token={mask_token(self.token)}, mode={self.mode}, "
            f"allowed_users={sorted(self.allowed_users)}, trading={self.trading_on}, "
            f"max_stake={self.max_stake}, max_open={self.max_open}, "
            f"daily_loss={self.daily_loss}, real_money={self.real_money}, "
            f"real_money_users={sorted(self.real_money_users)})"
        )


def resolve_bot_settings(
    *,
    allowed_users: list[int] | None = None,
    trading: bool | None = None,
    max_stake: float | None = None,
    max_open: int | None = None,
    daily_loss: float | None = None,
    real_money: bool = False,
    api_url: str | None = None,
    mode: str | None = None,
    real_money_users: list[int] | None = None,
    database: str | None = None,
    session_idle: float | str | None = None,
    max_sessions: int | None = None,
    connect_rate: float | None = None,
    no_send_limit: bool = False,
    webhook: str | None = None,
    listen: str | None = None,
    connection_cap: int | None = None,
    stored_token: str | None = None,
    environ: Mapping[str, str] | None = None,
    directory: Path | None = None,
) -> BotSettings:
    """Resolve the bot's settings: flag > environment > config file > default.

    ``--allow`` ids are added to those from the environment and config (an allowlist grows, it is
    not silently replaced); ``--real-money`` can only turn things on, ``trading`` is
    ``True`` (``--trading``), ``False`` (``--no-trading``) or None (not given).
    ``stored_token`` is the bot token from the encrypted store.
    """
    flags = {
        "allowed_users": allowed_users or None,
        "mode": mode,
        "trading": trading,
        "max_stake": max_stake,
        "max_open": max_open,
        "daily_loss": daily_loss,
        "real_money": True if real_money else None,
        "real_money_users": real_money_users or None,
        "database": database,
        "session_idle": session_idle,
        "max_sessions": max_sessions,
        "connect_rate": connect_rate,
        "no_send_limit": True if no_send_limit else None,
        "api_url": api_url,
        "webhook": webhook,
        "listen": listen,
        "webhook_secret": None,  # from the environment only
        "connection_cap": connection_cap,
    }
    sources = _sources(flags, environ, directory)
    token, _ = _token(setting("bot_token"), None, sources.environ, stored_token)
    values = {name: _resolve(setting(name), sources) for name in flags}
    return BotSettings(token=token, **values)
