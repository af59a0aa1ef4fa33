"""Shared pytest fixtures. Keep this file small: fixtures live in their own modules and are listed here."""

# pg_cluster, pg_url and the backend-parametrised `engine` (SQLite and PostgreSQL): see tests/support/pg.py.
# server: the test AMI server replaying the set-A capture; see tests/support/ami.py.
# browser: a headless Chromium for a module's browser tests; see tests/support/browser_support.py.
# mariadb: a throwaway MariaDB server holding PBX CDR/CEL tables; see tests/support/mariadb.py.
from support.ami import server  # noqa: F401
from support.browser_support import browser  # noqa: F401
from support.mariadb import mariadb  # noqa: F401
from support.pg import engine, pg_cluster, pg_url  # noqa: F401
