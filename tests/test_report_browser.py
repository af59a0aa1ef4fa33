"""The report renders in headless Chromium, on screen and on paper, with nothing fetched from the network.

The PNG and PDF land in tests/output/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from support.browser_support import OPTIONS, OUTPUT
from support.history import history

from callwatch import store
from callwatch.config.settings import Settings, Training
from callwatch.report.build import build_report
from callwatch.report.run import write_report

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(profile: Path, *args: str) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (run scripts/install-system-deps.sh as root)")
    subprocess.run(
        [CHROMIUM, *OPTIONS, f"--user-data-dir={profile}", *args], check=True, timeout=180, capture_output=True
    )


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_report_renders_in_headless_chromium_and_prints(tmp_path: Path) -> None:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    store.init_db(engine)
    store.save_calls(engine, history(date(2026, 9, 28), 8, date(2026, 10, 28)))
    settings = Settings(trainings=[Training(date=date(2026, 10, 28), title="Phone manner")])
    report = build_report(engine, settings, now=datetime(2026, 11, 23, 12, tzinfo=UTC))
    OUTPUT.mkdir(exist_ok=True)
    html_path, _csv, html, _text = write_report(report, OUTPUT)
    # Self-contained: no scripts, stylesheets or images fetched from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"(src|href)=['\"]?https?:", html)
    png, pdf = OUTPUT / "weekly-report.png", OUTPUT / "weekly-report.pdf"
    for stale in (png, pdf):
        stale.unlink(missing_ok=True)
    url = html_path.resolve().as_uri()
    _chromium(tmp_path / "profile", f"--screenshot={png}", "--window-size=1200,2400", url)
    _chromium(tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url)
    assert _png_size(png) == (1200, 2400)
    assert png.stat().st_size > 100_000  # a blank page compresses to a few kB
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 30_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 2 <= pages <= 6
