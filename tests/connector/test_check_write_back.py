"""`plaza connector check` names what write-back needs: with --write-back, or by itself when
a sync job in PLAZA_DATA_DIR has write-back on (the composition root tells the connector)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from plaza.cli import main
from sync.db import open_index
from sync.jobs import add_job, documents_job
from sync.schedules import Schedule
from sync.targets import DocumentTarget
from tests.connector.test_check import CONSENT, run_check, set_roles

READ = ["Sites.Read.All", "User.Read.All", "GroupMember.Read.All"]


def test_write_back_check_passes_with_both_permissions(fresh_emulator, tmp_path: Path):
    set_roles(fresh_emulator, [*READ, "Sites.Manage.All"])
    code, lines = run_check(fresh_emulator, tmp_path, write_back=True)
    assert code == 0, lines
    (line,) = [line for line in lines if "write-back" in line]
    assert line.startswith(
        "OK    sharepoint write-back: Sites.Manage.All and Sites.ReadWrite.All work on "
        "SharePoint: added 5 Plaza columns in the library of '"
    )


def test_write_back_check_names_the_missing_permission(fresh_emulator, tmp_path: Path):
    set_roles(fresh_emulator, READ)
    code, lines = run_check(fresh_emulator, tmp_path, write_back=True)
    assert code == 1
    assert (
        f"FAIL  sharepoint write-back: Sites.Manage.All (application) is not granted: {CONSENT}"
        in lines
    )


def test_a_job_with_write_back_turns_the_check_on(fresh_emulator, tmp_path: Path):
    set_roles(fresh_emulator, READ)
    env_file = tmp_path / "emulator.env"
    fresh_emulator.write_env(env_file)
    env = {"PLAZA_DATA_DIR": str(tmp_path / "data")}
    args = ["connector", "check", "--env-file", str(env_file)]
    before = CliRunner().invoke(main, args, env=env)
    assert "write-back" not in before.output
    index = open_index(tmp_path / "data" / "index.db")
    job = documents_job("docs", DocumentTarget(all_sites=True), Schedule.interval("1h"))
    add_job(index, replace(job, write_back=True))
    index.close()
    after = CliRunner().invoke(main, args, env=env)
    assert after.exit_code == 1
    assert "FAIL  sharepoint write-back: Sites.Manage.All (application) is not granted" in (
        after.output
    )
