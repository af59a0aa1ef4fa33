"""`callwatch demo`: fill the store with a realistic multi-office history.

For trying the dashboard and the weekly report without a PBX, for the docker
compose demo profile, and for benchmarks. Re-running with the same seed and
dates rewrites the same calls (upserts on (site, call_id)), adding nothing twice.

Demo data is kept apart from a real office's: its calls carry source "demo"
and its trainings "(demo)" in their title, `--remove` deletes both, and a
store that holds real calls is refused unless the demo gets its own sites
(`--own-sites`: names starting "demo-") or `--into-real-store` is confirmed.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import click

from callwatch import store
from callwatch.cli.common import open_collector_store, with_settings


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
@click.option("--own-sites", is_flag=True, help="Name the demo offices demo-* (never the configured site).")
@click.option("--into-real-store", is_flag=True, help="Write demo calls into a store that holds real calls (asks).")
@click.option("--remove", is_flag=True, help="Delete every demo call and demo training, and nothing else.")
@with_settings
def demo_command(
    settings: Any, offices: int, months: int, seed: int, end_date: datetime | None, calls_per_day: float | None,
    own_sites: bool, into_real_store: bool, remove: bool,
) -> None:
    """Generate a demo call history for several offices (no PBX needed).

    The first office uses the configured site name (demo-* names with
    --own-sites); each office's training goes to the store's trainings table
    with that office, so the dashboard marks it and judges it on that office's
    calls. A store holding real calls is refused unless --own-sites or
    --into-real-store is given; --remove takes the demo out.
    """
    import pandas as pd  # lazy: start-up speed

    from callwatch.metrics.rollup_store import refresh_written_rollups  # lazy: start-up speed
    from callwatch.sample import history  # lazy: start-up speed

    settings, engine = open_collector_store(settings)
    if remove:
        removed, trainings = store.remove_demo(engine)
        refresh_written_rollups(engine, settings, site=None)
        click.echo(f"demo removed: {removed:,} calls and {trainings} training(s); real calls untouched")
        return
    real = store.count_real_calls(engine)
    if real and not own_sites:
        if not into_real_store:
            click.echo(f"error: this store holds {real:,} real calls; demo calls would mix into their numbers. Use "
                       "--own-sites (demo offices named demo-*), another database_url, or --into-real-store.",
                       err=True)
            sys.exit(1)
        click.confirm(f"This store holds {real:,} real calls. Write demo calls under site {settings.site!r} "
                      "beside them? (`callwatch demo --remove` takes them out again)", abort=True)
    end = (end_date.date() if end_date else datetime.now(settings.tz).date()) + timedelta(days=1)
    start = _months_before(end, months)
    first_site = f"demo-{settings.site}" if own_sites else settings.site
    office_list = history.make_offices(offices, start, end, seed, calls_per_day=calls_per_day, first_site=first_site)
    if own_sites:
        office_list = [replace(o, site=o.site if o.site.startswith("demo-") else f"demo-{o.site}")
                       for o in office_list]
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
    title = f"Phone-answering training {store.DEMO_TRAINING_MARK}"
    notes = "Greeting within three rings, hold etiquette, lunch cover rota."
    return sum(
        store.add_training_once(engine, office.site, office.training, title, notes)
        for office in offices
        if office.training is not None
    )
