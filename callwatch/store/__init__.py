"""The store: call records and the collector's state, behind SQLAlchemy Core.

A leaf that every layer may import (it imports only callwatch.model):
schema.py holds every table, engine.py opens a store and migrates it,
save.py writes call records, state.py writes the small tables, and
migrations/ holds the Alembic revisions. Reads for metrics live in
callwatch.metrics.loader, not here.
"""

from callwatch.store import alert_log
from callwatch.store.engine import create_engine, init_db, open_store
from callwatch.store.save import (
    call_row,
    delete_file_calls,
    forget_file_calls,
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
    alerts,
    call_aliases,
    call_rollups,
    caller_reveals,
    calls,
    dashboard_sessions,
    follow_up_handled,
    heartbeat,
    import_calls,
    import_state,
    live_calls,
    login_attempts,
    metadata,
    report_deliveries,
    report_runs,
    rollup_days,
    rollup_dirty,
    site_settings,
    staff_seen,
    trainings,
)
from callwatch.store.state import (
    DEMO_TRAINING_MARK,
    add_training,
    count_real_calls,
    record_caller_reveal,
    remove_demo,
    remove_training,
    save_site_settings,
)

__all__ = [
    "DEMO_TRAINING_MARK", "ROLLUP_AFTER_HOURS_COLUMNS", "ROLLUP_COUNT_COLUMNS", "UtcDateTime", "add_training",
    "alert_log", "alerts", "call_aliases", "call_rollups", "call_row", "caller_reveals", "calls", "count_real_calls",
    "create_engine", "dashboard_sessions", "delete_file_calls", "follow_up_handled", "forget_file_calls", "heartbeat",
    "import_calls", "import_state", "init_db", "live_calls", "login_attempts", "mark_rollups_dirty", "merge_call",
    "metadata", "open_store", "record_caller_reveal", "remove_demo", "remove_training", "report_deliveries",
    "report_runs", "rollup_days", "rollup_dirty", "save_calls", "save_site_settings", "select_calls", "site_settings",
    "staff_seen", "trainings", "upsert_in", "upsert_rows",
]
