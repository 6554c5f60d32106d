"""Graph users, groups, manager, photo, memberships and their delta, over real HTTPS."""

from __future__ import annotations

import pytest

from tests.connector.emulator.tenant_calls import (
    DEFAULT_USER_KEYS,
    GROUP_TYPE,
    USER_TYPE,
    get,
    group_named,
    live_users,
    session_for,
)


def error_of(body: dict) -> tuple[str, str]:
    return body["error"]["code"], body["error"]["message"]


# -- users ---------------------------------------------------------------------------------------


def test_user_list_shows_the_default_properties_only(emulator, graph):
    body = get(graph, emulator, "/users")
    assert body["@odata.context"] == f"{emulator.base_url}/v1.0/$metadata#users"
    assert "@odata.nextLink" not in body
    assert all(list(user) == DEFAULT_USER_KEYS for user in body["value"])
    assert sorted(u["id"] for u in body["value"]) == sorted(u.id for u in live_users(emulator))


def test_select_picks_other_properties_and_shows_in_the_context(emulator, graph):
    body = get(graph, emulator, "/users?$select=displayName,accountEnabled,userType")
    expected = f"{emulator.base_url}/v1.0/$metadata#users(displayName,accountEnabled,userType)"
    assert body["@odata.context"] == expected
    assert all(list(u) == ["displayName", "accountEnabled", "userType"] for u in body["value"])
    disabled = [u["displayName"] for u in body["value"] if u["accountEnabled"] is False]
    assert disabled == [u.display_name for u in live_users(emulator) if not u.account_enabled]
    assert sum(u["userType"] == "Guest" for u in body["value"]) == 1


def test_unknown_selected_property_is_a_bad_request(emulator, graph):
    body = get(graph, emulator, "/users?$select=displayName,shoeSize", status=400)
    assert error_of(body) == (
        "BadRequest",
        "Parsing OData Select and Expand failed: Could not find a property named 'shoeSize' "
        "on type 'microsoft.graph.user'.",
    )


def test_paging_with_top_5_returns_every_user_exactly_once(emulator, graph):
    url, seen, pages = f"{emulator.base_url}/v1.0/users?$top=5&$select=id", [], 0
    while url:
        body = graph.get(url, timeout=30).json()
        assert len(body["value"]) <= 5
        seen += [u["id"] for u in body["value"]]
        url, pages = body.get("@odata.nextLink"), pages + 1
        if url:
            assert url.startswith(f"{emulator.base_url}/v1.0/users?$top=5&$select=id&$skiptoken=")
    assert pages == 6
    assert sorted(seen) == sorted(u.id for u in live_users(emulator))


def test_top_above_999_is_clamped_and_zero_refused(emulator, graph):
    assert len(get(graph, emulator, "/users?$top=5000")["value"]) == 30
    get(graph, emulator, "/users?$top=0", status=400)


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("accountEnabled eq true", lambda u: u.account_enabled),
        ("userType eq 'Guest'", lambda u: u.user_type == "Guest"),
        ("startswith(displayName,'g')", lambda u: u.display_name.lower().startswith("g")),
        (
            "startsWith(displayName, 'G') and accountEnabled eq true",
            lambda u: u.display_name.startswith("G") and u.account_enabled,
        ),
        (
            "userType eq 'Guest' or jobTitle eq 'Partner'",
            lambda u: u.user_type == "Guest" or u.job_title == "Partner",
        ),
    ],
)
def test_filters_graph_accepts_without_advanced_queries(emulator, graph, clause, expected):
    body = get(graph, emulator, "/users", params={"$filter": clause, "$select": "id"})
    want = sorted(u.id for u in live_users(emulator) if expected(u))
    assert want and sorted(u["id"] for u in body["value"]) == want


def test_filter_by_id(emulator, graph):
    someone = live_users(emulator)[4]
    body = get(graph, emulator, "/users", params={"$filter": f"id eq '{someone.id}'"})
    assert [u["userPrincipalName"] for u in body["value"]] == [someone.user_principal_name]


