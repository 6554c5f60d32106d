"""models.from_graph on directory objects, error envelopes and SharePoint comments and likes
(our own fixtures, written from the shapes Microsoft documents)."""

from __future__ import annotations

from connector.models import ChangesPage, Comment, ErrorInfo, Group, Likes, Member, User


def test_user_full_default_properties():
    user = User.from_graph(
        {
            "businessPhones": ["+1 425 555 0109"],
            "displayName": "Alba Novak",
            "givenName": "Alba",
            "jobTitle": "Retail Manager",
            "mail": "alban@fabrikam.com",
            "mobilePhone": "+1 425 555 0110",
            "officeLocation": "18/2111",
            "preferredLanguage": "en-US",
            "surname": "Novak",
            "userPrincipalName": "alban@fabrikam.com",
            "id": "87d3-id",
        }
    )
    assert user == User(
        id="87d3-id",
        user_principal_name="alban@fabrikam.com",
        display_name="Alba Novak",
        given_name="Alba",
        surname="Novak",
        mail="alban@fabrikam.com",
        job_title="Retail Manager",
        department=None,
        office_location="18/2111",
        business_phones=("+1 425 555 0109",),
        mobile_phone="+1 425 555 0110",
        preferred_language="en-US",
        account_enabled=None,
        user_type=None,
        removed_reason=None,
    )


def test_user_select_guest_nulls_and_removed():
    selected = User.from_graph(
        {"displayName": "Alba Novak", "givenName": "Alba", "postalCode": "98004"}
    )
    room = User.from_graph(
        {
            "businessPhones": [],
            "displayName": "Conf Room Ash",
            "givenName": None,
            "jobTitle": None,
            "id": "room-1",
        }
    )
    guest = User.from_graph(
        {
            "displayName": "visitor",
            "mail": "visitor@example.net",
            "userPrincipalName": "visitor_example.net#EXT#@fabrikam.com",
        }
    )
    soft = User.from_graph({"id": "8fff", "@removed": {"reason": "changed"}})
    hard = User.from_graph({"id": "9fff", "@removed": {"reason": "deleted"}})
    assert (selected.id, selected.display_name, selected.business_phones) == (
        None,
        "Alba Novak",
        (),
    )
    assert (room.given_name, room.business_phones, room.removed) == (None, (), False)
    assert guest.user_principal_name.endswith("#EXT#@fabrikam.com")
    assert (soft.removed, soft.removed_reason, hard.removed_reason) == (True, "changed", "deleted")


def test_users_delta_page_with_removed_user():
    page = {
        "@odata.deltaLink": "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=T",
        "value": [
            {"displayName": "Admin", "id": "25dc"},
            {"id": "8ffff70c", "@removed": {"reason": "changed"}},
        ],
    }
    changes = ChangesPage.from_objects(
        [User.from_graph(r) for r in page["value"]], page, removed=lambda user: user.removed
    )
    assert [u.id for u in changes.items] == ["25dc"]
    assert changes.deleted_ids == ("8ffff70c",)


def test_group_delta_members_and_minimal_properties():
    group = Group.from_graph(
        {
            "classification": "x",
            "createdDateTime": "2020-01-01T00:00:00Z",
            "description": "Test group 1",
            "displayName": "TestGroup1",
            "groupTypes": ["Unified"],
            "mail": "tg1@fabrikam.com",
            "members@delta": [
                {"@odata.type": "#microsoft.graph.user", "id": "693a"},
                {"@odata.type": "#microsoft.graph.group", "id": "4932"},
                {
                    "@odata.type": "#microsoft.graph.user",
                    "id": "77aa",
                    "@removed": {"reason": "deleted"},
                },
            ],
        }
    )
    minimal = Group.from_graph({"displayName": "Renamed", "description": None})
    assert group.members_added == (Member("693a", "user"), Member("4932", "group"))
    assert group.members_removed == (Member("77aa", "user"),)
    assert (group.is_microsoft365, group.mail, group.id) == (True, "tg1@fabrikam.com", None)
    assert (minimal.display_name, minimal.description, minimal.group_types) == ("Renamed", None, ())


def test_directory_object_member_without_type():
    group = Group.from_graph({"id": "g", "members@delta": [{"id": "m-1"}]})
    assert group.members_added == (Member("m-1", None),)


