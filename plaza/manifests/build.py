"""One build: every file an admin uploads, written under one output folder.

Layout (all overwritten on each build, so a rebuild is idempotent):

    {out}/teams/plaza-teams.zip            the Teams app package
    {out}/entra/app-registration.json      the app registration (Graph application shape)
    {out}/sharepoint/source/               the SPFx source with Plaza's address and API filled in
    {out}/sharepoint/plaza-discuss.sppkg   when Node and the SPFx toolchain are installed

{out} defaults to `manifests/` in Plaza's data folder (inputs.out_dir_for).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from plaza.manifests import entra, sharepoint, teams
from plaza.manifests.inputs import BuildInputs
from plaza.manifests.templates import as_json


@dataclass
class BuildReport:
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_all(
    inputs: BuildInputs,
    out_dir: Path,
    *,
    privacy_url: str = "",
    terms_url: str = "",
    with_sharepoint: bool = True,
) -> BuildReport:
    report = BuildReport()
    manifest = teams.manifest(inputs, privacy_url, terms_url)
    _write(report, out_dir / "teams" / "plaza-teams.zip", teams.package(manifest))
    registration = as_json(entra.registration(inputs))
    _write(report, out_dir / "entra" / "app-registration.json", registration)
    report.notes.append(f"admin consent: {entra.admin_consent_url(inputs)}")
    if with_sharepoint:
        result = sharepoint.build(out_dir / "sharepoint", inputs.public_url, inputs.app_id_uri)
        report.written.append(result.source_dir)
        if result.sppkg is not None:
            report.written.append(result.sppkg)
        else:
            missing = sharepoint.toolchain_missing()
            report.notes.append(f"SharePoint package not built ({missing}); build it with: "
                                f"{result.how_to_build}")  # fmt: skip
    return report


def _write(report: BuildReport, path: Path, content: bytes) -> None:
    """Replace the file whole (write beside it, then rename), so no half-written file stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    report.written.append(path)
