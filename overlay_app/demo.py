"""`plaza demo`: a whole Plaza on one machine, against the offline tenant emulator.

Starts the emulator with a generated firm, writes the PLAZA_* settings that point every part of
Plaza at it, and prints where to go. Everything lives under the data directory.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import click


@click.command("demo")
@click.option("--port", default=8443, show_default=True, help="Port for the emulator (0 = any).")
@click.option("--size", default="small", show_default=True, help="small, medium, large or N.")
@click.option("--seed", default=1, show_default=True, type=int, help="Which generated firm.")
def demo_command(port: int, size: str, seed: int) -> None:
    """Run the demo: the tenant emulator, with everything pointed at it."""
    from connector.emulator import server

    data_dir = Path(os.environ.get("PLAZA_DATA_DIR") or "plaza-data").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        handle = server.start(seed=seed, size=size, port=port, state_dir=data_dir / "emulator")
    except OSError as error:
        raise click.ClickException(
            f"cannot listen on port {port} ({error.strerror}): pass --port 0 or another port"
        ) from error
    env_file = data_dir / "emulator.env"
    handle.write_env(env_file)
    handle.write_info(data_dir / "emulator.json")
    _print_welcome(handle, env_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()


def _print_welcome(handle, env_file: Path) -> None:
    info = handle.info
    people = info["users"][:3]
    click.echo(f"Tenant emulator running at {handle.base_url}")
    click.echo(
        f"  Open:       {info['authority']}/oauth2/v2.0/authorize?client_id="
        f"{info['client_id']}&response_type=code&redirect_uri=https://localhost/&scope=openid"
    )
    click.echo(f"  Sign in as: {', '.join(people)} ... (password {info['password']})")
    click.echo(f"  Graph:      {info['graph_url']}   SharePoint: {info['sharepoint_url']}")
    click.echo(f"  CA file:    {info['ca_file']}")
    click.echo(f"  Settings:   set -a; . {env_file}; set +a")
    click.echo("Press Ctrl-C to stop.")
