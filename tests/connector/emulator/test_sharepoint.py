"""SharePoint REST over real HTTPS: office365-rest-python-client and raw requests, real tokens."""

from __future__ import annotations

import pytest
from office365.runtime.client_request_exception import ClientRequestException
from office365.sharepoint.client_context import ClientContext

from connector.emulator.model import EVERYONE, GROUP, USER, Principal
from tests.connector.emulator.tenant_calls import documents

VERBOSE = {"Accept": "application/json;odata=verbose"}
LIGHT = {"Accept": "application/json;odata=nometadata"}
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


# -- helpers ---------------------------------------------------------------------------------


def site(handle, name: str):
    return handle.tenant.site_by_path(f"/sites/{name}")


def members(handle):
    return [
        u for u in handle.tenant.users.values() if u.user_type == "Member" and u.account_enabled
    ]


def outsider(handle):
    """An enabled member of the firm who cannot open the private Deals site."""
    deals = site(handle, "deals")
    return next(u for u in members(handle) if not handle.tenant.can_open_site(u.id, deals))


def context(handle, site_name: str, token: str) -> ClientContext:
    ctx = ClientContext(f"{handle.base_url}/sites/{site_name}")
    ctx.with_access_token(lambda: {"access_token": token, "token_type": "Bearer"})
    return ctx.with_transport(session=handle.session())


def call(handle, method: str, path: str, token: str, headers=None, **kwargs):
    session = handle.session()
    session.headers.update({"Authorization": f"Bearer {token}", **(headers or LIGHT)})
    return session.request(method, handle.base_url + path, timeout=30, **kwargs)


def pages_path(name: str = "intranet") -> str:
    return f"/sites/{name}/_api/web/lists/GetByTitle('Site Pages')"


@pytest.fixture(scope="module")
def app_token(emulator) -> str:
    return emulator.token("sharepoint", certificate=True)


@pytest.fixture(scope="module")
def store(emulator, app_token):
    call(emulator, "GET", "/sites/intranet/_api/web", app_token)  # the store is made on first use
    return emulator.app.extensions["sharepoint_social"]


# -- office365 against the emulator ----------------------------------------------------------


def test_office365_reads_web_and_lists(emulator, app_token):
    ctx = context(emulator, "intranet", app_token)
    web = ctx.web.get().execute_query()
    assert web.title == "Alder & Finch Intranet"
    assert web.url == f"{emulator.base_url}/sites/intranet"
    assert web.properties["ServerRelativeUrl"] == "/sites/intranet"
    lists = ctx.web.lists.get().execute_query()
    assert [lst.title for lst in lists] == ["Documents", "Policies", "Site Pages"]
    drive = documents(emulator, "intranet")
    assert lists[0].id == drive.list_id.lower()


def test_office365_get_comments_and_liked_by_information(emulator, app_token, store):
    pages = site(emulator, "intranet")
    page_list = store.pages_list_id(pages)
    social = store.social(page_list, 2)
    expected = sorted(social.top_level(), key=lambda c: c.id, reverse=True)
    assert expected, "the generated News-1 page carries comments"
    item = context(emulator, "intranet", app_token).web.lists.get_by_title("Site Pages")
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
    page_list = store.pages_list_id(site(emulator, "intranet"))
    social = store.social(page_list, 2)
    query = "$expand=replies,likedBy,replies/likedBy"
    path = f"{pages_path()}/items(2)/GetComments()?{query}"
    results = call(emulator, "GET", path, app_token, VERBOSE).json()["d"]["results"]
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
            store.user_number(oid) for oid in comment.likes
        }
        assert entry["likeCount"] == len(comment.likes)
        for reply in entry["replies"]["results"]:
            assert "results" in reply["likedBy"] and reply["isReply"] is True
    light = call(emulator, "GET", f"{pages_path()}/items(2)/comments", app_token).json()["value"]
    assert list(light[0]) == COMMENT_KEYS  # not expanded: no replies or likedBy
    assert list(light[0]["author"]) == AUTHOR_KEYS


