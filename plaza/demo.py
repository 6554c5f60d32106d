"""`plaza demo`: a whole Plaza on one machine, against the offline tenant emulator.

Starts the emulator with a generated firm, points every part of Plaza at it (PLAZA_* settings,
written to {data_dir}/emulator.env), runs a first sync of people and documents, adds two sync
jobs, then starts the scheduler, the web app and the live-chat stream server as their own
processes, and prints the URL.
Everything lives under the data directory; Ctrl-C stops it all.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from connector.emulator import server
from connector.emulator.server import ENV_KEYS
from connector.emulator.teams_host import SPFX_CLIENT_ID
from plaza import demo_mail
from plaza.demo_activity import wait_until_up, write_demo_activity
from plaza.demo_database import demo_database
from plaza.manifests import teams
from plaza.manifests.inputs import BuildInputs
from sync import db as index_db
from sync import jobs, runs
from sync.schedules import Schedule
from sync.targets import DocumentTarget

WEB_PORT = 5000
DEMO_JOBS = (("people", "people", "5m"), ("tenant-docs", "documents", "2m"))


@click.command("demo")
@click.option("--port", default=8443, show_default=True, help="Port for the emulator (0 = any).")
@click.option("--web-port", default=WEB_PORT, show_default=True, help="Port for the web app.")
@click.option(
    "--realtime-port",
    default=WEB_PORT + 1,
    show_default=True,
    help="Port for live chat streams (0 = any).",
)
@click.option("--size", default="small", show_default=True, help="small, medium, large or N.")
@click.option("--seed", default=1, show_default=True, type=int, help="Which generated firm.")
@click.option(
    "--postgres",
    is_flag=True,
    help="Keep Plaza's data in a PostgreSQL server of the demo's own (under the data directory).",
)
def demo_command(
    port: int, web_port: int, realtime_port: int, size: str, seed: int, postgres: bool
) -> None:
    """Run the demo: emulator, first sync, scheduler and web app."""
    signal.signal(signal.SIGTERM, _interrupt)  # stop as cleanly as on Ctrl-C, at any moment
    web_port = web_port or _free_port()
    realtime_port = realtime_port or _free_port()
    data_dir = Path(os.environ.get("PLAZA_DATA_DIR") or "plaza-data").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with demo_database(data_dir, postgres):
        _run_everything(data_dir, (port, web_port, realtime_port), size, seed)


def _run_everything(data_dir: Path, ports: tuple[int, int, int], size: str, seed: int) -> None:
    port, web_port, realtime_port = ports
    try:
        handle = server.start(seed=seed, size=size, port=port, state_dir=data_dir / "emulator")
    except OSError as error:
        raise click.ClickException(
            f"cannot listen on port {port} ({error.strerror}): pass --port 0 or another port"
        ) from error
    children: list[subprocess.Popen] = []
    mailbox, smtp_port = demo_mail.start(data_dir / "mail")
    os.environ.update(_mail_environment(data_dir, smtp_port))
    try:
        _run_demo(handle, data_dir, (web_port, realtime_port), children)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)
        mailbox.stop()
        handle.stop()


def _run_demo(handle, data_dir: Path, ports: tuple[int, int], children: list) -> None:
    """Pages and API on sync workers; live chat streams on their own gevent process."""
    web_port, realtime_port = ports
    env = _demo_environment(handle, data_dir, web_port, realtime_port)
    click.echo(f"Tenant emulator running at {handle.base_url}")
    _first_sync(data_dir)
    children.append(_spawn(["scheduler"], env, data_dir / "scheduler.log"))
    serve = ["serve", "--port", str(web_port), "--workers", "2"]
    children.append(_spawn(serve, env, data_dir / "web.log"))
    realtime = ["realtime", "--port", str(realtime_port)]
    children.append(_spawn(realtime, env, data_dir / "realtime.log"))
    (_, admin), _ = staff_groups(handle.tenant)
    welcome = [*handle.info["users"][:3], admin]
    web_url = f"http://localhost:{web_port}"
    wait_until_up(web_url)
    write_demo_activity(handle, web_url, data_dir, click.echo, welcome)
    _print_welcome(handle, web_port, data_dir)
    _wait_for_stop(children)


def _mail_environment(data_dir: Path, smtp_port: int) -> dict[str, str]:
    """The scheduler's mail sender sends to the demo's own SMTP server; /_demo/mail shows it."""
    return {
        "PLAZA_SMTP_HOST": "127.0.0.1",
        "PLAZA_SMTP_PORT": str(smtp_port),
        "PLAZA_SMTP_FROM": "Plaza demo <plaza@demo.invalid>",
        "PLAZA_DEMO_MAIL_DIR": str(data_dir / "mail"),
    }


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _demo_environment(handle, data_dir: Path, web_port: int, realtime_port: int) -> dict:
    """PLAZA_* settings for this process and its children, also kept in emulator.env."""
    env_file = data_dir / "emulator.env"
    handle.write_env(env_file)
    handle.write_info(data_dir / "emulator.json")
    (admins, _), (moderators, _) = staff_groups(handle.tenant)
    own = {
        "PLAZA_DATA_DIR": str(data_dir),
        "PLAZA_PUBLIC_URL": f"http://localhost:{web_port}",
        "PLAZA_REALTIME_URL": f"http://localhost:{realtime_port}",
        "PLAZA_ADMIN_GROUP_ID": admins,
        "PLAZA_MODERATOR_GROUP_ID": moderators,
        # The emulator's Teams host and SharePoint page may frame the embedded pages.
        "PLAZA_EMBED_ANCESTORS": f"{handle.base_url},https://127.0.0.1:{handle.port}",
        # The emulator SharePoint page's tokens come from SharePoint's client app.
        "PLAZA_API_CLIENTS": SPFX_CLIENT_ID,
        # Graph's change notifications to the web app (the emulator accepts http on loopback).
        "PLAZA_WEBHOOK_URL": f"http://localhost:{web_port}/webhooks/graph",
    }
    if os.environ.get("PLAZA_DATABASE_URL"):  # `plaza status` and friends use it too
        own["PLAZA_DATABASE_URL"] = os.environ["PLAZA_DATABASE_URL"]
    with env_file.open("a") as lines:
        lines.writelines(f"{name}={shlex.quote(value)}\n" for name, value in own.items())
    settings = {name: str(handle.info[key]) for name, key in ENV_KEYS.items()}
    os.environ.update({**settings, "PLAZA_EMULATOR": "1", **own})
    return {**os.environ}


def staff_groups(tenant) -> tuple[tuple[str, str], tuple[str, str]]:
    """((group id, a member's UPN) of the demo's admins, and of its moderators): the first two
    groups, by name, of enabled members only, with no one in both."""
    found: list[tuple[str, str]] = []
    taken: set[str] = set()
    for group in sorted(tenant.groups.values(), key=lambda g: g.display_name):
        members = [tenant.user(m) for m in tenant.transitive_members(group.id)]
        usable = members and all(
            m is not None and m.user_type == "Member" and m.account_enabled and not m.deleted
            for m in members
        )
        if usable and not {m.id for m in members} & taken:
            found.append((group.id, members[0].user_principal_name))
            taken |= {m.id for m in members}
            if len(found) == 2:
                return found[0], found[1]
    raise click.ClickException("the generated firm has no groups for admins and moderators")


def _first_sync(data_dir: Path) -> None:
    """People first (documents' permissions name them), then every site's documents."""
    index_path = index_db.index_location(
        data_dir / "index.db", os.environ.get("PLAZA_DATABASE_URL", "")
    )
    index = index_db.open_index(index_path)
    try:
        known = {job.name for job in jobs.list_jobs(index)}
        for name, kind, every in DEMO_JOBS:
            if name in known:
                continue
            if kind == "people":
                jobs.add_job(index, jobs.people_job(name, Schedule.interval(every)))
            else:
                target = DocumentTarget(all_sites=True)
                jobs.add_job(index, jobs.documents_job(name, target, Schedule.interval(every)))
    finally:
        index.close()
    for name, _, _ in DEMO_JOBS:
        click.echo(f"Syncing {name} ...")
        run = runs.run_job(index_path, name)
        if run.outcome != "succeeded":
            raise click.ClickException(f"first sync of {name} failed: {run.error}")
        added, updated = run.counts.added, run.counts.updated
        click.echo(f"  {added} added, {updated} updated in {run.seconds or 0:.1f} s")


def _spawn(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    plaza = str(Path(sys.executable).with_name("plaza"))
    with log.open("ab") as output:
        return subprocess.Popen(
            [plaza, *arguments], env=env, stdout=output, stderr=subprocess.STDOUT
        )


def _wait_for_stop(children: list[subprocess.Popen]) -> None:
    """Until Ctrl-C or SIGTERM (KeyboardInterrupt), or until a child process dies."""
    while True:
        time.sleep(1)
        for child in children:
            if child.poll() is not None:
                raise click.ClickException(
                    f"{' '.join(child.args[1:3])} stopped (exit {child.returncode}): "
                    "see its log in the data directory"
                )


def _teams_package(info: dict, web_port: int, data_dir: Path) -> Path:
    """The Teams app package for this demo, which the emulator's Teams host loads."""
    public_url = f"http://localhost:{web_port}"
    inputs = BuildInputs(public_url, info["client_id"], info["tenant_id"], info["authority"])
    path = data_dir / "manifests" / "teams" / "plaza-teams.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(teams.package(teams.manifest(inputs)))
    return path


def _print_welcome(handle, web_port: int, data_dir: Path) -> None:
    info = handle.info
    people = ", ".join(info["users"][:3])
    click.echo("")
    click.echo(f"Plaza is running: open http://localhost:{web_port}")
    click.echo(
        f"  Sign in as one of the demo people ({people}, ...) with password {info['password']}"
    )
    (_, admin), (_, moderator) = staff_groups(handle.tenant)
    click.echo(f"  Admin console (/admin): sign in as {admin}; moderation: {moderator}")
    click.echo(f"  Emulator:   {handle.base_url} (CA file {info['ca_file']})")
    package = _teams_package(info, web_port, data_dir)
    click.echo(f"  In Teams:   {handle.base_url}/_emulator/teams/?package={package}")
    click.echo(
        f"  Mail:       http://localhost:{web_port}/_demo/mail (kept in {data_dir / 'mail'})"
    )
    click.echo(f"  Settings:   set -a; . {data_dir / 'emulator.env'}; set +a")
    logs = ", ".join(str(data_dir / f"{name}.log") for name in ("web", "realtime", "scheduler"))
    click.echo(f"  Logs:       {logs}")
    click.echo("Press Ctrl-C to stop.")
