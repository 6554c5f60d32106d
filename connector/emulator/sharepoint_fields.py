"""SharePoint REST columns of libraries and their values on items (sharepoint_fieldstore.py
holds them):

- `lists(guid'..')/fields`: GET the columns; POST `{Title, FieldTypeKind}` adds one, as do
  `fields/AddField` (`{"parameters": SP.FieldCreationInformation}`) and
  `fields/CreateFieldAsXml` (`{"parameters": {"SchemaXml", "Options"}}`; Options with
  AddFieldInternalNameHint (8) keeps the XML's `Name` as the internal name);
  `fields/GetByInternalNameOrTitle('x')`.
- `items(n)/ValidateUpdateListItem`: form values as text, all validated before any is
  written; the answer lists a ListItemFormUpdateValue per value. `bNewDocumentUpdate` true is
  a system update (no version, Modified and Editor kept), false makes a new version.
- `items(n)/Versions`: the item's versions, newest first.
- item reads show the added columns' values.

Either write changes the driveItem's eTag and shows in Graph delta, like at Microsoft.
App-only callers need Sites.Manage.All or Sites.FullControl.All to add columns and
Sites.ReadWrite.All or higher to write values (Graph's permission tables for "Create
columnDefinition" and "Update listItem"); others get SharePoint's 403.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

from flask import Response, current_app, request

from connector.emulator import sharepoint_wire as wire
from connector.emulator.sharepoint_fieldstore import (
    DATETIME,
    ENTITY_TYPES,
    NOTE,
    NUMBER,
    TEXT,
    TYPE_NAMES,
    URL,
    FieldDef,
    FieldStore,
    FieldValueError,
    parse_value,
)
from connector.emulator.sharepoint_lists import ItemRef, ListRef, SPContext
from connector.emulator.tenant import Tenant

WRITE_ROLES = {"Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}
MANAGE_ROLES = {"Sites.Manage.All", "Sites.FullControl.All"}
INTERNAL_NAME_HINT = 8  # SP.AddFieldOptions.AddFieldInternalNameHint
BUILT_IN = (("ID", "ID", 1), ("Title", "Title", TEXT), ("Created", "Created", DATETIME),
            ("Modified", "Modified", DATETIME), ("Name", "FileLeafRef", 12))  # fmt: skip
KINDS_BY_NAME = {name.lower(): kind for kind, name in TYPE_NAMES.items()}


def store() -> FieldStore:
    """The app's field store, made on first use."""
    found = current_app.extensions.get("sharepoint_fields")
    if found is None:
        found = current_app.extensions.setdefault("sharepoint_fields", FieldStore())
    return found


# -- columns --------------------------------------------------------------------------------------


def fields_route(ctx: SPContext, ref: ListRef, rest: list[wire.Segment], method: str) -> Response:
    """`fields`, `fields/AddField`, `fields/CreateFieldAsXml`, `fields/GetByInternalNameOrTitle`."""
    if not rest:
        if method == "GET":
            return wire.collection_response(_field_entities(ctx, ref))
        _expect(method, "POST")
        return wire.entity_response(_add(ctx, ref, _creation_from(_body())), 201)
    head = rest[0]
    if len(rest) > 1:
        raise wire.no_resource(rest[1].text)
    if head.name == "getbyinternalnameortitle" and head.args:
        _expect(method, "GET")
        wanted = str(head.args[0]).lower()
        for entity in _field_entities(ctx, ref):
            if wanted in (entity.props["InternalName"].lower(), entity.props["Title"].lower()):
                return wire.entity_response(entity)
        raise wire.bad_argument(
            f"Column '{head.args[0]}' does not exist. It may have been deleted by another user."
        )
    if head.name == "addfield":
        _expect(method, "POST")
        return wire.entity_response(_add(ctx, ref, _creation_from(_parameters())))
    if head.name == "createfieldasxml":
        _expect(method, "POST")
        return wire.entity_response(_add(ctx, ref, _from_schema_xml(_parameters())))
    raise wire.no_resource(head.text)


def _add(ctx: SPContext, ref: ListRef, wanted: FieldDef) -> wire.Entity:
    if ctx.caller.app_only and not ctx.caller.roles & MANAGE_ROLES:
        raise wire.access_denied()
    if not ctx.can_open_site():
        raise wire.access_denied()
    definition = FieldDef(
        ctx.tenant.ids.guid("field", ref.id, wanted.internal_name),
        wanted.title,
        wanted.internal_name,
        wanted.kind,
    )
    return _field_entity(ctx, ref, store().add(ref.id, definition))


