"""`plaza serve`: the web app under gunicorn, with sync workers (ARCHITECTURE.md, Processes).

Settings are read and checked before gunicorn starts, so a misconfigured Plaza says every
problem at once and exits non-zero instead of booting workers that fail one by one. The app is
made once in the master (`preload_app`) and forked; database connections and the MSAL client
are opened per worker, on first use.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from overlay_app.settings import OverlaySettings, SettingsError


def default_workers() -> int:
    """gunicorn's advice for sync workers, (2 x cores) + 1, capped for small machines' memory."""
    return min(2 * multiprocessing.cpu_count() + 1, 9)


class PlazaServer(BaseApplication):
    """gunicorn running Plaza's create_app (gunicorn's documented custom-application API)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):
        from overlay_app import create_app

        return create_app()


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "preload_app": True,
        "timeout": 60,
        "graceful_timeout": 20,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "plaza-web",
    }


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="gunicorn worker processes  [default: 2 x cores + 1, at most 9]",
)
def serve_command(host: str, port: int, workers: int | None) -> None:
    """Serve Plaza's web app and API under gunicorn (settings from PLAZA_*)."""
    try:
        settings = OverlaySettings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Plaza at {settings.public_url} (listening on {host}:{port})")
    PlazaServer(gunicorn_options(host, port, workers or default_workers())).run()