def test_set_like_by_user_through_office365_and_url_aliases(fresh_emulator):
    user = members(fresh_emulator)[4]
    token = fresh_emulator.token("sharepoint", user=user.user_principal_name)
    pages = fresh_emulator.tenant.site_by_path("/sites/intranet")
    item = context(fresh_emulator, "intranet", token).web.lists.get_by_title("Site Pages")
    item = item.get_item_by_id(3).get().execute_query()
    before = call(fresh_emulator, "GET", f"{pages_path()}/items(3)/likedByInformation", token)
    count = before.json()["likeCount"]
    already = before.json()["isLikedByUser"]
    assert item.set_like(True).execute_query().value == count + (0 if already else 1)
    info = call(fresh_emulator, "GET", f"{pages_path()}/items(3)/likedByInformation", token).json()
    assert info["isLikedByUser"] is True
    store = fresh_emulator.app.extensions["sharepoint_social"]
    list_id = store.pages_list_id(pages)
    alias = (
        "/sites/intranet/_api/Microsoft.Office.Server.ReputationModel.Reputation.SetLike"
        f"(listID=@a1,itemID=@a2,like=@a3)?@a1='{list_id}'&@a2='3'&@a3=false"
    )
    unliked = call(fresh_emulator, "POST", alias, token, VERBOSE)
    assert unliked.json() == {"d": {"SetLike": info["likeCount"] - 1}}
    assert user.id not in store.social(list_id, 3).likes
    assert call(fresh_emulator, "POST", f"{pages_path()}/items(3)/like", token).status_code == 200
    assert user.id in store.social(list_id, 3).likes
    call(fresh_emulator, "POST", f"{pages_path()}/items(3)/unlike", token)
    assert user.id not in store.social(list_id, 3).likes


