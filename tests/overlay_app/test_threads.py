"""Compact threads as the server renders them: one action row with a More menu, folds with
exact counts, and a refused page form that keeps its text and offers to share the document.
The browser side (keys, unfolding, chips) is in tests/browser/test_threads.py."""

from __future__ import annotations

import re
from pathlib import Path

from tests.overlay_app.api_calls import comments_path, posted
from tests.overlay_app.app_rows import rows


def folds(html: str) -> list[str]:
    return re.findall(r'<details class="more-replies" data-count="\d+"><summary>([^<]+)<', html)


def test_long_threads_fold_with_exact_counts(client, sign_in, api, people, document) -> None:
    author = api(people["author"])
    root = posted(author, document, "Root")["id"]
    replies = [posted(author, document, f"Reply {n}", root)["id"] for n in range(6)]
    posted(author, document, "Under the sixth", replies[5])
    chain = [replies[0]]
    for depth in range(2, 7):  # depth 2 and 3 show; 4, 5 and 6 are folded together
        chain.append(posted(author, document, f"Depth {depth}", chain[-1])["id"])
    sign_in(client, people["reader"])
    html = client.get("/documents/{}/{}".format(*document)).get_data(as_text=True)
    # the chain's fold comes first in the page; then replies 4-6 of the root and one below
    assert folds(html) == ["Show 3 more replies", "Show 4 more replies"]
    assert html.count('<li class="comment"') == 1 + 6 + 1 + 5
    reader = api(people["reader"])
    one = posted(reader, document, "Deep", chain[-1])["id"]
    html = client.get("/documents/{}/{}".format(*document)).get_data(as_text=True)
    assert folds(html) == ["Show 4 more replies", "Show 4 more replies"]
    assert f'id="comment-{one}"' in html


def test_the_action_row_and_more_menu(client, sign_in, api, people, document) -> None:
    mine = posted(api(people["reader"]), document, "Mine")["id"]
    theirs = posted(api(people["author"]), document, "Theirs")["id"]
    sign_in(client, people["reader"])
    html = client.get("/documents/{}/{}".format(*document)).get_data(as_text=True)
    row = re.compile(r'id="comment-([^"]+)">.*?<div class="actions">(.*?)</div>\s*</li>', re.S)
    actions = dict(row.findall(html))
    kinds = re.compile(r'<(?:form|details|span)\b[^>]*? class="([a-z -]+)"')
    assert kinds.findall(actions[mine]) == [
        "like-form inline",
        "like-count",
        "reply",
        "more",
        "delete-form",  # in the menu, after Edit
        "edit",  # the hidden holder of the edit form, beside the menu
    ]
    assert '<summary aria-label="More actions on your comment">More</summary>' in actions[mine]
    assert f'<a class="menu-edit" href="?edit={mine}#edit">Edit</a>' in actions[mine]
    assert '<details class="edit" hidden' in actions[mine]
    assert "report" not in actions[mine]
    assert 'class="report"' in actions[theirs] and "menu-edit" not in actions[theirs]


def test_a_refused_form_keeps_its_text_and_offers_to_share(
    app, client, sign_in, csrf_token, api, plaza_env, people, document
) -> None:
    outsider = plaza_env.tenant.user(people["outsider"])
    body = f"See @[{outsider.display_name}]({outsider.id}) here"
    refusal = f"{outsider.display_name} cannot open this document, so they cannot be mentioned"
    # the API's answer is unchanged
    refused = api(people["author"]).post(comments_path(document), json={"body": body})
    assert refused.status_code == 400
    assert refused.get_data() == (
        b'{"error":{"code":"badRequest","message":"' + refusal.encode() + b'"}}\n'
    )

    sign_in(client, people["author"])
    token = csrf_token(client)
    page = "/documents/{}/{}".format(*document)
    sent = client.post(f"{page}/comments", data={"csrf_token": token, "body": body})
    assert (sent.status_code, sent.headers["Location"]) == (303, f"{page}#discussion")
    html = client.get(page).get_data(as_text=True)
    web_url = api(people["author"]).get("/api/v1" + page).get_json()["webUrl"]
    assert web_url.startswith("https://")
    assert f'<p class="flash error" role="status">{refusal}</p>' in html
    offer = re.search(r'<p class="share-offer" role="status">(.*?)</p>', html).group(1)
    assert offer.startswith(f"{outsider.display_name} cannot open this document yet. ")
    assert f'<a href="{web_url}" rel="noopener" target="_blank">' in offer
    assert 'name="body" maxlength="10000" required data-chips placeholder="Write a comment' in html
    assert re.search(r'<textarea id="new-comment"[^>]*>' + re.escape(body) + "</textarea>", html)
    again = client.get(page).get_data(as_text=True)  # shown once
    assert "share-offer" not in again and body not in again

    root = posted(api(people["author"]), document, "Root")["id"]
    sent = client.post(
        f"{page}/comments", data={"csrf_token": token, "body": body, "parent_id": root}
    )
    assert sent.headers["Location"] == f"{page}?reply={root}#reply"
    html = client.get(f"{page}?reply={root}").get_data(as_text=True)
    assert re.search(rf'<textarea id="reply-{root}"[^>]*>' + re.escape(body) + "<", html)
    assert html.count('class="share-offer"') == 1

    edited = client.post(f"/comments/{root}/edit", data={"csrf_token": token, "body": body})
    assert edited.headers["Location"] == f"{page}?edit={root}#edit"
    html = client.get(f"{page}?edit={root}").get_data(as_text=True)
    assert re.search(rf'<textarea id="edit-{root}"[^>]*>' + re.escape(body) + "<", html)
    assert rows(app, "SELECT body FROM comments") == [("Root",)]


def test_every_discussion_string_has_dutch() -> None:
    """The discussion's strings, still outside messages.po (test_translations.PENDING), are
    all in messages.po or in messages_threads.po, written."""
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    import overlay_app

    package = Path(overlay_app.__file__).parent
    written, mine = {}, {}
    for name in ("messages.po", "messages_threads.po"):
        with (package / "translations" / "nl" / "LC_MESSAGES" / name).open("rb") as source:
            for message in read_po(source, locale="nl"):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                if key and all(s.strip() for s in strings) and not message.fuzzy:
                    written[key] = strings
                    if name == "messages_threads.po":
                        mine[key] = strings
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    missing = []
    for path, method in (
        ("discussion/markup.py", "python"),
        ("templates/_discussion.html", "jinja2"),
    ):
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _line, message, _comments, _context in extract_from_file(
            method, package / path, keywords=keywords, options=options
        ):
            key = message[0] if isinstance(message, tuple) else message
            if key not in written:
                missing.append((path, key))
    assert missing == []
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for key, strings in mine.items():  # every translation keeps the msgid's placeholders
        for string in strings:
            assert set(placeholder.findall(string)) == set(placeholder.findall(key)), key