def test_unsupported_filters_answer_request_unsupported_query(emulator, graph):
    body = get(graph, emulator, "/users", 400, params={"$filter": "mobilePhone eq '1'"})
    assert error_of(body) == (
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'mobilePhone' "
        "of resource 'User'.",
    )
    body = get(graph, emulator, "/users", 400, params={"$filter": "endswith(mail,'.com')"})
    assert error_of(body) == ("Request_UnsupportedQuery", "Unsupported Query.")


def test_advanced_query_with_count_and_consistency_level(emulator, graph):
    params = {"$filter": "endswith(mail,'.onmicrosoft.com')", "$count": "true", "$top": "10"}
    body = get(graph, emulator, "/users", params=params, headers={"ConsistencyLevel": "eventual"})
    members = [u for u in live_users(emulator) if u.mail.endswith(".onmicrosoft.com")]
    assert body["@odata.count"] == len(members) == 29
    assert len(body["value"]) == 10
    follow = graph.get(body["@odata.nextLink"], timeout=30).json()  # no header on later pages
    assert "@odata.count" not in follow and len(follow["value"]) == 10
    body = get(graph, emulator, "/users?$count=true", status=400)
    assert error_of(body) == ("Request_BadRequest", "$count is not currently supported.")


def test_get_user_by_id_and_by_upn(emulator, graph):
    someone = live_users(emulator)[3]
    by_id = get(graph, emulator, f"/users/{someone.id}")
    by_upn = get(graph, emulator, f"/users/{someone.user_principal_name.upper()}")
    assert by_id == by_upn
    assert by_id["@odata.context"] == f"{emulator.base_url}/v1.0/$metadata#users/$entity"
    assert list(by_id)[1:] == DEFAULT_USER_KEYS
    selected = get(graph, emulator, f"/users/{someone.id}?$select=department,aboutMe")
    assert selected == {
        "@odata.context": f"{emulator.base_url}/v1.0/$metadata#users(department,aboutMe)/$entity",
        "department": someone.department,
        "aboutMe": None,
    }


