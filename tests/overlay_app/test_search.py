"""Search over names, paths, tags and comments: merged by document, trimmed, highlighted.

The expected hits for a word come from the emulator: every item the person can open whose name,
path or site title holds a word starting with it (FTS5's unicode61 tokens, last word as prefix).
"""

from __future__ import annotations

import html
import re

from overlay_app.search import views as search


def tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def oracle(tenant, upn: str, word: str, keep=lambda item: True) -> set[tuple[str, str]]:
    """Items the person can open whose name, path or site title matches `word`."""
    found = set()
    for drive_id, item_id in tenant.visible_items(tenant.user(upn).id):
        item = tenant.item(drive_id, item_id)
        if item.is_root or not keep(item):
            continue
        site = tenant.site_of(drive_id)
        text = f"{item.name} {tenant.path_of(item)} {site.display_name}"
        if any(token.startswith(word) for token in tokens(text)):
            found.add((drive_id, item_id))
    return found


def every_hit(caller, query: str) -> tuple[list[dict], int]:
    """All pages of a search; and the total the first page announced."""
    hits, page, total = [], 1, None
    while True:
        answer = caller.get(f"/api/v1/search?{query}&page={page}")
        assert answer.status_code == 200, answer.json
        total = answer.json["total"] if total is None else total
        assert answer.json["total"] == total
        if not answer.json["value"]:
            return hits, total
        hits += answer.json["value"]
        page += 1


def keys(hits: list[dict]) -> list[tuple[str, str]]:
    return [(hit["driveId"], hit["itemId"]) for hit in hits]


def word_of(tenant, document) -> str:
    return tokens(tenant.item(*document).name)[0]


def word_in_two_sites(tenant, upn: str) -> str:
    """A word found in documents of at least two sites the person can open."""
    user = tenant.user(upn)
    for key in sorted(tenant.visible_items(user.id)):
        for word in tokens(tenant.item(*key).name)[:1]:
            sites = {tenant.site_of(k[0]).id for k in oracle(tenant, upn, word)}
            if len(sites) >= 2:
                return word
    raise AssertionError("no word spans two sites")


def comment(api_for, key, body: str):
    answer = api_for.post("/api/v1/documents/{}/{}/comments".format(*key), json={"body": body})
    assert answer.status_code == 201, answer.json
    return answer.json


def test_names_and_paths_are_searched_and_trimmed(api, people, document, plaza_env):
    tenant = plaza_env.tenant
    word = word_of(tenant, document)
    for role in ("author", "outsider", "guest"):
        hits, total = every_hit(api(people[role]), f"q={word}")
        expected = oracle(tenant, people[role], word)
        assert set(keys(hits)) == expected, role
        assert len(hits) == total == len(expected)
    assert document not in oracle(tenant, people["outsider"], word)


def test_a_hidden_documents_comment_never_matches_for_others(api, people, document):
    comment(api(people["author"]), document, "The indemnity wording needs a second look")
    for role in ("outsider", "guest"):
        answer = api(people[role]).get("/api/v1/search?q=indemnity").json
        assert (answer["total"], answer["value"]) == (0, []), role
    found = api(people["reader"]).get("/api/v1/search?q=indemnity").json
    assert found["total"] == 1
    assert keys(found["value"]) == [document]
    assert found["value"][0]["commentSnippetHtml"] == (
        "The <mark>indemnity</mark> wording needs a second look"
    )


def test_tags_are_searchable(api, people, document, plaza_env):
    author = api(people["author"])
    author.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": "zebra-deal"})
    for query in ("zebra-deal", "zebra deal", "ZEBRA"):
        found = author.get(f"/api/v1/search?q={query}").json
        assert keys(found["value"]) == [document], query
        assert found["value"][0]["matchedTags"] == ["zebra-deal"]
        assert found["value"][0]["tags"] == ["zebra-deal"]
    assert api(people["outsider"]).get("/api/v1/search?q=zebra-deal").json["total"] == 0


def test_hits_merge_by_document_and_comments_lift_the_rank(api, people, document, plaza_env):
    tenant = plaza_env.tenant
    word = word_of(tenant, document)
    author = api(people["author"])
    before, total_before = every_hit(author, f"q={word}")
    comment(author, document, f"Is {word} still our client?")
    author.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": word})
    after, total_after = every_hit(author, f"q={word}")
    assert total_after == total_before == len(after)
    assert keys(after).count(document) == 1
    assert keys(after)[0] == document
    first = after[0]
    assert first["commentSnippetHtml"] == f"Is <mark>{word}</mark> still our client?"
    assert first["matchedTags"] == [word]
    item = tenant.item(*document)
    cased = item.name.split()[0]
    assert first["nameHtml"] == html.escape(item.name, quote=False).replace(
        cased, f"<mark>{cased}</mark>"
    )
    assert first["snippetHtml"] == html.escape(tenant.path_of(item), quote=False).replace(
        cased, f"<mark>{cased}</mark>"
    )
    # The comment and the tag lifted it from last place to first; no score is shown.
    assert keys(before)[-1] == document
    assert all("score" not in hit for hit in before + after)


def test_names_rank_above_paths(api, people, plaza_env):
    tenant = plaza_env.tenant
    author = tenant.user(people["author"])
    folder = next(
        tenant.item(*key)
        for key in sorted(tenant.visible_items(author.id))
        if tenant.item(*key).folder
        and not tenant.item(*key).is_root
        and any(tenant.can_open(author.id, key[0], c.id) for c in tenant.children(*key))
    )
    word = tokens(folder.name)[0]
    hits, _ = every_hit(api(people["author"]), f"q={word}")
    in_name = [word in " ".join(tokens(hit["name"])) for hit in hits]
    assert in_name[0] is True
    assert in_name == sorted(in_name, reverse=True)


