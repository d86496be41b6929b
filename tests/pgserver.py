"""A throwaway PostgreSQL server for tests: ``initdb`` in a temporary directory, ``pg_ctl start``
on a free loopback port, trust authentication for one superuser, durability off (fsync,
synchronous commit, full-page writes: nothing here must survive a crash), removed on exit.

PostgreSQL refuses to run as root. Run as root (as CI does), the cluster is made and run as the
unprivileged ``postgres`` user (the distribution package's; else ``nobody``) through
``runuser``; run as anybody else, as that user.

Missing binaries raise :class:`PostgresUnavailable`. The fixtures skip on it, except when
``DERIVKIT_REQUIRE_POSTGRES=1`` (set by ``.ci/run``): then a test that needs the server fails.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["REQUIRE_ENV", "PostgresServer", "PostgresUnavailable", "find_binaries", "required"]

REQUIRE_ENV = "DERIVKIT_REQUIRE_POSTGRES"
SUPERUSER = "derivkit"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries on this machine (or the server would not start)."""


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def find_binaries() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (the newest version)."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if all((directory / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise PostgresUnavailable("PostgreSQL is not installed (no initdb, pg_ctl and postgres)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as() -> str | None:
    """The user to run the server as when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL as")


class PostgresServer:
    """``with PostgresServer() as server:`` runs a cluster; ``server.url(database)``."""

    def __init__(self, *, max_connections: int = 200) -> None:
        self.bin = find_binaries()
        self.port = 0
        self.max_connections = max_connections
        self._user = _run_as()
        self._root: Path | None = None

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._user is not None:
            return ["runuser", "-u", self._user, "--", *command]
        return command

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            self._command(*args), capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
            )

    def start(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="derivkit-pg-"))
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self._root, entry.pw_uid, entry.pw_gid)
        data = self._root / "data"
        self._run(
            "initdb", "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
            "--no-sync", "--locale=C",
        )  # fmt: skip
        self.port = _free_port()
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self._root}",
                f"-c max_connections={self.max_connections}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c shared_buffers=32MB",
            ]
        )
        log = self._root / "server.log"
        try:
            self._run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        except PostgresUnavailable as error:
            with contextlib.suppress(OSError):
                error.args = (f"{error.args[0]}\n{log.read_text()[-2000:]}",)
            self.stop()
            raise

    def stop(self) -> None:
        if self._root is None:
            return
        data = self._root / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                self._command("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str) -> str:
        """A new empty database; returns its URL (``postgresql://``, no driver named)."""
        import asyncpg

        connection = await asyncpg.connect(self.url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.url(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server
