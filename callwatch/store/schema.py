"""Every table of the store, and the UTC datetime type they share.

SQLAlchemy Core metadata: the one description of the schema that the store's
writers, the metrics loader and the migrations (callwatch/store/migrations)
read. Changing a table here needs a new migration revision (a test insists).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on the
    way out keeps comparisons and range queries right everywhere.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; callwatch stores UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = sa.MetaData()

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(128), primary_key=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("caller", sa.String(64), nullable=False),
    sa.Column("arrived_at", UtcDateTime(), nullable=False),
    sa.Column("ring_started_at", UtcDateTime()),
    sa.Column("answered_at", UtcDateTime()),
    sa.Column("ended_at", UtcDateTime()),
    sa.Column("outcome", sa.String(16)),
    sa.Column("answered_by", sa.String(64)),
    sa.Column("queue", sa.String(64)),
    sa.Column("left_message", sa.Boolean()),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("ring_ended_at", UtcDateTime()),
    # exact | derived | unknown (model.RingQuality): how far ring_seconds can be trusted.
    sa.Column("ring_quality", sa.String(8)),  # NULL only in rows written before it existed: unknown
    sa.Column("answered_by_name", sa.String(128)),
    sa.Column("incomplete", sa.Boolean()),
    # Derived, written with the row by store.save_calls (after merging): the ring time in whole µs,
    # max(COALESCE(answered_at, ring_ended_at, ended_at) - ring_started_at, 0); NULL when
    # either end is missing. Ring quality and outcome are not applied here. The metrics
    # aggregate (metrics.loader.load_bucket_numbers) reads this one integer instead of
    # deriving it from two timestamps per call.
    sa.Column("ring_us", sa.BigInteger()),
    sa.Index("ix_calls_site_arrived", "site", "arrived_at"),
    sa.Index("ix_calls_arrived", "arrived_at"),
    # Holds every column the metrics' exact ring-time scan reads, so the few one-second
    # bins around a median or 90th percentile are read from this index alone.
    sa.Index("ix_calls_ring_us", "ring_us", "arrived_at", "direction", "outcome", "ring_quality"),
    # The queues for the dashboard's filter menu, one probe per queue (loader.sites_and_queues).
    sa.Index("ix_calls_queue", "queue"),
)

# What each imported file looked like when we last read it: identity (inode
# and the hash of its first bytes) and how far we got, so re-importing or
# tailing a growing log reads only what is new.
import_state = sa.Table(
    "import_state",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("inode", sa.BigInteger()),
    sa.Column("head_hash", sa.String(64)),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("offset", sa.BigInteger(), nullable=False),
    sa.Column("line", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # How the file was read (source, column map, the settings that shape reconstruction
    # and plausibility): another way of reading it starts over.
    sa.Column("read_key", sa.String(64)),
    # Byte offsets of the rows rejected so far and a hash of their bytes: a repaired row re-reads the file.
    sa.Column("rejected", sa.Text()),
)

# Which calls each imported file wrote, so reading it again (`import --reread`,
# a changed map or setting, a repaired row) replaces them instead of merging
# a wrong first reading into the right one. file_key is a hash of the path.
import_calls = sa.Table(
    "import_calls",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("file_key", sa.String(40), primary_key=True),
    sa.Column("call_id", sa.String(128), primary_key=True),
)

# Live state, owned by the AMI collector: one row per call ringing or waiting
# in a queue right now (deleted when it is answered or ends), so the front-desk
# screen can show "ringing 14 s at Reception" without reading the journal.
live_calls = sa.Table(
    "live_calls",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(128), primary_key=True),
    sa.Column("caller", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # 'ringing' | 'queued'
    sa.Column("ring_started_at", UtcDateTime()),
    sa.Column("arrived_at", UtcDateTime(), nullable=False),
    sa.Column("location", sa.String(128)),  # extension, ring group or queue ringing now
    sa.Column("queue", sa.String(64)),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# The collector's pulse: when it last heard from the PBX and whether it is
# connected; the dashboard warns when this goes stale.
heartbeat = sa.Table(
    "heartbeat",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("last_event_at", UtcDateTime()),
    sa.Column("connected", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("detail", sa.String(256)),
)

# Follow-ups the front desk marked done on the dashboard (they phoned back by
# mobile, or the caller wrote in), so the call leaves the "awaiting" list even
# though the PBX never saw the return call. Owned by the dashboard.
follow_up_handled = sa.Table(
    "follow_up_handled",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(128), primary_key=True),
    sa.Column("handled_at", UtcDateTime(), nullable=False),
    sa.Column("handled_by", sa.String(64), nullable=False),
)

# Who saw which caller's full number, and when: the Follow-ups page shows a
# waiting caller's number only on request (to call them back) and keeps this
# record of each request. The number itself is not copied here; (site,
# call_id) names the call it belongs to.
caller_reveals = sa.Table(
    "caller_reveals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(64), nullable=False),
    sa.Column("call_id", sa.String(128), nullable=False),
    sa.Column("revealed_by", sa.String(64), nullable=False),
    sa.Column("revealed_at", UtcDateTime(), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Index("ix_caller_reveals_revealed_at", "revealed_at"),
)

# Staff training sessions entered at run time (the dashboard or a script), in
# addition to the ones in callwatch.yaml; the metrics loader merges both.
# site NULL: a training for every office.
trainings = sa.Table(
    "trainings",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(64), nullable=True),
    sa.Column("date", sa.Date(), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False, default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_trainings_site_date", "site", "date"),
)

# Each office's own settings (config.SiteSettings as JSON: time zone, opening
# hours, holidays, ring target, trainings, goals), written by the process that
# collects that office's calls, so every process reading this store judges the
# office by its own settings rather than by the reader's file.
site_settings = sa.Table(
    "site_settings",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("settings", sa.Text(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# One row per weekly report sent, so a report missed while the service was down
# is sent when it comes back, and never twice. Owned by callwatch.report.
report_runs = sa.Table(
    "report_runs",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("week", sa.String(10), primary_key=True),
    sa.Column("sent_at", UtcDateTime(), nullable=False),
    sa.Column("detail", sa.String(512), nullable=False, default=""),
)

# Who got which weekly report: a retry sends only to the recipients the server
# refused, so nobody gets a report twice. Owned by callwatch.report.
report_deliveries = sa.Table(
    "report_deliveries",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("week", sa.String(10), primary_key=True),
    sa.Column("recipient", sa.String(254), primary_key=True),
    sa.Column("sent_at", UtcDateTime(), nullable=False),
)


# The staff directory the PBX taught us: each (extension, name) pair a source
# reported for the person who answered, with the first and last call it was
# seen on, so a renamed extension keeps its old name on old calls. Names in
# callwatch.yaml `staff:` win over these (metrics.staff). Written by save_calls.
staff_seen = sa.Table(
    "staff_seen",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("extension", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("first_seen", UtcDateTime(), nullable=False),
    sa.Column("last_seen", UtcDateTime(), nullable=False),
)


# Per-day sums behind the year-long views: metrics.rollup.daily_rollup rows, one per
# site x practice-local date x queue ("(none)" without one), kept by
# callwatch.metrics.rollup_store. settings_key names the settings that shaped them
# (time zone, opening hours, holidays, ring targets), so other settings recompute
# instead of reading numbers that were never theirs.
ROLLUP_COUNT_COLUMNS: tuple[str, ...] = (
    "offered", "answered", "voicemail", "abandoned", "short_abandoned", "missed", "within_target",
    "answered_timed", "offered_timed",
)
ROLLUP_AFTER_HOURS_COLUMNS: tuple[str, ...] = (
    "after_hours_calls", "holiday_calls", "after_hours_answered", "after_hours_voicemail",
    "after_hours_abandoned", "after_hours_missed",
)
call_rollups = sa.Table(
    "call_rollups",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("date", sa.Date(), primary_key=True),
    sa.Column("queue", sa.String(64), primary_key=True),
    sa.Column("settings_key", sa.String(16), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in ROLLUP_COUNT_COLUMNS),
    sa.Column("ring_seconds_sum", sa.Float(), nullable=False),
    sa.Column("rings_sum", sa.Float(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in ROLLUP_AFTER_HOURS_COLUMNS),
)

# Which site x local date call_rollups holds, and under which settings: a day
# without calls has no rollup rows but is still known to be done.
rollup_days = sa.Table(
    "rollup_days",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("date", sa.Date(), primary_key=True),
    sa.Column("settings_key", sa.String(16), nullable=False),
    sa.Column("computed_at", UtcDateTime(), nullable=False),
)

# Days whose calls changed since their rollups were computed, marked by
# save_calls in the write's own transaction. `day` is the UTC date of arrival
# (the store knows no time zone); a refresh turns it into local dates and
# clears the mark only if nobody marked it again meanwhile (marked_at unchanged).
rollup_dirty = sa.Table(
    "rollup_dirty",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("marked_at", UtcDateTime(), nullable=False),
)

# Signed-in dashboard sessions. The session cookie carries only this random id,
# so signing out ends the session on the server: a copied cookie stops working
# at once, in every dashboard worker that shares the store.
dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime()),
)

# Every sign-in attempt (never the password), so password guessing is throttled
# per user and per address across every dashboard worker, and failures are kept.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Index("ix_login_attempts_at", "at"),
)

# Alerts that fired (callwatch.alerts): one row from the moment a condition
# holds until it clears, so a condition notifies once, and the dashboard can
# list what fired and when. `notified_at` stays empty in quiet hours or when no
# notification target is set; `notify_error` says why a notification failed.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(64), nullable=False),
    sa.Column("condition", sa.String(32), nullable=False),
    sa.Column("message", sa.String(512), nullable=False),
    sa.Column("fired_at", UtcDateTime(), nullable=False),
    sa.Column("cleared_at", UtcDateTime()),
    sa.Column("notified_at", UtcDateTime()),
    sa.Column("notify_error", sa.String(256), nullable=False, default=""),
    sa.Index("ix_alerts_site_fired", "site", "fired_at"),
)

# Other ids of a stored call: queue_log names a call by the uniqueid of the
# channel that joined the queue, which behind a Local-channel trunk is not the
# linkedid that AMI, the CDR and CEL use. A source that sees both records the
# pair here, so the queue_log's view merges into the same record whichever
# file is imported first.
call_aliases = sa.Table(
    "call_aliases",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column("call_id", sa.String(128), nullable=False),
)
