"""SharePoint's social features in the emulator, over real HTTPS with real tokens: page
comments, replies and likes read through office365-rest-python-client and raw REST (expanded
and not), liking through office365's SetLike and its URL aliases, posting, replying, liking and
deleting a document's comments, and likes refused to app-only tokens.
"""

from __future__ import annotations

import pytest

from tests.connector.emulator.tenant_calls import (
    VERBOSE,
    documents,
    enabled_members,
    site_named,
    sp_call,
    sp_context,
)

COMMENT_KEYS = [
    "author",
    "createdDate",
    "id",
    "isLikedByUser",
    "isReply",
    "itemId",
    "likeCount",
    "listId",
    "mentions",
    "modifiedDate",
    "parentId",
    "replyCount",
    "text",
]
AUTHOR_KEYS = [
    "email",
    "id",
    "isActive",
    "isExternal",
    "jobTitle",
    "loginName",
    "name",
    "principalType",
    "userId",
]


def pages_path(name: str = "intranet") -> str:
    return f"/sites/{name}/_api/web/lists/GetByTitle('Site Pages')"


@pytest.fixture(scope="module")
def store(emulator, app_token):
    # The store is made on first use.
    sp_call(emulator, "GET", "/sites/intranet/_api/web", app_token)
    return emulator.app.extensions["sharepoint_social"]


def test_office365_get_comments_and_liked_by_information(emulator, app_token, store):
    pages = site_named(emulator, "intranet")
    page_list = store.pages_list_id(pages)
    social = store.social(page_list, 2)
    expected = sorted(social.top_level(), key=lambda c: c.id, reverse=True)
    assert expected, "the generated News-1 page carries comments"
    item = sp_context(emulator, "intranet", app_token).web.lists.get_by_title("Site Pages")
    item = item.get_item_by_id(2)
    comments = item.get_comments().execute_query()
    assert [c.properties["id"] for c in comments] == [str(c.id) for c in expected]
    assert [c.text for c in comments] == [c.text for c in expected]
    first_author = emulator.tenant.users[expected[0].author]
    assert comments[0].author.loginName == (
        f"i:0#.f|membership|{first_author.user_principal_name.lower()}"
    )
    info = item.liked_by_information.expand(["likedBy"]).get().execute_query()
    assert info.properties["likeCount"] == len(social.likes)
    liked = [u.properties["loginName"].split("|")[-1] for u in info.properties["likedBy"]]
    upns = [emulator.tenant.users[o].user_principal_name.lower() for o in social.likes]
    assert sorted(liked) == sorted(upns)


def test_comments_expand_replies_and_liked_by(emulator, app_token, store):
    intranet = site_named(emulator, "intranet")
    page_list, site_users = store.pages_list_id(intranet), emulator.tenant.site_users(intranet)
    social = store.social(page_list, 2)
    query = "$expand=replies,likedBy,replies/likedBy"
    path = f"{pages_path()}/items(2)/GetComments()?{query}"
    results = sp_call(emulator, "GET", path, app_token, VERBOSE).json()["d"]["results"]
    for entry, comment in zip(
        results, sorted(social.top_level(), key=lambda c: -c.id), strict=True
    ):
        assert entry["__metadata"]["type"] == "Microsoft.SharePoint.Comments.comment"
        assert (
            entry["replyCount"]
            == len(entry["replies"]["results"])
            == len(social.replies(comment.id))
        )
        assert [r["parentId"] for r in entry["replies"]["results"]] == [str(comment.id)] * entry[
            "replyCount"
        ]
        assert {u["id"] for u in entry["likedBy"]["results"]} == {
            site_users.number(oid) for oid in comment.likes
        }
        assert entry["likeCount"] == len(comment.likes)
        for reply in entry["replies"]["results"]:
            assert "results" in reply["likedBy"] and reply["isReply"] is True
    light = sp_call(emulator, "GET", f"{pages_path()}/items(2)/comments", app_token).json()["value"]
    assert list(light[0]) == COMMENT_KEYS  # not expanded: no replies or likedBy
    assert list(light[0]["author"]) == AUTHOR_KEYS


