"""Comment text: Markdown to safe HTML (two layers: markdown-it without raw HTML, then nh3),
@mentions (parsing, who may be mentioned, autocomplete), and the discussion as the document
page renders it. Exact values throughout."""

from __future__ import annotations

import re
from typing import Any

import pytest

from overlay_app.discussion import rendering
from overlay_app.discussion.rendering import Mentioned, MentionRef
from tests.overlay_app.api_calls import post, posted
from tests.overlay_app.app_rows import id_and_name, rows, title_of

REL = 'rel="nofollow noopener noreferrer"'

# Markdown as written -> the HTML stored and shown. Raw HTML is never HTML: it is text.
RENDERED = [
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
     "<p>&lt;SCRIPT SRC=//evil.example/x.js&gt;&lt;/SCRIPT&gt;</p>"),
    ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>"),
    ("[click](JAVASCRIPT:alert(1))", "<p>[click](JAVASCRIPT:alert(1))</p>"),
    ("[click](&#106;avascript:alert(1))", "<p>[click](javascript:alert(1))</p>"),
    ("[x](vbscript:msgbox(1))", "<p>[x](vbscript:msgbox(1))</p>"),
    ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>"),
    ('<a href="javascript:alert(1)">x</a>',
     '<p>&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;</p>'),
    ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
    ('<div onmouseover="alert(1)">hover</div>',
     '<p>&lt;div onmouseover="alert(1)"&gt;hover&lt;/div&gt;</p>'),
    ("[data](data:text/html;base64,PHNjcmlwdD4=)",
     "<p>[data](data:text/html;base64,PHNjcmlwdD4=)</p>"),
    ("[png](data:image/png;base64,iVBORw0KGgo=)", f"<p><a {REL}>png</a></p>"),
    ("![img](data:image/png;base64,iVBORw0KGgo=)", f"<p>!<a {REL}>img</a></p>"),
    ("![pixel](https://tracker.example/p.gif)",
     f'<p>!<a href="https://tracker.example/p.gif" {REL}>pixel</a></p>'),
    ('<iframe src="https://evil.example"></iframe>',
     '<p>&lt;iframe src="https://evil.example"&gt;&lt;/iframe&gt;</p>'),
    ("<!-- hidden -->", "<p>&lt;!-- hidden --&gt;</p>"),
    ('[x](https://example.com" onclick="alert(1))',
     '<p>[x](https://example.com" onclick="alert(1))</p>'),
    ("[x]( https://example.com/\"><script>alert(1)</script> )",
     f'<p><a href="https://example.com/%22%3E%3Cscript%3Ealert(1)%3C/script%3E" {REL}>x</a></p>'),
    ('[ok](https://example.com/a?b=1&c=2 "Title")',
     f'<p><a href="https://example.com/a?b=1&amp;c=2" title="Title" {REL}>ok</a></p>'),
    ("<https://example.com>", f'<p><a href="https://example.com" {REL}>https://example.com</a></p>'),
    ("[mail](mailto:ada@example.com)", f'<p><a href="mailto:ada@example.com" {REL}>mail</a></p>'),
    ("`<b>code</b>`", "<p><code>&lt;b&gt;code&lt;/b&gt;</code></p>"),
    ("```python\n<script>x</script>\n```",
     "<pre><code>&lt;script&gt;x&lt;/script&gt;\n</code></pre>"),
    ("> quoted\n\n- one\n- two\n\n3. three",
     "<blockquote>\n<p>quoted</p>\n</blockquote>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
     '<ol start="3">\n<li>three</li>\n</ol>'),
    ("**bold** _em_  \nnext\n\n***", "<p><strong>bold</strong> <em>em</em><br>\nnext</p>\n<hr>"),
    ("# Heading", "<h1>Heading</h1>"),
    ("plain www.example.com and ada@example.com",
     "<p>plain www.example.com and ada@example.com</p>"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "html"), RENDERED)
