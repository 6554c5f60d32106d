"""Graph paths beyond the basics, over real HTTPS with real tokens: drives reached through their
owner (a group's team site library; no OneDrive for anyone), photo sizes, and what Graph and
SharePoint REST answer, as JSON, for paths and methods they do not serve.
"""

from __future__ import annotations

import pytest

from tests.connector.emulator.tenant_calls import (
    VERBOSE,
    enabled_members,
    get,
    session_for,
    site_named,
    sp_call,
)

INNER_ERROR_KEYS = ["date", "request-id", "client-request-id"]


def error_of(body: dict) -> tuple[str, str]:
    error = body["error"]
    assert list(error["innerError"]) == INNER_ERROR_KEYS
    return error["code"], error["message"]


@pytest.mark.parametrize(
    ("path", "segment"),
    [
        ("/chats", "chats"),
        ("/users/{user}/calendar", "calendar"),
        ("/users/{user}/photo/$value/extra", "extra"),
        ("/sites/root/onenote", "onenote"),
        ("/drives/{drive}/root/bundles", "bundles"),
    ],
)
def test_unknown_graph_segments_are_json_bad_requests(emulator, graph, path, segment):
    tenant = emulator.tenant
    user, group = next(iter(tenant.users)), next(iter(tenant.groups))
    drive = next(iter(tenant.drives))
    url = emulator.base_url + "/v1.0" + path.format(user=user, group=group, drive=drive)
    response = graph.get(url, timeout=30)
    assert (response.status_code, response.headers["Content-Type"]) == (400, "application/json")
    message = f"Resource not found for the segment '{segment}'."
    assert error_of(response.json()) == ("BadRequest", message)


def test_a_method_graph_does_not_serve_is_a_json_405(emulator, graph):
    response = graph.delete(f"{emulator.base_url}/v1.0/users", timeout=30)
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    message = "Specified HTTP method is not allowed for the request target."
    assert error_of(response.json()) == ("BadRequest", message)


def test_nobody_has_a_onedrive(emulator, graph):
    person = enabled_members(emulator)[3]
    mysite = ("ResourceNotFound", "User's mysite not found.")
    for path in (f"/users/{person.id}/drive", f"/users/{person.user_principal_name}/drive/root"):
        assert error_of(get(graph, emulator, path, status=404)) == mysite
    with session_for(emulator, user=person.user_principal_name) as own:
        assert error_of(get(own, emulator, "/me/drive", status=404)) == mysite
    code, _ = error_of(get(graph, emulator, "/users/nobody@example.com/drive", status=404))
    assert code == "Request_ResourceNotFound"
    code, message = error_of(get(graph, emulator, "/me/drive", status=400))
    assert message == "/me request is only valid with delegated authentication flow."


def test_a_groups_drive_is_its_team_sites_library(emulator, graph):
    tax = site_named(emulator, "tax")
    site_drive = get(graph, emulator, f"/sites/{tax.id}/drive")
    group_drive = get(graph, emulator, f"/groups/{tax.group_id}/drive")
    assert group_drive == site_drive
    children = "/drive/root/children?$top=5"
    assert (
        get(graph, emulator, f"/groups/{tax.group_id}{children}")["value"]
        == get(graph, emulator, f"/sites/{tax.id}{children}")["value"]
    )
    listed = get(graph, emulator, f"/groups/{tax.group_id}/drives")["value"]
    assert [d["id"] for d in listed] == [
        d["id"] for d in get(graph, emulator, f"/sites/{tax.id}/drives")["value"]
    ]
    security = next(g for g in emulator.tenant.groups.values() if not g.unified)
    assert error_of(get(graph, emulator, f"/groups/{security.id}/drive", status=404))[0] == (
        "itemNotFound"
    )


def test_photo_sizes(emulator, graph):
    tenant = emulator.tenant
    pictured = next(u for u in tenant.users.values() if u.has_photo and not u.deleted)
    plain = next(u for u in tenant.users.values() if not u.has_photo and not u.deleted)
    listed = get(graph, emulator, f"/users/{pictured.id}/photos")
    assert [(p["id"], p["width"], p["height"]) for p in listed["value"]] == [("48X48", 48, 48)]
    one = get(graph, emulator, f"/users/{pictured.id}/photos/48x48")
    assert (one["id"], one["@odata.mediaContentType"]) == ("48X48", "image/png")
    sized = graph.get(f"{emulator.base_url}/v1.0/users/{pictured.id}/photos/48x48/$value")
    whole = graph.get(f"{emulator.base_url}/v1.0/users/{pictured.id}/photo/$value")
    assert sized.status_code == 200 and sized.content == whole.content
    for path in (f"/users/{pictured.id}/photos/96x96/$value", f"/users/{plain.id}/photos"):
        assert error_of(get(graph, emulator, path, status=404))[0] == "ImageNotFound"


def test_unknown_sharepoint_paths_answer_sharepoints_error_json(emulator, app_token):
    missing = "Cannot find resource for the request"
    light = sp_call(emulator, "GET", "/sites/tax/archive/_api/web", app_token)
    assert light.status_code == 404
    assert light.json()["odata.error"]["message"] == {"lang": "en-US", "value": f"{missing} web."}
    verbose = sp_call(emulator, "GET", "/sites/tax/_api/web/navigation", app_token, VERBOSE)
    assert verbose.status_code == 404
    assert verbose.json()["error"]["message"]["value"] == f"{missing} navigation."
