"""`callwatch calls` (the stored call records) and `callwatch metrics` (the numbers).

Both read through callwatch.metrics.loader and compute with callwatch.metrics;
this module only parses options and prints. Dates are practice-local days,
--to inclusive. Caller numbers are masked unless --unmasked.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from callwatch.cli.common import open_store, with_settings
from callwatch.collector.explain import explain_call, explanation_lines
from callwatch.config import Settings
from callwatch.formatting import DAY_ABBREVIATIONS, MISSING, opening_hours, pct, safe_cell
from callwatch.formatting import seconds as fmt_seconds
from callwatch.metrics import catalog

if TYPE_CHECKING:
    import pandas as pd

    from callwatch.metrics.params import MetricParams

DATE = click.DateTime(["%Y-%m-%d"])
CALL_COLUMNS: tuple[str, ...] = (
    "call_id", "site", "direction", "caller", "arrived_at", "ring_started_at", "answered_at", "ended_at",
    "outcome", "answered_by", "staff_name", "queue", "left_message", "source", "ring_seconds", "ring_quality",
)
NO_CALLS_HINT = (
    "Import a call log with `callwatch import /var/log/asterisk/cdr-csv/Master.csv` "
    "(or queue_log, or a CSV export), or run `callwatch collect` to record calls live from the PBX."
)


def _day_range(first: datetime | None, last: datetime | None) -> tuple[date | None, date | None]:
    first_day = first.date() if first else None
    last_day = last.date() if last else None
    if first_day and last_day and last_day < first_day:
        raise click.BadParameter(f"--to {last_day} is before --from {first_day}")
    return first_day, last_day


def _load(settings: Settings, first: date | None, last: date | None, site: str | None) -> tuple[Any, Any]:
    """(prepared calls, params) for the practice-local days [first, last]."""
    from callwatch.metrics.frame import prepare  # lazy: start-up speed
    from callwatch.metrics.hours import local_day_bounds  # lazy: start-up speed
    from callwatch.metrics.loader import load_calls  # lazy: start-up speed
    from callwatch.metrics.params import MetricParams  # lazy: start-up speed

    params = MetricParams.from_settings(settings)
    start, end = local_day_bounds(params, first, last)
    calls = load_calls(open_store(settings), start=start, end=end, site=site)
    return prepare(calls, params), params


def _where(first: date | None, last: date | None, site: str | None) -> str:
    span = (
        f" from {first or 'the first'} to {last or 'the last'}" if first or last else ""
    )
    return f"{'site ' + site if site else 'all sites'}{span}"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def call_records(prepared: pd.DataFrame, unmasked: bool) -> Iterable[dict[str, Any]]:
    """The calls as plain dicts (CALL_COLUMNS), caller masked unless `unmasked`."""
    from callwatch.metrics.frame import masked_callers  # lazy: start-up speed

    frame = prepared[list(CALL_COLUMNS)].copy()
    if not unmasked:
        frame["caller"] = masked_callers(frame["caller"])
    frame = frame.astype(object).where(frame.notna(), None)
    for row in frame.itertuples(index=False, name=None):
        yield {
            name: (value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)
            for name, value in zip(CALL_COLUMNS, row, strict=True)
        }


@click.command("calls")
@click.option("--from", "first", type=DATE, default=None, help="First practice-local day (YYYY-MM-DD).")
@click.option("--to", "last", type=DATE, default=None, help="Last practice-local day, inclusive.")
@click.option("--site", default=None, help="Only this office (default: every site in the database).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--unmasked", is_flag=True, help="Show full caller numbers (patient data: admins only).")
@click.option("--explain", "explain", metavar="CALL_ID", default=None,
              help="Show the PBX's own rows behind one call and why each field has its value.")
@with_settings
def calls_command(
    settings: Settings, first: datetime | None, last: datetime | None, site: str | None, fmt: str, unmasked: bool,
    explain: str | None,
) -> None:
    """Print the stored call records (DESIGN.md fields plus staff_name and ring_seconds), oldest first.

    ring_quality says how the source knew the ring time (exact, derived, unknown);
    ring_seconds is empty when unknown.
    """
    if explain is not None:
        _explain(settings, explain, unmasked)
        return
    first_day, last_day = _day_range(first, last)
    prepared, _ = _load(settings, first_day, last_day, site)
    if not len(prepared):
        click.echo(f"No calls stored for {_where(first_day, last_day, site)}. {NO_CALLS_HINT}", err=True)
    records = call_records(prepared, unmasked)
    if fmt == "json":
        lines = [json.dumps({k: _json_value(v) for k, v in r.items()}, ensure_ascii=False) for r in records]
        click.echo("[" + ",\n ".join(lines) + "]")
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CALL_COLUMNS)
    for record in records:
        writer.writerow([safe_cell(_text(record[name])) for name in CALL_COLUMNS])
        if buffer.tell() > 1 << 16:
            click.echo(buffer.getvalue(), nl=False)
            buffer.seek(0)
            buffer.truncate()
    click.echo(buffer.getvalue(), nl=False)


def _explain(settings: Settings, call_id: str, unmasked: bool) -> None:
    """`calls --explain`: the stored record, each source's rows that made it, and the reason for each field."""
    found = explain_call(open_store(settings), settings, call_id)
    if found is None:
        raise click.ClickException(f"no call {call_id!r} stored for site {settings.site!r} (see `callwatch calls`)")
    click.echo("\n".join(explanation_lines(found, unmasked)))


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