def test_error_envelopes():
    documented = ErrorInfo.from_graph(
        {
            "error": {
                "code": "invalidRange",
                "message": "Uploaded fragment overlaps.",
                "innererror": {"requestId": "req-1", "date": "2020-01-01"},
            }
        }
    )
    throttled = ErrorInfo.from_graph(
        {
            "error": {
                "code": "TooManyRequests",
                "message": "Please retry again later.",
                "innerError": {
                    "code": "429",
                    "date": "2020-08-18T12:51:51",
                    "message": "Please retry after",
                    "request-id": "94fb",
                    "status": "429",
                },
            }
        }
    )
    nested = ErrorInfo.from_graph(
        {
            "error": {
                "code": "resyncRequired",
                "message": "Resync.",
                "innerError": {
                    "code": "resyncChangesApplyDifferences",
                    "innerError": {"code": "deeper"},
                },
            }
        }
    )
    sharepoint = ErrorInfo.from_graph(
        {
            "odata.error": {
                "code": "-1, Microsoft.SharePoint.SPException",
                "message": {"lang": "en-US", "value": "Item does not exist."},
            }
        }
    )
    oauth = ErrorInfo.from_graph(
        {"error": "invalid_client", "error_description": "AADSTS7000215", "correlation_id": "c-1"}
    )
    assert documented == ErrorInfo("invalidRange", "Uploaded fragment overlaps.", "req-1", None)
    assert throttled == ErrorInfo("TooManyRequests", "Please retry again later.", "94fb", "429")
    assert (nested.code, nested.detailed_code) == ("resyncRequired", "deeper")
    assert (sharepoint.code, sharepoint.message) == (
        "-1, Microsoft.SharePoint.SPException",
        "Item does not exist.",
    )
    assert oauth == ErrorInfo("invalid_client", "AADSTS7000215", "c-1", None)
    assert ErrorInfo.from_graph("not json") == ErrorInfo(None, None, None, None)


def test_sharepoint_comment_nometadata_with_replies_and_likes():
    comment = Comment.from_sharepoint(
        {
            "author": {
                "email": "ada@fabrikam.com",
                "id": 11,
                "isActive": True,
                "isExternal": False,
                "jobTitle": None,
                "loginName": "i:0#.f|membership|ada@fabrikam.com",
                "name": "Ada Byrne",
                "principalType": 1,
                "userId": None,
            },
            "createdDate": "2024-05-01T09:00:00.000Z",
            "id": "3",
            "isLikedByUser": False,
            "isReply": False,
            "itemId": 1,
            "likeCount": 1,
            "listId": "list-guid",
            "mentions": None,
            "parentId": "0",
            "replyCount": 1,
            "text": "Looks good",
            "likedBy": [
                {
                    "creationDate": "2024-05-01T10:00:00Z",
                    "email": "bo@fabrikam.com",
                    "id": 12,
                    "loginName": "i:0#.f|membership|bo@fabrikam.com",
                    "name": "Bo Lind",
                }
            ],
            "replies": [
                {
                    "id": "4",
                    "text": "Thanks",
                    "isReply": True,
                    "parentId": "3",
                    "author": {"name": "Bo Lind"},
                    "likedBy": [],
                }
            ],
        }
    )
    assert (comment.id, comment.text, comment.parent_id, comment.item_id) == (
        "3",
        "Looks good",
        "0",
        1,
    )
    assert comment.author.login_name == "i:0#.f|membership|ada@fabrikam.com"
    assert [p.name for p in comment.liked_by] == ["Bo Lind"]
    assert [(r.id, r.text, r.is_reply, r.parent_id) for r in comment.replies] == [
        ("4", "Thanks", True, "3")
    ]
    assert (comment.like_count, comment.reply_count, comment.mentions) == (1, 1, ())


def test_sharepoint_verbose_collections_and_liked_by_information():
    verbose = Comment.from_sharepoint(
        {
            "d": {
                "__metadata": {"type": "Microsoft.SharePoint.Comments.comment"},
                "id": "7",
                "text": "Hi",
                "replies": {"results": []},
                "likedBy": {"results": [{"name": "Cy", "loginName": "i:0#.f|membership|cy@f.com"}]},
            }
        }
    )
    likes = Likes.from_sharepoint(
        {
            "@odata.type": "#Microsoft.SharePoint.Likes.likedByInformation",
            "isLikedByUser": True,
            "likeCount": 1,
            "likedBy": [
                {
                    "@odata.type": "#Microsoft.SharePoint.Likes.userEntity",
                    "creationDate": "2019-09-17T13:27:52.893Z",
                    "email": "eli@fabrikam.com",
                    "id": 8,
                    "loginName": "i:0#.f|membership|eli@fabrikam.com",
                    "name": "Eli Strand",
                }
            ],
        }
    )
    assert (verbose.id, [p.name for p in verbose.liked_by], verbose.like_count) == ("7", ["Cy"], 1)
    assert (likes.count, likes.is_liked_by_user) == (1, True)
    assert [
        (like.person.name, like.person.site_user_id, like.liked_at) for like in likes.liked_by
    ] == [("Eli Strand", 8, "2019-09-17T13:27:52.893Z")]
