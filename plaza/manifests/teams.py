"""The Teams app package: manifest.json, color.png and outline.png in one zip.

The manifest follows the newest Teams schema that Microsoft's npm package
`@microsoft/app-manifest` ships (v1.30, committed under manifests/schemas/). Personal static
tabs open Plaza's home and activity pages; the configurable tab's page (the `teams` feature)
pins a library, folder, document or channel to a Teams channel or chat.
"""

from __future__ import annotations

import io
import zipfile
from importlib.metadata import version

from plaza.manifests import icons, ids
from plaza.manifests.inputs import BuildInputs
from plaza.manifests.templates import as_json, filled

MANIFEST_VERSION = "1.30"
# Fixed entry times keep the zip's bytes the same from one build to the next.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def manifest(inputs: BuildInputs, privacy_url: str = "", terms_url: str = "") -> dict:
    """manifest.json as a dict, filled from the template."""
    return filled(
        "teams-manifest.json",
        {
            "version": _semver(version("plaza")),
            "app_id": ids.teams_app_id(inputs.client_id, inputs.public_url),
            "public_url": inputs.public_url,
            "privacy_url": privacy_url or f"{inputs.public_url}/privacy",
            "terms_url": terms_url or f"{inputs.public_url}/terms",
            "host": inputs.host,
            "client_id": inputs.client_id,
            "app_id_uri": inputs.app_id_uri,
        },
    )


def package(document: dict) -> bytes:
    """The zip Teams accepts: the three files at its root, nothing else."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (
            ("manifest.json", as_json(document)),
            ("color.png", icons.color_icon()),
            ("outline.png", icons.outline_icon()),
        ):
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, content)
    return buffer.getvalue()


def _semver(text: str) -> str:
    """MAJOR.MINOR.PATCH from the package version (Teams wants plain semver)."""
    numbers = [part for part in text.split(".")[:3] if part.isdigit()]
    return ".".join([*numbers, "0", "0", "0"][:3])
