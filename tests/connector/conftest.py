"""Fixtures for connector tests: settings and sources pointed at the emulator fixtures.

The emulator fixtures (`emulator`, `fresh_emulator`) come from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connector.auth import TokenProvider
from connector.graph import GraphSource
from connector.http import GraphHttp
from connector.settings import ConnectorSettings

SettingsFactory = Callable[..., ConnectorSettings]


def emulator_env(handle, credential: str = "secret", **extra: str) -> dict[str, str]:
    """PLAZA_* variables for an emulator, as `plaza emulator serve --env-file` writes them."""
    info = handle.info
    env = {
        "PLAZA_AUTHORITY": info["authority"],
        "PLAZA_CLIENT_ID": info["client_id"],
        "PLAZA_GRAPH_URL": info["graph_url"],
        "PLAZA_SHAREPOINT_URL": info["sharepoint_url"],
        "PLAZA_CA_BUNDLE": info["ca_file"],
        "PLAZA_HTTP_TIMEOUT": "10",
    }
    if credential == "secret":
        env["PLAZA_CLIENT_SECRET"] = info["client_secret"]
    else:
        env["PLAZA_CERT_KEY_PATH"] = info["cert_key_path"]
        if credential == "thumbprint":
            env["PLAZA_CERT_THUMBPRINT"] = info["cert_thumbprint"]
        else:
            env["PLAZA_CERT_PATH"] = info["cert_path"]
    env.update(extra)
    return env


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
