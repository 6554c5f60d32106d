"""The SharePoint Framework "Discuss" command set: its source, filled in, and its .sppkg.

The source (manifests/sharepoint/) names Plaza's address as `__PLAZA_URL__` and Plaza's API
(the resource of the token the panel signs in with, `api://{host}/{client id}`) as
`__PLAZA_API__` in the two XML files that give the command its properties; the build copies
it under the output folder with both in place, then runs the SharePoint Framework build there
when Node and the toolchain (`npm ci` in manifests/sharepoint) are installed. Without them it
says the one command that builds the copied source anywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from plaza.manifests.templates import MANIFESTS_DIR

SOURCE_DIR = MANIFESTS_DIR / "sharepoint"
URL_PLACEHOLDER = "__PLAZA_URL__"
API_PLACEHOLDER = "__PLAZA_API__"
FILLED_FILES = ("sharepoint/assets/elements.xml", "sharepoint/assets/ClientSideInstance.xml")
# Build output and installed packages are never copied: the copy is source only.
NOT_COPIED = ("node_modules", "lib", "lib-commonjs", "dist", "temp", "release", "solution",
              ".heft", "jest-output")  # fmt: skip
SPPKG_NAME = "plaza-discuss.sppkg"
BUILD_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class SharePointResult:
    source_dir: Path
    sppkg: Path | None  # None when the toolchain is not installed
    how_to_build: str  # the one command that builds source_dir, for the admin


def write_source(out_dir: Path, public_url: str, api: str) -> Path:
    """A fresh copy of the SPFx source under out_dir/source with Plaza's address and API
    (`api://{host}/{client id}`) filled in."""
    target = out_dir / "source"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(SOURCE_DIR, target, ignore=shutil.ignore_patterns(*NOT_COPIED))
    for name in FILLED_FILES:
        path = target / name
        text = path.read_text(encoding="utf-8")
        for placeholder, value in ((URL_PLACEHOLDER, public_url), (API_PLACEHOLDER, api)):
            # Each value sits inside an XML attribute holding JSON: escape it for both.
            text = text.replace(placeholder, escape(value, {'"': "&quot;"}))
        path.write_text(text, "utf-8")
    return target


def toolchain_missing() -> str:
    """ "" when `npm` and the installed SharePoint Framework toolchain are here, else why not."""
    if shutil.which("npm") is None:
        return "Node.js (npm) is not installed"
    if not (SOURCE_DIR / "node_modules" / ".bin" / "heft").exists():
        return f"the SharePoint Framework toolchain is not installed (cd {SOURCE_DIR} && npm ci)"
    return ""


def build(out_dir: Path, public_url: str, api: str) -> SharePointResult:
    """The filled source, and the .sppkg built from it when the toolchain is installed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = write_source(out_dir, public_url, api)
    how = f"cd {source} && npm ci && npm run build && cp sharepoint/solution/{SPPKG_NAME} .."
    if toolchain_missing():
        return SharePointResult(source, None, how)
    # The installed toolchain is borrowed for the build only, so the copy stays source.
    link = source / "node_modules"
    link.symlink_to(SOURCE_DIR / "node_modules", target_is_directory=True)
    try:
        _run_build(source)
    finally:
        link.unlink()
    sppkg = out_dir / SPPKG_NAME
    shutil.copyfile(source / "sharepoint" / "solution" / SPPKG_NAME, sppkg)
    return SharePointResult(source, sppkg, how)


def _run_build(source: Path) -> None:
    """`npm run build` (heft, production): npm puts node_modules/.bin first on PATH, so the
    toolchain runs on the Node.js 22 that the package's devDependency `node` installs."""
    environ = {**os.environ, "CI": "true", "NO_UPDATE_NOTIFIER": "1"}
    done = subprocess.run(
        ["npm", "run", "build"], cwd=source, env=environ, capture_output=True, text=True,
        timeout=BUILD_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise SharePointBuildError("\n".join(tail))


class SharePointBuildError(Exception):
    """The SharePoint Framework build failed; the message is the end of its output."""
