"""The Entra app registration `plaza manifests build` writes, and its input errors.

Permission GUIDs below are typed from Microsoft's published service principals of Microsoft
Graph (00000003-0000-0000-c000-000000000000) and SharePoint Online
(00000003-0000-0ff1-ce00-000000000000), not read from the code under test.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from plaza.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
NO_SETTINGS = {"PLAZA_CONFIG": "", "PLAZA_CLIENT_ID": "", "PLAZA_TENANT_ID": "",
               "PLAZA_AUTHORITY": "", "PLAZA_PUBLIC_URL": ""}  # fmt: skip
GRAPH, SHAREPOINT = "00000003-0000-0000-c000-000000000000", "00000003-0000-0ff1-ce00-000000000000"
EXPECTED_ACCESS = {
    GRAPH: {
        ("332a536c-c7ef-4017-ab91-336970924f0d", "Role"),  # Sites.Read.All
        ("df021288-bdef-4463-88db-98f22de89214", "Role"),  # User.Read.All
        ("98830695-27a2-44f7-8c18-0c3ebc9698f6", "Role"),  # GroupMember.Read.All
        ("37f7f235-527c-4136-accd-4a02d197296e", "Scope"),  # openid
        ("14dad69e-099b-42c9-810b-d002981feec1", "Scope"),  # profile
        ("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "Scope"),  # offline_access
        ("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "Scope"),  # User.Read
        ("df85f4d6-205c-4ac5-a5ea-6bf408dba283", "Scope"),  # Files.Read.All
        ("205e70e5-aba6-4c52-a976-6d2d46c48043", "Scope"),  # Sites.Read.All
    },
    SHAREPOINT: {
        ("d13f72ca-a275-4b96-b789-48ebcc4da984", "Role"),  # Sites.Read.All
        ("9bff6588-13f2-4c48-bbf2-ddab62256b36", "Role"),  # Sites.Manage.All
        ("fbcd29d2-fcca-4405-aded-518d457caae4", "Role"),  # Sites.ReadWrite.All
    },
}
# learn.microsoft.com, "Configure your tab app in Microsoft Entra ID": Teams desktop/mobile,
# Teams web, Microsoft 365 web, Microsoft 365 desktop, Microsoft 365 mobile and Outlook
# desktop (one id), Outlook web, Outlook mobile.
PRE_AUTHORIZED = [
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
    "4765445b-32c6-49b0-83e6-1d93765276ca",
    "0ec893e0-5785-4de6-99da-4ed124e5296c",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c",
    "bc59ab01-8403-45c6-8796-ac3ef710b3e3",
    "27922004-5251-4030-b22d-91ecd9a37ea4",
]


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        main, ["manifests", "build", "--no-sharepoint", *args], env={**NO_SETTINGS, **(env or {})}
    )


def registration(out: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    result = run("--out", str(out), *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads((out / "entra" / "app-registration.json").read_text())


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("entra")
    return registration(out, "--public-url", "https://plaza.contoso.com",
                        "--client-id", CLIENT_ID, "--tenant-id", TENANT_ID)  # fmt: skip


def test_identity_and_sign_in(app):
    assert app["identifierUris"] == [f"api://plaza.contoso.com/{CLIENT_ID}"]
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["web"]["redirectUris"] == ["https://plaza.contoso.com/auth/callback"]
    assert app["api"]["requestedAccessTokenVersion"] == 2
    assert "appId" not in app and "id" not in app  # read-only in Graph: never in a PATCH


def test_access_as_user_scope_and_its_pre_authorised_clients(app):
    [scope] = app["api"]["oauth2PermissionScopes"]
    assert (scope["value"], scope["type"], scope["isEnabled"]) == ("access_as_user", "User", True)
    assert str(uuid.UUID(scope["id"])) == scope["id"]
    assert app["api"]["preAuthorizedApplications"] == [
        {"appId": client, "delegatedPermissionIds": [scope["id"]]} for client in PRE_AUTHORIZED
    ]


def test_every_permission_by_its_real_guid(app):
    found = {
        entry["resourceAppId"]: {(a["id"], a["type"]) for a in entry["resourceAccess"]}
        for entry in app["requiredResourceAccess"]
    }
    assert found == EXPECTED_ACCESS
    assert sum(len(e["resourceAccess"]) for e in app["requiredResourceAccess"]) == 12


def test_the_readme_explains_every_permission(app):
    readme = (ROOT / "manifests" / "README.md").read_text()
    for entries in EXPECTED_ACCESS.values():
        for guid, _ in entries:
            assert guid in readme
    for client in PRE_AUTHORIZED:
        assert client in readme


def test_admin_role_matches_plazas_setting(app):
    [role] = app["appRoles"]
    assert (role["value"], role["allowedMemberTypes"]) == ("Plaza.Admin", ["User"])


def test_ids_are_stable_and_follow_the_registration(app, tmp_path):
    again = registration(tmp_path / "a", "--public-url", "https://plaza.fabrikam.com",
                         "--client-id", CLIENT_ID.upper(), "--tenant-id", TENANT_ID)  # fmt: skip
    scope_id = app["api"]["oauth2PermissionScopes"][0]["id"]
    assert again["api"]["oauth2PermissionScopes"][0]["id"] == scope_id
    assert again["appRoles"][0]["id"] == app["appRoles"][0]["id"]
    assert again["identifierUris"] == [f"api://plaza.fabrikam.com/{CLIENT_ID}"]
    other = registration(tmp_path / "b", "--public-url", "https://plaza.contoso.com",
                         "--client-id", TENANT_ID, "--tenant-id", TENANT_ID)  # fmt: skip
    assert other["api"]["oauth2PermissionScopes"][0]["id"] != scope_id


def test_settings_supply_client_and_tenant(tmp_path):
    config = tmp_path / "plaza.toml"
    config.write_text(
        f'[connector]\nclient_id = "{CLIENT_ID}"\n'
        f'authority = "https://login.microsoftonline.com/{TENANT_ID}"\n'
        '[web]\npublic_url = "http://localhost:5000"\n'
    )
    app = registration(tmp_path / "out", env={"PLAZA_CONFIG": str(config)})
    assert app["identifierUris"] == [f"api://localhost:5000/{CLIENT_ID}"]
    assert app["web"]["redirectUris"] == ["http://localhost:5000/auth/callback"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client-id", CLIENT_ID, "--tenant-id", TENANT_ID],
         "Error: no public URL: pass --public-url https://plaza.example.com"),
        (["--public-url", "http://plaza.contoso.com", "--client-id", CLIENT_ID,
          "--tenant-id", TENANT_ID],
         "Error: public URL must use https (http only for localhost), "
         "got 'http://plaza.contoso.com'"),
        (["--public-url", "ftp://plaza.contoso.com", "--client-id", CLIENT_ID,
          "--tenant-id", TENANT_ID],
         "Error: public URL must be https://host, got 'ftp://plaza.contoso.com'"),
        (["--public-url", "https://plaza.contoso.com/plaza", "--client-id", CLIENT_ID,
          "--tenant-id", TENANT_ID],
         "Error: public URL must be the origin only (scheme and host), "
         "got 'https://plaza.contoso.com/plaza'"),
        (["--public-url", "https://plaza.contoso.com:99999", "--client-id", CLIENT_ID,
          "--tenant-id", TENANT_ID],
         "Error: public URL 'https://plaza.contoso.com:99999' is not a valid URL: "
         "Port out of range 0-65535"),
        (["--public-url", "https://plaza.contoso.com", "--tenant-id", TENANT_ID],
         "Error: no client id: set PLAZA_CLIENT_ID (or client_id in the config file) "
         "or pass --client-id"),
        (["--public-url", "https://plaza.contoso.com", "--client-id", "plaza",
          "--tenant-id", TENANT_ID],
         "Error: client id must be a GUID (the application (client) id), got 'plaza'"),
        (["--public-url", "https://plaza.contoso.com", "--client-id", CLIENT_ID],
         "Error: no tenant: set PLAZA_TENANT_ID (or tenant_id in the config file) "
         "or pass --tenant-id"),
        (["--public-url", "https://plaza.contoso.com", "--client-id", CLIENT_ID,
          "--tenant-id", "not a tenant"],
         "Error: tenant must be a GUID or a domain name, got 'not a tenant'"),
        (["--public-url", "https://plaza.contoso.com", "--client-id", CLIENT_ID,
          "--tenant-id", TENANT_ID, "--privacy-url", "http://x"],
         "Error: privacy URL must be an https:// URL, got 'http://x'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    result = run("--out", str(tmp_path / "out"), *args)
    assert result.exit_code == 1
    assert result.output.splitlines() == [message]
    assert not (tmp_path / "out").exists()


def test_an_unreadable_config_file_is_one_line(tmp_path):
    result = run("--out", str(tmp_path / "out"), env={"PLAZA_CONFIG": str(tmp_path / "none.toml")})
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: config file {tmp_path}/none.toml cannot be read: No such file or directory"
    ]


def test_default_folder_is_in_plazas_data_folder(tmp_path):
    data = tmp_path / "data"
    result = run("--public-url", "https://plaza.contoso.com", "--client-id", CLIENT_ID,
                 "--tenant-id", TENANT_ID, env={"PLAZA_DATA_DIR": str(data)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        f"wrote {data}/manifests/teams/plaza-teams.zip",
        f"wrote {data}/manifests/entra/app-registration.json",
    ]


def test_an_output_folder_that_cannot_be_one_is_one_line(tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file")
    base = ["--public-url", "https://plaza.contoso.com", "--client-id", CLIENT_ID,
            "--tenant-id", TENANT_ID]  # fmt: skip
    result = run(*base, "--out", str(blocker))
    assert (result.exit_code, result.output.splitlines()) == (
        1, [f"Error: output folder {blocker} is a file"],
    )  # fmt: skip
    result = run(*base, "--out", str(blocker / "inside"))
    assert (result.exit_code, result.output.splitlines()) == (
        1, [f"Error: cannot write {blocker}/inside/teams: Not a directory"],
    )  # fmt: skip
    assert blocker.read_text() == "a file"
