"""SharePointComments against the emulator's SharePoint REST, through office365's ClientContext."""

from __future__ import annotations

import pytest

from connector.auth import TokenProvider
from connector.errors import AuthError
from connector.sharepoint import SITE_PAGES, SharePointComments, UserTokens

NOMETADATA = {"Accept": "application/json;odata=nometadata"}


class FixedTokens:
    """A token source that claims a certificate but hands out whatever token it was given."""

    app_only = True
    credential_kind = "certificate"

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self, audience: str) -> str:
        return self._token


def a_site_with_comments(handle):
    """(site URL, page id) of a site page that has comments."""
    session = handle.session()
    token = handle.token("sharepoint", certificate=True)
    for site in handle.tenant.sites.values():
        url = handle.base_url + (site.path if site.path != "/" else "")
        for page_id in (1, 2, 3):
            answer = session.get(
                f"{url}/_api/web/lists/GetByTitle('{SITE_PAGES}')/items({page_id})/comments",
                headers={**NOMETADATA, "Authorization": f"Bearer {token}"},
            )
            if answer.ok and answer.json()["value"]:
                return url, page_id
    raise AssertionError("the emulator has no commented page")


def raw(handle, url: str) -> dict:
    token = handle.token("sharepoint", certificate=True)
    answer = handle.session().get(url, headers={**NOMETADATA, "Authorization": f"Bearer {token}"})
    assert answer.ok, answer.text
    return answer.json()


@pytest.fixture
def app_comments(emulator, make_settings) -> SharePointComments:
    settings = make_settings(emulator, "thumbprint")
    return SharePointComments(settings, TokenProvider(settings))


def test_page_comments_with_replies_and_likers(emulator, app_comments):
    site_url, page_id = a_site_with_comments(emulator)
    item = f"{site_url}/_api/web/lists/GetByTitle('{SITE_PAGES}')/items({page_id})"
    wire = raw(emulator, f"{item}/comments?$expand=replies,likedBy,replies/likedBy")["value"]
    comments = app_comments.page_comments(site_url, page_id)
    assert [(c.id, c.text, c.author.login_name) for c in comments] == [
        (w["id"], w["text"], w["author"]["loginName"]) for w in wire
    ]
    assert [[r.id for r in c.replies] for c in comments] == [
        [r["id"] for r in w["replies"]] for w in wire
    ]
    assert [[p.name for p in c.liked_by] for c in comments] == [
        [p["name"] for p in w["likedBy"]] for w in wire
    ]
    likes = app_comments.likes(site_url, SITE_PAGES, page_id)
    wire_likes = raw(emulator, f"{item}/likedByInformation?$expand=likedBy")
    assert likes.count == wire_likes["likeCount"]
    assert [like.person.login_name for like in likes.liked_by] == [
        p["loginName"] for p in wire_likes["likedBy"]
    ]


def test_document_comments_by_list_id(emulator, app_comments, source):
    site = next(s for s in emulator.tenant.sites.values() if s.path != "/")
    drive = source.drives(site.id)[0]
    item = next(i for page in source.drive_changes(drive.id) for i in page.items if i.is_file)
    comments = app_comments.comments(emulator.base_url + site.path, item.list_id, item.list_item_id)
    assert comments == []


def test_user_comments_replies_and_likes(fresh_emulator, make_settings):
    site_url, page_id = a_site_with_comments(fresh_emulator)
    upn = fresh_emulator.info["users"][0]
    tokens = UserTokens(lambda audience: fresh_emulator.token("sharepoint", user=upn))
    comments = SharePointComments(make_settings(fresh_emulator), tokens)
    added = comments.add_comment(site_url, SITE_PAGES, page_id, "Lovely page")
    assert (added.text, added.is_reply) == ("Lovely page", False)
    assert added.author.login_name.lower() == f"i:0#.f|membership|{upn}".lower()
    reply = comments.reply(site_url, SITE_PAGES, page_id, added.id, "Thanks!")
    comments.like_comment(site_url, SITE_PAGES, page_id, added.id)
    before = comments.likes(site_url, SITE_PAGES, page_id).count
    comments.like(site_url, SITE_PAGES, page_id)
    liked = comments.likes(site_url, SITE_PAGES, page_id)
    assert liked.count == before + 1 and liked.is_liked_by_user
    comments.like(site_url, SITE_PAGES, page_id, liked=False)
    assert comments.likes(site_url, SITE_PAGES, page_id).count == before
    mine = next(c for c in comments.page_comments(site_url, page_id) if c.id == added.id)
    assert [r.id for r in mine.replies] == [reply.id]
    assert [p.login_name.lower() for p in mine.liked_by] == [f"i:0#.f|membership|{upn}".lower()]


def test_app_only_with_a_secret_is_refused_before_asking(emulator, make_settings):
    settings = make_settings(emulator)  # client secret
    comments = SharePointComments(settings, TokenProvider(settings))
    with pytest.raises(AuthError) as caught:
        comments.page_comments(emulator.base_url, 1)
    assert caught.value.code == "certificateRequired"
    assert "Certificates & secrets" in caught.value.message


def test_sharepoint_refusing_a_secret_token_says_the_same(emulator, make_settings):
    secret_token = emulator.token("sharepoint")  # app-only, client secret
    comments = SharePointComments(make_settings(emulator), FixedTokens(secret_token))
    with pytest.raises(AuthError) as caught:
        comments.page_comments(emulator.base_url, 1)
    assert (caught.value.status, caught.value.code) == (401, "certificateRequired")


def test_throttled_sharepoint_read_is_retried(fresh_emulator, make_settings):
    site_url, page_id = a_site_with_comments(fresh_emulator)
    settings = make_settings(fresh_emulator, "thumbprint")
    comments = SharePointComments(settings, TokenProvider(settings))
    expected = comments.page_comments(site_url, page_id)
    answer = fresh_emulator.session().post(
        f"{fresh_emulator.base_url}/_emulator/faults",
        json={
            "rules": [{"kind": "throttle", "path": "/comments$", "retry_after": "0.2", "count": 2}]
        },
    )
    assert answer.status_code == 201
    assert comments.page_comments(site_url, page_id) == expected
