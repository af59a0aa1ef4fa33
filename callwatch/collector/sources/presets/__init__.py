"""Import presets: one module per vendor export, each a `Preset` (data) plus a small `to_call`.

A preset names the vendor's documented columns (with the spellings its web
export and its API use), maps the vendor's result words onto our four
outcomes, and says how much the export knows about ring time:

- ``exact``: a documented ring or wait column (Yeastar ``ring_duration``);
- ``derived``: only start and answer times, so ring time = answer - start in whole seconds;
- ``unknown``: neither; such calls are stored without ``ring_started_at`` so no
  ring-time number is ever computed from them.

``staff_name_column`` names the column holding the answering person's name, for
the staff directory. Where each column and word comes from: docs/presets.md.
"""

from __future__ import annotations

from callwatch.collector.sources.presets.base import Preset, RingTime
from callwatch.collector.sources.presets.eight_by_eight import EIGHT_BY_EIGHT
from callwatch.collector.sources.presets.freepbx import FREEPBX
from callwatch.collector.sources.presets.mango import MANGO
from callwatch.collector.sources.presets.ringcentral import RINGCENTRAL_JSON
from callwatch.collector.sources.presets.threecx import THREECX_ABANDONED, THREECX_CALL_LOG
from callwatch.collector.sources.presets.yeastar import YEASTAR
from callwatch.collector.sources.presets.zoom import ZOOM

PRESETS: dict[str, Preset] = {p.name: p for p in (
    FREEPBX, YEASTAR, MANGO, EIGHT_BY_EIGHT, RINGCENTRAL_JSON, THREECX_CALL_LOG, THREECX_ABANDONED, ZOOM)}

# Systems asked for that have no preset, and why (docs/presets.md has the detail).
NOT_SUPPORTED: dict[str, str] = {
    "teams": "Microsoft Teams call records have no missed or abandoned outcome, so the answer rate cannot be computed",
    "3cx": "use preset 3cx-call-log or 3cx-abandoned-queue (XAPI JSON); the 3CX CDR output is not supported: "
    "the words of its reason-terminated field are not documented",
    "3cx-cdr": "the words of the 3CX CDR's reason-terminated field are not documented, so a caller's hang-up "
    "cannot be told from a timeout or voicemail; use preset 3cx-call-log or 3cx-abandoned-queue",
    "zoom": "use preset zoom-phone (call logs or call history saved from Zoom's Phone API as JSON); "
    "the web portal's CSV download's columns are not documented",
    "dialpad": "Dialpad documents what its categories mean but not the export's column names",
    "ringcentral-csv": "RingCentral's CSV call log export columns are not in its public documentation found; "
    "use preset ringcentral-json",
}

__all__ = ["NOT_SUPPORTED", "PRESETS", "Preset", "RingTime", "preset_named"]


def preset_named(name: str) -> Preset:
    """The preset called `name`, or a ValueError that lists the ones there are."""
    if name in PRESETS:
        return PRESETS[name]
    if name in NOT_SUPPORTED:
        raise ValueError(f"preset {name!r} is not supported: {NOT_SUPPORTED[name]} (see docs/presets.md)")
    raise ValueError(f"no preset {name!r}; presets: {', '.join(sorted(PRESETS))}")
