"""`callwatch demo`: fill the store with a realistic multi-office history.

For trying the dashboard and the weekly report without a PBX, for the docker
compose demo profile, and for benchmarks. Re-running with the same seed and
dates rewrites the same calls (upserts on (site, call_id)), adding nothing twice.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from typing import Any

import click

from callwatch import store
from callwatch.cli.common import open_store, with_settings


@click.command("demo")
@click.option("--offices", type=click.IntRange(1, 200), default=3, show_default=True, help="How many offices.")
@click.option("--months", type=click.IntRange(1, 60), default=6, show_default=True, help="How much history.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same calls.")
@click.option(
    "--end",
    "end_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of history, YYYY-MM-DD (default: today).",
)
@click.option(
    "--calls-per-day",
    type=click.FloatRange(1, 100_000),
    default=None,
    help="Inbound calls on an ordinary Wednesday, every office (default: each office its own 60-260).",
)
@with_settings
def demo_command(
    settings: Any, offices: int, months: int, seed: int, end_date: datetime | None, calls_per_day: float | None
) -> None:
    """Generate a demo call history for several offices (no PBX needed).

    The first office uses the configured site name; training dates go to the
    store's trainings table, so the dashboard marks them.
    """
    import pandas as pd  # lazy: start-up speed

    from callwatch.metrics.rollup_store import refresh_written_rollups  # lazy: start-up speed
    from callwatch.sample import history  # lazy: start-up speed

    end = (end_date.date() if end_date else datetime.now(settings.tz).date()) + timedelta(days=1)
    start = _months_before(end, months)
    engine = open_store(settings)
    office_list = history.make_offices(offices, start, end, seed, calls_per_day=calls_per_day, first_site=settings.site)
    frame = history.generate_frame(office_list, start, end, seed, **history.settings_kwargs(settings))
    if end_date is None:
        # History up to now: no calls later today (the live page's "last calls" would show the future).
        frame = frame[frame["arrived_at"] <= pd.Timestamp.now(tz="UTC")].reset_index(drop=True)
    label = f"writing {len(frame):,} calls"
    with click.progressbar(length=len(frame), label=label, file=sys.stderr) as bar:
        written = store.save_calls(engine, _counted(history.iter_calls(frame), bar), batch_size=20_000)
        bar.update(len(frame) % 10_000)
    refresh_written_rollups(engine, settings, site=None)  # every office's days, so the first year view is quick
    added = _save_trainings(engine, office_list)
    click.echo(f"demo: {written:,} calls for {offices} office(s), {start} to {end - timedelta(days=1)}")
    counts = frame.groupby(["site", "direction"]).size()
    for office in office_list:
        inbound = int(counts.get((office.site, "inbound"), 0))
        outbound = int(counts.get((office.site, "outbound"), 0))
        trained = f"training {office.training}" if office.training else "no training"
        click.echo(f"  {office.site}: {inbound:,} inbound, {outbound:,} call-backs, {trained}")
    click.echo(f"training dates added: {added}")


def _counted(items: Any, bar: Any) -> Any:
    for n, item in enumerate(items, 1):
        yield item
        if n % 10_000 == 0:
            bar.update(10_000)


def _months_before(end: date, months: int) -> date:
    year, month = divmod(end.year * 12 + end.month - 1 - months, 12)
    return date(year, month + 1, min(end.day, 28))


def _save_trainings(engine: Any, offices: list[Any]) -> int:
    """Add each office's training date to the trainings table unless it is already there."""
    title = "Phone-answering training (demo)"
    notes = "Greeting within three rings, hold etiquette, lunch cover rota."
    return sum(
        store.add_training_once(engine, office.site, office.training, title, notes)
        for office in offices
        if office.training is not None
    )
