"""Fixtures for the emulator's tests; helpers they share are in tenant_calls.py.

- `graph`: an app-only Graph session (client secret) on the shared, read-only `emulator`.
- `app_token`: an app-only SharePoint token (certificate credential, which SharePoint REST
  requires of apps) for that emulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.connector.emulator.tenant_calls import session_for


@pytest.fixture(scope="module")
def graph(emulator) -> Iterator[requests.Session]:
    session = session_for(emulator)
    yield session
    session.close()


@pytest.fixture(scope="module")
def app_token(emulator) -> str:
    return emulator.token("sharepoint", certificate=True)
