"""A tenant in the emulator and the web app over a fresh sync of it: the start of the
benchmarks that measure the app (tag suggestions, insights)."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask

from bench.unbudgeted import CONNECTOR_ENV, IN_PROCESS
from connector.emulator import server
from overlay_app import create_app
from sync.db import open_index
from sync.engine import Connector, sync_documents, sync_people
from sync.targets import DocumentTarget

FROM_EMULATOR = ("authority", "tenant_id", "client_id", "client_secret", "graph_url")


def build(documents: int, scratch: Path, seed: int = 1) -> tuple[server.EmulatorHandle, Flask]:
    """The emulator serving the tenant, and an app over a fresh sync of it."""
    handle = server.start(seed=seed, size=documents, state_dir=scratch / "state", **IN_PROCESS)
    data_dir = scratch / "data"
    data_dir.mkdir()
    began = time.perf_counter()
    index = open_index(data_dir / "index.db")
    env = {n: str(handle.info[k]) for n, k in server.ENV_KEYS.items()}
    connector = Connector.from_env({**env, **CONNECTOR_ENV})
    sync_people(index, connector)
    sync_documents(index, connector, DocumentTarget(all_sites=True))
    index.close()
    print(f"synced {documents:,} documents in {time.perf_counter() - began:.0f} s")
    settings = {name: handle.info[name] for name in FROM_EMULATOR}
    settings.update(ca_bundle=handle.info["ca_file"], data_dir=str(data_dir))
    settings.update(secret_key="bench-" + "x" * 40, public_url="http://localhost")
    return handle, create_app({**settings, "extra": {"testing": False}})
