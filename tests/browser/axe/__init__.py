"""axe-core (npm, pinned in package-lock.json beside this file; `make test` runs `npm ci` here)
run in a page: its serious and critical violations, as one line each. PLAZA_AXE_JS may name
another axe.min.js."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

HERE = Path(__file__).parent
AXE_JS = Path(os.environ.get("PLAZA_AXE_JS") or HERE / "node_modules/axe-core/axe.min.js")


@cache
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `make test` (npm ci in {HERE}) or set PLAZA_AXE_JS")
    return AXE_JS.read_text()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, "id (impact): first target".
    Evaluated from outside the page, so its CSP does not refuse the script."""
    page.evaluate(axe_source())
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]