def test_post_comment_reply_like_and_delete(fresh_emulator):
    author, other = members(fresh_emulator)[2], members(fresh_emulator)[5]
    author_token = fresh_emulator.token("sharepoint", user=author.user_principal_name)
    other_token = fresh_emulator.token("sharepoint", user=other.user_principal_name)
    drive = documents(fresh_emulator, "intranet")
    item_path = f"/sites/intranet/_api/web/lists(guid'{drive.list_id}')/GetItemById(5)"
    mention = {"loginName": f"i:0#.f|membership|{other.user_principal_name}", "name": "x"}
    posted = call(
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
    reply = call(fresh_emulator, "POST", reply_path, other_token, VERBOSE, json=verbose_body)
    assert reply.status_code == 201
    assert reply.json()["d"]["isReply"] is True
    assert reply.json()["d"]["parentId"] == comment["id"]
    like_path = f"{item_path}/comments({comment['id']})/like"
    assert call(fresh_emulator, "POST", like_path, other_token).status_code == 200
    one = call(fresh_emulator, "GET", f"{item_path}/comments({comment['id']})", author_token).json()
    assert (one["likeCount"], one["replyCount"], one["isLikedByUser"]) == (1, 1, False)
    listed = call(
        fresh_emulator, "GET", f"{item_path}/comments({comment['id']})/likedBy", author_token
    )
    assert [u["name"] for u in listed.json()["value"]] == [other.display_name]
    assert (
        call(
            fresh_emulator, "DELETE", f"{item_path}/comments({comment['id']})", other_token
        ).status_code
        == 403
    )
    assert (
        call(
            fresh_emulator, "DELETE", f"{item_path}/comments({comment['id']})", author_token
        ).status_code
        == 200
    )
    gone = call(fresh_emulator, "GET", f"{item_path}/comments({comment['id']})", author_token)
    assert gone.status_code == 404
    assert gone.json()["odata.error"]["code"] == "-2130575338, Microsoft.SharePoint.SPException"
    assert call(fresh_emulator, "GET", f"{item_path}/comments", author_token).json() == {
        "value": []
    }


def test_likes_need_a_user(emulator, app_token):
    refused = call(emulator, "POST", f"{pages_path()}/items(1)/like", app_token)
    assert refused.status_code == 403
    assert (
        refused.json()["odata.error"]["code"] == "-2147024891, System.UnauthorizedAccessException"
    )


# -- authentication ---------------------------------------------------------------------------


def test_graph_token_is_rejected_like_sharepoint_online(emulator):
    response = call(emulator, "GET", "/sites/intranet/_api/web", emulator.token("graph"))
    assert response.status_code == 401
    assert response.json() == {"error_description": "Invalid issuer or signature."}
    assert response.headers["x-ms-diagnostics"] == (
        '3000006;reason="Token contains invalid signature.";category="invalid_client"'
    )
    realm = f'Bearer realm="{emulator.tenant.tenant_id}",'
    assert response.headers["WWW-Authenticate"].startswith(
        realm + 'client_id="00000003-0000-0ff1-ce00-000000000000"'
    )


def test_app_only_token_from_a_secret_is_unsupported(emulator):
    token = emulator.token("sharepoint")  # client credentials with the client secret
    response = call(emulator, "GET", "/sites/intranet/_api/web", token)
    assert (response.status_code, response.json()) == (
        401,
        {"error_description": "Unsupported app only token."},
    )
    with pytest.raises(ClientRequestException) as raised:
        context(emulator, "intranet", token).web.get().execute_query()
    assert raised.value.response.status_code == 401


# -- addressing and shapes --------------------------------------------------------------------


def test_contextinfo_and_case_insensitive_paths(emulator, app_token):
    info = call(emulator, "POST", "/sites/intranet/_api/contextInfo", app_token, VERBOSE).json()
    body = info["d"]["GetContextWebInformation"]
    assert body["__metadata"] == {"type": "SP.ContextWebInformation"}
    assert body["FormDigestTimeoutSeconds"] == 1800
    assert body["WebFullUrl"] == body["SiteFullUrl"] == f"{emulator.base_url}/sites/intranet"
    assert body["SupportedSchemaVersions"]["results"] == ["14.0.0.0", "15.0.0.0"]
    assert body["FormDigestValue"].startswith("0x")
    guid = documents(emulator, "intranet").list_id
    forms = [
        "web/lists/GetByTitle('Documents')",
        "WEB/LISTS/getbytitle('documents')",
        f"web/lists(guid'{guid}')",
        f"Web/Lists('%7B{guid.upper()}%7D')",
    ]
    ids = {
        call(emulator, "GET", f"/sites/intranet/_api/{f}", app_token).json()["Id"] for f in forms
    }
    assert ids == {guid.lower()}


def test_item_fields_agree_with_graph(emulator, app_token):
    drive = documents(emulator, "tax")
    item = next(i for i in emulator.tenant.iter_items(drive.id, 1) if not i.folder)
    path = f"/sites/tax/_api/web/lists(guid'{drive.list_id}')/items({item.index})"
    verbose = call(emulator, "GET", path, app_token, VERBOSE).json()["d"]
    assert verbose["__metadata"]["type"] == "SP.Data.Shared_x0020_DocumentsItem"
    assert verbose["__metadata"]["uri"].endswith(f"/Items({item.index})")
    light = call(emulator, "GET", path, app_token).json()
    assert "__metadata" not in light
    assert light["FileLeafRef"] == item.name
    assert light["FileRef"] == "/sites/tax/Shared Documents" + emulator.tenant.path_of(item)
    assert (light["FSObjType"], light["Id"]) == (0, item.index)
    graph = emulator.session()
    graph.headers["Authorization"] = "Bearer " + emulator.token("graph")
    ids = graph.get(
        f"{emulator.base_url}/v1.0/drives/{drive.id}/items/{item.id}?$select=id,sharepointIds"
    ).json()["sharepointIds"]
    assert light["UniqueId"] == ids["listItemUniqueId"]
    assert str(light["Id"]) == ids["listItemId"] and ids["listId"] == drive.list_id
    selected = call(emulator, "GET", f"{path}?$select=FileLeafRef,_CommentCount", app_token).json()
    assert selected == {"OData__CommentCount": 0, "FileLeafRef": item.name}


def test_items_page_with_skiptoken(emulator, app_token):
    drive = documents(emulator, "intranet")
    expected = [i.index for i in emulator.tenant.iter_items(drive.id, 1)]
    path = f"/sites/intranet/_api/web/lists(guid'{drive.list_id}')/items?$top=10"
    seen, url = [], emulator.base_url + path
    session = emulator.session()
    session.headers.update({"Authorization": f"Bearer {app_token}", **VERBOSE})
    while url:
        body = session.get(url, timeout=30).json()["d"]
        seen.extend(entry["Id"] for entry in body["results"])
        url = body.get("__next")
    assert seen == expected


def test_errors_have_sharepoint_shapes(emulator, app_token):
    path = "/sites/intranet/_api/web/lists/GetByTitle('Nope')"
    message = f"List 'Nope' does not exist at site with URL '{emulator.base_url}/sites/intranet'."
    verbose = call(emulator, "GET", path, app_token, VERBOSE)
    assert verbose.status_code == 404
    assert verbose.json() == {
        "error": {
            "code": "-1, System.ArgumentException",
            "message": {"lang": "en-US", "value": message},
        }
    }
    light = call(emulator, "GET", path, app_token).json()
    assert light["odata.error"]["message"]["value"] == message
    unknown = call(emulator, "GET", "/sites/intranet/_api/web/frobnicate", app_token)
    assert unknown.status_code == 404
    assert unknown.json()["odata.error"] == {
        "code": "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
        "message": {"lang": "en-US", "value": "Cannot find resource for the request frobnicate."},
    }


# -- security trimming ------------------------------------------------------------------------


def test_user_sees_only_what_they_can_open(emulator):
    tenant = emulator.tenant
    person = outsider(emulator)
    token = emulator.token("sharepoint", user=person.user_principal_name)
    assert call(emulator, "GET", "/sites/deals/_api/web", token).status_code == 403
    drive = documents(emulator, "deals")
    hidden = next(
        i for i in tenant.iter_items(drive.id, 1) if not tenant.can_open(person.id, drive.id, i.id)
    )
    item_path = f"/sites/deals/_api/web/lists(guid'{drive.list_id}')/items({hidden.index})"
    missing = call(emulator, "GET", item_path, token)
    assert missing.status_code == 404
    assert missing.json()["odata.error"]["message"]["value"] == (
        "Item does not exist. It may have been deleted by another user."
    )
    assert call(emulator, "GET", f"{item_path}/comments", token).status_code == 404
    drive = documents(emulator, "tax")
    listed = call(
        emulator, "GET", f"/sites/tax/_api/web/lists(guid'{drive.list_id}')/items?$top=5000", token
    )
    expected = [
        i.index
        for i in tenant.iter_items(drive.id, 1)
        if tenant.can_open(person.id, drive.id, i.id)
    ]
    assert [entry["Id"] for entry in listed.json()["value"]] == expected


def test_site_groups_name_principals_by_claim(emulator, app_token):
    tenant = emulator.tenant
    tax = site(emulator, "tax")
    groups = call(emulator, "GET", "/sites/tax/_api/web/sitegroups", app_token).json()["value"]
    assert [(g["Id"], g["Title"], g["PrincipalType"]) for g in groups] == [
        (g.id, g.title, 8) for g in tax.groups
    ]
    for group in tax.groups:
        users = call(
            emulator, "GET", f"/sites/tax/_api/web/sitegroups({group.id})/users", app_token
        )
        expected = []
        for principal in group.members:
            if principal.kind == USER:
                upn = tenant.users[principal.id].user_principal_name.lower()
                expected.append(f"i:0#.f|membership|{upn}")
            elif principal.kind == GROUP and tenant.groups[principal.id].unified:
                expected.append(f"c:0o.c|federateddirectoryclaimprovider|{principal.id}")
            elif principal.kind == GROUP:
                expected.append(f"c:0t.c|tenant|{principal.id}")
            elif principal.kind == EVERYONE:
                expected.append(f"c:0-.f|rolemanager|spo-grid-all-users/{tenant.tenant_id}")
        assert [u["LoginName"] for u in users.json()["value"]] == expected
    one = call(emulator, "GET", "/sites/tax/_api/web/sitegroups/GetById(5)", app_token, VERBOSE)
    assert one.json()["d"]["Title"] == tax.groups[2].title


def test_an_item_shared_into_a_private_site_is_reachable_alone(fresh_emulator):
    tenant, person = fresh_emulator.tenant, outsider(fresh_emulator)
    token = fresh_emulator.token("sharepoint", user=person.user_principal_name)
    drive = documents(fresh_emulator, "deals")
    item = next(i for i in tenant.iter_items(drive.id, 1) if not i.folder)
    list_path = f"/sites/deals/_api/web/lists(guid'{drive.list_id}')"
    assert call(fresh_emulator, "GET", f"{list_path}/items({item.index})", token).status_code == 404
    tenant.add_grant(drive.id, item.id, Principal(USER, person.id), ("read",))
    shared = call(fresh_emulator, "GET", f"{list_path}/items({item.index})", token)
    assert (shared.status_code, shared.json()["FileLeafRef"]) == (200, item.name)
    assert call(fresh_emulator, "GET", list_path, token).status_code == 404
    tenant.update_user(person.id, account_enabled=False)
    disabled = call(fresh_emulator, "GET", f"{list_path}/items({item.index})", token)
    assert disabled.status_code == 403
