"""The emulator's Teams host and SharePoint page, over HTTPS with requests (the browser side is
tests/browser/test_teams.py): sign-in, the package read from disk, tokens, the consent control."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jwt

PLAZA = "https://plaza.example.com"


def member(handle, n: int = 2):
    people = [u for u in handle.tenant.users.values() if u.user_type == "Member"]
    return [u for u in people if u.account_enabled][n]


def signed_in(handle, upn: str):
    session = handle.session()
    answer = session.post(
        f"{handle.base_url}/_emulator/host/signin",
        data={"login": upn, "password": handle.tenant.password, "next": "/_emulator/teams/"},
        allow_redirects=False,
        timeout=30,
    )
    assert (answer.status_code, answer.headers["Location"]) == (303, "/_emulator/teams/")
    return session


def write_package(path: Path, client_id: str) -> Path:
    manifest = {
        "id": "00000000-0000-0000-0000-00000000a11a",
        "name": {"short": "Plaza"},
        "staticTabs": [
            {
                "entityId": "home",
                "name": "Home",
                "contentUrl": PLAZA + "/t?e={entityId}&h={loginHint}",
            }
        ],
        "configurableTabs": [{"configurationUrl": PLAZA + "/teams/config"}],
        "webApplicationInfo": {"id": client_id, "resource": f"api://plaza.example.com/{client_id}"},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
    path.write_bytes(buffer.getvalue())
    return path


def test_the_host_asks_for_a_sign_in_then_frames_the_tab_with_its_placeholders_filled(
    emulator, tmp_path
) -> None:
    user = member(emulator)
    package = write_package(tmp_path / "app.zip", emulator.info["client_id"])
    url = f"{emulator.base_url}/_emulator/teams/?package={package}"
    with emulator.session() as anonymous:
        assert 'class="host-signin"' in anonymous.get(url, timeout=30).text
    with signed_in(emulator, user.user_principal_name) as session:
        page = session.get(url, timeout=30).text
        config = json.loads(page.split('id="host-config">')[1].split("</script>")[0])
        assert config["url"] == f"{PLAZA}/t?e=home&h={user.user_principal_name.replace('@', '%40')}"
        assert (config["frameContext"], config["user"]["id"]) == ("content", user.id)
        settings = session.get(url + "&tab=configurable", timeout=30).text
        assert f'src="{PLAZA}/teams/config"' in settings
        missing = session.get(f"{emulator.base_url}/_emulator/teams/?package=/nope.zip", timeout=30)
        assert missing.status_code == 400


def test_the_host_token_is_teams_for_registered_resources_only(emulator) -> None:
    user = member(emulator)
    client_id = emulator.info["client_id"]
    with signed_in(emulator, user.user_principal_name) as session:
        good = session.post(
            f"{emulator.base_url}/_emulator/teams/token",
            json={"resource": f"api://plaza.example.com/{client_id}"},
            timeout=30,
        )
        unknown = session.post(
            f"{emulator.base_url}/_emulator/teams/token",
            json={"resource": "api://plaza.example.com/not-registered"},
            timeout=30,
        )
    claims = jwt.decode(good.json()["token"], options={"verify_signature": False})
    assert (claims["aud"], claims["azp"], claims["oid"]) == (
        f"api://plaza.example.com/{client_id}",
        "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
        user.id,
    )
    assert (unknown.status_code, unknown.json()) == (400, {"error": "resourceDisabled"})


def test_the_consent_control_takes_known_states_only(emulator) -> None:
    with emulator.session() as session:
        answer = session.post(
            f"{emulator.base_url}/_emulator/consent",
            json={"user": member(emulator).user_principal_name, "state": "maybe"},
            timeout=30,
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "badRequest"
