"""Shared fixtures: the emulator served over real HTTPS on a free port.

- `emulator`: one small tenant (seed 7) for the whole session; treat it as read-only.
- `fresh_emulator`: a new tenant per test, free to mutate (through the control API or the Tenant).
- `emulator_state`: the directory holding the CA and certificates, shared by both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.emulator import server

SEED = 7
SIZE = "small"


@pytest.fixture(scope="session")
def emulator_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-state")


@pytest.fixture(scope="session")
def emulator(emulator_state: Path) -> Iterator[server.EmulatorHandle]:
    handle = server.start(seed=SEED, size=SIZE, state_dir=emulator_state)
    yield handle
    handle.stop()


@pytest.fixture
def fresh_emulator(emulator_state: Path) -> Iterator[server.EmulatorHandle]:
    handle = server.start(seed=SEED, size=SIZE, state_dir=emulator_state)
    yield handle
    handle.stop()


# A throwaway PostgreSQL cluster per pytest process (tests/postgres.py).
from tests.postgres import postgres_cluster, postgres_url  # noqa: E402, F401
