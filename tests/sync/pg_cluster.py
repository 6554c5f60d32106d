"""A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory and `pg_ctl`
start listening on a Unix socket in that directory only (no TCP, no root service). As root,
the server runs as the `postgres` user (initdb refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SERVER_USER = "postgres"


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Starts a cluster; yields its URL (superuser `postgres`, trust authentication)."""
    missing = [tool for tool in ("initdb", "pg_ctl") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no {' and '.join(missing)} on PATH (install Debian's postgresql package)")
    as_user = _as_server_user()
    base = Path(tempfile.mkdtemp(prefix="plaza-pg-"))  # short: socket paths hold 107 bytes
    if as_user:
        shutil.chown(base, SERVER_USER)
    data = base / "data"
    try:
        _run([*as_user, "initdb", "-A", "trust", "-N", "-U", "postgres", "-D", str(data)])
        options = f"-k {base} -c listen_addresses='' -c fsync=off"
        _run([*as_user, "pg_ctl", "-D", str(data), "-o", options, "-l", str(base / "log"),
              "-w", "start"])  # fmt: skip
        try:
            yield f"postgresql://postgres@/postgres?host={base}"
        finally:
            _run([*as_user, "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.skip(f"running as root without a '{SERVER_USER}' user to run PostgreSQL as")
    return ["runuser", "-u", SERVER_USER, "--"]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout}")
