"""SharePointFields against the emulator: Plaza's columns added to a library, a system update
that makes no version and keeps Modified/Editor, Graph's fields PATCH that makes one, and the
eTag change in delta; with the wire shapes checked raw."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.auth import TokenProvider
from connector.errors import AuthError, PermissionMissing
from connector.graph import GraphSource
from connector.http import GraphHttp
from connector.sharepoint_fields import (
    PLAZA_COLUMNS,
    FieldRejected,
    SharePointFields,
    discussion_link,
    form_date,
)

NOMETADATA = {"Accept": "application/json;odata=nometadata"}
NAMES = tuple(c.internal_name for c in PLAZA_COLUMNS)


def a_document(handle):
    """(site URL, drive id, driveItem) of a file in a team site's Documents library."""
    tenant = handle.tenant
    site = next(s for s in tenant.sites.values() if s.path.startswith("/sites/"))
    drive = tenant.drives_of(site.id)[0]
    item = next(i for i in tenant.iter_items(drive.id, 1) if not i.folder)
    return handle.base_url + site.path, drive, item


def call(handle, method: str, url: str, body=None, certificate=True):
    token = handle.token("sharepoint", certificate=certificate)
    headers = {**NOMETADATA, "Authorization": f"Bearer {token}"}
    return handle.session().request(method, url, headers=headers, json=body)


@pytest.fixture
def fields(fresh_emulator, make_settings) -> SharePointFields:
    settings = make_settings(fresh_emulator, "thumbprint")
    return SharePointFields(settings, TokenProvider(settings))


def test_columns_are_added_once_with_our_internal_names(fresh_emulator, fields):
    site_url, drive, _ = a_document(fresh_emulator)
    added = fields.ensure_columns(site_url, drive.list_id)
    assert [(c.internal_name, c.title, c.type_name) for c in added] == [
        ("PlazaDiscussion", "Plaza discussion", "URL"),
        ("PlazaComments", "Plaza comments", "Number"),
        ("PlazaLikes", "Plaza likes", "Number"),
        ("PlazaLastDiscussed", "Plaza last discussed", "DateTime"),
        ("PlazaTags", "Plaza tags", "Note"),
    ]
    assert fields.ensure_columns(site_url, drive.list_id) == []
    listed = call(fresh_emulator, "GET", f"{site_url}/_api/web/lists(guid'{drive.list_id}')/fields")
    kinds = {f["InternalName"]: f["FieldTypeKind"] for f in listed.json()["value"]}
    assert [kinds[name] for name in NAMES] == [11, 9, 9, 4, 3]


def test_system_update_keeps_version_modified_and_editor(fresh_emulator, fields):
    site_url, drive, item = a_document(fresh_emulator)
    number = item.index
    item_url = f"{site_url}/_api/web/lists(guid'{drive.list_id}')/items({number})"
    before = call(fresh_emulator, "GET", item_url).json()
    versions_before = call(fresh_emulator, "GET", f"{item_url}/versions").json()["value"]
    fields.ensure_columns(site_url, drive.list_id)
    when = datetime(2026, 12, 6, 21, 5, tzinfo=UTC)
    fields.system_update(
        site_url,
        drive.list_id,
        number,
        {
            "PlazaDiscussion": discussion_link("https://plaza.example/d/1", "3 comments · 5 likes"),
            "PlazaComments": "3",
            "PlazaLikes": "5",
            "PlazaLastDiscussed": form_date(when),
            "PlazaTags": "budget, q3",
        },
    )
    after = call(fresh_emulator, "GET", item_url).json()
    assert {name: after[name] for name in NAMES} == {
        "PlazaDiscussion": {
            "Description": "3 comments · 5 likes",
            "Url": "https://plaza.example/d/1",
        },
        "PlazaComments": 3,
        "PlazaLikes": 5,
        "PlazaLastDiscussed": "2026-12-06T21:05:00Z",
        "PlazaTags": "budget, q3",
    }
    for kept in ("Modified", "EditorId", "OData__UIVersionString"):
        assert after[kept] == before[kept]
    versions = call(fresh_emulator, "GET", f"{item_url}/versions").json()["value"]
    assert [v["VersionLabel"] for v in versions] == [v["VersionLabel"] for v in versions_before]
    assert fields.item_values(site_url, drive.list_id, number, ("PlazaComments",)) == {
        "PlazaComments": 3
    }


def test_the_write_shows_in_delta_with_a_new_etag_only(fresh_emulator, fields, make_settings):
    site_url, drive, item = a_document(fresh_emulator)
    settings = make_settings(fresh_emulator)
    graph = GraphSource(GraphHttp(settings, TokenProvider(settings)))
    pages = list(graph.drive_changes(drive.id))
    before = next(i for p in pages for i in p.items if i.id == item.id)
    fields.ensure_columns(site_url, drive.list_id)
    fields.system_update(site_url, drive.list_id, item.index, {"PlazaComments": "1"})
    changed = [i for p in graph.drive_changes(drive.id, pages[-1].delta_link) for i in p.items]
    after = next(i for i in changed if i.id == item.id)
    assert after.etag != before.etag
    assert (after.ctag, after.modified_at, after.modified_by) == (
        before.ctag,
        before.modified_at,
        before.modified_by,
    )


