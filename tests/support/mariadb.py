"""A throwaway MariaDB server for tests and benchmarks (the PBX's `asteriskcdrdb`, as FreePBX keeps it).

Uses the Debian server binaries (mariadb-install-db, mariadbd), a data
directory and unix socket in a fresh temp dir and a free TCP port on
127.0.0.1, so it never touches a system MariaDB. As root the server runs as
the `mysql` user (the package creates it). Durability is off: the data dies
with the test. The `callwatch` user gets only SELECT, the GRANT the README
tells a FreePBX admin to give.

Fixture (registered in conftest.py): `mariadb` (session) -> MariaDb.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from support.ports import free_port

SKIP_REASON = "mariadbd not found; install the Debian package mariadb-server (scripts/install-system-deps.sh)"
PASSWORD = "readonly-test-password"


def server_binary() -> str | None:
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
        if found:
            return found
    return None


class MariaDb:
    """One running server; `database()` hands out fresh empty databases the read-only user may SELECT from."""

    def __init__(self) -> None:
        binary = server_binary()
        if binary is None or shutil.which("mariadb-install-db") is None:
            raise FileNotFoundError(SKIP_REASON)
        self.root = Path(tempfile.mkdtemp(prefix="cw-maria-"))
        self.data = self.root / "data"
        self.socket = self.root / "mysqld.sock"
        self.port = free_port()
        self._names = itertools.count(1)
        user = "mysql" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            info = pwd.getpwnam(user)
            os.chown(self.root, info.pw_uid, info.pw_gid)
        done = subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", f"--user={user}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {done.stderr[-2000:]}")
        log = (self.root / "server.log").open("w")
        self.process = subprocess.Popen(
            [binary, "--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--user={user}", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
             "--innodb-buffer-pool-size=32M", "--character-set-server=utf8mb4", f"--pid-file={self.root}/pid"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        self._wait()
        self.admin("CREATE USER 'callwatch'@'%' IDENTIFIED BY '" + PASSWORD + "'")

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("mariadbd exited: " + (self.root / "server.log").read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("mariadbd did not start within 60 s")

    def admin_url(self, database: str = "") -> str:
        return f"mysql+pymysql://root@/{database}?unix_socket={self.socket}&charset=utf8mb4"

    def admin(self, *statements: str, database: str = "") -> None:
        engine = sa.create_engine(self.admin_url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement))
        finally:
            engine.dispose()

    def database(self, prefix: str = "asteriskcdrdb") -> str:
        """A new empty database the read-only user can SELECT from; returns its name."""
        name = f"{prefix}_{next(self._names)}"
        self.admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4",
                   f"GRANT SELECT ON `{name}`.* TO 'callwatch'@'%'")
        return name

    def reader_url(self, database: str) -> str:
        """What a user writes: no password (it comes from CALLWATCH_CDR_DATABASE_PASSWORD)."""
        return f"mysql+pymysql://callwatch@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        if self.process.poll() is None:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def mariadb_server() -> Iterator[MariaDb]:
    server = MariaDb()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDb]:
    if server_binary() is None or shutil.which("mariadb-install-db") is None:
        pytest.skip(SKIP_REASON)
    with mariadb_server() as server:
        yield server
