"""The README cannot drift from the CLI: every command and option it shows exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from callwatch.cli import main

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def _documented_invocations() -> list[str]:
    """`callwatch …` as written in README code: fenced blocks and inline `code`."""
    code = re.findall(r"```sh\n(.*?)```", README, flags=re.S) + re.findall(r"`([^`\n]+)`", README)
    found = []
    for chunk in code:
        for line in chunk.splitlines():
            line = line.split("#", 1)[0].split(">", 1)[0].strip()
            match = re.search(r"(?:^|\s|/)callwatch (\S.*)$", line)
            if match:
                found.append(match.group(1).strip())
    return sorted(set(found))


INVOCATIONS = _documented_invocations()


def test_readme_documents_the_commands() -> None:
    names = {inv.split()[0] for inv in INVOCATIONS}
    assert {"import", "calls", "metrics", "collect", "dashboard", "report", "check-config", "demo"} <= names


@pytest.mark.parametrize("invocation", INVOCATIONS)
def test_every_documented_invocation_parses(invocation: str) -> None:
    words = shlex.split(invocation)
    if words[0].startswith("-"):
        assert words[0] in {"--help", "-h", "--version"}
        return
    command = main.commands.get(words[0])
    assert command is not None, f"README shows `callwatch {words[0]}`, which does not exist"
    if len(words) == 1:
        return  # prose naming the command, not an example to run
    ctx = click.Context(command, info_name=words[0])
    # Parsing (not running) checks every option and argument the README shows;
    # a password prompt gets its answer from the isolated stdin.
    with CliRunner().isolation(input="pw\npw\n"):
        command.parse_args(ctx, list(words[1:]))


def test_make_run_and_make_test_are_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
    assert re.search(r"^run:", MAKEFILE, flags=re.M) and re.search(r"^test:", MAKEFILE, flags=re.M)
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
