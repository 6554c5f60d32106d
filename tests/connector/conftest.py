"""Fixtures for connector tests: settings and sources pointed at the emulator fixtures.

The emulator fixtures (`emulator`, `fresh_emulator`) come from tests/conftest.py; the PLAZA_*
settings for them from emulator_env.py (sync tests use it too).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connector.auth import TokenProvider
from connector.graph import GraphSource
from connector.http import GraphHttp
from connector.settings import ConnectorSettings
from tests.connector.emulator_env import emulator_env

SettingsFactory = Callable[..., ConnectorSettings]


def settings_for(handle, credential: str = "secret", **extra: str) -> ConnectorSettings:
    return ConnectorSettings.from_env(emulator_env(handle, credential, **extra))


def source_for(handle, credential: str = "secret", **extra: str) -> GraphSource:
    settings = settings_for(handle, credential, **extra)
    return GraphSource(GraphHttp(settings, TokenProvider(settings)))


@pytest.fixture(scope="module")
def source(emulator) -> GraphSource:
    """A GraphSource on the shared, read-only emulator (client secret)."""
    return source_for(emulator)


@pytest.fixture
def fresh_source(fresh_emulator) -> GraphSource:
    """A GraphSource on a tenant this test may change."""
    return source_for(fresh_emulator)


@pytest.fixture
def make_env() -> Callable[..., dict[str, str]]:
    """emulator_env(handle, credential="secret", **PLAZA_overrides) -> environment dict."""
    return emulator_env


@pytest.fixture
def make_settings() -> SettingsFactory:
    """settings_for(handle, credential="secret"|"thumbprint"|"certificate", **overrides)."""
    return settings_for


@pytest.fixture
def make_source() -> Callable[..., GraphSource]:
    return source_for
