"""The document page and GET /api/v1/documents/{drive_id}/{item_id}.

Expected metadata comes from the emulator (the tenant model and its Graph answers); a document
someone cannot open answers exactly like a missing one and never names itself.
"""

from __future__ import annotations

import html
import re

import pytest


def graph_get(env, path: str) -> dict:
    """A Graph answer from the emulator, as an app with Sites.Read.All sees it."""
    with env.handle.session() as graph:
        answer = graph.get(
            f"{env.info['graph_url']}{path}",
            headers={"Authorization": f"Bearer {env.handle.token('graph')}"},
            timeout=30,
        )
    answer.raise_for_status()
    return answer.json()


def without_nonce(text: str) -> str:
    return re.sub(r"nonce[=-]['\"]?[A-Za-z0-9_\-]+", "nonce", text)


def headers_of(response) -> dict[str, str]:
    return {name: without_nonce(value) for name, value in response.headers.items()}


def signed_in(app, sign_in, upn: str):
    client = app.test_client()
    sign_in(client, upn)
    return client


def office_document(tenant, upn: str, extension: str = "docx"):
    """A file of that type the person can open, and one of another type."""
    user = tenant.user(upn)
    for drive_id, item_id in sorted(tenant.visible_items(user.id)):
        item = tenant.item(drive_id, item_id)
        if not item.folder and item.extension == extension:
            return item
    raise AssertionError(f"{upn} can open no {extension}")


def test_the_api_describes_the_document(plaza_env, api, people, document):
    tenant = plaza_env.tenant
    drive_id, item_id = document
    item = tenant.item(drive_id, item_id)
    site = tenant.site_of(drive_id)
    graph_item = graph_get(plaza_env, f"/drives/{drive_id}/items/{item_id}")
    answer = api(people["reader"]).get(f"/api/v1/documents/{drive_id}/{item_id}")
    assert answer.status_code == 200
    assert answer.json == {
        "driveId": drive_id,
        "itemId": item_id,
        "name": item.name,
        "path": tenant.path_of(item),
        "webUrl": graph_item["webUrl"],
        "officeUrl": graph_item["webUrl"],  # not a Word, Excel or PowerPoint file
        "site": {"id": site.id, "title": site.display_name},
        "library": tenant.drive(drive_id).name,
        "fileType": item.extension,
        "size": item.size,
        "modifiedAt": item.modified_at,
        "modifiedBy": tenant.user(item.modified_by).display_name,
        "createdBy": tenant.user(item.created_by).display_name,
        "archived": False,
        "likeCount": 0,
        "likedByMe": False,
        "commentCount": 0,
        "tags": [],
    }
    assert item.extension not in ("docx", "xlsx", "pptx")


@pytest.mark.parametrize("extension", ["docx", "xlsx", "pptx"])
def test_office_documents_open_in_the_sharepoint_wopi_frame(plaza_env, api, people, extension):
    item = office_document(plaza_env.tenant, people["author"], extension)
    ids = graph_get(plaza_env, f"/drives/{item.drive_id}/items/{item.id}?$select=id,sharepointIds")[
        "sharepointIds"
    ]
    site_url = ids["siteUrl"]
    guid = ids["listItemUniqueId"].upper()
    answer = api(people["author"]).get(f"/api/v1/documents/{item.drive_id}/{item.id}")
    office = f"{site_url}/_layouts/15/Doc.aspx?sourcedoc=%7B{guid}%7D&action=view"
    assert answer.json["officeUrl"] == office


def test_the_page_links_to_office_for_the_web(app, sign_in, api, people, plaza_env):
    item = office_document(plaza_env.tenant, people["author"], "docx")
    described = api(people["author"]).get(f"/api/v1/documents/{item.drive_id}/{item.id}").json
    client = signed_in(app, sign_in, people["author"])
    text = client.get(f"/documents/{item.drive_id}/{item.id}").get_data(as_text=True)
    link = re.search(r'id="open-office" href="([^"]+)"', text)
    assert link is not None and "/_layouts/15/Doc.aspx?sourcedoc=%7B" in link.group(1)
    assert html.unescape(link.group(1)) == described["officeUrl"]
    assert f'id="open-sharepoint" href="{html.escape(described["webUrl"])}"' in text


