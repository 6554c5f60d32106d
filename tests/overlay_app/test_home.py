"""The home page: recent discussions (trimmed, one per document, newest first), what waits for
the person, popular tags, unread chats, sites, and a first-run guide until they take part."""

from __future__ import annotations

import re

import pytest

from tests.overlay_app.test_discovery import shared_file


@pytest.fixture
def pages(app, sign_in, people):
    def page_of(role: str) -> str:
        client = app.test_client()
        sign_in(client, people[role])
        answer = client.get("/")
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    return page_of


def recent(page: str) -> list[str]:
    """The documents under "Recent discussions", in order, by their links."""
    section = page.split('id="recent-title"')[1].split("</section>")[0]
    return re.findall(r'class="document-link" href="([^"]+)"', section)


def test_recent_discussions_are_trimmed_newest_first_one_per_document(
    api, people, document, plaza_env, pages
):
    other = shared_file(plaza_env, "author", "reader")
    author = api(people["author"])
    for key, body in ((document, "First on the letter"), (other, "On the other file"),
                      (document, "Back to the letter")):  # fmt: skip
        path = "/api/v1/documents/{}/{}/comments".format(*key)
        assert author.post(path, json={"body": body}).status_code == 201
    link = "/documents/{}/{}"
    reader = pages("reader")
    assert recent(reader) == [link.format(*document), link.format(*other)]
    assert "Back to the letter" in reader and "First on the letter" not in reader
    title = plaza_env.tenant.item(*document).name
    outsider = pages("outsider")
    assert link.format(*document) not in outsider
    assert title not in outsider and "Back to the letter" not in outsider


def test_mentions_wait_until_read_and_the_guide_leaves_once_one_takes_part(
    api, people, document, plaza_env, pages
):
    reader = plaza_env.tenant.user(people["reader"])
    path = "/api/v1/documents/{}/{}/comments".format(*document)
    body = f"@[{reader.display_name}]({reader.id}) can you check?"
    assert api(people["author"]).post(path, json={"body": body}).status_code == 201
    author_name = plaza_env.tenant.user(people["author"]).display_name
    title = plaza_env.tenant.item(*document).name
    page = pages("reader")
    waiting = page.split('id="waiting-title"')[1].split("</section>")[0]
    assert f"{author_name} mentioned you on {title}" in waiting
    assert "Getting started" in page

    assert (
        api(people["reader"]).post("/api/v1/notifications/read", json={"all": True}).status_code
        == 200
    )
    assert api(people["reader"]).post(path, json={"body": "On it"}).status_code == 201
    page = pages("reader")
    assert "Nothing waiting." in page
    assert "Getting started" not in page


def test_popular_tags_count_only_what_the_person_may_open(api, people, document, pages):
    path = "/api/v1/documents/{}/{}/tags".format(*document)
    assert api(people["author"]).post(path, json={"tag": "home-tag"}).status_code == 201
    assert 'href="/tags/home-tag"' in pages("reader")
    assert "home-tag" not in pages("outsider")
