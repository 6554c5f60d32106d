"""Columns added to document libraries, their values on list items, and item versions.

SharePoint keeps a library's columns (fields) per list and each item's values per version.
Only what callers add is stored here: columns created through SharePoint REST, values written
with `ValidateUpdateListItem` (or Graph's `PATCH .../fields`), and the versions such writes
make. Values are checked and parsed from the text forms SharePoint's form validation takes
(en-US, the emulator's only site locale, and UTC, its only site time zone).

A system update (`bNewDocumentUpdate` true) changes the current version in place: no new
version, Modified and Editor kept. `system_updates` counts them per item, because the drive's
eTag version moves on each of them while the version label (`OData__UIVersionString`) does not.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TEXT, NOTE, DATETIME, NUMBER, URL = 2, 3, 4, 9, 11  # SP.FieldType values
TYPE_NAMES = {TEXT: "Text", NOTE: "Note", DATETIME: "DateTime", NUMBER: "Number", URL: "URL"}
ENTITY_TYPES = {
    TEXT: "SP.FieldText",
    NOTE: "SP.FieldMultiLineText",
    DATETIME: "SP.FieldDateTime",
    NUMBER: "SP.FieldNumber",
    URL: "SP.FieldUrl",
}
TEXT_LIMIT = 255
DATE_FORMS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y")
DATE_ADVICE = "Enter a date and time like this: 2/23/2012 2:25 PM"
ISO = "%Y-%m-%dT%H:%M:%SZ"


class FieldValueError(ValueError):
    """A form value SharePoint's validation refuses; the message is SharePoint's wording."""


@dataclass(frozen=True)
class FieldDef:
    id: str  # GUID
    title: str
    internal_name: str
    kind: int  # SP.FieldType

    @property
    def type_name(self) -> str:
        return TYPE_NAMES[self.kind]


@dataclass
class Version:
    """One version of an item that a write made (earlier ones are generated on the fly)."""

    label: int  # major version number
    created: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemColumns:
    values: dict[str, Any] = field(default_factory=dict)  # internal name -> parsed value
    system_updates: int = 0
    versions: list[Version] = field(default_factory=list)


class FieldStore:
    """Every list's added columns and every item's values; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._fields: dict[str, dict[str, FieldDef]] = {}  # list id -> lower internal name -> def
        self._items: dict[tuple[str, int], ItemColumns] = {}

    # -- columns ---------------------------------------------------------------------------------

    def fields(self, list_id: str) -> list[FieldDef]:
        with self.lock:
            return list(self._fields.get(list_id, {}).values())

    def find(self, list_id: str, name: str) -> FieldDef | None:
        """A column by internal name or title, ignoring case."""
        wanted = name.lower()
        for found in self.fields(list_id):
            if wanted in (found.internal_name.lower(), found.title.lower()):
                return found
        return None

    def add(self, list_id: str, definition: FieldDef) -> FieldDef:
        """Adds a column; a taken internal name gets a number, as SharePoint does."""
        with self.lock:
            columns = self._fields.setdefault(list_id, {})
            name, n = definition.internal_name, 0
            while name.lower() in columns:
                n += 1
                name = f"{definition.internal_name}{n}"
            added = FieldDef(definition.id, definition.title, name, definition.kind)
            columns[name.lower()] = added
            return added

    # -- values ----------------------------------------------------------------------------------

    def columns(self, list_id: str, number: int) -> ItemColumns | None:
        with self.lock:
            return self._items.get((list_id, number))

    def write(
        self, list_id: str, number: int, values: dict[str, Any], new_version: int | None
    ) -> None:
        """Stores parsed values; `new_version` is the label of the version the write makes,
        None for a system update (the current version changes in place)."""
        with self.lock:
            item = self._items.setdefault((list_id, number), ItemColumns())
            item.values.update(values)
            now = datetime.now(UTC).strftime(ISO)
            if new_version is None:
                item.system_updates += 1
                if item.versions:
                    item.versions[-1].values = dict(item.values)
            else:
                item.versions.append(Version(new_version, now, dict(item.values)))


def parse_value(definition: FieldDef, text: Any) -> Any:
    """A form value (text, as ValidateUpdateListItem takes it) as the column stores it."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise FieldValueError("The value must be given as text.")
    if definition.kind == NUMBER:
        if not re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
            raise FieldValueError("Only numbers can go here.")
        number = float(text)
        return int(number) if number.is_integer() else number
    if definition.kind == DATETIME:
        return _parse_date(text)
    if definition.kind == URL:
        return _parse_url(text)
    if definition.kind == TEXT and len(text) > TEXT_LIMIT:
        raise FieldValueError(
            f"The value of this field may not contain more than {TEXT_LIMIT} characters."
        )
    return text


def _parse_date(text: str) -> str:
    """en-US date and time in the site's time zone (UTC here); ISO 8601 is refused, as
    SharePoint refuses it in form values (sp-dev-docs #4917)."""
    for form in DATE_FORMS:
        try:
            moment = datetime.strptime(text.strip(), form)
        except ValueError:
            continue
        return moment.replace(tzinfo=UTC).strftime(ISO)
    raise FieldValueError(DATE_ADVICE)


def _parse_url(text: str) -> dict[str, str]:
    """ "url, description": the first comma followed by a space that is not doubled (a comma
    in the URL is written ",,") ends the URL; without one the description is the URL."""
    match = re.search(r"(?<!,),(?!,) ", text)
    raw_url = text[: match.start()] if match else text
    description = text[match.end() :] if match else raw_url
    url = raw_url.replace(",,", ",").strip()
    if not re.match(r"https?://\S+$", url):
        raise FieldValueError("Invalid URL: " + url)
    return {"Description": description.strip() or url, "Url": url}
