"""Alerts: the moments the front desk must act now, noticed for them and sent where they look.

conditions.py decides, from a snapshot of the phones (pure, no I/O), which
conditions hold: a call ringing past the ring target, callers waiting in a
queue too long, the day's answer rate below the goal, several calls missed in
a few minutes, the collector silent. monitor.py takes the snapshot through the
metrics loader, keeps one stored alert per condition from the moment it fires
until it clears, and notifies once (notify.py, Apprise) unless it is quiet
hours. It runs inside `callwatch collect`, or alone as `callwatch alerts watch`
so that a collector that died is noticed too.
"""