def test_markdown_renders_to_safe_html(body: str, html: str):
    assert rendering.render(body) == html


# The second layer on its own: whatever HTML reaches it, only the allow-list survives.
SANITISED = [
    ("<script>alert(1)</script><p>ok</p>", "<p>ok</p>"),
    ('<a href="javascript:alert(1)" onclick="x()">a</a>', f"<a {REL}>a</a>"),
    ('<a href="data:text/html,<script>1</script>">a</a>', f"<a {REL}>a</a>"),
    ('<a href="https://e.example" target="_blank" class="evil mention">a</a>',
     f'<a href="https://e.example" class="mention" {REL}>a</a>'),
    ('<img src="x" onerror="alert(1)">', ""),
    ('<p style="color:red" onmouseover="x()">t</p>', "<p>t</p>"),
    ("<svg><script>alert(1)</script></svg>", ""),
    ("<style>*{}</style><em>e</em>", "<em>e</em>"),
    ('<code class="language-js">c</code>', "<code>c</code>"),
    ('<form action="/x"><input name="a"></form>', ""),
]  # fmt: skip


@pytest.mark.parametrize(("dirty", "clean"), SANITISED)
def test_the_sanitiser_keeps_only_the_allow_list(dirty: str, clean: str):
    assert rendering.sanitise(dirty) == clean


def test_mentions_are_found_by_the_parser_so_code_stays_code():
    body = (
        "Hi @[Ada L.](oid-ada), @bob@firm.example and @[Ada again](OID-ADA)\n\n"
        "`@[Not](oid-code)` and\n\n    @[Indented](oid-block)\n\n"
        "mail me@[x](oid-word) or bob@[x](oid-word2), @guest_x.example#EXT#@firm.example"
    )
    assert rendering.mention_refs(body) == [
        MentionRef("oid-ada", "Ada L.", False),
        MentionRef("bob@firm.example", "bob@firm.example", True),
        MentionRef("guest_x.example#EXT#@firm.example", "guest_x.example#EXT#@firm.example", True),
    ]
    ada = Mentioned("oid-ada", "Ada <Lovelace>")
    assert rendering.render("@[anything](oid-ada)!", {"oid-ada": ada}) == (
        f'<p><a class="mention" href="/people/oid-ada" {REL}>@Ada &lt;Lovelace&gt;</a>!</p>'
    )
    assert rendering.render("@[Nobody](oid-x) @no@body.example") == (
        "<p>@[Nobody](oid-x) @no@body.example</p>"
    )  # unresolved: left as written


def test_excerpts_are_one_plain_line():
    assert rendering.excerpt("**Hi** @[Ada L.](oid-1)\n\n> see `code`") == "Hi @Ada L. see code"
    assert rendering.excerpt("word " * 40) == ("word " * 28).strip() + "…"
    assert len(rendering.excerpt("word " * 40)) == 140


@pytest.mark.parametrize(
    ("snippet", "shown"),
    [
        ("ask @[Ada Lovelace](0f8c-11) about it", "ask @Ada Lovelace about it"),
        ("ask @[\ue000Ada\ue001 Lovelace](0f8c-11) now", "ask @\ue000Ada\ue001 Lovelace now"),
        ("…Lovelace](0f8c-11) please check", "…Lovelace please check"),
        ("please check with @[Ada Lov", "please check with @Ada Lov"),
        ("@[Ada](0f8c-11) and @[Bo Li](77-aa)", "@Ada and @Bo Li"),
        ("a [link](x) stays", "a [link](x) stays"),
    ],
)
def test_search_snippets_show_mentions_as_names(snippet: str, shown: str):
    assert rendering.snippet_without_markup(snippet) == shown


# -- through HTTP --------------------------------------------------------------------------


