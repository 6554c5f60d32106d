"""Shared fixtures: the emulator served over real HTTPS on a free port.

- `emulator`: one small tenant (seed 7) for the whole session; treat it as read-only.
- `fresh_emulator`: a new tenant per test, free to mutate (through the control API or the Tenant).
- `emulator_state`: the directory holding the CA and certificates, shared by both.

With PLAZA_TEST_BACKEND=postgres (`make test`'s second run) only the tests that can differ on
PostgreSQL are kept: those whose test function or fixtures ask `backend_is_postgres()` (or
`index_at()`). The others would run exactly as in the SQLite run, so they are deselected rather
than run twice.
"""

from __future__ import annotations

import sys
import types
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
from tests.postgres import backend_is_postgres, postgres_cluster, postgres_url  # noqa: E402, F401

# What a test or fixture calls when it picks the engine: the switch itself, and index_at()
# (tests/postgres.py: a path's index, a file or a PostgreSQL database).
BACKEND_SWITCHES = frozenset({"backend_is_postgres", "index_at"})


def _code_of(function: object) -> Iterator[types.CodeType]:
    """`function`'s code and its nested functions' (a class: its methods')."""
    if isinstance(function, type):
        for member in vars(function).values():
            yield from _code_of(getattr(member, "fget", getattr(member, "__func__", member)))
        return
    pending = [function.__code__] if hasattr(function, "__code__") else []
    while pending:
        code = pending.pop()
        yield code
        pending.extend(const for const in code.co_consts if isinstance(const, types.CodeType))


def _ours(value: object) -> bool:
    is_code = isinstance(value, (type, types.FunctionType))
    return is_code and getattr(value, "__module__", "").startswith("tests.")


def _asks_backend(function: object, answers: dict[int, bool]) -> bool:
    """Whether `function` calls a backend switch: itself, or a function or class of the tests'
    own that it names (followed through their module's globals)."""
    pending, seen = [function], set()
    while pending:
        current = pending.pop()
        if answers.get(id(current)):
            return True
        if id(current) in seen:
            continue
        seen.add(id(current))
        module = sys.modules.get(getattr(current, "__module__", ""))
        scope = getattr(current, "__globals__", None) or (vars(module) if module else {})
        for code in _code_of(current):
            if BACKEND_SWITCHES.intersection(code.co_names):
                answers[id(function)] = True
                return True
            pending.extend(v for v in map(scope.get, code.co_names) if _ours(v))
    answers[id(function)] = False
    return False


def depends_on_backend(item: pytest.Item, answers: dict[int, bool]) -> bool:
    """The test or a fixture it uses asks for the backend. Autouse fixtures are left out: one
    that starts the cluster for a whole directory says nothing about a test. A test marked
    `same_on_every_backend` (its reason says why the engine cannot change what it checks)
    runs once, on SQLite."""
    if item.get_closest_marker("same_on_every_backend") is not None:
        return False
    if _asks_backend(getattr(item, "obj", None), answers):
        return True
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return False
    return any(
        _asks_backend(fixture.func, answers)
        for name in item.fixturenames
        for fixture in definitions.name2fixturedefs.get(name, ())
        if not getattr(fixture, "_autouse", False)  # pytest keeps it private
    )


# The files that took a minute or more each (measured on 2 workers): sent to the xdist
# workers first (the Makefile turns xdist's own order, most tests first, off) so that neither
# worker ends the run alone on one of them. Longest first.
LONG_FILES = (
    "tests/sync/test_state_machine.py",
    "tests/sync/test_faults.py",
    "tests/overlay_app/test_xss.py",
    "tests/overlay_app/test_openapi.py",
    "tests/browser/test_admin.py",
    "tests/browser/test_threads.py",
    "tests/sync/test_budget_pacing.py",
    "tests/browser/test_chat.py",
    "tests/overlay_app/test_writeback.py",
)


def _long_first(items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "same_on_every_backend(reason): uses the backend, but what it checks cannot differ on "
        "PostgreSQL; left out of the PostgreSQL run",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _long_first(items)
    if not backend_is_postgres():
        return
    kept, same, answers = [], [], {}
    for item in items:
        (kept if depends_on_backend(item, answers) else same).append(item)
    if same:
        config.hook.pytest_deselected(items=same)
        items[:] = kept
