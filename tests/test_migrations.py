"""Alembic migrations build exactly store.metadata, on SQLite and PostgreSQL, and adopt older stores."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from callwatch import store
from callwatch.model import Call
from callwatch.store import migrations


def _fresh(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> sa.Engine:
    if backend == "sqlite":
        return store.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    return store.create_engine(request.getfixturevalue("pg_cluster").database("mig"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty(request: pytest.FixtureRequest, tmp_path: Path):
    engine = _fresh(request, request.param, tmp_path)
    yield engine
    engine.dispose()


def _differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return [d for d in compare_metadata(context, store.metadata)]


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_head_constant_is_alembics_head() -> None:
    assert migrations.head() == migrations.HEAD


def test_migrated_schema_equals_store_metadata(empty: sa.Engine) -> None:
    migrations.upgrade(empty)  # through the revision scripts, not create_all
    assert _differences(empty) == []
    assert _tables(empty) == set(store.metadata.tables)
    with empty.connect() as conn:
        assert migrations.current(conn) == migrations.head()


def test_new_store_is_created_and_stamped_at_head(empty: sa.Engine) -> None:
    store.init_db(empty)
    with empty.connect() as conn:
        assert migrations.current(conn) == migrations.HEAD
    assert _differences(empty) == []
    migrations.upgrade(empty)  # Alembic agrees there is nothing left to do
    assert _differences(empty) == []


def test_init_db_migrates_and_a_second_run_changes_nothing(empty: sa.Engine) -> None:
    store.init_db(empty)
    store.init_db(empty)
    assert _differences(empty) == []


def test_store_created_before_migrations_is_adopted_with_its_calls(empty: sa.Engine) -> None:
    # What init_db did before migrations: create_all, here of an older, smaller schema.
    old = [store.calls, store.import_state]
    store.metadata.create_all(empty, tables=old)
    t = datetime(2026, 3, 2, 15, tzinfo=UTC)
    store.save_calls(empty, [Call("c1", "north", "inbound", "+15035550100", t, t, "answered", source="csv")])
    store.init_db(empty)
    assert _tables(empty) == set(store.metadata.tables)
    assert _differences(empty) == []
    assert [c["call_id"] for c in store.select_calls(empty)] == ["c1"]


def test_adopted_table_gets_the_optional_columns_it_lacks(empty: sa.Engine) -> None:
    with empty.begin() as conn:  # calls as an early create_all made it, before ring_ended_at
        columns = [sa.Column(c.name, c.type, nullable=c.nullable, primary_key=c.primary_key)
                   for c in store.calls.columns if c.name != "ring_ended_at"]
        sa.Table("calls", sa.MetaData(), *columns).create(conn)
    store.init_db(empty)
    assert _differences(empty) == []


def test_downgrade_to_nothing_and_up_again(empty: sa.Engine) -> None:
    migrations.upgrade(empty)
    migrations.downgrade(empty, "base")
    assert _tables(empty) == set()
    migrations.upgrade(empty)
    assert _differences(empty) == []


def test_services_starting_together_migrate_once(empty: sa.Engine) -> None:
    # docker compose starts the collector and the dashboard at the same moment on one database.
    errors: list[BaseException] = []

    def start() -> None:
        try:
            store.init_db(empty)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert _differences(empty) == []


def test_migrations_ship_inside_the_package() -> None:
    import callwatch.store.migrations as package

    folder = Path(package.__file__).parent
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    assert list((folder / "versions").glob("0001_*.py"))
    assert migrations.config().get_main_option("script_location") == "callwatch.store:migrations"
