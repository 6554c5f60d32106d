"""Plaza's columns in SharePoint document libraries, through SharePoint REST (write-back).

Plaza shows each document's discussion inside its library: a hyperlink column to the Plaza
page ("3 comments · 5 likes"), the counts, when it was last discussed, and its tags.

- Columns are read with `GET lists(guid'..')/fields` and added with `fields/CreateFieldAsXml`
  (the AddFieldInternalNameHint option keeps our internal names, e.g. `PlazaComments`).
  Adding columns needs the SharePoint application permission Sites.Manage.All.
- Values are written with `items(n)/ValidateUpdateListItem` and `bNewDocumentUpdate: true`:
  SharePoint's system update, which makes no new version and keeps Modified and Modified By
  (Graph's `PATCH .../fields` makes a version and changes both, so it is not used). It needs
  Sites.ReadWrite.All. Form values are text as SharePoint's form validation takes it: a URL
  as "url, description", dates in the site's locale (en-US assumed: see `form_date`).

Requests go through a connector.session Transport (the one retry decision: a 429 or 503 is
waited out and sent again, the whole transport pausing). Writing the same values twice
leaves the same state, so every call here is safe to send again. Tokens are app-only with
the SharePoint audience, which SharePoint accepts only from a certificate credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

import requests

from connector.error_mapping import error_from_response
from connector.errors import AuthError, GraphError
from connector.http import user_agent
from connector.session import CONNECTION_FAILURES, Transport, connection_error, new_session
from connector.settings import ConnectorSettings
from connector.sharepoint import CERTIFICATE_NEEDED, TokenSource

NOMETADATA = "application/json;odata=nometadata"
MANAGE_PERMISSION = "Sites.Manage.All"  # add columns to a library
WRITE_PERMISSION = "Sites.ReadWrite.All"  # write item values
INTERNAL_NAME_HINT = 8  # SP.AddFieldOptions.AddFieldInternalNameHint


@dataclass(frozen=True)
class Column:
    """A library column: its internal name (what values are written to), title and type."""

    internal_name: str
    title: str
    type_name: str  # SharePoint's TypeAsString: "URL", "Number", "DateTime", "Note", "Text"


PLAZA_COLUMNS = (
    Column("PlazaDiscussion", "Plaza discussion", "URL"),
    Column("PlazaComments", "Plaza comments", "Number"),
    Column("PlazaLikes", "Plaza likes", "Number"),
    Column("PlazaLastDiscussed", "Plaza last discussed", "DateTime"),
    Column("PlazaTags", "Plaza tags", "Note"),
)


class FieldRejected(GraphError):
    """SharePoint's form validation refused a value; `field` names the column."""

    def __init__(self, message: str, *, field: str, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.field = field


class SharePointFields:
    """Reads and adds library columns and writes item values; thread-safe."""

    def __init__(
        self, settings: ConnectorSettings, tokens: TokenSource, transport: Transport | None = None
    ) -> None:
        self.tokens = tokens
        self.transport = transport or Transport(
            new_session(settings.ca_bundle, settings.http_timeout),
            max_retries=settings.max_retries,
            per_minute=settings.max_requests_per_minute,
            user_agent=user_agent(settings.user_agent_company),
        )

    def columns(self, site_url: str, list_id: str) -> dict[str, Column]:
        """The library's columns by internal name."""
        path = f"{_list_path(list_id)}/fields?$select=InternalName,Title,TypeAsString"
        raw = self._call(site_url, "GET", path, needs=WRITE_PERMISSION)
        return {
            entry["InternalName"]: Column(
                entry["InternalName"], entry.get("Title") or "", entry.get("TypeAsString") or ""
            )
            for entry in (raw or {}).get("value", [])
            if isinstance(entry, dict) and entry.get("InternalName")
        }

    def add_column(self, site_url: str, list_id: str, column: Column) -> Column:
        """Adds the column with exactly its internal name (PermissionMissing names
        Sites.Manage.All when the app may not)."""
        schema = (
            f"<Field Type={quoteattr(column.type_name)} DisplayName={quoteattr(column.title)}"
            f" Name={quoteattr(column.internal_name)}"
            f" StaticName={quoteattr(column.internal_name)} />"
        )
        body = {"parameters": {"SchemaXml": schema, "Options": INTERNAL_NAME_HINT}}
        path = f"{_list_path(list_id)}/fields/CreateFieldAsXml"
        raw = self._call(site_url, "POST", path, body, needs=MANAGE_PERMISSION)
        return Column(raw["InternalName"], raw.get("Title") or "", raw.get("TypeAsString") or "")

    def ensure_columns(
        self, site_url: str, list_id: str, wanted: tuple[Column, ...] = PLAZA_COLUMNS
    ) -> list[Column]:
        """Adds those of `wanted` the library lacks; returns the ones added."""
        present = self.columns(site_url, list_id)
        return [
            self.add_column(site_url, list_id, column)
            for column in wanted
            if column.internal_name not in present
        ]

    def system_update(
        self, site_url: str, list_id: str, item_id: int, values: dict[str, str]
    ) -> None:
        """Writes form values to a list item without a new version or a new Modified.
        FieldRejected if SharePoint refused one (then none was written)."""
        body = {
            "formValues": [{"FieldName": k, "FieldValue": v} for k, v in values.items()],
            "bNewDocumentUpdate": True,
        }
        path = f"{_item_path(list_id, item_id)}/ValidateUpdateListItem"
        raw = self._call(site_url, "POST", path, body, needs=WRITE_PERMISSION)
        for result in (raw or {}).get("value", []):
            if result.get("HasException"):
                name = result.get("FieldName") or ""
                raise FieldRejected(
                    f"SharePoint refused the value of column {name}: {result.get('ErrorMessage')}",
                    field=name,
                    code="fieldValueRejected",
                )

    def item_values(
        self, site_url: str, list_id: str, item_id: int, names: tuple[str, ...]
    ) -> dict[str, Any]:
        """Some columns of a list item, as SharePoint returns them."""
        path = f"{_item_path(list_id, item_id)}?$select={','.join(names)}"
        raw = self._call(site_url, "GET", path, needs=WRITE_PERMISSION) or {}
        return {name: raw.get(name) for name in names}

    # -- internals -------------------------------------------------------------------------

    def _call(
        self,
        site_url: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        needs: str | None = None,
    ) -> Any:
        if self.tokens.app_only and self.tokens.credential_kind == "secret":
            raise AuthError(CERTIFICATE_NEEDED, code="certificateRequired")
        url = f"{site_url.rstrip('/')}/_api/{path}"
        audience = _origin(site_url)
        token = self.tokens.token(audience)
        response = self._send(method, url, token, body)
        if response.status_code == 401:  # an expired token: forget it and ask again, once
            invalidate = getattr(self.tokens, "invalidate", None)
            if invalidate:
                invalidate(audience, token)
            response = self._send(method, url, self.tokens.token(audience), body)
        if response.status_code >= 400:
            raise error_from_response(response, needs)
        return response.json() if response.content else None

    def _send(
        self, method: str, url: str, token: str, body: dict[str, Any] | None
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": NOMETADATA}
        if body is not None:
            headers["Content-Type"] = NOMETADATA
        try:
            return self.transport.send(method, url, headers=headers, retryable=True, json=body)
        except CONNECTION_FAILURES as exc:
            raise connection_error(method, url, exc) from exc


def discussion_link(url: str, description: str) -> str:
    """A hyperlink column's form value: "url, description" (a comma in the URL doubled)."""
    return f"{url.replace(',', ',,')}, {description}"


def form_date(moment: datetime | None) -> str:
    """A date column's form value. SharePoint takes dates in the site's locale and time zone,
    not ISO 8601 (sp-dev-docs #4917); this writes en-US in UTC, right for sites with those
    regional settings (the emulator's); other sites show the time shifted by their offset."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M %p').lstrip('0')}"


def _list_path(list_id: str) -> str:
    return f"web/lists(guid'{list_id.strip('{}')}')"


def _item_path(list_id: str, item_id: int) -> str:
    return f"{_list_path(list_id)}/items({int(item_id)})"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
