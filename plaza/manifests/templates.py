"""The JSON templates in the repository's `manifests/templates/`, filled in.

A template is plain JSON whose string values may hold `${name}` placeholders; every string is
filled from the same values, and a placeholder with no value is an error in the template, not
in the admin's input (so it raises KeyError, loudly).
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

MANIFESTS_DIR = Path(__file__).resolve().parents[2] / "manifests"
TEMPLATES_DIR = MANIFESTS_DIR / "templates"


def filled(name: str, values: dict[str, str]) -> dict[str, Any]:
    """The template `name` (a file in manifests/templates/) with its placeholders filled."""
    document = json.loads((TEMPLATES_DIR / name).read_text(encoding="utf-8"))
    return _fill(document, values)


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        return Template(node).substitute(values)
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    return node


def as_json(document: dict[str, Any]) -> bytes:
    """Stable bytes: the same document always writes the same file."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
