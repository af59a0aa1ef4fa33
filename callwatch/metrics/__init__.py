"""Pure functions over a DataFrame of calls (DESIGN.md "Metrics").

Where each DESIGN.md number lives:

| DESIGN.md                                   | module      | function                                   |
| ------------------------------------------- | ----------- | ------------------------------------------ |
| settings that shape a number                | params      | MetricParams, MetricParams.from_settings   |
| reading the store (the only I/O)            | loader      | load_calls, load_live, load_follow_up_handled |
| business hours, holidays, time zone, DST    | hours       | after_hours, local_day_bounds              |
| ring_seconds, rings, after_hours, ... flags | frame       | prepare                                    |
| offered, the four rates, within-target      | summary     | summarize                                  |
| speed of answer (mean, median, p90), rings  | speed       | speed_of_answer, ring_distribution         |
| by hour x weekday, day, week, staff, queue, site | summary | summarize_by                               |
| year-long views (per-day sums)              | rollup      | daily_rollup, summarize_rollup             |
| ... persisted in the store, kept current    | rollup_store | load_rollups, ensure_rollups, refresh_written_rollups |
| follow-ups, awaiting list, follow-up rate   | follow_ups  | follow_ups, awaiting_follow_up, follow_up_summary |
| "every number explains itself"              | explain     | formula, calls_behind                      |
| training impact                             | training    | training_impact                            |
| many offices side by side                   | group       | compare_sites                              |

The flow is always: loader.load_calls -> frame.prepare -> summary / follow_ups /
rollup. Nothing here reads a clock: functions that need "now" take it.
"""
