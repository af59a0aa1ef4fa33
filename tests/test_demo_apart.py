"""Demo calls never mix silently into a real office's store, carry source=demo, and come out again."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from support.data import MASTER_CSV

from callwatch import store
from callwatch.cli import main

DEMO = ["demo", "--offices", "2", "--months", "1", "--end", "2026-11-20", "--calls-per-day", "20"]


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'cw.db'}\nrejects_dir: {tmp_path / 'rejects'}\n")
    return config


def _sources(tmp_path: Path) -> dict[tuple[str, str], int]:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    query = sa.select(store.calls.c.site, store.calls.c.source, sa.func.count()).group_by("site", "source")
    with engine.connect() as conn:
        return {(r[0], r[1]): r[2] for r in conn.execute(query)}


def _trainings(tmp_path: Path) -> list[str]:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(store.trainings.c.title))]


def test_demo_refuses_a_store_with_real_calls(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["import", "--config", str(config), str(MASTER_CSV)]).exit_code == 0
    refused = runner.invoke(main, [*DEMO, "--config", str(config)])
    assert refused.exit_code == 1 and "holds 29 real calls" in refused.output
    declined = runner.invoke(main, [*DEMO, "--config", str(config), "--into-real-store"], input="n\n")
    assert declined.exit_code == 1
    assert _sources(tmp_path) == {("main-office", "cdr-csv"): 29}


def test_demo_in_its_own_sites_then_removed_leaves_the_real_calls(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["import", "--config", str(config), str(MASTER_CSV)])
    added = runner.invoke(main, [*DEMO, "--config", str(config), "--own-sites"])
    assert added.exit_code == 0, added.output
    sources = _sources(tmp_path)
    demo_sites = {site for site, source in sources if source == "demo"}
    assert demo_sites and all(site.startswith("demo-") for site in demo_sites)
    assert sources[("main-office", "cdr-csv")] == 29
    assert any("(demo)" in title for title in _trainings(tmp_path))
    removed = runner.invoke(main, ["demo", "--config", str(config), "--remove"])
    assert removed.exit_code == 0, removed.output
    assert _sources(tmp_path) == {("main-office", "cdr-csv"): 29}
    assert not any("(demo)" in title for title in _trainings(tmp_path))


def test_demo_into_the_real_store_after_confirming_is_marked_demo(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["import", "--config", str(config), str(MASTER_CSV)])
    added = runner.invoke(main, [*DEMO, "--config", str(config), "--into-real-store"], input="y\n")
    assert added.exit_code == 0, added.output
    assert _sources(tmp_path)[("main-office", "demo")] > 0
    runner.invoke(main, ["demo", "--config", str(config), "--remove"])
    assert _sources(tmp_path) == {("main-office", "cdr-csv"): 29}
