"""Graph users/groups delta over real HTTPS: rounds, $select tracking, members@delta, resets."""

from __future__ import annotations

import pytest
import requests

from tests.connector.emulator.tenant_calls import (
    DEFAULT_USER_KEYS,
    GROUP_TYPE,
    USER_TYPE,
    get,
    group_named,
    live_users,
    session_for,
)


def delta_round(session: requests.Session, url: str, **kwargs) -> tuple[list[list[dict]], str]:
    """Follows nextLinks to the end of a round: its pages' values, and the deltaLink."""
    pages = []
    while True:
        response = session.get(url, timeout=30, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["value"])
        if "@odata.deltaLink" in body:
            return pages, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]
        assert "$skiptoken=" in url


@pytest.fixture
def fresh(fresh_emulator) -> tuple:
    """A mutable tenant with small delta pages, and an app-only session on it."""
    fresh_emulator.app.config["GRAPH_DIRECTORY_DELTA_PAGE_SIZE"] = 7
    return fresh_emulator, session_for(fresh_emulator)


def test_users_delta_tracks_selected_properties_only(fresh):
    handle, graph = fresh
    base = f"{handle.base_url}/v1.0/users/delta"
    first = graph.get(f"{base}?$select=displayName,jobTitle,accountEnabled", timeout=30).json()
    assert first["@odata.context"] == (
        f"{handle.base_url}/v1.0/$metadata#users(displayName,jobTitle,accountEnabled)"
    )
    pages, delta_link = delta_round(graph, first["@odata.nextLink"])
    everyone = first["value"] + [u for page in pages for u in page]
    assert len(pages) == 4 and all(len(page) <= 7 for page in pages)
    assert sorted(u["id"] for u in everyone) == sorted(u.id for u in live_users(handle))
    assert delta_link.startswith(f"{base}?$deltatoken=")
    promoted, leaver, quiet = live_users(handle)[5], live_users(handle)[6], live_users(handle)[8]
    handle.tenant.update_user(promoted.id, job_title="Head of Listening")
    handle.tenant.update_user(leaver.id, account_enabled=False)
    handle.tenant.update_user(quiet.id, mobile_phone="+44 7700 900999")  # not selected
    pages, next_link = delta_round(graph, delta_link)
    assert pages == [
        [
            {
                "displayName": promoted.display_name,
                "jobTitle": "Head of Listening",
                "accountEnabled": True,
                "id": promoted.id,
            },
            {
                "displayName": leaver.display_name,
                "jobTitle": leaver.job_title,
                "accountEnabled": False,
                "id": leaver.id,
            },
        ]
    ]
    assert delta_round(graph, next_link)[0] == [[]]


def test_users_delta_default_properties_and_minimal_changes(fresh):
    handle, graph = fresh
    _, delta_link = delta_round(graph, f"{handle.base_url}/v1.0/users/delta")
    someone = next(u for u in live_users(handle) if u.mobile_phone)
    handle.tenant.update_user(someone.id, office_location="Leeds", mobile_phone=None)
    minimal = {"Prefer": "return=minimal"}
    assert delta_round(graph, delta_link, headers=minimal)[0] == [
        [{"mobilePhone": None, "officeLocation": "Leeds", "id": someone.id}]
    ]
    full = delta_round(graph, delta_link)[0][0][0]  # the same round again, all properties
    # Unchanged properties repeat; a cleared one shows as null; never-set ones stay out.
    assert full == {
        "businessPhones": someone.business_phones,
        "displayName": someone.display_name,
        "givenName": someone.given_name,
        "jobTitle": someone.job_title,
        "mail": someone.mail,
        "mobilePhone": None,
        "officeLocation": "Leeds",
        "preferredLanguage": someone.preferred_language,
        "surname": someone.surname,
        "userPrincipalName": someone.user_principal_name,
        "id": someone.id,
    }
    assert list(full) == DEFAULT_USER_KEYS


def test_soft_deleted_user_is_removed_everywhere(fresh):
    handle, graph = fresh
    _, delta_link = delta_round(graph, f"{handle.base_url}/v1.0/users/delta")
    gone = live_users(handle)[9]
    handle.tenant.update_user(gone.id, deleted=True)
    assert delta_round(graph, delta_link)[0] == [
        [{"id": gone.id, "@removed": {"reason": "changed"}}]
    ]
    get(graph, handle, f"/users/{gone.id}", status=404)
    assert gone.id not in {u["id"] for u in get(graph, handle, "/users")["value"]}


