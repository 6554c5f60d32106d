"""Browse: sites -> libraries -> folders, trimmed to what each person can open, with counts.

Expected values come from the emulator's own rule (Tenant.can_open / visible_items), never
from Plaza's code: a listing must hold exactly the children the person can open in SharePoint.
"""

from __future__ import annotations

import re

from overlay_app import db
from overlay_app.browse import views as browse
from overlay_app.discussion import store as discussion_store
from tests.postgres import sqlite_only


def oracle_libraries(tenant, upn: str) -> dict[str, set[str]]:
    """site id -> ids of the (non-system) libraries where the person can open some item."""
    user = tenant.user(upn)
    drives = {drive_id for drive_id, _ in tenant.visible_items(user.id)}
    found: dict[str, set[str]] = {}
    for site in tenant.sites.values():
        for drive in tenant.drives_of(site.id):
            if drive.id in drives:
                found.setdefault(site.id, set()).add(drive.id)
    return found


def oracle_children(tenant, upn: str, drive_id: str, parent_id: str) -> list[tuple[bool, str]]:
    """(is_folder, name) of the children the person can open: folders first, then by name."""
    user = tenant.user(upn)
    children = [
        child
        for child in tenant.children(drive_id, parent_id)
        if tenant.can_open(user.id, drive_id, child.id)
    ]
    children.sort(key=lambda c: (not c.folder, c.name.casefold(), c.id))
    return [(c.folder, c.name) for c in children]


def listed(answer) -> list[tuple[bool, str]]:
    return [(row["isFolder"], row["name"]) for row in answer.json["value"]]


def parent_of(tenant, document) -> str:
    return tenant.item(*document).parent_id


def test_sites_are_those_where_the_person_can_open_something(plaza_env, api, people):
    for role in ("author", "outsider", "guest"):
        answer = api(people[role]).get("/api/v1/sites")
        assert answer.status_code == 200
        got = {
            site["id"]: {lib["id"] for lib in site["libraries"]} for site in answer.json["value"]
        }
        assert got == oracle_libraries(plaza_env.tenant, people[role]), role
    titles = [site["title"] for site in api(people["author"]).get("/api/v1/sites").json["value"]]
    assert titles == sorted(titles, key=str.casefold)


def test_home_page_lists_sites_with_their_libraries(client, sign_in, people, plaza_env):
    sign_in(client, people["guest"])
    page = client.get("/").get_data(as_text=True)
    expected = oracle_libraries(plaza_env.tenant, people["guest"])
    for site in plaza_env.tenant.sites.values():
        link = f'href="/sites/{site.id}"'
        assert (link in page) == (site.id in expected), site.title


def test_a_site_the_person_sees_nothing_in_is_not_found(client, sign_in, people, plaza_env):
    outsider = oracle_libraries(plaza_env.tenant, people["outsider"])
    hidden = next(s for s in plaza_env.tenant.sites.values() if s.id not in outsider)
    sign_in(client, people["outsider"])
    missing = client.get(f"/sites/{hidden.id}")
    unknown = client.get("/sites/localhost,nothing,here")
    assert missing.status_code == unknown.status_code == 404
    assert without_nonce(missing.get_data()) == without_nonce(unknown.get_data())


def test_folder_listing_is_trimmed_and_ordered(plaza_env, api, people, document):
    tenant = plaza_env.tenant
    drive_id = document[0]
    root = tenant.root(drive_id).id
    for role in ("author", "reader", "outsider"):
        answer = api(people[role]).get(f"/api/v1/drives/{drive_id}/items/root/children")
        if not oracle_children(tenant, people[role], drive_id, root) and role == "outsider":
            assert answer.status_code in (200, 404)
            continue
        assert answer.status_code == 200, role
        assert listed(answer) == oracle_children(tenant, people[role], drive_id, root), role
        assert answer.json["nextPage"] is None


def test_the_documents_folder_lists_it_for_readers_only(plaza_env, api, people, document):
    tenant = plaza_env.tenant
    drive_id, item_id = document
    parent = parent_of(tenant, document)
    url = f"/api/v1/drives/{drive_id}/items/{parent}/children"
    reader = api(people["reader"]).get(url)
    assert listed(reader) == oracle_children(tenant, people["reader"], drive_id, parent)
    assert item_id in {row["itemId"] for row in reader.json["value"]}
    outsider = api(people["outsider"]).get(url)
    if outsider.status_code == 200:
        assert item_id not in {row["itemId"] for row in outsider.json["value"]}
        assert listed(outsider) == oracle_children(tenant, people["outsider"], drive_id, parent)
    else:
        assert outsider.status_code == 404


