"""`plaza connector ...` commands (the root `plaza` group adds `connector_group`)."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import click

from connector.check import run_check
from connector.errors import SettingsError
from connector.settings import ConnectorSettings


@click.group("connector", help="The Microsoft 365 connection: settings and permissions.")
def connector_group() -> None:
    pass


def _no_write_back(environ: dict[str, str]) -> bool:
    return False


# Whether any sync job has write-back on: the connector cannot read the index, so the
# composition root (plaza/cli.py) puts its own answer here.
WRITE_BACK_PROBE: Callable[[dict[str, str]], bool] = _no_write_back


@connector_group.command("check")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML settings file with a [connector] table (default: $PLAZA_CONFIG).",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="PLAZA_* settings as KEY=VALUE lines (e.g. what `plaza emulator serve "
    "--env-file` writes); the environment wins over it.",
)
@click.option(
    "--write-back/--no-write-back",
    default=None,
    help="Also check what write-back needs (default: when a sync job has write-back on).",
)
def check_command(config_file: str | None, env_file: str | None, write_back: bool | None) -> None:
    """Gets a token and reads one site, drive page, permission set, user and group; says what
    works and what an admin must grant. Exit status 1 when something needed is missing."""
    environ = {**read_env_file(env_file), **os.environ} if env_file else dict(os.environ)
    try:
        settings = ConnectorSettings.from_env(environ, config_file=config_file)
    except SettingsError as exc:
        for problem in exc.problems:
            click.echo(f"FAIL  settings: {problem}")
        sys.exit(2)
    if write_back is None:
        write_back = WRITE_BACK_PROBE(environ)
    report = run_check(settings, write_back=write_back)
    for line in report.lines():
        click.echo(line)
    sys.exit(0 if report.ok else 1)


def read_env_file(path: str | Path) -> dict[str, str]:
    """KEY=VALUE lines, shell-quoted; blank lines and # comments ignored."""
    values: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words and "=" in words[0]:
            name, _, value = words[0].partition("=")
            values[name.removeprefix("export ").strip()] = value
    return values
