"""`plaza manifests build`: thin: check the inputs, build, print what was written."""

from __future__ import annotations

from pathlib import Path

import click

from plaza.manifests.build import build_all
from plaza.manifests.inputs import ManifestError, build_inputs, out_dir_for
from plaza.manifests.sharepoint import SharePointBuildError


@click.group("manifests")
def manifests_group() -> None:
    """The Teams app, Entra registration and SharePoint package an admin uploads."""


@manifests_group.command("build")
@click.option("--public-url", help="Where people reach Plaza (https). Default: PLAZA_PUBLIC_URL.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Folder the files are written to. Default: $PLAZA_DATA_DIR/manifests.",
)
@click.option("--client-id", help="Application (client) id. Default: PLAZA_CLIENT_ID.")
@click.option("--tenant-id", help="Directory (tenant) id or domain. Default: PLAZA_TENANT_ID.")
@click.option("--privacy-url", default="", help="Privacy statement. Default: {public url}/privacy.")
@click.option("--terms-url", default="", help="Terms of use. Default: {public url}/terms.")
@click.option("--no-sharepoint", is_flag=True, help="Skip the SharePoint Framework package.")
def build_command(public_url, out_dir, client_id, tenant_id, privacy_url, terms_url,
                  no_sharepoint) -> None:  # fmt: skip
    """Write the Teams app package, the app registration and the SharePoint package."""
    try:
        inputs = build_inputs(public_url, client_id, tenant_id)
        out_dir = out_dir_for(out_dir)
        for name, url in (("privacy URL", privacy_url), ("terms URL", terms_url)):
            if url and not url.startswith("https://"):
                raise ManifestError(f"{name} must be an https:// URL, got '{url}'")
        report = build_all(inputs, out_dir, privacy_url=privacy_url, terms_url=terms_url,
                           with_sharepoint=not no_sharepoint)  # fmt: skip
    except ManifestError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename}: {exc.strerror}") from None
    except SharePointBuildError as exc:
        raise click.ClickException(f"the SharePoint Framework build failed:\n{exc}") from None
    for path in report.written:
        click.echo(f"wrote {path}")
    for note in report.notes:
        click.echo(note)