def test_groups_delta_reports_member_changes(fresh):
    handle, graph = fresh
    staff = group_named(handle, "All Staff")
    pages, delta_link = delta_round(graph, f"{handle.base_url}/v1.0/groups/delta")
    copies = [g for page in pages for g in page if g["id"] == staff.id]
    assert [m for copy in copies for m in copy["members@delta"]] == [
        {"@odata.type": GROUP_TYPE, "id": m} for m in staff.member_ids
    ]
    practice = group_named(handle, "Audit & Assurance")
    leaving = practice.member_ids[-1]
    joining = next(u.id for u in live_users(handle) if u.id not in practice.member_ids)
    handle.tenant.remove_group_member(practice.id, leaving)
    handle.tenant.add_group_member(practice.id, joining)
    pages, _ = delta_round(graph, delta_link)
    assert len(pages) == 1 and [g["id"] for g in pages[0]] == [practice.id]
    assert pages[0][0]["members@delta"] == [
        {"@odata.type": USER_TYPE, "id": leaving, "@removed": {"reason": "deleted"}},
        {"@odata.type": USER_TYPE, "id": joining},
    ]
    assert pages[0][0]["displayName"] == "Audit & Assurance"


def test_large_group_is_split_across_pages(fresh):
    handle, graph = fresh
    handle.app.config["GRAPH_DIRECTORY_DELTA_PAGE_SIZE"] = 4
    practice = group_named(handle, "Audit & Assurance")
    assert len(practice.member_ids) > 4
    url = f"{handle.base_url}/v1.0/groups/delta?$select=displayName,members"
    pages, _ = delta_round(graph, url)
    copies = [g for page in pages for g in page if g["id"] == practice.id]
    assert len(copies) > 1
    assert all(set(c) == {"displayName", "id", "members@delta"} for c in copies)
    merged = [m["id"] for c in copies for m in c["members@delta"]]
    assert merged == practice.member_ids


def test_member_changes_do_not_show_when_members_are_not_selected(fresh):
    handle, graph = fresh
    url = f"{handle.base_url}/v1.0/groups/delta?$select=displayName"
    pages, delta_link = delta_round(graph, url)
    assert all("members@delta" not in g for page in pages for g in page)
    practice = group_named(handle, "Audit & Assurance")
    handle.tenant.remove_group_member(practice.id, practice.member_ids[-1])
    assert delta_round(graph, delta_link)[0] == [[]]


def test_latest_token_starts_from_now(fresh):
    handle, graph = fresh
    body = get(graph, handle, "/users/delta?$deltatoken=latest")
    assert body["value"] == [] and "$deltatoken=" in body["@odata.deltaLink"]
    someone = live_users(handle)[2]
    handle.tenant.update_user(someone.id, surname="Renamed")
    pages, _ = delta_round(graph, body["@odata.deltaLink"])
    assert [u["id"] for u in pages[0]] == [someone.id] and pages[0][0]["surname"] == "Renamed"


def test_expired_tokens_answer_410_with_a_fresh_start(fresh):
    handle, graph = fresh
    url = f"{handle.base_url}/v1.0/users/delta?$select=displayName"
    _, delta_link = delta_round(graph, url)
    handle.tenant.expire_delta_tokens()
    response = graph.get(delta_link, timeout=30)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "syncStateNotFound"
    assert response.headers["Location"] == url
    pages, _ = delta_round(graph, response.headers["Location"])
    assert sum(len(page) for page in pages) == len(live_users(handle))


def test_garbled_delta_token_is_a_bad_request(fresh):
    handle, graph = fresh
    body = get(graph, handle, "/users/delta?$deltatoken=not-a-token", status=400)
    assert body["error"]["code"] == "Request_BadRequest"


def test_delta_filtered_to_some_ids(fresh):
    handle, graph = fresh
    watched = [u.id for u in live_users(handle)[10:12]]
    clause = " or ".join(f"id eq '{i}'" for i in watched)
    url = f"{handle.base_url}/v1.0/users/delta?$select=surname&$filter={clause}"
    pages, delta_link = delta_round(graph, url)
    assert sorted(u["id"] for page in pages for u in page) == sorted(watched)
    handle.tenant.update_user(watched[0], surname="Watched")
    handle.tenant.update_user(live_users(handle)[13].id, surname="Unwatched")
    assert delta_round(graph, delta_link)[0] == [[{"surname": "Watched", "id": watched[0]}]]


def test_changes_made_during_a_round_come_in_the_next_one(fresh):
    handle, graph = fresh
    first = get(graph, handle, "/users/delta?$select=jobTitle")
    early = first["value"][0]["id"]  # already sent on the first page
    handle.tenant.update_user(early, job_title="Changed Mid-Round")
    pages, delta_link = delta_round(graph, first["@odata.nextLink"])
    sent = [u for page in [first["value"], *pages] for u in page]
    assert len(sent) == len(live_users(handle))  # the round itself stays consistent
    assert delta_round(graph, delta_link)[0] == [[{"jobTitle": "Changed Mid-Round", "id": early}]]
