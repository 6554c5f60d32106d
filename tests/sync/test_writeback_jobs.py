"""`plaza sync edit JOB --write-back / --no-write-back`: stored on the job, shown by `list` and
`show`, refused for people jobs, and kept by other edits."""

from __future__ import annotations

from sync.jobs import get_job
from tests.sync.conftest import index_of, plaza


def write_back_of(env, name: str) -> bool:
    db = index_of(env)
    try:
        return get_job(db, name).write_back
    finally:
        db.close()


def test_write_back_is_switched_per_job(emulator, env):
    site = f"{emulator.base_url}/sites/tax"
    plaza(env, "sync", "add", "docs", "--site", site, "--every", "1h")
    assert write_back_of(env, "docs") is False
    result = plaza(env, "sync", "edit", "docs", "--write-back")
    assert result.stdout == f"updated job docs: sites {site}; write-back on, every 1h\n"
    assert write_back_of(env, "docs") is True
    listing = plaza(env, "sync", "list").stdout.splitlines()
    assert listing[1].endswith(f"sites {site}; write-back on")
    shown = plaza(env, "sync", "show", "docs").stdout.splitlines()
    assert "write-back: on (discussion counts written into its libraries)" in shown
    # other edits keep it
    plaza(env, "sync", "edit", "docs", "--every", "30m")
    assert write_back_of(env, "docs") is True
    result = plaza(env, "sync", "edit", "docs", "--no-write-back")
    assert result.stdout == f"updated job docs: sites {site}, every 30m\n"
    assert write_back_of(env, "docs") is False


def test_people_jobs_have_no_write_back(env):
    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    result = plaza(env, "sync", "edit", "people", "--write-back")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: job 'people' mirrors people and groups: write-back applies to documents jobs\n"
    )
    assert write_back_of(env, "people") is False
