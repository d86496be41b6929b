"""derivkit.core stays front-end free and side-effect free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import derivkit.core
from tests.imports import imported_modules

CORE = Path(derivkit.core.__file__).parent
FRONT_ENDS = ("derivkit.cli", "derivkit.tui", "derivkit.bot", "derivkit.sim")
UI_LIBRARIES = ("textual", "typer", "rich", "telegram", "click")


def test_core_sources_import_no_front_end_or_ui_library():
    offenders = {
        (path.name, name)
        for path in CORE.glob("*.py")
        for name in imported_modules(path)
        if name.startswith(FRONT_ENDS) or name.split(".")[0] in UI_LIBRARIES
    }
    assert offenders == set()


def test_importing_core_has_no_side_effects():
    probe = (
        "import logging, sys, json\n"
        "import derivkit.core\n"
        "root = logging.getLogger()\n"
        "print(json.dumps({'handlers': len(root.handlers), 'level': root.level,"
        f" 'modules': sorted(m for m in sys.modules if m.split('.')[0] in {UI_LIBRARIES!r})}}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe], capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout)
    assert report == {"handlers": 0, "level": 30, "modules": []}
    assert result.stderr == ""


def test_public_names_are_exported():
    for name in derivkit.core.__all__:
        assert hasattr(derivkit.core, name), name
    for required in ("DerivClient", "Subscription", "DerivError", "APIError", "ConnectionLost"):
        assert required in derivkit.core.__all__


@pytest.mark.parametrize("argv", [["config", "path"], ["--help"], ["config", "--help"]])
def test_a_command_that_does_not_connect_loads_no_connection_core(tmp_path, argv):
    """``derivkit config path`` and ``--help`` pay for neither the core's connection stack nor
    its libraries (nor pydantic, which Typer 0.29 imports for every command run: see
    pyproject.toml)."""
    probe = (
        "import sys\n"
        "from derivkit.cli import main\n"
        f"sys.argv = ['derivkit', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('websockets', 'picows', 'httpx', 'msgspec', 'orjson', 'pydantic'))\n"
        "core = sorted(m for m in sys.modules if m.startswith('derivkit.core.'))\n"
        "print('HEAVY', heavy, 'CORE', core)\n"
    )
    env = {**os.environ, "DERIVKIT_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    heavy, core = result.stdout.rsplit("HEAVY ", 1)[1].split(" CORE ")
    assert heavy == "[]"
    assert set(eval(core)) <= {"derivkit.core.exceptions", "derivkit.core.secrets"}  # noqa: S307
