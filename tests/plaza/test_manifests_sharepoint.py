"""`plaza manifests build` with the SharePoint Framework toolchain: the real build of the
"Discuss" command set into a .sppkg, and what that package holds.

The toolchain is what `make test` installs (`npm ci` in manifests/sharepoint); the test
installs it the same way when it is missing, and skips only where Node.js is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "manifests" / "sharepoint"
COMPONENT_ID = "02d3bac6-8d3a-4698-a1db-73e5b1e76be4"
SOLUTION_ID = "23b71649-02a7-43a9-8eae-dd315f35db3b"
FEATURE_ID = "5ad6e962-e14a-4c25-9c78-c2621e23b50f"
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SP = "{http://schemas.microsoft.com/sharepoint/}"
API = f"api://plaza.contoso.com/{CLIENT_ID}"
PROPERTIES = {"plazaUrl": "https://plaza.contoso.com", "plazaApi": API}


def plaza(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real `plaza` command in a child process (settings from its arguments only)."""
    environ = {**env, "PLAZA_CONFIG": "", "PLAZA_CLIENT_ID": "", "PLAZA_TENANT_ID": ""}
    command = [sys.executable, "-m", "plaza.cli", "manifests", "build", *args]
    return subprocess.run(command, env=environ, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def sppkg(tmp_path_factory) -> zipfile.ZipFile:
    if shutil.which("npm") is None:
        pytest.skip("Node.js (npm) is not installed: the SharePoint Framework cannot run")
    if not (SOURCE / "node_modules" / ".bin" / "heft").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=SOURCE, check=True, timeout=1200)  # fmt: skip
    out = tmp_path_factory.mktemp("spfx")
    done = plaza("--public-url", "https://plaza.contoso.com", "--client-id", CLIENT_ID,
                 "--tenant-id", TENANT_ID, "--out", str(out), env=dict(os.environ))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"wrote {out}/sharepoint/plaza-discuss.sppkg" in done.stdout.splitlines()
    assert not (out / "sharepoint" / "source" / "node_modules").exists()
    # The build ran the command set's own unit tests (heft test: driveItem.test.ts and
    # tokenHandOff.test.ts, the panel's token hand-off); a failing one fails the build.
    compiled = out / "sharepoint" / "source" / "lib-commonjs" / "extensions" / "discuss"
    assert (compiled / "driveItem.test.js").is_file()
    assert (compiled / "tokenHandOff.test.js").is_file()
    return zipfile.ZipFile(out / "sharepoint" / "plaza-discuss.sppkg")


def feature_file(package: zipfile.ZipFile, name: str) -> ElementTree.Element:
    return ElementTree.fromstring(package.read(f"{FEATURE_ID}/{name}"))


def test_component_manifest_is_a_list_view_command_set(sppkg):
    root = feature_file(sppkg, f"Extension_{COMPONENT_ID}.xml")
    component = root.find(f"{SP}ClientSideComponent")
    assert component.get("Id") == COMPONENT_ID
    manifest = json.loads(component.get("ComponentManifest"))
    assert (manifest["id"], manifest["componentType"], manifest["extensionType"]) == (
        COMPONENT_ID, "Extension", "ListViewCommandSet",
    )  # fmt: skip
    assert list(manifest["items"]) == ["DISCUSS"]
    assert manifest["items"]["DISCUSS"]["title"] == {"default": "Discuss"}
    assert manifest["items"]["DISCUSS"]["iconImageUrl"].startswith("data:image/svg+xml;base64,")


def test_registered_for_document_libraries_with_plazas_address(sppkg):
    action = feature_file(sppkg, "elements.xml").find(f"{SP}CustomAction")
    assert action.get("RegistrationId") == "101"
    assert action.get("RegistrationType") == "List"
    # No suffix: the command bar and the context menu both.
    assert action.get("Location") == "ClientSideExtension.ListViewCommandSet"
    assert action.get("ClientSideComponentId") == COMPONENT_ID
    assert json.loads(action.get("ClientSideComponentProperties")) == PROPERTIES
    instance = feature_file(sppkg, "ClientSideInstance.xml").find(
        f"{SP}ClientSideComponentInstance"
    )
    assert instance.get("ListTemplateId") == "101"
    assert instance.get("ComponentId") == COMPONENT_ID
    assert json.loads(instance.get("Properties")) == PROPERTIES


