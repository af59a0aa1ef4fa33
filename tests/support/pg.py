"""A throwaway PostgreSQL cluster for tests and benchmarks.

Uses the Debian server binaries (/usr/lib/postgresql/<version>/bin), a data
directory and unix socket in a fresh temp dir, and a random free port, so it
never touches a system PostgreSQL. PostgreSQL refuses to run as root, so as
root the server runs as the `postgres` system user (created if missing).
Durability is switched off (fsync, synchronous_commit): the data dies with the
test anyway, and the tests are about SQL behaviour, not crash safety.

Fixtures (registered in conftest.py): `pg_cluster` (session), `pg_url` (a fresh
empty database per test), `engine` (parametrised: SQLite file and PostgreSQL,
with the schema created by store.init_db).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from support.ports import free_port

SKIP_REASON = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; "
    "install the Debian package postgresql (scripts/install-system-deps.sh)"
)


def server_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, or None."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").exists()]
    if not found:
        return None
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


def _server_user() -> str | None:
    """None when not root; otherwise the unprivileged user that runs the server."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True, capture_output=True,
        )
    return "postgres"


class PgCluster:
    """One initdb'd, running cluster; `database()` hands out fresh empty databases."""

    def __init__(self) -> None:
        bin_dir = server_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError(SKIP_REASON)
        self.bin = bin_dir
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="cw-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(self.root, info.pw_uid, info.pw_gid)
        self._run(["initdb", "-D", str(self.data), "-U", "callwatch", "--auth=trust", "-E", "UTF8", "--no-sync",
                   "--no-instructions", "--locale=C"])
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=120"
        )
        self._run(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start"])

    def _run(self, argv: list[str]) -> None:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://callwatch@/{database}?host={self.root}&port={self.port}"

    def database(self, prefix: str = "t") -> str:
        """Create a new empty database and return its SQLAlchemy URL."""
        name = f"{prefix}_{next(self._names)}"
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PgCluster]:
    """A running throwaway cluster for a `with` block (benchmarks use this)."""
    cluster = PgCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if server_bin_dir() is None:
        pytest.skip(SKIP_REASON)
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A fresh, empty PostgreSQL database for this test."""
    return pg_cluster.database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """The store on each supported backend, schema created by store.init_db."""
    from callwatch import store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'callwatch.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").database()
    eng = store.create_engine(url)
    store.init_db(eng)
    yield eng
    eng.dispose()
