"""The weekly report: build (numbers), html/export (files), mail, schedule.

`run` wires them for the CLI and the service.
"""
