"""Tags: normalised, added and removed by any viewer, suggested and listed per tag, trimmed."""

from __future__ import annotations

import re

from overlay_app.tags.reads import TAG_RULE


def tags_url(key: tuple[str, str]) -> str:
    return "/api/v1/documents/{}/{}/tags".format(*key)


def a_file_for(tenant, upn: str, unlike: tuple[str, str] | None = None) -> tuple[str, str]:
    """A file the person can open (not `unlike`), by sorted id."""
    user = tenant.user(upn)
    for key in sorted(tenant.visible_items(user.id)):
        if key != unlike and not tenant.item(*key).folder:
            return key
    raise AssertionError("no file")


def test_a_tag_is_normalised_and_added_once(api, people, document, plaza_env):
    author = api(people["author"])
    created = author.post(tags_url(document), json={"tag": "  Q3-Report "})
    assert created.status_code == 201
    author_id = plaza_env.tenant.user(people["author"]).id
    name = plaza_env.tenant.user(people["author"]).display_name
    assert created.json["tag"] == "q3-report"
    assert created.json["addedBy"] == {"id": author_id, "displayName": name}
    again = api(people["reader"]).post(tags_url(document), json={"tag": "q3-REPORT"})
    assert again.status_code == 200
    assert again.json == created.json
    listed = author.get(tags_url(document)).json
    assert listed["value"] == [created.json]
    described = author.get("/api/v1/documents/{}/{}".format(*document)).json
    assert described["tags"] == ["q3-report"]


def test_a_tag_outside_the_rule_is_refused_with_the_rule(api, people, document):
    author = api(people["author"])
    # The Kelvin sign lower-cases to "k" and NBSP is Unicode space: still refused, the rule
    # (and the OpenAPI pattern) being ASCII.
    for bad in ["q3 report", "", "   ", "x" * 41, "résumé", "a_b", "#tag", "\u212a", "\u00a0q3",
                42, None, ["a"]]:  # fmt: skip
        answer = author.post(tags_url(document), json={"tag": bad})
        assert answer.status_code == 400, bad
        assert answer.json == {"error": {"code": "badRequest", "message": TAG_RULE}}
    assert author.post(tags_url(document), data="tag=x").status_code == 400
    assert author.get(tags_url(document)).json["value"] == []


def test_forty_characters_is_the_longest_tag(api, people, document):
    answer = api(people["author"]).post(tags_url(document), json={"tag": "a" * 40})
    assert answer.status_code == 201


def test_someone_who_cannot_open_the_document_gets_404_whatever_the_tag(api, people, document):
    for bad in ("fine", "not fine!"):
        answer = api(people["outsider"]).post(tags_url(document), json={"tag": bad})
        assert answer.status_code == 404
        assert answer.json == {"error": {"code": "notFound", "message": "Not found."}}
    removal = api(people["outsider"]).delete(tags_url(document) + "/fine")
    assert removal.status_code == 404
    assert api(people["guest"]).get(tags_url(document)).status_code == 404


def test_any_viewer_removes_a_tag(api, people, document):
    api(people["author"]).post(tags_url(document), json={"tag": "draft"})
    api(people["author"]).post(tags_url(document), json={"tag": "final"})
    reader = api(people["reader"])
    assert reader.delete(tags_url(document) + "/draft").status_code == 204
    assert reader.delete(tags_url(document) + "/draft").status_code == 204
    assert [entry["tag"] for entry in reader.get(tags_url(document)).json["value"]] == ["final"]
    assert reader.delete(tags_url(document) + "/NOT%20OK").status_code == 400


def test_the_tag_page_lists_only_documents_the_person_can_open(
    app, sign_in, api, people, document, plaza_env
):
    tenant = plaza_env.tenant
    theirs = a_file_for(tenant, people["outsider"], unlike=document)
    hidden_name = tenant.item(*document).name
    assert api(people["author"]).post(tags_url(document), json={"tag": "deal"}).status_code == 201
    assert api(people["outsider"]).post(tags_url(theirs), json={"tag": "deal"}).status_code == 201

    outsider = api(people["outsider"]).get("/api/v1/tags/deal").json
    assert outsider["total"] == 1
    assert [(d["driveId"], d["itemId"]) for d in outsider["value"]] == [theirs]
    author_sees = {
        tuple(key)
        for key in [document, theirs]
        if tenant.can_open(tenant.user(people["author"]).id, *key)
    }
    author = api(people["author"]).get("/api/v1/tags/deal").json
    assert {(d["driveId"], d["itemId"]) for d in author["value"]} == author_sees
    assert author["total"] == len(author_sees)

    client = app.test_client()
    sign_in(client, people["outsider"])
    page = client.get("/tags/DEAL")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 document you can open" in text
    assert hidden_name not in text and document[1] not in text
    assert tenant.item(*theirs).name in text.replace("&amp;", "&").replace("&#39;", "'")