def test_listing_pages(plaza_env, api, people, document, monkeypatch):
    monkeypatch.setattr(browse, "PER_PAGE", 2)
    drive_id = document[0]
    tenant = plaza_env.tenant
    expected = oracle_children(tenant, people["author"], drive_id, tenant.root(drive_id).id)
    assert len(expected) > 2
    seen, page = [], 1
    while page is not None:
        answer = api(people["author"]).get(
            f"/api/v1/drives/{drive_id}/items/root/children?page={page}"
        )
        assert answer.json["page"] == page and answer.json["perPage"] == 2
        assert len(answer.json["value"]) <= 2
        seen += listed(answer)
        page = answer.json["nextPage"]
    assert seen == expected


def test_counts_beside_files_and_hidden_from_outsiders(app, plaza_env, api, people, document):
    drive_id, item_id = document
    author, reader = api(people["author"]), api(people["reader"])
    comments = f"/api/v1/documents/{drive_id}/{item_id}/comments"
    assert author.post(comments, json={"body": "First look"}).status_code == 201
    second = reader.post(comments, json={"body": "Agreed"})
    assert second.status_code == 201
    oops = reader.post(comments, json={"body": "Oops"}).json["id"]
    assert reader.delete(f"/api/v1/comments/{oops}").status_code == 204
    assert reader.put(f"/api/v1/documents/{drive_id}/{item_id}/like").status_code in (200, 204)
    parent = parent_of(plaza_env.tenant, document)
    listing = author.get(f"/api/v1/drives/{drive_id}/items/{parent}/children").json["value"]
    counts = {row["itemId"]: (row["commentCount"], row["likeCount"]) for row in listing}
    assert counts.pop(item_id) == (2, 1)
    assert set(counts.values()) <= {(0, 0)}
    outsider = api(people["outsider"]).get(f"/api/v1/drives/{drive_id}/items/{parent}/children")
    if outsider.status_code == 200:
        assert item_id not in {row["itemId"] for row in outsider.json["value"]}


