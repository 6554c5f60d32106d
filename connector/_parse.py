"""Small helpers shared by the model parsers (connector.models, connector.models_directory)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def first(raw: Json, *names: str) -> Any:
    """The value of the first of `names` present in `raw` (Microsoft's alternative spellings)."""
    for name in names:
        if name in raw:
            return raw[name]
    return None


def facet(raw: Json, name: str) -> Json:
    value = raw.get(name)
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def odata_kind(raw: Json) -> str | None:
    """ "user" from "#microsoft.graph.user"; None when the element carries no @odata.type."""
    odata_type = raw.get("@odata.type")
    return odata_type.rsplit(".", 1)[-1] if isinstance(odata_type, str) else None


def removed_reason(raw: Json) -> str | None:
    removed = raw.get("@removed")
    if removed is None:
        return None
    return (removed.get("reason") if isinstance(removed, dict) else None) or "deleted"


def as_str(value: Any) -> str | None:
    return None if value is None else str(value)