def test_an_unused_tag_page_is_empty(app, sign_in, people):
    client = app.test_client()
    sign_in(client, people["reader"])
    text = client.get("/tags/nothing-here").get_data(as_text=True)
    assert "No documents you can open carry this tag." in text
    assert client.get("/tags/not%20a%20tag").status_code == 400


def test_suggestions_are_the_most_used_tags_the_person_can_see(api, people, document, plaza_env):
    tenant = plaza_env.tenant
    author = api(people["author"])
    others = [
        key
        for key in sorted(tenant.visible_items(tenant.user(people["author"]).id))
        if key != document and not tenant.item(*key).folder
    ][:2]
    for key in others:
        author.post(tags_url(key), json={"tag": "popular"})
    author.post(tags_url(others[0]), json={"tag": "rare"})
    author.post(tags_url(document), json={"tag": "secret-deal"})  # the outsider cannot see it
    assert author.get(tags_url(document)).json["suggestions"] == ["popular", "rare"]
    assert author.get(tags_url(others[1])).json["suggestions"] == ["rare", "secret-deal"]
    outsider_doc = a_file_for(tenant, people["outsider"], unlike=document)
    suggested = api(people["outsider"]).get(tags_url(outsider_doc)).json["suggestions"]
    assert "secret-deal" not in suggested
    outsider_id = tenant.user(people["outsider"]).id
    visible_popular = sum(tenant.can_open(outsider_id, *key) for key in others)
    if visible_popular and outsider_doc not in others:
        assert suggested[0] == "popular"


def test_page_forms_add_and_remove_tags(app, sign_in, csrf_token, people, document):
    client = app.test_client()
    sign_in(client, people["reader"])
    token = csrf_token(client)
    page_url = "/documents/{}/{}".format(*document)
    added = client.post(page_url + "/tags", data={"tag": " Review ", "csrf_token": token})
    assert added.status_code == 303  # See Other, as every form
    assert added.headers["Location"] == page_url + "#tags"
    text = client.get(page_url).get_data(as_text=True)
    assert 'href="/tags/review">#review</a>' in text
    refused = client.post(page_url + "/tags", data={"tag": "no way", "csrf_token": token})
    assert refused.status_code == 303
    assert TAG_RULE in client.get(page_url).get_data(as_text=True)
    removed = client.post(page_url + "/tags/review/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert "No tags yet." in client.get(page_url).get_data(as_text=True)
    forged = client.post(page_url + "/tags", data={"tag": "forged"})
    assert forged.status_code == 400
    assert "No tags yet." in client.get(page_url).get_data(as_text=True)


def test_tag_writes_are_rate_limited(make_app, api, people, document):
    app = make_app(writes_per_minute=2)
    author = api(people["author"], app)
    assert author.post(tags_url(document), json={"tag": "one"}).status_code == 201
    assert author.post(tags_url(document), json={"tag": "two"}).status_code == 201
    third = author.post(tags_url(document), json={"tag": "three"})
    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) >= 1
    assert [e["tag"] for e in author.get(tags_url(document)).json["value"]] == ["one", "two"]


def test_past_the_rate_limit_a_tag_form_comes_back_with_the_reason(
    make_app, sign_in, csrf_token, people, document
):
    app = make_app(writes_per_minute=2)
    client = app.test_client()
    sign_in(client, people["reader"])
    token, page_url = csrf_token(client), "/documents/{}/{}".format(*document)
    for tag in ("one", "two"):
        added = client.post(page_url + "/tags", data={"tag": tag, "csrf_token": token})
        assert added.status_code == 303
    third = client.post(page_url + "/tags", data={"tag": "three", "csrf_token": token})
    assert (third.status_code, third.headers["Location"]) == (303, page_url + "#tags")
    text = client.get(page_url).get_data(as_text=True)
    assert re.search(r"Too many changes at once: try again in \d+ s\.", text)
    assert 'href="/tags/three"' not in text
