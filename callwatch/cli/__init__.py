"""The `callwatch` command: the only package that imports all the others.

Each subcommand parses, calls the library, prints; the library never prints.
common.py holds the group and what every command shares; each feature's
commands live in their own module and are added to the group here.
"""

from callwatch.cli.alerts import alerts_command
from callwatch.cli.calls import calls_command, metrics_command
from callwatch.cli.collect import collect_command, replay_command
from callwatch.cli.common import main
from callwatch.cli.dashboard import register as register_dashboard
from callwatch.cli.demo import demo_command
from callwatch.cli.imports import import_command
from callwatch.cli.report import report_command
from callwatch.cli.training import training_command

for _command in (import_command, calls_command, metrics_command, collect_command, replay_command, report_command,
                 demo_command, alerts_command, training_command):
    main.add_command(_command)
register_dashboard(main)

__all__ = ["main"]