def _creation_from(body: dict[str, Any]) -> FieldDef:
    title, kind = body.get("Title"), body.get("FieldTypeKind")
    if not isinstance(title, str) or not title.strip():
        raise wire.bad_argument("The field needs a Title.")
    if kind not in TYPE_NAMES:
        raise wire.bad_argument(f"Field type {kind!r} is not supported.")
    return FieldDef("", title.strip(), _internal_name(title.strip()), kind)


def _from_schema_xml(parameters: dict[str, Any]) -> FieldDef:
    schema = parameters.get("SchemaXml")
    if not isinstance(schema, str):
        raise wire.bad_argument("SchemaXml is required.")
    try:
        element = ElementTree.fromstring(schema)
    except ElementTree.ParseError as exc:
        raise wire.bad_argument(f"Invalid field schema XML: {exc}.") from exc
    kind = KINDS_BY_NAME.get(element.get("Type", "").lower())
    title = element.get("DisplayName") or element.get("Name")
    if element.tag != "Field" or kind is None or not title:
        raise wire.bad_argument("The schema must be <Field Type=... DisplayName=... />.")
    options = parameters.get("Options") or 0
    hinted = isinstance(options, int) and options & INTERNAL_NAME_HINT and element.get("Name")
    return FieldDef("", title, element.get("Name") if hinted else _internal_name(title), kind)


def _internal_name(title: str) -> str:
    """SharePoint's internal name for a title: each non-alphanumeric character _xHHHH_."""
    return "".join(c if c.isascii() and c.isalnum() else f"_x{ord(c):04x}_" for c in title)[:32]


def _field_entities(ctx: SPContext, ref: ListRef) -> list[wire.Entity]:
    built_in = [
        FieldDef(ctx.tenant.ids.guid("builtin-field", name), title, name, kind)
        for title, name, kind in BUILT_IN
    ]
    return [_field_entity(ctx, ref, f) for f in [*built_in, *store().fields(ref.id)]]


def _field_entity(ctx: SPContext, ref: ListRef, definition: FieldDef) -> wire.Entity:
    uri = f"{ctx.list_uri(ref)}/Fields(guid'{definition.id}')"
    return wire.Entity(
        ENTITY_TYPES.get(definition.kind, "SP.Field"),
        uri,
        {
            "FieldTypeKind": definition.kind,
            "Hidden": False,
            "Id": definition.id,
            "InternalName": definition.internal_name,
            "ReadOnlyField": definition.internal_name in ("ID", "Created", "Modified"),
            "StaticName": definition.internal_name,
            "Title": definition.title,
            "TypeAsString": TYPE_NAMES.get(definition.kind, "Computed"),
        },
    )


# -- values ---------------------------------------------------------------------------------------


def item_route(ctx: SPContext, ref: ItemRef, rest: list[wire.Segment], method: str) -> Response:
    head = rest[0]
    if len(rest) > 1:
        raise wire.no_resource(rest[1].text)
    if head.name == "validateupdatelistitem":
        _expect(method, "POST")
        return _validate_update(ctx, ref)
    _expect(method, "GET")
    return wire.collection_response(_versions(ctx, ref))


def handles(segment: wire.Segment) -> bool:
    return segment.name in ("validateupdatelistitem", "versions")


def _validate_update(ctx: SPContext, ref: ItemRef) -> Response:
    if ctx.caller.app_only and not ctx.caller.roles & WRITE_ROLES:
        raise wire.access_denied()
    body = _body()
    form_values = body.get("formValues")
    if isinstance(form_values, dict):  # verbose JSON: {"results": [...]}
        form_values = form_values.get("results")
    if not isinstance(form_values, list) or not all(isinstance(v, dict) for v in form_values):
        raise wire.bad_argument("formValues must be a list of {FieldName, FieldValue}.")
    system = body.get("bNewDocumentUpdate") is True
    parsed, results = {}, []
    for entry in form_values:
        name, text = str(entry.get("FieldName") or ""), entry.get("FieldValue")
        definition = store().find(ref.list.id, name)
        error = None
        try:
            if definition is None:
                raise FieldValueError(
                    f"Column '{name}' does not exist. It may have been deleted by another user."
                )
            parsed[definition.internal_name] = parse_value(definition, text)
        except FieldValueError as exc:
            error = str(exc)
        results.append(_form_value(ref, name, text, error))
    if parsed and len(parsed) == len(form_values):  # all or nothing; none: no update
        _commit(ctx, ref, parsed, system)
    many = wire.Many(results, "Collection(SP.ListItemFormUpdateValue)")
    return wire.operation_response("ValidateUpdateListItem", many)


def _form_value(ref: ItemRef, name: str, text: Any, error: str | None) -> wire.Complex:
    return wire.Complex(
        "SP.ListItemFormUpdateValue",
        {
            "ErrorCode": -2146232832 if error else 0,
            "ErrorMessage": error,
            "FieldName": name,
            "FieldValue": text,
            "HasException": error is not None,
            "ItemId": ref.number,
        },
    )


