"""The one settings resolver of every front-end: flag, then environment, then config file, then
default.

=============  ===================  ==================  =========================
setting        flag                 environment         config file (config.toml)
=============  ===================  ==================  =========================
endpoint       ``--endpoint``       ``DERIV_ENDPOINT``  ``endpoint``
app_id         ``--app-id``         ``DERIV_APP_ID``    ``app_id``
token          ``--token``          ``DERIV_API_TOKEN`` ``derivkit config set-token`` (encrypted)
sim            ``--sim``            ``DERIVKIT_SIM=1``  --
=============  ===================  ==================  =========================

The Telegram bot's settings (:func:`resolve_bot_settings`) follow the same order:

==============  ===================  ============================  ====================
setting         flag (``bot run``)   environment                   config file
==============  ===================  ============================  ====================
bot token       --                   ``DERIVKIT_BOT_TOKEN``        ``derivkit bot set-token``
allowed users   ``--allow ID``       ``DERIVKIT_BOT_ALLOWED_USERS`` ``bot_allowed_users``
trading         ``--trading``        ``DERIVKIT_BOT_TRADING=1``    ``bot_trading``
max stake       ``--max-stake``      ``DERIVKIT_BOT_MAX_STAKE``    ``bot_max_stake``
max open        ``--max-open``       ``DERIVKIT_BOT_MAX_OPEN``     ``bot_max_open``
daily loss      ``--daily-loss``     ``DERIVKIT_BOT_DAILY_LOSS``   ``bot_daily_loss``
real money      ``--real-money``     --                            --
==============  ===================  ============================  ====================

The config directory is the platform's user config dir, or ``DERIVKIT_CONFIG_DIR``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from derivkit.core.exceptions import UsageError
from derivkit.core.secrets import mask_token

__all__ = [
    "CONFIG_KEYS",
    "BotSettings",
    "Settings",
    "config_dir",
    "data_dir",
    "load_config",
    "parse_app_id",
    "parse_bool",
    "parse_positive_amount",
    "parse_positive_count",
    "parse_user_ids",
    "resolve_bot_settings",
    "resolve_settings",
    "save_config",
    "write_private",
]

DEFAULT_APP_ID = 1089
CONFIG_FILE = "config.toml"
CONFIG_KEYS = (
    "endpoint",
    "app_id",
    "bot_allowed_users",
    "bot_trading",
    "bot_max_stake",
    "bot_max_open",
    "bot_daily_loss",
)
DEFAULT_BOT_MAX_STAKE = 50.0
DEFAULT_BOT_MAX_OPEN = 5
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class Settings:
    """Resolved settings. ``token`` never shows in ``repr``."""

    endpoint: str | None = None
    app_id: int = DEFAULT_APP_ID
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
    """Write ``data`` to ``path`` readable by its owner only (file 0600, new folders 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def load_config(directory: Path) -> dict[str, Any]:
    """The config file's values ({} when there is none)."""
    path = directory / CONFIG_FILE
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from exc
    return {key: data[key] for key in CONFIG_KEYS if key in data}


def save_config(directory: Path, values: Mapping[str, Any]) -> Path:
    """Write the config file (mode 0600). Only plain settings; tokens go to the token store."""
    unknown = set(values) - set(CONFIG_KEYS)
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    path = directory / CONFIG_FILE
    lines = []
    for key, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool):
            lines.append(f"{key} = {value}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    write_private(path, ("\n".join(lines) + "\n").encode())
    return path


def parse_app_id(value: Any, source: str) -> int:
    """A positive whole app id, or a :class:`UsageError` naming where the bad value came from."""
    try:
        app_id = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"app id from {source} must be a whole number, got {value!r}") from None
    if app_id <= 0:
        raise UsageError(f"app id from {source} must be positive, got {app_id}")
    return app_id


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
    """Resolve every setting: flag > environment > config file > default.

    ``stored_token`` is the token from the encrypted store (the config file's token), if any.
    """
    environ = os.environ if environ is None else environ
    config = load_config(directory if directory is not None else config_dir(environ))

    resolved_endpoint = endpoint or environ.get("DERIV_ENDPOINT") or config.get("endpoint")
    if app_id is not None:
        resolved_app_id = parse_app_id(app_id, "--app-id")
    elif environ.get("DERIV_APP_ID"):
        resolved_app_id = parse_app_id(environ["DERIV_APP_ID"], "DERIV_APP_ID")
    elif "app_id" in config:
        resolved_app_id = parse_app_id(config["app_id"], "the config file")
    else:
        resolved_app_id = DEFAULT_APP_ID

    for source, candidate in (
        ("flag", token),
        ("env", environ.get("DERIV_API_TOKEN")),
        ("config", stored_token),
    ):
        if candidate:
            resolved_token, token_source = candidate.strip(), source
            break
    else:
        resolved_token, token_source = None, "none"

    use_sim = sim if sim else environ.get("DERIVKIT_SIM", "").strip().lower() in _TRUE
    return Settings(
        endpoint=str(resolved_endpoint) if resolved_endpoint else None,
        app_id=resolved_app_id,
        token=resolved_token,
        token_source=token_source,
        sim=use_sim,
        json=json,
        verbose=verbose,
    )