# --- metrics -----------------------------------------------------------------------------------

# The four outcome rates (they add up to offered), each with the outcome it counts.
OUTCOME_RATES: tuple[str, ...] = ("answer_rate", "voicemail_rate", "abandonment_rate", "missed_rate")
BY_CHOICES = ("day", "week", "month", "hour", "weekday_hour", "staff", "queue", "site")
def seconds_and_rings(seconds: float | None, rings: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return MISSING
    return f"{fmt_seconds(seconds)} ({rings:.1f} rings)"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def summary_lines(summary: dict[str, Any], after: dict[str, int], params: MetricParams) -> list[str]:
    """The business-hours summary and the after-hours line, as aligned text."""
    from callwatch.metrics.quality import NOT_IN_EXPORT, ring_time_known, ring_time_note  # lazy: start-up speed

    offered = summary["offered"]
    lines = [f"  {'offered':<17}{offered:>7}   inbound calls minus short abandons"]
    for rate in map(catalog.metric, OUTCOME_RATES):
        count_key = rate.counts or rate.key
        lines.append(f"  {count_key:<17}{summary[count_key]:>7}   {pct(summary[rate.key]):>8}")
    known = ring_time_known(summary) or not offered
    if known:
        within = round((summary["within_target_rate"] or 0) * summary["offered_timed"])
        lines.append(
            f"  {'within target':<17}{within:>7}   {pct(summary['within_target_rate']):>8}"
            f"   answered within {params.target_rings} rings ({params.target_seconds:g} s)"
        )
    else:
        lines.append(f"  {'within target':<17}{'':>7}   {NOT_IN_EXPORT}")
    lines.append(
        f"  {'short abandoned':<17}{summary['short_abandoned']:>7}   not offered: hung up before "
        f"{params.short_abandon_seconds:g} s of ringing (likely wrong numbers)"
    )
    if known:
        lines.append("  speed of answer")
        for name, key in (("mean", "mean"), ("median", "median"), ("90th percentile", "p90")):
            text = seconds_and_rings(summary[f"asa_{key}_s"], summary[f"asa_{key}_rings"])
            lines.append(f"    {name:<17}{text}")
    else:
        lines.append(f"  {'speed of answer':<27}{NOT_IN_EXPORT}")
    note = ring_time_note(summary)
    if note:
        lines.append(f"  Note — {note}.")
    lines.append("")
    lines.append(
        f"After hours and holidays (not counted above): {after['calls']} inbound call{_s(after['calls'])} — "
        f"{after['answered']} answered, {after['voicemail']} voicemail ({after['left_message']} left a message), "
        f"{after['abandoned']} abandoned, {after['missed']} missed; {after['holiday_calls']} on holidays"
    )
    return lines


def _group_label(row: dict[str, Any], by: str) -> str:
    if by in ("day", "week", "month"):
        key = {"day": "date"}.get(by, by)
        return f"{row[key]:%Y-%m-%d}" if by != "month" else f"{row[key]:%Y-%m}"
    if by == "hour":
        return f"{int(row['hour']):02d}:00"
    if by == "weekday_hour":
        return f"{DAY_ABBREVIATIONS[int(row['weekday'])]} {int(row['hour']):02d}:00"
    if by == "staff":
        from callwatch.metrics.staff import label as staff_label  # lazy: start-up speed

        return staff_label(row["answered_by"], row["staff_name"])
    return str(row[by])


GROUP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("offered", "offered"), ("answered", "answer_rate"), ("voicemail", "voicemail_rate"),
    ("abandoned", "abandonment_rate"), ("missed", "missed_rate"), ("on target", "within_target_rate"),
    ("short ab.", "short_abandoned"), ("mean s", "asa_mean_s"), ("median s", "asa_median_s"), ("p90 s", "asa_p90_s"),
)


