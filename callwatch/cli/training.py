"""`callwatch training`: every training with its office and verdict; add and remove trainings.

The verdicts are metrics.training_verdicts.judge_trainings', the same the
Training page, the Trends markers and the weekly report show.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from callwatch import formatting, store
from callwatch.cli.common import config_option, open_store, with_settings
from callwatch.config import Settings
from callwatch.metrics.loader import TrainingSession, load_trainings
from callwatch.metrics.training import MEASURES, MeasureImpact
from callwatch.metrics.training_verdicts import JudgedTraining, judge_trainings

_SITE = click.option("--site", default=None, help="Only this office (its own trainings and those for every office).")
_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)


@click.group("training", invoke_without_command=True)
@_SITE
@_FORMAT
@config_option
@click.pass_context
def training_command(ctx: click.Context, site: str | None, fmt: str, config_path: str | None) -> None:
    """Staff trainings and whether each moved the numbers at its office (default: list)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command, site=site, fmt=fmt, config_path=config_path)


@training_command.command("list")
@_SITE
@_FORMAT
@with_settings
def list_command(settings: Settings, site: str | None, fmt: str) -> None:
    """Print every training with its office and verdict."""
    engine = open_store(settings)
    judged = judge_trainings(engine, settings, site)
    seen = {(j.session.date, j.session.title, j.session.site) for j in judged}
    unjudged = [s for s in load_trainings(engine, settings, site) if (s.date, s.title, s.site) not in seen]
    if fmt == "json":
        rows = [_judged_json(j) for j in judged] + [_unjudged_json(s) for s in unjudged]
        click.echo(json.dumps(sorted(rows, key=lambda r: (r["date"], r["title"], r["office"] or "")), indent=2))
        return
    if not judged and not unjudged:
        click.echo("no trainings recorded (add one: callwatch training add 2026-10-14 \"Phone manner\" --site main)")
        return
    for j in judged:
        m = j.impact.primary
        click.echo(f"{j.session.date}  {j.office:<16} {j.impact.verdict:<16} {j.session.title}"
                   f"{'' if j.session.site else '  (for every office)'}")
        effect = m.effect
        if effect.estimate is not None:
            click.echo(f"    answer rate {formatting.points(effect.estimate)} (95 % CI "
                       f"{formatting.points(effect.ci_low)} to {formatting.points(effect.ci_high)}), "
                       f"p {formatting.p_value(effect.p_value)}")
        else:
            click.echo(f"    {effect.reason}")
    for s in unjudged:
        click.echo(f"{s.date}  {'(no calls)':<16} {'too little data':<16} {s.title}")


def _measure_json(m: MeasureImpact) -> dict[str, Any]:
    e = m.effect
    return {"before": m.before, "after": m.after, "change": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high,
            "p_value": e.p_value, "verdict": e.verdict, "simple_change": m.simple_change,
            "unit": "fraction" if m.unit == "rate" else "seconds"}


def _judged_json(j: JudgedTraining) -> dict[str, Any]:
    return {
        "site": j.session.site, "office": j.office, "date": j.session.date.isoformat(), "title": j.session.title,
        "notes": j.session.notes, "source": j.session.source, "verdict": j.impact.verdict,
        "headline": j.impact.headline, "explanation": j.impact.explanation, "warnings": list(j.impact.warnings),
        **{m.metric: _measure_json(m) for m in j.impact.measures},
    }


def _unjudged_json(s: TrainingSession) -> dict[str, Any]:
    empty = dict.fromkeys(("before", "after", "change", "ci_low", "ci_high", "p_value", "simple_change"))
    return {
        "site": s.site, "office": None, "date": s.date.isoformat(), "title": s.title, "notes": s.notes,
        "source": s.source, "verdict": "too little data", "headline": "No office has calls to judge it by yet.",
        "explanation": None, "warnings": [],
        **{key: {**empty, "verdict": "too little data"} for key, *_ in MEASURES},
    }


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@training_command.command("add")
@click.argument("day", metavar="DATE")
@click.argument("title")
@click.option("--site", default=None, help="The office trained (default: every office).")
@click.option("--notes", default="", help="What the training covered.")
@with_settings
def add_command(settings: Settings, day: str, title: str, site: str | None, notes: str) -> None:
    """Record a training held on DATE (YYYY-MM-DD)."""
    when = _day(day)
    store.add_training(open_store(settings), site, when, title, notes)
    click.echo(f"added {title!r} on {when} for {site or 'every office'}")


@training_command.command("remove")
@click.argument("day", metavar="DATE")
@click.argument("title", required=False)
@click.option("--site", default=None, help="The office's training (default: the one for every office).")
@with_settings
def remove_command(settings: Settings, day: str, title: str | None, site: str | None) -> None:
    """Remove stored trainings held on DATE (with TITLE, if given). Trainings in callwatch.yaml stay."""
    when = _day(day)
    removed = store.remove_training(open_store(settings), when, title, site)
    if not removed:
        raise click.ClickException(f"no stored training on {when}{f' titled {title!r}' if title else ''} "
                                   f"for {site or 'every office'} (trainings in callwatch.yaml are edited there)")
    click.echo(f"removed {removed} training(s) on {when}")


__all__ = ["training_command"]