def test_stored_html_is_the_safe_rendering(app, api, people, document):
    author = api(people["author"])
    payload = '<script>alert("x")</script> [a](javascript:alert(1)) <b onclick="x()">b</b>'
    comment = posted(author, document, payload)
    expected = (
        '<p>&lt;script&gt;alert("x")&lt;/script&gt; [a](javascript:alert(1)) '
        '&lt;b onclick="x()"&gt;b&lt;/b&gt;</p>'
    )
    assert comment["bodyHtml"] == expected
    assert rows(app, "SELECT body, body_html FROM comments") == [(payload, expected)]


# -- mentions ------------------------------------------------------------------------------


def test_mentioning_someone_who_can_open_the_document(app, api, people, document):
    reader_id, reader_name = id_and_name(app, people["reader"])
    author = api(people["author"])
    comment = posted(author, document, f"@[Whatever I typed]({reader_id}) and @{people['reader']}")
    link = (
        f'<a class="mention" href="/people/{reader_id}" rel="nofollow noopener noreferrer">'
        f"@{reader_name}</a>"
    )
    assert comment["bodyHtml"] == f"<p>{link} and {link}</p>"
    assert rows(app, "SELECT comment_id, person_id FROM mentions") == [(comment["id"], reader_id)]


def test_mentioning_someone_who_cannot_open_it_is_refused_without_naming_the_document(
    app, api, people, document
):
    outsider_id, outsider_name = id_and_name(app, people["outsider"])
    _guest_id, guest_name = id_and_name(app, people["guest"])
    author = api(people["author"])
    title = title_of(app, document)
    for body, name in (
        (f"Look @[Someone]({outsider_id})", outsider_name),
        (f"cc @{people['guest']}", guest_name),
    ):
        answer = post(author, document, body)
        assert (answer.status_code, answer.get_json()) == (
            400,
            {
                "error": {
                    "code": "badRequest",
                    "message": f"{name} cannot open this document, so they cannot be mentioned",
                }
            },
        )
        assert title not in answer.get_data(as_text=True)
    unknown = post(author, document, "@[Nobody](00000000-0000-0000-0000-000000000000)")
    assert (unknown.status_code, unknown.get_json()["error"]["message"]) == (
        400,
        "Nobody is not in the directory, so they cannot be mentioned",
    )
    plain = posted(author, document, "write to @someone@nowhere.example")  # not a person: text
    assert plain["bodyHtml"] == "<p>write to @someone@nowhere.example</p>"
    assert rows(app, "SELECT count(*) FROM mentions") == [(0,)]
    assert rows(app, "SELECT count(*) FROM comments") == [(1,)]


def test_mention_suggestions_offer_only_people_who_can_open_the_document(
    app, api, people, document
):
    reader_id, reader_name = id_and_name(app, people["reader"])
    outsider_id, outsider_name = id_and_name(app, people["outsider"])
    author = api(people["author"])
    query = {"drive_id": document[0], "item_id": document[1]}

    def suggested(q: str) -> list[dict[str, Any]]:
        answer = author.get("/api/v1/mentions/suggest", query_string={**query, "q": q})
        assert answer.status_code == 200
        return answer.get_json()["people"]

    found = suggested(reader_name[:3].lower())
    assert {
        "id": reader_id,
        "displayName": reader_name,
        "upn": people["reader"],
        "mention": f"@[{reader_name}]({reader_id})",
    }.items() <= next(p for p in found if p["id"] == reader_id).items()
    assert all(
        p["displayName"].lower().startswith(reader_name[:3].lower())
        or p["upn"].lower().startswith(reader_name[:3].lower())
        or any(w.lower().startswith(reader_name[:3].lower()) for w in p["displayName"].split())
        for p in found
    )
    assert outsider_id not in {p["id"] for p in suggested(outsider_name[:4])}
    assert outsider_id not in {p["id"] for p in suggested(people["outsider"][:5])}
    everyone = suggested("")
    author_id, _ = id_and_name(app, people["author"])
    assert len(everyone) <= 10 and author_id not in {p["id"] for p in everyone}
    with app.app_context():
        from overlay_app import access

        assert all(access.can_see(p["id"], *document) for p in everyone)
    bad = author.get("/api/v1/mentions/suggest", query_string={"q": "a"})
    assert (bad.status_code, bad.get_json()["error"]["message"]) == (
        400,
        "Give drive_id and item_id of the document.",
    )


