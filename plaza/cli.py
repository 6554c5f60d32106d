"""The `plaza` command: the composition root's entry point.

Command groups are imported only when used, so that `plaza` starts fast; the emulator is
imported only by `plaza emulator` and `plaza demo` (ARCHITECTURE.md: no runtime module of
connector/, sync/ or overlay_app/ imports it).
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group
LAZY_COMMANDS = {
    "admin": "plaza.admin_cli:admin_group",
    "connector": "connector.cli:connector_group",
    "demo": "plaza.demo:demo_command",
    "emulator": "connector.emulator.cli:emulator",
    "manifests": "plaza.manifests.cli:manifests_group",
    "insights": "overlay_app.insights.nightly:insights_group",
    "mail": "overlay_app.mail.cli:mail_group",
    "migrate-to-postgres": "plaza.migrate_pg:migrate_to_postgres_command",
    "realtime": "overlay_app.realtime.serve:realtime_command",
    "scheduler": "plaza.scheduler:scheduler_command",
    "serve": "overlay_app.serve:serve_command",
    "status": "plaza.status_cli:status_command",
    "sync": "sync.cli:sync_group",
    "writeback": "overlay_app.writeback.cli:writeback_group",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        module = importlib.import_module(module_name)
        if cmd_name == "connector":  # the connector cannot read the jobs: tell it
            from plaza.checks import write_back_on

            module.WRITE_BACK_PROBE = write_back_on
        return getattr(module, attribute)


@click.group(cls=LazyGroup)
@click.version_option(package_name="plaza")
def main() -> None:
    """Plaza: a social layer over SharePoint Online."""


if __name__ == "__main__":
    main()