def test_a_normal_update_makes_a_version_and_changes_modified(fresh_emulator, fields):
    site_url, drive, item = a_document(fresh_emulator)
    item_url = f"{site_url}/_api/web/lists(guid'{drive.list_id}')/items({item.index})"
    fields.ensure_columns(site_url, drive.list_id)
    before = call(fresh_emulator, "GET", item_url).json()
    body = {
        "formValues": [{"FieldName": "PlazaLikes", "FieldValue": "2"}],
        "bNewDocumentUpdate": False,
    }
    answer = call(fresh_emulator, "POST", f"{item_url}/ValidateUpdateListItem", body)
    assert answer.json() == {
        "value": [
            {
                "ErrorCode": 0,
                "ErrorMessage": None,
                "FieldName": "PlazaLikes",
                "FieldValue": "2",
                "HasException": False,
                "ItemId": item.index,
            }
        ]
    }
    after = call(fresh_emulator, "GET", item_url).json()
    major = int(before["OData__UIVersionString"].split(".")[0])
    assert after["OData__UIVersionString"] == f"{major + 1}.0"
    assert after["Modified"] != before["Modified"]
    versions = call(fresh_emulator, "GET", f"{item_url}/versions").json()["value"]
    assert versions[0]["VersionLabel"] == f"{major + 1}.0"
    assert versions[0]["IsCurrentVersion"] is True
    assert versions[0]["PlazaLikes"] == 2


def test_a_refused_value_writes_nothing(fresh_emulator, fields):
    site_url, drive, item = a_document(fresh_emulator)
    fields.ensure_columns(site_url, drive.list_id)
    with pytest.raises(FieldRejected) as raised:
        fields.system_update(
            site_url,
            drive.list_id,
            item.index,
            {"PlazaComments": "4", "PlazaLastDiscussed": "2026-12-06T21:05:00Z"},
        )
    assert raised.value.field == "PlazaLastDiscussed"
    assert str(raised.value) == (
        "SharePoint refused the value of column PlazaLastDiscussed: Enter a date and time like "
        "this: 2/23/2012 2:25 PM [fieldValueRejected]"
    )
    values = fields.item_values(site_url, drive.list_id, item.index, ("PlazaComments",))
    assert values == {"PlazaComments": None}


def test_missing_permissions_are_named(fresh_emulator, fields):
    site_url, drive, item = a_document(fresh_emulator)
    client_id = fresh_emulator.info["client_id"]
    url = f"{fresh_emulator.base_url}/_emulator/apps/{client_id}/roles"
    fresh_emulator.session().put(url, json={"roles": ["Sites.Read.All"]}).raise_for_status()
    with pytest.raises(PermissionMissing) as raised:
        fields.ensure_columns(site_url, drive.list_id)
    assert raised.value.permission == "Sites.Manage.All"
    with pytest.raises(PermissionMissing) as raised:
        fields.system_update(site_url, drive.list_id, item.index, {"PlazaComments": "1"})
    assert raised.value.permission == "Sites.ReadWrite.All"


def test_a_client_secret_is_refused_before_asking(fresh_emulator, make_settings):
    settings = make_settings(fresh_emulator, "secret")
    fields = SharePointFields(settings, TokenProvider(settings))
    site_url, drive, _ = a_document(fresh_emulator)
    with pytest.raises(AuthError) as raised:
        fields.columns(site_url, drive.list_id)
    assert raised.value.code == "certificateRequired"


def test_graphs_fields_patch_makes_a_version(fresh_emulator, fields):
    site_url, drive, item = a_document(fresh_emulator)
    tenant = fresh_emulator.tenant
    site = next(s for s in tenant.sites.values() if s.id == drive.site_id)
    item_url = f"{site_url}/_api/web/lists(guid'{drive.list_id}')/items({item.index})"
    fields.ensure_columns(site_url, drive.list_id)
    before = call(fresh_emulator, "GET", item_url).json()
    token = fresh_emulator.token("graph")
    answer = fresh_emulator.session().patch(
        f"{fresh_emulator.info['graph_url']}/sites/{site.id}/lists/{drive.list_id}"
        f"/items/{item.index}/fields",
        headers={"Authorization": f"Bearer {token}"},
        json={"PlazaComments": 7},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["PlazaComments"] == 7
    after = call(fresh_emulator, "GET", item_url).json()
    major = int(before["OData__UIVersionString"].split(".")[0])
    assert after["OData__UIVersionString"] == f"{major + 1}.0"
    assert after["Modified"] != before["Modified"]
    assert after["PlazaComments"] == 7
    unknown = fresh_emulator.session().patch(
        answer.url, headers={"Authorization": f"Bearer {token}"}, json={"Nope": 1}
    )
    assert (unknown.status_code, unknown.json()["error"]["message"]) == (
        400,
        "Field 'Nope' is not recognized",
    )


def test_form_values_as_sharepoint_parses_them():
    from connector.emulator.sharepoint_fieldstore import URL, FieldDef, parse_value

    assert form_date(datetime(2026, 12, 6, 21, 5, tzinfo=UTC)) == "12/6/2026 9:05 PM"
    assert form_date(datetime(2026, 1, 2, 0, 30, tzinfo=UTC)) == "1/2/2026 12:30 AM"
    assert form_date(None) == ""
    link = discussion_link("https://plaza.example/a,b", "1 comment · 0 likes")
    assert link == "https://plaza.example/a,,b, 1 comment · 0 likes"
    assert parse_value(FieldDef("", "Plaza discussion", "PlazaDiscussion", URL), link) == {
        "Description": "1 comment · 0 likes",
        "Url": "https://plaza.example/a,b",
    }
