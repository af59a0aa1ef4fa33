"""CSV export of call records: masked callers, and no cell a spreadsheet would run.

A cell starting with = + - @ (or a tab / carriage return) is taken as a formula
by Excel and LibreOffice; queue names and staff names come from the PBX and
could carry one. Such cells get a leading apostrophe (OWASP's advice).
"""

from __future__ import annotations

import csv
import io

import flask
import pandas as pd

from callwatch.dashboard import data
from callwatch.formatting import safe_cell


def to_csv(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def install(server: flask.Flask) -> None:
    # Behind the login like every route (auth.install_login's before_request).
    server.add_url_rule("/download/calls.csv", "download_calls", _calls_csv)


def _calls_csv() -> flask.Response:
    ctx = data.context()
    query = flask.request.args.to_dict()
    rng = data.parse_range(ctx, query.get("start"), query.get("end"), 30, query.get("site"), query.get("queue"))
    table = data.call_table(ctx, rng, data.CallFilter.from_query(query))
    name = f"callwatch-calls-{rng.first:%Y%m%d}-{rng.last:%Y%m%d}.csv"
    return flask.Response(
        to_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
