"""`plaza connector check` against the emulator: all green, then missing permissions."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from connector.cli import connector_group
from tests.connector.emulator.receiver import Receiver

CONSENT = "an admin must consent in Entra ID -> App registrations -> API permissions"


def run_check(handle, tmp_path: Path, write_back: bool = False, **env: str):
    env_file = tmp_path / "emulator.env"
    handle.write_env(env_file)
    clean = {name: None for name in os.environ if name.startswith("PLAZA_")}
    args = ["check", "--env-file", str(env_file)] + (["--write-back"] if write_back else [])
    result = CliRunner().invoke(connector_group, args, env={**clean, **env})
    return result.exit_code, result.output.splitlines()


def set_roles(handle, roles: list[str]) -> None:
    client_id = handle.info["client_id"]
    answer = handle.session().put(
        f"{handle.base_url}/_emulator/apps/{client_id}/roles", json={"roles": roles}
    )
    assert answer.ok, answer.text


def test_all_green(emulator, tmp_path: Path):
    code, lines = run_check(emulator, tmp_path)
    assert code == 0, lines
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "OK    token",
        "OK    sites",
        "OK    drive",
        "OK    permissions",
        "OK    users",
        "OK    groups",
        "OK    sharepoint comments",
        "SKIP  change notifications",
    ]
    assert lines[-2] == (
        "SKIP  change notifications: PLAZA_WEBHOOK_URL is not set: no change notifications; "
        "libraries are polled on each job's schedule"
    )
    assert lines[-1] == "all checks passed"
    assert lines[1].startswith("OK    sites: Sites.Read.All works: read site ")


def test_missing_roles_are_named_for_the_admin(fresh_emulator, tmp_path: Path):
    set_roles(fresh_emulator, ["User.Read.All"])
    code, lines = run_check(fresh_emulator, tmp_path)
    assert code == 1
    assert f"FAIL  sites: Sites.Read.All (application) is not granted: {CONSENT}" in lines
    assert f"FAIL  groups: GroupMember.Read.All (application) is not granted: {CONSENT}" in lines
    assert "SKIP  drive: needs a readable site" in lines
    assert any(line.startswith("OK    users: User.Read.All works") for line in lines)
    assert lines[-1] == "some checks failed"


def test_wrong_secret_is_explained(emulator, tmp_path: Path):
    code, lines = run_check(
        emulator,
        tmp_path,
        PLAZA_CLIENT_SECRET="wrong",
        PLAZA_CERT_KEY_PATH="",
        PLAZA_CERT_PATH="",
        PLAZA_CERT_THUMBPRINT="",
    )
    assert code == 1
    assert lines[0] == (
        "FAIL  token: Entra ID refused a token: the client secret is wrong or expired: create a "
        "new one in Entra ID -> App registrations -> Certificates & secrets and set "
        "PLAZA_CLIENT_SECRET (invalid_client)"
    )
    assert len(lines) == 2


def test_secret_only_cannot_read_sharepoint_comments(emulator, tmp_path: Path):
    code, lines = run_check(
        emulator, tmp_path, PLAZA_CERT_KEY_PATH="", PLAZA_CERT_PATH="", PLAZA_CERT_THUMBPRINT=""
    )
    assert code == 1
    assert lines[-3].startswith(
        "FAIL  sharepoint comments: SharePoint REST does not accept "
        "app-only tokens obtained with a client secret"
    )


def test_unusable_settings_exit_2(tmp_path: Path):
    env_file = tmp_path / "empty.env"
    env_file.write_text("# nothing here\n")
    clean = {name: None for name in os.environ if name.startswith("PLAZA_")}
    result = CliRunner().invoke(connector_group, ["check", "--env-file", str(env_file)], env=clean)
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == (
        "FAIL  settings: PLAZA_TENANT_ID is required (the directory (tenant) id of your Entra ID)"
    )


def test_an_unreachable_webhook_means_polling(emulator, tmp_path: Path):
    url = "https://localhost:9/webhooks/graph"  # nothing listens on port 9 (discard)
    code, lines = run_check(emulator, tmp_path, PLAZA_WEBHOOK_URL=url)
    assert code == 1
    assert lines[-2] == (
        f"FAIL  change notifications: Graph could not reach {url} (the validation handshake "
        "failed: is Plaza running there, reachable from Microsoft's servers?): no change "
        "notifications; libraries are polled on each job's schedule [ValidationError]"
    )


def test_a_reachable_webhook_gets_notifications(fresh_emulator, tmp_path: Path):
    receiver = Receiver(fresh_emulator.certificates)
    try:
        code, lines = run_check(fresh_emulator, tmp_path, PLAZA_WEBHOOK_URL=receiver.url)
    finally:
        receiver.stop()
    assert code == 0, lines
    assert lines[-2] == (
        f"OK    change notifications: Graph reached {receiver.url}: libraries get change "
        "notifications"
    )
    state = fresh_emulator.session().get(f"{fresh_emulator.base_url}/_emulator/subscriptions")
    assert state.json()["subscriptions"] == []  # the check's own subscription is deleted
