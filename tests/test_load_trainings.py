"""Training dates come from callwatch.yaml and from the trainings table, merged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from callwatch import store
from callwatch.config.settings import Settings, Training
from callwatch.metrics.loader import TrainingSession, load_trainings


def test_load_trainings_merges_file_and_table(tmp_path: Path) -> None:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    store.init_db(engine)
    settings = Settings(trainings=[Training(date=date(2026, 10, 28), title="Phone manner", notes="all staff")])
    store.add_training(engine, "main-office", date(2026, 10, 28), "Phone manner")  # the same session
    store.add_training(engine, "main-office", date(2026, 11, 12), "Queue refresher", "front desk")
    store.add_training(engine, "north", date(2026, 11, 3), "Other office")
    assert load_trainings(engine, settings, "main-office") == [
        TrainingSession(date(2026, 10, 28), "Phone manner", "all staff", "config"),
        TrainingSession(date(2026, 11, 12), "Queue refresher", "front desk", "database", "main-office"),
    ]
    # Listing every office keeps the office's own row apart from the file's one for every office.
    assert len(load_trainings(engine, settings)) == 4
    assert load_trainings(None, settings) == [
        TrainingSession(date(2026, 10, 28), "Phone manner", "all staff", "config")
    ]