def test_missing_user_is_request_resource_not_found(emulator, graph):
    body = get(graph, emulator, "/users/no-such-person", status=404)
    assert error_of(body) == (
        "Request_ResourceNotFound",
        "Resource 'no-such-person' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def test_me_needs_a_user_token(emulator, graph):
    someone = next(u for u in live_users(emulator) if u.account_enabled and u.has_photo)
    mine = session_for(emulator, user=someone.user_principal_name)
    assert get(mine, emulator, "/me")["id"] == someone.id
    photo = mine.get(f"{emulator.base_url}/v1.0/me/photo/$value", timeout=30)
    assert photo.content == emulator.tenant.photo(someone.id)
    groups = get(mine, emulator, "/me/transitiveMemberOf")["value"]
    assert {g["id"] for g in groups} == set(emulator.tenant.transitive_groups(someone.id))
    body = get(graph, emulator, "/me", status=400)
    assert error_of(body) == (
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )


def test_manager_is_a_directory_object_or_404(emulator, graph):
    top, someone = live_users(emulator)[0], live_users(emulator)[7]
    boss = emulator.tenant.users[someone.manager_id]
    body = get(graph, emulator, f"/users/{someone.id}/manager")
    assert body["@odata.context"] == f"{emulator.base_url}/v1.0/$metadata#directoryObjects/$entity"
    assert body["@odata.type"] == USER_TYPE
    assert (body["id"], body["displayName"]) == (boss.id, boss.display_name)
    body = get(graph, emulator, f"/users/{top.id}/manager", status=404)
    assert error_of(body) == (
        "Request_ResourceNotFound",
        "Resource 'manager' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def test_photo_bytes_metadata_and_404(emulator, graph):
    pictured = next(u for u in live_users(emulator) if u.has_photo)
    response = graph.get(f"{emulator.base_url}/v1.0/users/{pictured.id}/photo/$value", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content == emulator.tenant.photo(pictured.id)
    meta = get(graph, emulator, f"/users/{pictured.id}/photo")
    assert (meta["id"], meta["width"], meta["height"]) == ("48X48", 48, 48)
    assert meta["@odata.mediaContentType"] == "image/png"
    plain = next(u for u in live_users(emulator) if not u.has_photo)
    for path in ("photo", "photo/$value"):
        body = get(graph, emulator, f"/users/{plain.id}/{path}", status=404)
        assert body["error"]["code"] == "ImageNotFound"


def test_transitive_member_of_includes_nested_groups(emulator, graph):
    tenant = emulator.tenant
    partner = next(u for u in live_users(emulator) if u.job_title == "Partner")
    direct = get(graph, emulator, f"/users/{partner.id}/memberOf")["value"]
    every = get(graph, emulator, f"/users/{partner.id}/transitiveMemberOf")["value"]
    assert {g["@odata.type"] for g in direct + every} == {GROUP_TYPE}
    assert {g["id"] for g in every} == set(tenant.transitive_groups(partner.id))
    assert {g["id"] for g in direct} == {
        g.id for g in tenant.groups.values() if partner.id in g.member_ids
    }
    nested = {"All Partners", "Client Confidential", "All Staff"}
    assert nested <= {g["displayName"] for g in every}
    assert not nested & {g["displayName"] for g in direct}


# -- groups --------------------------------------------------------------------------------------


def test_groups_list_and_their_kinds(emulator, graph):
    body = get(graph, emulator, "/groups")
    assert body["@odata.context"] == f"{emulator.base_url}/v1.0/$metadata#groups"
    assert len(body["value"]) == len(emulator.tenant.groups)
    practice = next(g for g in body["value"] if g["groupTypes"] == ["Unified"])
    assert (practice["mailEnabled"], practice["securityEnabled"]) == (True, False)
    assert practice["mail"] == f"{practice['mailNickname']}@{emulator.tenant.domain}"
    assert practice["visibility"] in ("Public", "Private")
    partners = get(graph, emulator, f"/groups/{group_named(emulator, 'All Partners').id}")
    assert (partners["groupTypes"], partners["securityEnabled"], partners["mail"]) == (
        [],
        True,
        None,
    )
    unified = get(
        graph, emulator, "/groups", params={"$filter": "groupTypes/any(c:c eq 'Unified')"}
    )
    assert {g["id"] for g in unified["value"]} == {
        g.id for g in emulator.tenant.groups.values() if g.unified
    }


def test_group_members_are_typed_directory_objects(emulator, graph):
    partners = group_named(emulator, "All Partners")
    body = get(graph, emulator, f"/groups/{partners.id}/members")
    assert body["@odata.context"] == f"{emulator.base_url}/v1.0/$metadata#directoryObjects"
    kinds = {m["id"]: m["@odata.type"] for m in body["value"]}
    assert kinds == {
        m: GROUP_TYPE if m in emulator.tenant.groups else USER_TYPE for m in partners.member_ids
    }
    users_only = get(graph, emulator, f"/groups/{partners.id}/members/microsoft.graph.user")
    assert users_only["@odata.context"] == f"{emulator.base_url}/v1.0/$metadata#users"
    assert [u["id"] for u in users_only["value"]] == [
        m for m in partners.member_ids if m in emulator.tenant.users
    ]
    deep = get(graph, emulator, f"/groups/{partners.id}/transitiveMembers?$top=999")["value"]
    assert {m["id"] for m in deep} == set(emulator.tenant.transitive_members(partners.id))
    get(graph, emulator, f"/groups/{partners.id}/members/microsoft.graph.device", status=400)


def test_group_owners_and_missing_group(emulator, graph):
    practice = next(g for g in emulator.tenant.groups.values() if g.unified and g.owner_ids)
    owners = get(graph, emulator, f"/groups/{practice.id}/owners")["value"]
    assert sorted(o["id"] for o in owners) == sorted(practice.owner_ids)
    body = get(graph, emulator, "/groups/00000000-0000-0000-0000-000000000000", status=404)
    assert body["error"]["code"] == "Request_ResourceNotFound"


def test_app_without_group_roles_is_denied(emulator):
    limited = next(a for a in emulator.tenant.apps.values() if "Group.Read.All" not in a.roles)
    session = session_for(emulator, client_id=limited.client_id)
    get(session, emulator, "/users?$top=1")  # User.Read.All is enough for users
    for path in ("/groups", "/groups/delta"):
        body = get(session, emulator, path, status=403)
        assert error_of(body) == (
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )


def test_resource_units_follow_the_directory_cost_table(emulator, graph):
    def units(path: str) -> str:
        response = graph.get(f"{emulator.base_url}/v1.0{path}", timeout=30)
        return response.headers["x-ms-resource-unit"]

    partners = group_named(emulator, "All Partners").id
    assert units("/users") == "2"
    assert units("/users?$select=id&$top=5") == "1"
    assert units(f"/groups/{partners}/members") == "3"
    assert units(f"/groups/{partners}/transitiveMembers") == "5"
    assert units(f"/groups/{partners}") == "1"


def test_requests_without_a_token_are_unauthenticated(emulator):
    response = emulator.session().get(f"{emulator.base_url}/v1.0/users", timeout=30)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_orderby_display_name_descending_pages_in_order(emulator, graph):
    url = f"{emulator.base_url}/v1.0/users?$orderby=displayName desc&$top=7&$select=displayName"
    names: list[str] = []
    while url:
        body = graph.get(url, timeout=30).json()
        names += [u["displayName"] for u in body["value"]]
        url = body.get("@odata.nextLink")
    expected = sorted((u.display_name for u in live_users(emulator)), key=str.casefold)
    assert names == expected[::-1]
    body = get(graph, emulator, "/users?$orderby=jobTitle", status=400)
    assert body["error"]["code"] == "Request_UnsupportedQuery"


def test_filters_on_memberships_are_advanced_queries(emulator, graph):
    partners = group_named(emulator, "All Partners")
    path = f"/groups/{partners.id}/transitiveMembers/microsoft.graph.user"
    params = {"$filter": "jobTitle eq 'Partner'"}
    body = get(graph, emulator, path, status=400, params=params)
    assert error_of(body) == ("Request_UnsupportedQuery", "Unsupported Query.")
    body = get(
        graph,
        emulator,
        path,
        params={**params, "$count": "true"},
        headers={"ConsistencyLevel": "eventual"},
    )
    expected = {
        m
        for m in emulator.tenant.transitive_members(partners.id)
        if m in emulator.tenant.users and emulator.tenant.users[m].job_title == "Partner"
    }
    assert body["@odata.count"] == len(expected) > 0
    assert {u["id"] for u in body["value"]} == expected


def test_search_needs_consistency_level_and_matches_word_starts(emulator, graph):
    body = get(graph, emulator, "/users", status=400, params={"$search": '"displayName:ja"'})
    assert error_of(body) == (
        "Request_UnsupportedQuery",
        "Request with $search query parameter only works through MSGraph with a special request "
        "header: 'ConsistencyLevel: eventual'",
    )
    eventual = {"ConsistencyLevel": "eventual"}
    params = {"$search": '"displayName:ja" OR "jobTitle:partner"', "$select": "id"}
    body = get(graph, emulator, "/users", params=params, headers=eventual)
    expected = {
        u.id
        for u in live_users(emulator)
        if any(w.lower().startswith("ja") for w in u.display_name.split())
        or "partner" in (u.job_title or "").lower().split()
    }
    assert expected and {u["id"] for u in body["value"]} == expected