def test_set_like_by_user_through_office365_and_url_aliases(fresh_emulator):
    user = enabled_members(fresh_emulator)[4]
    token = fresh_emulator.token("sharepoint", user=user.user_principal_name)
    pages = fresh_emulator.tenant.site_by_path("/sites/intranet")
    item = sp_context(fresh_emulator, "intranet", token).web.lists.get_by_title("Site Pages")
    item = item.get_item_by_id(3).get().execute_query()
    before = sp_call(fresh_emulator, "GET", f"{pages_path()}/items(3)/likedByInformation", token)
    count = before.json()["likeCount"]
    already = before.json()["isLikedByUser"]
    assert item.set_like(True).execute_query().value == count + (0 if already else 1)
    info = sp_call(
        fresh_emulator, "GET", f"{pages_path()}/items(3)/likedByInformation", token
    ).json()
    assert info["isLikedByUser"] is True
    store = fresh_emulator.app.extensions["sharepoint_social"]
    list_id = store.pages_list_id(pages)
    alias = (
        "/sites/intranet/_api/Microsoft.Office.Server.ReputationModel.Reputation.SetLike"
        f"(listID=@a1,itemID=@a2,like=@a3)?@a1='{list_id}'&@a2='3'&@a3=false"
    )
    unliked = sp_call(fresh_emulator, "POST", alias, token, VERBOSE)
    assert unliked.json() == {"d": {"SetLike": info["likeCount"] - 1}}
    assert user.id not in store.social(list_id, 3).likes
    assert (
        sp_call(fresh_emulator, "POST", f"{pages_path()}/items(3)/like", token).status_code == 200
    )
    assert user.id in store.social(list_id, 3).likes
    sp_call(fresh_emulator, "POST", f"{pages_path()}/items(3)/unlike", token)
    assert user.id not in store.social(list_id, 3).likes


def test_post_comment_reply_like_and_delete(fresh_emulator):
    author, other = enabled_members(fresh_emulator)[2], enabled_members(fresh_emulator)[5]
    author_token = fresh_emulator.token("sharepoint", user=author.user_principal_name)
    other_token = fresh_emulator.token("sharepoint", user=other.user_principal_name)
    drive = documents(fresh_emulator, "intranet")
    item_path = f"/sites/intranet/_api/web/lists(guid'{drive.list_id}')/GetItemById(5)"
    mention = {"loginName": f"i:0#.f|membership|{other.user_principal_name}", "name": "x"}
    posted = sp_call(
        fresh_emulator,
        "POST",
        f"{item_path}/comments",
        author_token,
        json={"text": "Looks good @mention{0}", "mentions": [mention]},
    )
    assert posted.status_code == 201
    comment = posted.json()
    assert list(comment) == COMMENT_KEYS
    assert comment["text"] == "Looks good @mention{0}" and comment["itemId"] == 5
    assert comment["listId"] == drive.list_id.lower() and comment["parentId"] == "0"
    assert comment["author"]["email"] == author.mail and comment["mentions"] == [mention]
    verbose_body = {
        "__metadata": {"type": "Microsoft.SharePoint.Comments.comment"},
        "text": "Agreed",
    }
    reply_path = f"{item_path}/comments({comment['id']})/replies"
    reply = sp_call(fresh_emulator, "POST", reply_path, other_token, VERBOSE, json=verbose_body)
    assert reply.status_code == 201
    assert reply.json()["d"]["isReply"] is True
    assert reply.json()["d"]["parentId"] == comment["id"]
    like_path = f"{item_path}/comments({comment['id']})/like"
    assert sp_call(fresh_emulator, "POST", like_path, other_token).status_code == 200
    one = sp_call(
        fresh_emulator, "GET", f"{item_path}/comments({comment['id']})", author_token
    ).json()
    assert (one["likeCount"], one["replyCount"], one["isLikedByUser"]) == (1, 1, False)
    listed = sp_call(
        fresh_emulator, "GET", f"{item_path}/comments({comment['id']})/likedBy", author_token
    )
    assert [u["name"] for u in listed.json()["value"]] == [other.display_name]
    assert (
        sp_call(
            fresh_emulator, "DELETE", f"{item_path}/comments({comment['id']})", other_token
        ).status_code
        == 403
    )
    assert (
        sp_call(
            fresh_emulator, "DELETE", f"{item_path}/comments({comment['id']})", author_token
        ).status_code
        == 200
    )
    gone = sp_call(fresh_emulator, "GET", f"{item_path}/comments({comment['id']})", author_token)
    assert gone.status_code == 404
    assert gone.json()["odata.error"]["code"] == "-2130575338, Microsoft.SharePoint.SPException"
    assert sp_call(fresh_emulator, "GET", f"{item_path}/comments", author_token).json() == {
        "value": []
    }


def test_likes_need_a_user(emulator, app_token):
    refused = sp_call(emulator, "POST", f"{pages_path()}/items(1)/like", app_token)
    assert refused.status_code == 403
    assert (
        refused.json()["odata.error"]["code"] == "-2147024891, System.UnauthorizedAccessException"
    )
