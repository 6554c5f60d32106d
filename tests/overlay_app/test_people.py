"""People: the directory and profiles (from the synced Entra directory), and the documents a
person discusses, trimmed to what the viewer may open."""

from __future__ import annotations

from urllib.parse import quote

from overlay_app.people import views as people_module


def directory_oracle(tenant, text: str = "") -> list[str]:
    """Display names of enabled people matching `text` (any case), as the directory orders them."""
    text = text.lower()
    found = []
    for user in tenant.users.values():
        if user.deleted or not user.account_enabled:
            continue
        fields = (
            user.display_name,
            user.job_title,
            user.department,
            user.office_location,
            user.user_principal_name,
        )
        if not text or any(text in (value or "").lower() for value in fields):
            found.append(user)
    found.sort(key=lambda u: (u.display_name.lower(), u.id))
    return [user.display_name for user in found]


def all_pages(caller, url: str) -> tuple[list[dict], int]:
    rows, page = [], 1
    while True:
        answer = caller.get(f"{url}{'&' if '?' in url else '?'}page={page}").json
        if not answer["value"]:
            return rows, answer["total"]
        rows += answer["value"]
        page += 1


def comment_on(caller, key, body: str) -> None:
    answer = caller.post("/api/v1/documents/{}/{}/comments".format(*key), json={"body": body})
    assert answer.status_code == 201, answer.json


def test_the_directory_lists_enabled_members_and_guests_by_name(api, people, plaza_env):
    tenant = plaza_env.tenant
    rows, total = all_pages(api(people["guest"]), "/api/v1/people")
    assert [row["displayName"] for row in rows] == directory_oracle(tenant)
    assert total == len(rows)
    assert any(row["guest"] for row in rows)
    disabled = tenant.user(people["disabled"])
    assert disabled.id not in {row["id"] for row in rows}


def test_the_directory_searches_name_title_department_and_office(api, people, plaza_env):
    tenant = plaza_env.tenant
    author = tenant.user(people["author"])
    caller = api(people["reader"])
    for text in (author.department, author.office_location, author.display_name.split()[0][:3]):
        rows, total = all_pages(caller, f"/api/v1/people?q={quote(text)}")
        assert [row["displayName"] for row in rows] == directory_oracle(tenant, text), text
        assert total == len(rows)
    assert all_pages(caller, "/api/v1/people?q=%25")[0] == []  # a literal %, not a wildcard
    assert caller.get("/api/v1/people?q=" + "x" * 101).status_code == 400


def test_the_directory_pages(api, people, plaza_env, monkeypatch):
    monkeypatch.setattr(people_module, "PER_PAGE", 7)
    first = api(people["author"]).get("/api/v1/people").json
    assert (first["page"], first["perPage"], len(first["value"])) == (1, 7, 7)
    rows, total = all_pages(api(people["author"]), "/api/v1/people")
    assert [row["displayName"] for row in rows] == directory_oracle(plaza_env.tenant)
    assert total == len(rows)


def test_a_profile_shows_synced_fields_and_manager(api, people, plaza_env):
    tenant = plaza_env.tenant
    person = next(u for u in tenant.users.values() if u.manager_id and u.account_enabled)
    manager = tenant.user(person.manager_id)
    answer = api(people["guest"]).get(f"/api/v1/people/{person.id}")
    assert answer.status_code == 200
    assert answer.json == {
        "id": person.id,
        "displayName": person.display_name,
        "userPrincipalName": person.user_principal_name,
        "mail": person.mail,
        "jobTitle": person.job_title,
        "department": person.department,
        "office": person.office_location,
        "businessPhone": person.business_phones[0] if person.business_phones else None,
        "guest": False,
        "active": True,
        "manager": {"id": manager.id, "displayName": manager.display_name},
    }
    disabled = tenant.user(people["disabled"])
    assert api(people["author"]).get(f"/api/v1/people/{disabled.id}").json["active"] is False
    unknown = api(people["author"]).get("/api/v1/people/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404


def test_the_documents_a_person_discusses_are_trimmed_for_the_viewer(
    api, people, document, plaza_env
):
    tenant = plaza_env.tenant
    author = tenant.user(people["author"])
    outsider = tenant.user(people["outsider"])
    shared = next(
        key
        for key in sorted(tenant.visible_items(author.id))
        if key != document and not tenant.item(*key).folder and tenant.can_open(outsider.id, *key)
    )
    writer = api(people["author"])
    comment_on(writer, document, "hidden from the outsider")
    comment_on(writer, document, "twice")
    comment_on(writer, shared, "seen by both")
    writer.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": "secret"})
    writer.post("/api/v1/documents/{}/{}/tags".format(*shared), json={"tag": "open"})

    url = f"/api/v1/people/{author.id}/documents"
    mine = api(people["author"]).get(url).json
    assert [(d["itemId"], d["commentCount"], d["tags"]) for d in mine["value"]] == [
        (shared[1], 1, ["open"]),
        (document[1], 2, ["secret"]),
    ]
    assert mine["total"] == 2
    theirs = api(people["outsider"]).get(url).json
    assert theirs["total"] == 1
    assert [(d["driveId"], d["itemId"], d["tags"]) for d in theirs["value"]] == [
        (*shared, ["open"])
    ]
    assert theirs["value"][0]["name"] == tenant.item(*shared).name
    guest = api(people["guest"]).get(url).json
    expected = 1 if tenant.can_open(tenant.user(people["guest"]).id, *shared) else 0
    assert guest["total"] == expected


def test_the_people_pages(app, sign_in, api, people, document, plaza_env):
    tenant = plaza_env.tenant
    author = tenant.user(people["author"])
    comment_on(api(people["author"]), document, "only for readers")
    client = app.test_client()
    sign_in(client, people["outsider"])
    directory = client.get(f"/people?q={quote(author.department)}").get_data(as_text=True)
    assert f'href="/people/{author.id}"' in directory
    assert f"matching <strong>{author.department}</strong>" in directory.replace("&amp;", "&")
    profile = client.get(f"/people/{author.id}").get_data(as_text=True)
    assert author.display_name in profile
    if author.manager_id:
        assert f'href="/people/{author.manager_id}"' in profile
    assert "No comments on documents you can open." in profile
    assert tenant.item(*document).name not in profile
    reader = app.test_client()
    sign_in(reader, people["reader"])
    seen = reader.get(f"/people/{author.id}").get_data(as_text=True)
    assert 'href="/documents/{}/{}"'.format(*document) in seen
    assert "Discussing <span" in seen
    title = author.display_name.replace("'", "&#39;")
    assert seen.split("<title>")[1].split("</title>")[0] == f"{title} · Plaza"
    assert client.get("/people/not-a-person").status_code == 404
