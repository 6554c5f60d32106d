"""`plaza realtime`: the event streams (GET /api/v1/events) under gunicorn with gevent workers.

Pages and the API run under `plaza serve` (sync workers: one request at a time each); a held
event stream would take a whole sync worker, so streams get their own server whose gevent
workers hold thousands of idle connections each. It serves the same create_app, so sign-in
cookies and bearer tokens work unchanged; pages learn its address from PLAZA_REALTIME_URL.

Each worker runs one event pump (overlay_app/realtime/pump.py) reading overlay.db's event log, so a
message written by any `plaza serve` worker reaches every stream within a poll (~50 ms).

The app is not preloaded: gunicorn's gevent worker monkey-patches the standard library as it
starts, and the app (its locks, threads and sockets) must be made after that, in the worker.
On shutdown (SIGTERM) a worker ends its streams at once with `stream.closed` instead of
waiting out the graceful timeout for responses that never finish; clients reconnect and resume.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import click

from overlay_app.settings import OverlaySettings, SettingsError

CONNECTIONS_PER_WORKER = 5_000


def default_workers() -> int:
    """One gevent worker per core (each is one OS thread of cooperative greenlets), up to 4."""
    return max(1, min(multiprocessing.cpu_count(), 4))


def stream_worker_class() -> type:
    """gunicorn's gevent worker, ending its event streams when told to stop (imported late:
    only `plaza realtime` needs gevent)."""
    import gevent
    from gunicorn.workers.ggevent import GeventWorker

    class StreamWorker(GeventWorker):
        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            # Told to stop while still loading the app: no streams to end yet.
            app = getattr(self, "wsgi", None)
            if app is not None:  # out of the signal handler: stopping the pump joins its greenlet
                gevent.spawn(_end_streams, app)

    return StreamWorker


def _end_streams(app: Any) -> None:
    pump = getattr(app, "extensions", {}).get("plaza.pump")
    if pump is not None:
        pump.stop()


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": stream_worker_class,  # gunicorn calls it for the class
        "worker_connections": CONNECTIONS_PER_WORKER,
        "preload_app": False,
        "timeout": 60,  # gevent workers notify the arbiter from their own greenlet
        "graceful_timeout": 5,  # streams never finish on their own: do not wait for them long
        "keepalive": 75,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "plaza-realtime",
        "control_socket_disable": True,  # gunicorn 27+: one per machine, leave it to `plaza serve`
    }


@click.command("realtime")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5001, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="gevent worker processes  [default: one per core, at most 4]",
)
def realtime_command(host: str, port: int, workers: int | None) -> None:
    """Serve Plaza's live event streams under gunicorn with gevent workers (PLAZA_* settings)."""
    try:
        settings = OverlaySettings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error
    try:
        import gevent  # noqa: F401  (a clear message beats gunicorn's import error)
    except ImportError as error:
        raise click.ClickException("plaza realtime needs gevent: pip install gevent") from error
    from overlay_app.serve import PlazaServer

    where = settings.realtime_url or f"http://{host}:{port}"
    click.echo(f"Plaza event streams at {where}/api/v1/events (listening on {host}:{port})")
    PlazaServer(gunicorn_options(host, port, workers or default_workers())).run()