# -- the discussion on the document page ---------------------------------------------------


def test_the_document_page_shows_threads_and_offers_forms_only_where_allowed(
    app, client, sign_in, api, people, document
):
    author = api(people["author"])
    reader = api(people["reader"])
    author_id, author_name = id_and_name(app, people["author"])
    root = posted(author, document, "Root <script>alert(1)</script>")
    reply = posted(reader, document, "A reply", parent_id=root["id"])
    gone = posted(author, document, "Deleted with replies")
    still = posted(reader, document, "Still here", parent_id=gone["id"])
    assert author.delete(f"/api/v1/comments/{gone['id']}").status_code == 204
    sign_in(client, people["reader"])
    page = "/documents/{}/{}".format(*document)
    html = client.get(page).get_data(as_text=True)

    assert '<h2>Discussion <span class="muted">· 3 comments</span></h2>' in html
    assert f'<li class="comment" id="comment-{root["id"]}">' in html
    assert f'<a class="author" href="/people/{author_id}">{author_name}</a>' in html
    assert "<p>Root &lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    assert "<script>alert(1)" not in html
    assert f'<li class="comment deleted" id="comment-{gone["id"]}">' in html
    assert '<div class="body">comment deleted</div>' in html
    assert "Deleted with replies" not in html
    # Reply for every live comment, edit and delete only on the reader's own; no comment has a
    # reply or edit form of its own (plaza.js moves the one shared form of each kind into it,
    # without JavaScript "Reply" and "Edit" link to ?reply= / ?edit=, which shows that form).
    assert html.count('<details class="reply">') == 3
    own = re.findall(r'href="\?(edit)=([^#"]+)#|action="/comments/([^/"]+)/(delete)"', html)
    assert [(a or b, c or d) for c, a, b, d in own] == [
        (reply["id"], "edit"),
        (reply["id"], "delete"),
        (still["id"], "edit"),
        (still["id"], "delete"),
    ]
    edit_form = re.compile(r'action="/comments/[^"]+/edit"')
    assert not edit_form.search(html) and 'name="parent_id" value="' + root["id"] not in html
    assert html.count('name="idempotency_key"') == 2  # the new comment and the shared reply
    assert 'data-api="/api/v1/documents/{}/{}/comments"'.format(*document) in html

    replying = client.get(f"{page}?reply={root['id']}").get_data(as_text=True)
    assert f'name="parent_id" value="{root["id"]}"' in replying
    assert f'<textarea id="reply-{root["id"]}"' in replying
    editing = client.get(f"{page}?edit={reply['id']}").get_data(as_text=True)
    assert f'action="/comments/{reply["id"]}/edit"' in editing
    assert ">A reply</textarea>" in editing
    for not_editable in (root["id"], gone["id"], "no-such-comment"):  # not theirs, or gone
        shown = client.get(f"{page}?edit={not_editable}").get_data(as_text=True)
        assert not edit_form.search(shown)


def test_an_archived_discussion_is_shown_without_forms(
    make_app, fresh_plaza_env, sign_in, api, people, document, resync
):
    app = make_app(env=fresh_plaza_env)
    client = app.test_client()
    posted(api(people["author"], app), document, "Kept after deletion")
    fresh_plaza_env.control("DELETE", "/items/{}/{}".format(*document))
    resync(app, people=False, documents=True)
    sign_in(client, people["reader"])
    html = client.get("/documents/{}/{}".format(*document)).get_data(as_text=True)
    assert (
        '<p class="archived">This document was deleted in SharePoint; its discussion is '
        "archived and read-only.</p>"
    ) in html
    assert "<p>Kept after deletion</p>" in html
    assert "comment-form" not in html and "like-form" not in html
