"""Print pip constraints pinning every runtime dependency of pyproject.toml (the core and the
front-end extras) to its declared floor: ``name>=1.2`` becomes ``name==1.2``.

CI installs the project with them in a second virtualenv and runs the tests there, so a floor
that does not work fails CI. Development tools (the ``dev`` extra) are not pinned; an extra that
names the project itself (``derivkit[storage]``) is pinned through that extra's own list.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
FLOOR = re.compile(r">=\s*([0-9][^,;\s]*)")


def floors(
    pyproject: Path, extras: tuple[str, ...] = ("tui", "bot", "storage", "plot", "postgresql")
) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        requirements += optional.get(extra, [])
    pins = []
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot read requirement {requirement!r}")
        name, _, spec = match.groups()
        if name == project.get("name"):  # "derivkit[storage]": its extra is pinned on its own
            continue
        floor = FLOOR.search(spec)
        if floor is None:
            raise SystemExit(f"{requirement!r} declares no floor (>=): add one")
        pins.append(f"{name}=={floor.group(1)}")
    return pins


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    print("\n".join(floors(root / "pyproject.toml")))