@dataclass(frozen=True)
class BotSettings:
    """What the Telegram bot may do. ``token`` (the bot's) never shows in ``repr``.

    Deny by default: no allowed users means nobody but ``/whoami``; trading is off unless asked
    for, real-money accounts are refused unless ``real_money``. A buy is also refused when
    ``max_open`` contracts are open, or when it could take the day's losses (settled losses plus
    every open stake) past ``daily_loss``.
    """

    token: str | None = field(default=None, repr=False)
    allowed_users: frozenset[int] = frozenset()
    trading: bool = False
    max_stake: float = DEFAULT_BOT_MAX_STAKE
    max_open: int = DEFAULT_BOT_MAX_OPEN
    daily_loss: float | None = None
    real_money: bool = False

    def __repr__(self) -> str:
        return (
            f"BotSettings(token={mask_token(self.token)}, "
            f"allowed_users={sorted(self.allowed_users)}, trading={self.trading}, "
            f"max_stake={self.max_stake}, max_open={self.max_open}, "
            f"daily_loss={self.daily_loss}, real_money={self.real_money})"
        )


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


def parse_bool(value: Any, source: str) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise UsageError(f"{source} must be true or false, got {value!r}")


def parse_positive_amount(value: Any, source: str) -> float:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{source} must be a number, got {value!r}") from None
    if not amount > 0 or amount == float("inf"):
        raise UsageError(f"{source} must be a positive amount, got {value!r}")
    return amount


def parse_positive_count(value: Any, source: str) -> int:
    try:
        count = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{source} must be a whole number, got {value!r}") from None
    if count <= 0:
        raise UsageError(f"{source} must be positive, got {value!r}")
    return count


def _first(
    flag: Any, env_name: str, config_key: str, environ: Mapping[str, str], config: dict[str, Any]
) -> tuple[Any, str] | None:
    """The first value given, flag > environment > config file, and where it came from."""
    if flag is not None:
        return flag, f"--{config_key.removeprefix('bot_').replace('_', '-')}"
    if environ.get(env_name):
        return environ[env_name], env_name
    if config_key in config:
        return config[config_key], config_key
    return None


def resolve_bot_settings(
    *,
    allowed_users: list[int] | None = None,
    trading: bool | None = None,
    max_stake: float | None = None,
    max_open: int | None = None,
    daily_loss: float | None = None,
    real_money: bool = False,
    stored_token: str | None = None,
    environ: Mapping[str, str] | None = None,
    directory: Path | None = None,
) -> BotSettings:
    """Resolve the bot's settings: flag > environment > config file > default.

    ``--allow`` ids are added to those from the environment and config (an allowlist grows, it is
    not silently replaced). ``stored_token`` is the bot token from the encrypted store.
    """
    environ = os.environ if environ is None else environ
    config = load_config(directory if directory is not None else config_dir(environ))

    users: set[int] = set(parse_user_ids(allowed_users or [], "--allow"))
    if environ.get("DERIVKIT_BOT_ALLOWED_USERS"):
        users |= parse_user_ids(environ["DERIVKIT_BOT_ALLOWED_USERS"], "DERIVKIT_BOT_ALLOWED_USERS")
    if "bot_allowed_users" in config:
        users |= parse_user_ids(config["bot_allowed_users"], "the config file")

    flag = True if trading else None  # --trading can only turn trading on
    given = _first(flag, "DERIVKIT_BOT_TRADING", "bot_trading", environ, config)
    resolved_trading = parse_bool(*given) if given else False

    given = _first(max_stake, "DERIVKIT_BOT_MAX_STAKE", "bot_max_stake", environ, config)
    stake = parse_positive_amount(*given) if given else DEFAULT_BOT_MAX_STAKE
    given = _first(max_open, "DERIVKIT_BOT_MAX_OPEN", "bot_max_open", environ, config)
    open_limit = parse_positive_count(*given) if given else DEFAULT_BOT_MAX_OPEN
    given = _first(daily_loss, "DERIVKIT_BOT_DAILY_LOSS", "bot_daily_loss", environ, config)
    loss_limit = parse_positive_amount(*given) if given else None

    token = (environ.get("DERIVKIT_BOT_TOKEN") or "").strip() or stored_token
    return BotSettings(
        token=token or None,
        allowed_users=frozenset(users),
        trading=resolved_trading,
        max_stake=stake,
        max_open=open_limit,
        daily_loss=loss_limit,
        real_money=real_money,
    )