def test_folder_page_shows_counts_and_hides_what_the_outsider_cannot_open(
    client, sign_in, api, people, document, plaza_env
):
    drive_id, item_id = document
    api(people["author"]).put(f"/api/v1/documents/{drive_id}/{item_id}/like")
    parent = parent_of(plaza_env.tenant, document)
    name = plaza_env.tenant.item(drive_id, item_id).name
    sign_in(client, people["author"])
    page = client.get(f"/drives/{drive_id}/items/{parent}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'href="/documents/{drive_id}/{item_id}"' in text
    assert 'class="crumbs"' in text
    client.post("/signout", data={"csrf_token": csrf_of(text)})
    sign_in(client, people["outsider"])
    hidden = client.get(f"/drives/{drive_id}/items/{parent}")
    assert hidden.status_code in (200, 404)
    assert name not in hidden.get_data(as_text=True)
    assert item_id not in hidden.get_data(as_text=True)


def without_nonce(body: bytes) -> bytes:
    """A page with its per-request CSP nonce blanked (the only part meant to differ)."""
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', body)


def csrf_of(page: str) -> str:
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def test_a_file_asked_for_as_a_folder_redirects_to_its_page(make_app, sign_in, people, document):
    drive_id, item_id = document
    reader, outsider = make_app().test_client(), make_app().test_client()
    sign_in(reader, people["reader"])
    sign_in(outsider, people["outsider"])
    answer = reader.get(f"/drives/{drive_id}/items/{item_id}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/documents/{drive_id}/{item_id}"
    hidden = outsider.get(f"/drives/{drive_id}/items/{item_id}")
    assert hidden.status_code == 404
    assert "Location" not in hidden.headers


def test_unknown_and_invisible_folders_answer_the_same_404(api, people, document, plaza_env):
    drive_id, item_id = document
    outsider = api(people["outsider"])
    invisible = outsider.get(f"/api/v1/drives/{drive_id}/items/{item_id}/children")
    unknown = outsider.get(f"/api/v1/drives/{drive_id}/items/01NOTANITEM/children")
    no_drive = outsider.get("/api/v1/drives/b!nothing/items/root/children")
    assert invisible.status_code == unknown.status_code == no_drive.status_code == 404
    assert invisible.get_data() == unknown.get_data() == no_drive.get_data()
    assert invisible.json == {"error": {"code": "notFound", "message": "Not found."}}


def test_signed_out_callers_are_refused(client, document):
    assert client.get("/api/v1/sites").status_code == 401
    assert client.get(f"/api/v1/drives/{document[0]}/items/root/children").status_code == 401


def test_a_listing_counts_in_one_grouped_query(app, api, people, document, plaza_env):
    statements: list[str] = []

    @app.before_request
    def trace() -> None:
        db.social().conn.set_trace_callback(statements.append)

    drive_id = document[0]
    parent = parent_of(plaza_env.tenant, document)
    answer = api(people["author"]).get(f"/api/v1/drives/{drive_id}/items/{parent}/children")
    assert answer.status_code == 200
    assert len([row for row in answer.json["value"] if not row["isFolder"]]) > 1
    counting = [s for s in statements if "comments" in s or "document_likes" in s]
    assert len(counting) == 1


@sqlite_only("its query plans")
def test_the_count_query_uses_the_indexes(app):
    with app.app_context():
        plan = (
            db.social()
            .execute("EXPLAIN QUERY PLAN " + discussion_store.COUNTS_SQL, {"keys": '[["d", "i"]]'})
            .fetchall()
        )
    details = " ".join(row[-1] for row in plan)
    assert "USING INDEX comments_by_document" in details
    assert "USING PRIMARY KEY" in details or "sqlite_autoindex_document_likes" in details


def shared_folder_with_two_files(tenant, upns: list[str]):
    """A folder that every one of `upns` can open, holding two files they can all open."""
    ids = [tenant.user(upn).id for upn in upns]
    for drive_id, item_id in sorted(tenant.visible_items(ids[0])):
        folder = tenant.item(drive_id, item_id)
        if not folder.folder or not all(tenant.can_open(u, drive_id, item_id) for u in ids):
            continue
        files = [
            child
            for child in tenant.children(drive_id, item_id)
            if not child.folder and all(tenant.can_open(u, drive_id, child.id) for u in ids)
        ]
        if len(files) >= 2:
            return folder, files[0], files[1]
    raise AssertionError("no folder shared by all of them")


def test_a_file_restricted_inside_a_shared_folder_and_its_counts_vanish_for_others(
    fresh_plaza_env, make_app, sign_in, api, people, resync
):
    tenant = fresh_plaza_env.tenant
    folder, secret, open_file = shared_folder_with_two_files(
        tenant, [people["author"], people["outsider"]]
    )
    drive_id = folder.drive_id
    author_id = tenant.user(people["author"]).id
    fresh_plaza_env.revoke_everyone_but(drive_id, secret.id, author_id, role="read")
    app = make_app(fresh_plaza_env)
    resync(app, people=False, documents=True)
    author = api(people["author"], app)
    author.post(f"/api/v1/documents/{drive_id}/{secret.id}/comments", json={"body": "secret"})
    author.put(f"/api/v1/documents/{drive_id}/{secret.id}/like")
    author.post(f"/api/v1/documents/{drive_id}/{open_file.id}/comments", json={"body": "open"})

    url = f"/api/v1/drives/{drive_id}/items/{folder.id}/children"
    mine = {row["itemId"]: row for row in author.get(url).json["value"]}
    assert (mine[secret.id]["commentCount"], mine[secret.id]["likeCount"]) == (1, 1)
    assert (mine[open_file.id]["commentCount"], mine[open_file.id]["likeCount"]) == (1, 0)
    outsider = api(people["outsider"], app).get(url)
    theirs = {row["itemId"]: row for row in outsider.json["value"]}
    assert secret.id not in theirs
    assert (theirs[open_file.id]["commentCount"], theirs[open_file.id]["likeCount"]) == (1, 0)
    assert listed(outsider) == oracle_children(tenant, people["outsider"], drive_id, folder.id)

    client = app.test_client()
    sign_in(client, people["outsider"])
    page = client.get(f"/drives/{drive_id}/items/{folder.id}").get_data(as_text=True)
    assert open_file.id in page
    assert secret.id not in page and secret.name not in page.replace("&amp;", "&")
