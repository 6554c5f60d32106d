"""`plaza emulator ...`: run the offline tenant from a shell."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

DEFAULT_STATE_DIR = Path("plaza-data") / "emulator"
SIZES = ("small", "medium", "large")


def _size(ctx: click.Context, param: click.Parameter, value: str) -> int | str:
    """small | medium | large, or a positive number of documents."""
    if value in SIZES:
        return value
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise click.BadParameter("use small, medium, large or a positive number of documents")


@click.group(name="emulator")
def emulator() -> None:
    """An offline Microsoft 365 tenant (Entra ID, Graph, SharePoint REST) over HTTPS."""


@emulator.command()
@click.option(
    "--size",
    default="small",
    show_default=True,
    callback=_size,
    help="small, medium, large, or a number of documents.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Which generated firm.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8443,
    show_default=True,
    help="HTTPS port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--faults",
    "fault_profile",
    default="none",
    show_default=True,
    help="Fault profile: none, flaky, flaky:SEED or throttled.",
)
@click.option(
    "--info-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the connection facts here as JSON.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write PLAZA_* settings here, for `set -a; . FILE; set +a`.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Where the CA and certificates are kept (reused across runs).",
)
@click.option(
    "--budget-per-minute",
    type=click.IntRange(0),
    default=1_200,
    show_default=True,
    help="SharePoint resource units per app per minute (0 = unlimited, e.g. for throughput "
    "benchmarks; then also raise PLAZA_GRAPH_BUDGET_PER_MINUTE).",
)
@click.option("--log-requests", is_flag=True, help="Print one line per request.")
def serve(
    size: int | str,
    seed: int,
    port: int,
    fault_profile: str,
    info_file: Path | None,
    env_file: Path | None,
    state_dir: Path,
    budget_per_minute: int,
    log_requests: bool,
) -> None:
    """Serve a generated tenant until Ctrl-C."""
    from connector.emulator import server  # heavy imports only when serving

    try:
        handle = server.start(
            seed=seed,
            size=size,
            port=port,
            state_dir=state_dir,
            fault_profile=fault_profile,
            quiet=not log_requests,
            budget_per_minute=budget_per_minute or None,
        )
    except OSError as err:
        raise click.ClickException(f"cannot serve on port {port}: {err.strerror or err}") from err
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    try:
        # The info file last: its presence says the emulator is ready, env file included.
        for path, write in ((env_file, handle.write_env), (info_file, handle.write_info)):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                write(path)
        _print_connection(handle, info_file, env_file)
        _wait_for_stop()
    finally:
        handle.stop()
    click.echo("Emulator stopped.")


def _print_connection(handle, info_file: Path | None, env_file: Path | None) -> None:
    info = handle.info
    spec = handle.tenant.spec
    lines = [
        f"Plaza emulator: seed {spec.seed}, size {spec.label} ({spec.people} people,"
        f" {spec.items} documents), serving {handle.base_url}",
        f"  Authority      {info['authority']}",
        f"  Graph          {info['graph_url']}",
        f"  SharePoint     {info['sharepoint_url']}",
        f"  Client id      {info['client_id']}",
        f"  Client secret  {info['client_secret']}",
        f"  Certificate    {info['cert_path']} (key {info['cert_key_path']})",
        f"  Thumbprint     {info['cert_thumbprint']}",
        f"  CA bundle      {info['ca_file']}",
        f"  Sign in as     {info['users'][0]} (or anyone on the sign-in page),"
        f" password {info['password']}",
    ]
    if info_file:
        lines.append(f"  Info file      {info_file}")
    if env_file:
        lines.append(f"  Env file       {env_file}   (set -a; . {env_file}; set +a)")
    lines += [
        f"Clients must trust the CA: export REQUESTS_CA_BUNDLE={info['ca_file']}"
        " (replaces the system roots in that shell),",
        "  or give requests/MSAL a session with verify=<CA bundle> and trust_env=False.",
        "Press Ctrl-C to stop.",
    ]
    for line in lines:
        click.echo(line)


def _wait_for_stop() -> None:
    """Blocks until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
