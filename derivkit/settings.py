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
    "Settings",
    "config_dir",
    "data_dir",
    "load_config",
    "parse_app_id",
    "resolve_settings",
    "save_config",
    "write_private",
]

DEFAULT_APP_ID = 1089
CONFIG_FILE = "config.toml"
CONFIG_KEYS = ("endpoint", "app_id")
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