def test_package_solution_is_tenant_wide(sppkg):
    app = ElementTree.fromstring(sppkg.read("AppManifest.xml"))
    assert app.get("ProductID") == SOLUTION_ID
    assert app.get("Name") == "plaza-discuss-client-side-solution"
    assert app.get("IsClientSideSolution") == "true"
    assert app.get("SkipFeatureDeployment") == "true"
    source = json.loads((SOURCE / "config" / "package-solution.json").read_text())
    assert source["solution"]["id"] == SOLUTION_ID
    assert source["solution"]["includeClientSideAssets"] is True
    assert [f["id"] for f in source["solution"]["features"]] == [FEATURE_ID]


def test_asks_for_plazas_api_for_the_panels_sign_in(sppkg):
    """The admin approves this in the SharePoint admin center's API access page; SharePoint's
    client extensibility principal may then get tokens for Plaza's API as the user."""
    source = json.loads((SOURCE / "config" / "package-solution.json").read_text())
    expected = [{"resource": "Plaza", "scope": "access_as_user"}]
    assert source["solution"]["webApiPermissionRequests"] == expected
    app = ElementTree.fromstring(sppkg.read("AppManifest.xml"))
    ns = "{http://schemas.microsoft.com/sharepoint/2012/app/manifest}"
    requests = app.findall(f"{ns}WebApiPermissionRequests/{ns}WebApiPermissionRequest")
    assert [(r.get("ResourceId"), r.get("Scope")) for r in requests] == [
        ("Plaza", "access_as_user")
    ]
    # The resource is the registration's display name, as the build writes it.
    registration = json.loads(
        (ROOT / "manifests" / "templates" / "app-registration.json").read_text()
    )
    assert registration["displayName"] == "Plaza"


def test_all_script_ships_inside_the_package(sppkg):
    """SharePoint's CSP: the command's own script comes from the package's client-side
    assets; everything else it loads is SharePoint's framework, by component id."""
    root = feature_file(sppkg, f"Extension_{COMPONENT_ID}.xml")
    loader = json.loads(root.find(f"{SP}ClientSideComponent").get("ComponentManifest"))[
        "loaderConfig"
    ]
    assert loader["internalModuleBaseUrls"] == ["HTTPS://SPCLIENTSIDEASSETLIBRARY/"]
    names = set(sppkg.namelist())
    for resource in loader["scriptResources"].values():
        if resource["type"] == "path":
            assert f"ClientSideAssets/{resource['path']}" in names
        elif resource["type"] == "localizedPath":
            assert f"ClientSideAssets/{resource['paths']['en-us']}" in names
        else:
            assert resource["type"] == "component"
            assert re.fullmatch(r"[0-9a-f-]{36}", resource["id"])
    bundle = next(
        n for n in names if re.fullmatch(r"ClientSideAssets/discuss-command-set_\w+\.js", n)
    )
    script = sppkg.read(bundle).decode()
    assert "/embed/documents/" in script and ".spItemUrl" in script


def test_bundle_answers_the_panels_token_request(sppkg):
    """The command set hands the panel its token (tokenHandOff.ts) from SPFx's token provider."""
    names = sppkg.namelist()
    bundle = next(
        n for n in names if re.fullmatch(r"ClientSideAssets/discuss-command-set_\w+\.js", n)
    )
    script = sppkg.read(bundle).decode()
    for needed in ("plaza.ready", "plaza.token", "getTokenProvider", "getToken", "message"):
        assert needed in script, needed


def test_without_node_it_says_the_one_command(tmp_path):
    venv_bin = str(Path(sys.executable).parent)
    done = plaza("--public-url", "https://plaza.contoso.com", "--client-id", CLIENT_ID,
                 "--tenant-id", TENANT_ID, "--out", str(tmp_path),
                 env={"PATH": venv_bin, "HOME": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    source = tmp_path / "sharepoint" / "source"
    assert done.stdout.splitlines()[-1] == (
        "SharePoint package not built (Node.js (npm) is not installed); build it with: "
        f"cd {source} && npm ci && npm run build && cp sharepoint/solution/plaza-discuss.sppkg .."
    )
    assert not (tmp_path / "sharepoint" / "plaza-discuss.sppkg").exists()
    elements = (source / "sharepoint" / "assets" / "elements.xml").read_text()
    assert (
        "{&quot;plazaUrl&quot;:&quot;https://plaza.contoso.com&quot;,"
        f"&quot;plazaApi&quot;:&quot;{API}&quot;}}"
    ) in elements
    assert (source / "package-lock.json").read_bytes() == (
        SOURCE / "package-lock.json"
    ).read_bytes()
    assert not (source / "node_modules").exists()
