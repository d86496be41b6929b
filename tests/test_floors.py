"""The CI job that proves the dependency floors pins exactly what pyproject.toml declares."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_floors():
    spec = importlib.util.spec_from_file_location("ci_floors", ROOT / ".ci" / "floors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.floors


def test_every_runtime_dependency_is_pinned_at_its_floor():
    pins = load_floors()(ROOT / "pyproject.toml")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [
        requirement
        for extra in ("tui", "bot", "storage", "plot", "postgresql")
        for requirement in project["optional-dependencies"][extra]
        if not requirement.startswith(f"{project['name']}[")
    ]
    assert len(pins) == len(declared)
    for requirement in declared:  # "name[extras]>=floor,<cap" -> "name==floor"
        name = requirement.split(">=")[0].split("[")[0].strip()
        floor = requirement.split(">=")[1].split(",")[0].strip()
        assert f"{name}=={floor}" in pins, requirement
    assert all("[" not in pin and pin.count("==") == 1 for pin in pins)


def test_a_dependency_without_a_floor_is_refused(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["websockets>=14.1", "rich"]\n'
        "[project.optional-dependencies]\ntui = []\nbot = []\nplot = []\n"
    )
    with pytest.raises(SystemExit, match="'rich' declares no floor"):
        load_floors()(tmp_path / "pyproject.toml")