def group_table(groups: list[dict[str, Any]], by: str) -> list[str]:
    """One line per group: counts, rates in %, speeds in seconds; columns right-aligned."""
    head = [{"week": "week of", "staff": "staff"}.get(by, by.replace("_", " "))] + [h for h, _ in GROUP_COLUMNS]
    rows = []
    for row in groups:
        cells = [_group_label(row, by)]
        for _, key in GROUP_COLUMNS:
            value = row[key]
            if key.endswith("_rate"):
                cells.append(pct(value))
            elif key.startswith("asa_"):
                cells.append("–" if value is None or math.isnan(value) else f"{value:.1f}")
            else:
                cells.append(str(int(value)))
        rows.append(cells)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = [f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]]
    lines = ["  ".join(f.format(c) for f, c in zip(fmt, head, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(f.format(c) for f, c in zip(fmt, r, strict=True)) for r in rows]
    return lines


def _json_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Counts as they are, rates as percentages (key suffix _pct), speeds rounded."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if key.endswith("_rate"):
            out[f"{key}_pct"] = None if missing else round(value * 100, 2)
        elif key.startswith("asa_"):
            out[key] = None if missing else round(float(value), 3)
        elif isinstance(value, (date, datetime)) or hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        else:
            out[key] = _json_value(value)
    return out


@click.command("metrics")
@click.option("--from", "first", type=DATE, default=None, help="First practice-local day (YYYY-MM-DD).")
@click.option("--to", "last", type=DATE, default=None, help="Last practice-local day, inclusive.")
@click.option("--site", default=None, help="Only this office (default: every site in the database).")
@click.option("--by", type=click.Choice(BY_CHOICES), default=None, help="Also break the numbers down by this.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_settings
def metrics_command(
    settings: Settings, first: datetime | None, last: datetime | None, site: str | None, by: str | None, fmt: str
) -> None:
    """Answer, voicemail, abandonment and missed rates, within-target rate and speed of answer.

    Business hours in the practice's time zone; after-hours and holiday calls are reported apart.
    """
    from callwatch.metrics.hours import local_day_bounds  # lazy: start-up speed
    from callwatch.metrics.in_database import database_numbers  # lazy: start-up speed
    from callwatch.metrics.params import MetricParams  # lazy: start-up speed
    from callwatch.metrics.quality import ring_time_note  # lazy: start-up speed

    first_day, last_day = _day_range(first, last)
    params = MetricParams.from_settings(settings)
    start, end = local_day_bounds(params, first_day, last_day)
    # Counted by the database (metrics.in_database): a year of a million calls
    # never enters memory; the numbers are summarize()'s over the same calls.
    numbers = database_numbers(open_store(settings), params, start, end, site, by)
    where = _where(first_day, last_day, site)
    summary, after, stored = numbers.summary, numbers.after_hours, numbers.calls
    groups = numbers.groups.to_dict("records") if numbers.groups is not None else []
    if fmt == "json":
        payload: dict[str, Any] = {
            "site": site, "from": first_day and first_day.isoformat(), "to": last_day and last_day.isoformat(),
            "timezone": params.timezone, "calls": stored,
            "settings": {
                "ring_cycle_seconds": params.ring_cycle_seconds, "target_rings": params.target_rings,
                "target_seconds": params.target_seconds, "short_abandon_seconds": params.short_abandon_seconds,
            },
            "business_hours": _json_summary(summary), "after_hours": after,
        }
        if by:
            payload["by"] = by
            payload["groups"] = [_json_summary(g) for g in groups]
        if not stored:
            payload["note"] = f"No calls stored. {NO_CALLS_HINT}"
        elif ring_time_note(summary):
            payload["ring_time_note"] = ring_time_note(summary)
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not stored:
        click.echo(f"No calls stored for {where}.")
        click.echo(NO_CALLS_HINT)
        return
    click.echo(f"Calls answered — {where} ({stored} calls stored, times in {params.timezone})")
    hours = opening_hours(params.business_hours)
    click.echo(f"Business hours: {hours}; {len(params.holidays)} holiday(s). Rates are over offered.")
    click.echo("")
    for line in summary_lines(summary, after, params):
        click.echo(line)
    if by:
        click.echo("")
        click.echo(f"By {by.replace('_', ' ')} (business hours):")
        for line in group_table(groups, by):
            click.echo("  " + line)
