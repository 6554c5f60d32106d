"""A PostgreSQL server of Plaza's own on this machine: for `plaza demo --postgres`, the tests and
the benchmarks (bench/pg_cluster.py).

Debian's `postgresql` package brings the server binaries (`initdb`, `pg_ctl`, `postgres`) without
putting them on PATH; they are looked for on PATH first, then in /usr/lib/postgresql/*/bin (the
newest version). The cluster listens on a unix socket only, in a short directory of its own
(a socket path may not exceed 107 bytes), never on a TCP port, and trusts local connections:
it is reachable only by this machine's users who can open that directory.

initdb refuses to run as root: as root, the server runs as the `postgres` system user, which
then owns the cluster's directories.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "plaza"
SERVER_USER = "postgres"  # the system user the server runs as when we are root
BINARIES = ("initdb", "pg_ctl", "postgres")


class PostgresMissing(RuntimeError):
    """PostgreSQL's server binaries are not on this machine."""


def server_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and postgres; PostgresMissing when there is none."""
    on_path = [shutil.which(name) for name in BINARIES]
    if all(on_path):
        return Path(on_path[0]).parent
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda initdb: _version_number(initdb.parent.parent.name),
    )
    if installed:
        return installed[-1].parent
    raise PostgresMissing(
        "PostgreSQL is not installed: install Debian's postgresql package "
        "(`apt-get install postgresql`) or put initdb and pg_ctl on PATH"
    )


def _version_number(name: str) -> float:
    try:
        return float(name)
    except ValueError:
        return 0.0


@dataclass
class LocalCluster:
    """A cluster's data directory and the socket directory it listens in while running."""

    data_dir: Path
    socket_dir: Path
    bin_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def create_database(self, name: str, template: str = "template1") -> str:
        """Makes database `name` (if missing) and returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if found.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def stop(self, fast: bool = True) -> None:
        """Stops the server (`fast`: aborting open transactions; else `immediate`: no shutdown
        checkpoint, for clusters thrown away) and removes the socket directory."""
        mode = "fast" if fast else "immediate"
        pg_ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w"]
        subprocess.run(_as_server_user([*pg_ctl, "stop"]), capture_output=True, check=False)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def discard(self, fast: bool = True) -> None:
        """Stops a throwaway cluster (start_throwaway's) and removes its directory."""
        self.stop(fast)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start(
    data_dir: Path,
    options: str = "",
    log: Path | None = None,
    settings: Mapping[str, str] | None = None,
    sync_initdb: bool = False,
) -> LocalCluster:
    """Starts the cluster in `data_dir`, made by initdb first when it does not exist yet.
    `settings` (name -> value) and `options` (the server's command-line words) are its
    configuration beyond the defaults; `sync_initdb` has initdb flush its files to disk (for a
    cluster meant to survive a crash: off for throwaway ones, and the demo's, which is faster)."""
    bin_dir = server_bin_dir()
    socket_dir = Path(tempfile.mkdtemp(prefix="plaza-pg-", dir="/tmp"))
    hand_to_server_user(socket_dir)
    if not (data_dir / "PG_VERSION").exists():
        _initdb(bin_dir, data_dir, sync_initdb)
    log = log or data_dir.parent / f"{data_dir.name}.log"
    if os.geteuid() == 0:
        log.touch()
        hand_to_server_user(log)
    settings_words = " ".join(f"-c {name}={value}" for name, value in (settings or {}).items())
    server_options = f"-k {socket_dir} -c listen_addresses='' {settings_words} {options}".strip()
    _run([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", server_options, "-l", str(log),
          "-w", "start"])  # fmt: skip
    return LocalCluster(data_dir, socket_dir, bin_dir)


def start_throwaway(
    options: str = "", settings: Mapping[str, str] | None = None, sync_initdb: bool = False
) -> LocalCluster:
    """A new cluster in a temporary directory of its own (its data and log), for the tests and
    the benchmarks: `discard()` it after. `options`, `settings`, `sync_initdb` as start's."""
    root = Path(tempfile.mkdtemp(prefix="plaza-pg-", dir="/tmp"))  # a socket path <= 107 bytes
    hand_to_server_user(root)
    return start(root / "data", options, root / "log", settings, sync_initdb)


def _initdb(bin_dir: Path, data_dir: Path, sync: bool) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    hand_to_server_user(data_dir)
    no_sync = [] if sync else ["--no-sync"]
    _run([str(bin_dir / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", SUPERUSER,
          "-E", "UTF8", "--locale=C", *no_sync])  # fmt: skip


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{Path(command[0]).name} failed: {last[0]}")


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def hand_to_server_user(path: Path) -> None:
    """As root, hands `path` to the server's user (it must write there); else nothing."""
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(path, user.pw_uid, user.pw_gid)
