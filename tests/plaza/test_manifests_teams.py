"""`plaza manifests build` end to end through the real click command: the Teams package and
the Entra registration it writes, and the one-line errors for bad input."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image

from plaza.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "manifests" / "schemas" / "teams" / "v1.30" / "MicrosoftTeams.schema.json"
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PUBLIC_URL = "https://plaza.contoso.com"
NO_SETTINGS = {"PLAZA_CONFIG": "", "PLAZA_CLIENT_ID": "", "PLAZA_TENANT_ID": "",
               "PLAZA_AUTHORITY": "", "PLAZA_PUBLIC_URL": ""}  # fmt: skip


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        main, ["manifests", "build", *args], env={**NO_SETTINGS, **(env or {})}
    )


def build(out: Path, public_url: str = PUBLIC_URL) -> str:
    result = run("--public-url", public_url, "--client-id", CLIENT_ID, "--tenant-id", TENANT_ID,
                 "--out", str(out), "--no-sharepoint")  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("manifests")
    build(out)
    return out


def package_files(out: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(out / "teams" / "plaza-teams.zip") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_prints_what_it_wrote(tmp_path):
    assert build(tmp_path).splitlines() == [
        f"wrote {tmp_path}/teams/plaza-teams.zip",
        f"wrote {tmp_path}/entra/app-registration.json",
        f"admin consent: https://login.microsoftonline.com/{TENANT_ID}/adminconsent"
        f"?client_id={CLIENT_ID}",
    ]


def test_the_package_holds_exactly_the_manifest_and_two_icons(built):
    assert sorted(package_files(built)) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_validates_against_microsofts_schema(built):
    schema = json.loads(SCHEMA.read_text())
    manifest = json.loads(package_files(built)["manifest.json"])
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert manifest["$schema"].endswith("/teams/v1.30/MicrosoftTeams.schema.json")
    assert manifest["manifestVersion"] == "1.30"
    # The schema declares draft-04 but uses draft-06's `const` (manifestVersion): check both.
    for validator in (jsonschema.Draft4Validator, jsonschema.Draft7Validator):
        checker = validator(schema, format_checker=validator.FORMAT_CHECKER)
        assert [error.message for error in checker.iter_errors(manifest)] == []
    broken = {**manifest, "manifestVersion": "1.29"}
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_the_manifest_points_at_plaza(built):
    manifest = json.loads(package_files(built)["manifest.json"])
    assert manifest["validDomains"] == ["plaza.contoso.com"]
    assert manifest["webApplicationInfo"] == {
        "id": CLIENT_ID,
        "resource": f"api://plaza.contoso.com/{CLIENT_ID}",
    }
    assert [(t["entityId"], t["contentUrl"], t["scopes"]) for t in manifest["staticTabs"]] == [
        ("plaza-home", f"{PUBLIC_URL}/teams/tab/home", ["personal"]),
        ("plaza-activity", f"{PUBLIC_URL}/teams/tab/activity", ["personal"]),
    ]
    [pin] = manifest["configurableTabs"]
    assert pin["configurationUrl"] == f"{PUBLIC_URL}/teams/config"
    assert pin["scopes"] == ["team", "groupChat"]
    assert manifest["developer"] == {
        "name": "Plaza",
        "websiteUrl": PUBLIC_URL,
        "privacyUrl": f"{PUBLIC_URL}/privacy",
        "termsOfUseUrl": f"{PUBLIC_URL}/terms",
    }
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["version"] == "0.1.0"


def test_icons_have_teams_sizes_and_modes(built):
    files = package_files(built)
    color = Image.open(io.BytesIO(files["color.png"]))
    assert (color.format, color.size, color.mode) == ("PNG", (192, 192), "RGB")
    outline = Image.open(io.BytesIO(files["outline.png"]))
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")
    raw = outline.tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    # White where drawn, fully transparent everywhere else: nothing in between.
    assert set(pixels) - {(255, 255, 255, 255)} <= {p for p in pixels if p[3] == 0}
    drawn = sum(1 for p in pixels if p == (255, 255, 255, 255))
    assert 60 < drawn < 32 * 32 // 2
    assert pixels[0] == (0, 0, 0, 0)


def test_a_rebuild_gives_the_same_app_and_the_same_bytes(built, tmp_path):
    build(tmp_path)
    first, second = package_files(built), package_files(tmp_path)
    assert json.loads(first["manifest.json"])["id"] == json.loads(second["manifest.json"])["id"]
    assert (built / "teams" / "plaza-teams.zip").read_bytes() == (
        tmp_path / "teams" / "plaza-teams.zip"
    ).read_bytes()
    build(tmp_path)  # over its own output: overwritten in place, nothing left beside it
    assert sorted(p.name for p in (tmp_path / "teams").iterdir()) == ["plaza-teams.zip"]


def test_another_address_is_another_app(built, tmp_path):
    build(tmp_path, "https://plaza.fabrikam.com")
    here = json.loads(package_files(built)["manifest.json"])["id"]
    there = json.loads(package_files(tmp_path)["manifest.json"])
    assert there["id"] != here
    assert there["validDomains"] == ["plaza.fabrikam.com"]


def test_the_schema_is_microsofts_file_unchanged():
    """manifests/schemas/ holds build/json-schemas/teams/v1.30/MicrosoftTeams.schema.json of
    npm @microsoft/app-manifest@1.1.2 byte for byte (manifests/README.md)."""
    digest = hashlib.sha256(SCHEMA.read_bytes()).hexdigest()
    assert digest == "3339690aacd9049bc65ade66b258982803d8c6c6d3897a23f8a057b6ebe35479"