def test_snippets_are_escaped(api, people, document):
    comment(api(people["author"]), document, "<script>alert(1)</script> quokka & <b>bold</b>")
    hit = api(people["reader"]).get("/api/v1/search?q=quokka").json["value"][0]
    assert hit["commentSnippetHtml"] == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>quokka</mark> &amp; &lt;b&gt;bold&lt;/b&gt;"
    )


def test_deleted_comments_do_not_match(api, people, document):
    author = api(people["author"])
    written = comment(author, document, "walrus")
    assert author.get("/api/v1/search?q=walrus").json["total"] == 1
    assert author.delete(f"/api/v1/comments/{written['id']}").status_code == 204
    assert author.get("/api/v1/search?q=walrus").json["total"] == 0


def test_filters_narrow_by_type_site_tag_and_modified(api, people, document, plaza_env):
    tenant = plaza_env.tenant
    word = word_of(tenant, document)
    item = tenant.item(*document)
    author = api(people["author"])
    upn = people["author"]

    hits, _ = every_hit(author, f"q={word}&type={item.extension.upper()}")
    assert set(keys(hits)) == oracle(tenant, upn, word, lambda i: i.extension == item.extension)

    spread = word_in_two_sites(tenant, upn)
    for site_id in {tenant.site_of(key[0]).id for key in oracle(tenant, upn, spread)}:
        hits, _ = every_hit(author, f"q={spread}&site={site_id}")
        in_site = oracle(
            tenant, upn, spread, lambda i, s=site_id: tenant.site_of(i.drive_id).id == s
        )
        assert set(keys(hits)) == in_site

    day = item.modified_at[:10]
    hits, _ = every_hit(author, f"q={word}&modified_after={day}")
    assert set(keys(hits)) == oracle(tenant, upn, word, lambda i: i.modified_at[:10] >= day)
    hits, _ = every_hit(author, f"q={word}&modified_before={day}")
    assert set(keys(hits)) == oracle(tenant, upn, word, lambda i: i.modified_at[:10] < day)

    author.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": "urgent"})
    assert keys(author.get(f"/api/v1/search?q={word}&tag=urgent").json["value"]) == [document]
    only_tag = author.get("/api/v1/search?tag=urgent").json
    assert (only_tag["total"], keys(only_tag["value"])) == (1, [document])
    assert api(people["outsider"]).get("/api/v1/search?tag=urgent").json["total"] == 0


def test_bad_filters_say_what_to_fix(api, people):
    author = api(people["author"])
    answer = author.get("/api/v1/search?q=x&modified_after=last+week")
    assert answer.status_code == 400
    assert answer.json["error"]["message"] == (
        "modified_after and modified_before are dates (YYYY-MM-DD) or ISO 8601 times."
    )
    assert author.get("/api/v1/search?q=x&tag=no+way").status_code == 400
    assert author.get("/api/v1/search?q=" + "x" * 201).status_code == 400
    too_deep = author.get("/api/v1/search?q=x&page=51")
    assert too_deep.status_code == 400
    assert too_deep.json["error"]["message"] == (
        "Search shows the first 50 pages: add words or filters to narrow it."
    )


def test_pages_are_exact_and_do_not_overlap(api, people, document, plaza_env, monkeypatch):
    monkeypatch.setattr(search, "PER_PAGE", 3)
    tenant = plaza_env.tenant
    word = word_of(tenant, document)
    author = api(people["author"])
    comment(author, document, f"{word} again")
    hits, total = every_hit(author, f"q={word}")
    assert len(keys(hits)) == len(set(keys(hits))) == total
    assert set(keys(hits)) == oracle(tenant, people["author"], word)
    assert author.get(f"/api/v1/search?q={word}&page=1").json["perPage"] == 3


def test_the_search_page(app, sign_in, api, people, document, plaza_env):
    comment(api(people["author"]), document, "narwhal sighting")
    client = app.test_client()
    sign_in(client, people["reader"])
    text = client.get("/search?q=narwhal").get_data(as_text=True)
    assert "1 result</p>" in text
    assert "<mark>narwhal</mark> sighting" in text
    assert 'href="/documents/{}/{}"'.format(*document) in text
    assert "No results for <strong>nothing-like-this</strong>" in client.get(
        "/search?q=nothing-like-this"
    ).get_data(as_text=True)
    assert "Type a few words" in client.get("/search").get_data(as_text=True)
    outsider = app.test_client()
    sign_in(outsider, people["outsider"])
    hidden = outsider.get("/search?q=narwhal").get_data(as_text=True)
    assert "No results" in hidden
    assert plaza_env.tenant.item(*document).name not in hidden


def test_a_comment_snippet_names_the_person_mentioned_not_the_markup(
    api, people, document, plaza_env
):
    reader = plaza_env.tenant.user(people["reader"])
    body = f"Ask @[{reader.display_name}]({reader.id}) about the quokka clause"
    comment(api(people["author"]), document, body)
    found = api(people["author"]).get("/api/v1/search?q=quokka").json
    assert found["value"][0]["commentSnippetHtml"] == (
        f"Ask @{reader.display_name} about the <mark>quokka</mark> clause"
    )