def _commit(ctx: SPContext, ref: ItemRef, values: dict[str, Any], system: bool) -> None:
    """Stores the values and, in a library, changes the driveItem (eTag, delta journal)."""
    columns = store()
    with columns.lock:
        if ref.item is None or ref.list.drive is None:
            columns.write(ref.list.id, ref.number, values, None if system else 0)
            return
        by = None if system else (ctx.caller.user_id or ref.item.modified_by)
        item = ctx.tenant.update_fields(ref.list.drive.id, ref.item.id, by)
        kept = columns.columns(ref.list.id, ref.number)
        updates = (kept.system_updates if kept else 0) + (1 if system else 0)
        columns.write(ref.list.id, ref.number, values, None if system else item.version - updates)


def with_values(ctx: SPContext, ref: ItemRef, entity: wire.Entity) -> wire.Entity:
    """The item entity with the list's added columns and the true version label."""
    definitions = store().fields(ref.list.id)
    kept = store().columns(ref.list.id, ref.number)
    if not definitions and kept is None:
        return entity
    props = dict(entity.props)
    values = kept.values if kept else {}
    for definition in definitions:
        props[definition.internal_name] = render_value(
            definition, values.get(definition.internal_name)
        )
    if kept and ref.item is not None:
        props["OData__UIVersionString"] = f"{ref.item.version - kept.system_updates}.0"
    return wire.Entity(entity.type, entity.uri, props)


def render_value(definition: FieldDef, value: Any) -> Any:
    if definition.kind == URL and isinstance(value, dict):
        return wire.Complex("SP.FieldUrlValue", value)
    return value


def _versions(ctx: SPContext, ref: ItemRef) -> list[wire.Entity]:
    kept = store().columns(ref.list.id, ref.number)
    if ref.item is None:
        current, created, modified = 1, ref.page.created_at if ref.page else "", None
    else:
        current = ref.item.version - (kept.system_updates if kept else 0)
        created, modified = ref.item.created_at, ref.item.modified_at
    written = {v.label: v for v in kept.versions} if kept else {}
    entities = []
    for label in range(current, 0, -1):
        version = written.get(label)
        when = version.created if version else (created if label == 1 else modified or created)
        props: dict[str, Any] = {
            "Created": when,
            "IsCurrentVersion": label == current,
            "VersionId": label * 512,
            "VersionLabel": f"{label}.0",
        }
        values = kept.values if (kept and label == current) else (version.values if version else {})
        for definition in store().fields(ref.list.id):
            props[definition.internal_name] = render_value(
                definition, values.get(definition.internal_name)
            )
        uri = f"{ctx.item_uri(ref)}/Versions(GetById={label * 512})"
        entities.append(wire.Entity("SP.ListItemVersion", uri, props))
    return entities


def graph_fields_patch(
    tenant: Tenant, list_id: str, drive_id: str, item_id: str, number: int, body: dict[str, Any]
) -> dict[str, Any]:
    """Graph's `PATCH .../items/{n}/fields`: a normal update (new version, Modified now).
    Values come as JSON (numbers, strings, ISO dates); the answer is the fieldValueSet."""
    columns = store()
    values: dict[str, Any] = {}
    for name, value in body.items():
        definition = columns.find(list_id, name)
        if definition is None:
            raise KeyError(name)
        values[definition.internal_name] = _graph_value(definition, value)
    with columns.lock:
        item = tenant.item(drive_id, item_id)
        assert item is not None
        updated = tenant.update_fields(drive_id, item_id, item.modified_by)
        kept = columns.columns(list_id, number)
        label = updated.version - (kept.system_updates if kept else 0)
        columns.write(list_id, number, values, label)
    stored = columns.columns(list_id, number)
    return dict(stored.values) if stored else {}


def _graph_value(definition: FieldDef, value: Any) -> Any:
    if definition.kind == NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if definition.kind in (TEXT, NOTE, DATETIME) and isinstance(value, str):
        return value
    if value is None:
        return None
    raise ValueError(f"Invalid value for field '{definition.internal_name}'.")


# -- request bodies -------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        raise wire.bad_argument("The request body must be a JSON object.")
    return {k: v for k, v in body.items() if not k.startswith(("__", "@odata"))}


def _parameters() -> dict[str, Any]:
    parameters = _body().get("parameters")
    if not isinstance(parameters, dict):
        raise wire.bad_argument("The parameter 'parameters' is required.")
    return {k: v for k, v in parameters.items() if not k.startswith(("__", "@odata"))}


def _expect(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise wire.not_allowed()
