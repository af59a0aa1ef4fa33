"""The store: call records and the collector's state, behind SQLAlchemy Core.

A leaf that every layer may import (it imports only callwatch.model):
schema.py holds every table, engine.py opens a store and migrates it,
save.py writes call records, state.py the small tables, and
migrations/ holds the Alembic revisions. Reads for metrics live in
callwatch.metrics.loader, not here.
"""

from callwatch.store.engine import create_engine, init_db, open_store
from callwatch.store.save import (
    call_row,
    mark_rollups_dirty,
    merge_call,
    save_calls,
    select_calls,
    upsert_in,
    upsert_rows,
)
from callwatch.store.schema import (
    ROLLUP_AFTER_HOURS_COLUMNS,
    ROLLUP_COUNT_COLUMNS,
    UtcDateTime,
    call_rollups,
    calls,
    follow_up_handled,
    heartbeat,
    import_state,
    live_calls,
    metadata,
    report_runs,
    rollup_days,
    rollup_dirty,
    trainings,
)
from callwatch.store.state import (
    add_training,
    add_training_once,
    load_import_state,
    mark_follow_up_handled,
    record_report_run,
    replace_live_calls,
    report_sent,
    save_import_state,
    write_heartbeat,
)

__all__ = [
    "ROLLUP_AFTER_HOURS_COLUMNS", "ROLLUP_COUNT_COLUMNS", "UtcDateTime", "add_training", "add_training_once",
    "call_rollups", "call_row", "calls", "create_engine", "follow_up_handled", "heartbeat", "import_state",
    "init_db", "live_calls", "load_import_state", "mark_follow_up_handled", "mark_rollups_dirty", "merge_call",
    "metadata", "open_store", "record_report_run", "replace_live_calls", "report_runs", "report_sent",
    "rollup_days", "rollup_dirty", "save_calls", "save_import_state", "select_calls", "trainings", "upsert_in",
    "upsert_rows", "write_heartbeat",
]