def test_the_page_shows_metadata_links_likes_tags_and_discussion(
    app, sign_in, api, people, document, plaza_env
):
    drive_id, item_id = document
    item = plaza_env.tenant.item(drive_id, item_id)
    author = api(people["author"])
    author.put(f"/api/v1/documents/{drive_id}/{item_id}/like")
    author.post(f"/api/v1/documents/{drive_id}/{item_id}/tags", json={"tag": "Client-Query"})
    author.post(f"/api/v1/documents/{drive_id}/{item_id}/comments", json={"body": "See **p. 4**"})
    reader = signed_in(app, sign_in, people["reader"])
    page = reader.get(f"/documents/{drive_id}/{item_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    author_name = plaza_env.tenant.user(people["author"]).display_name
    assert f"<title>{item.name} · Plaza</title>" in text.replace("&amp;", "&")
    assert 'id="open-sharepoint"' in text and "Open in SharePoint" in text
    assert 'class="crumbs"' in text
    assert "1 like</span>" in text and author_name in text
    assert 'href="/tags/client-query">#client-query</a>' in text
    assert "<strong>p. 4</strong>" in text
    assert "No comments yet" not in text
    assert "archived" not in text.split("<main ")[1].split('class="discussion')[0].lower()


def test_an_empty_discussion_says_so(app, sign_in, people, document):
    client = signed_in(app, sign_in, people["author"])
    text = client.get("/documents/{}/{}".format(*document)).get_data(as_text=True)
    assert "No comments yet" in text
    assert "No tags yet" in text


def test_likes_are_reported_per_viewer(api, people, document):
    drive_id, item_id = document
    api(people["author"]).put(f"/api/v1/documents/{drive_id}/{item_id}/like")
    mine = api(people["author"]).get(f"/api/v1/documents/{drive_id}/{item_id}").json
    theirs = api(people["reader"]).get(f"/api/v1/documents/{drive_id}/{item_id}").json
    assert (mine["likeCount"], mine["likedByMe"]) == (1, True)
    assert (theirs["likeCount"], theirs["likedByMe"]) == (1, False)


def test_not_visible_answers_exactly_like_missing(app, sign_in, api, people, document, plaza_env):
    drive_id, item_id = document
    name = plaza_env.tenant.item(drive_id, item_id).name
    outsider = api(people["outsider"])
    hidden = outsider.get(f"/api/v1/documents/{drive_id}/{item_id}")
    missing = outsider.get(f"/api/v1/documents/{drive_id}/01NOSUCHITEM0000000000000000000000")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()
    assert headers_of(hidden) == headers_of(missing)
    assert hidden.json == {"error": {"code": "notFound", "message": "Not found."}}

    for role in ("outsider", "guest"):
        client = signed_in(app, sign_in, people[role])
        page = client.get(f"/documents/{drive_id}/{item_id}")
        absent = client.get(f"/documents/{drive_id}/01NOSUCHITEM0000000000000000000000")
        assert page.status_code == absent.status_code == 404
        assert without_nonce(page.get_data(as_text=True)) == without_nonce(
            absent.get_data(as_text=True)
        )
        assert headers_of(page) == headers_of(absent)
        for response in (page, hidden):
            body = response.get_data(as_text=True)
            assert name not in body and name.rsplit(".", 1)[0] not in body
            assert all(name not in value for value in response.headers.values())


def test_signed_out_gets_401(client, document):
    answer = client.get("/api/v1/documents/{}/{}".format(*document))
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthenticated"


def test_a_folder_page_url_redirects_to_the_folder(app, sign_in, people, document, plaza_env):
    drive_id, item_id = document
    parent = plaza_env.tenant.item(drive_id, item_id).parent_id
    client = signed_in(app, sign_in, people["reader"])
    answer = client.get(f"/documents/{drive_id}/{parent}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/drives/{drive_id}/items/{parent}"


def test_a_document_deleted_in_sharepoint_is_archived_with_its_discussion(
    fresh_plaza_env, make_app, sign_in, api, people, document, resync
):
    app = make_app(fresh_plaza_env)
    drive_id, item_id = document
    author = api(people["author"], app)
    comments = f"/api/v1/documents/{drive_id}/{item_id}/comments"
    assert author.post(comments, json={"body": "Kept forever"}).status_code == 201
    fresh_plaza_env.control("DELETE", f"/items/{drive_id}/{item_id}")
    resync(app, people=False, documents=True)
    described = author.get(f"/api/v1/documents/{drive_id}/{item_id}").json
    assert (described["archived"], described["commentCount"]) == (True, 1)
    client = app.test_client()
    sign_in(client, people["author"])
    text = client.get(f"/documents/{drive_id}/{item_id}").get_data(as_text=True)
    assert "<strong>Archived.</strong> This document was deleted in SharePoint." in text
    assert "Kept forever" in text
    assert 'id="open-sharepoint"' not in text
    assert 'class="add-tag"' not in text
    tag = author.post(f"/api/v1/documents/{drive_id}/{item_id}/tags", json={"tag": "late"})
    assert tag.status_code == 409
    outsider = api(people["outsider"], app).get(f"/api/v1/documents/{drive_id}/{item_id}")
    assert outsider.status_code == 404
