"""models.from_graph on the shapes Microsoft documents (our own fixtures, written from them).

Documentation examples are abbreviated and inconsistent on purpose here: missing properties,
`hostName` vs `hostname`, `grantedTo` vs `grantedToV2`, `innerError` vs `innererror`.
"""

from __future__ import annotations

from connector.models import (
    ChangesPage,
    Drive,
    DriveItem,
    Identity,
    Permission,
    SharingLink,
    Site,
)

HOST = "fabrikam.sharepoint.com"
COLLECTION = "1A2B3C4D-0000-4000-8000-00000000AAAA"
WEB = "5E6F7A8B-0000-4000-8000-00000000BBBB"


def test_site_abbreviated_get():
    site = Site.from_graph(
        {
            "id": f"{HOST},{COLLECTION},{WEB}",
            "displayName": "Harbour Team",
            "name": "harbour",
            "createdDateTime": "2018-04-02T10:00:00Z",
            "lastModifiedDateTime": "2018-04-02T10:00:01Z",
            "webUrl": f"https://{HOST}/teams/harbour",
        }
    )
    assert site == Site(
        id=f"{HOST},{COLLECTION},{WEB}",
        name="harbour",
        display_name="Harbour Team",
        description=None,
        web_url=f"https://{HOST}/teams/harbour",
        hostname=HOST,
        site_collection_id=COLLECTION,
        web_id=WEB,
        is_root=False,
        created_at="2018-04-02T10:00:00Z",
        modified_at="2018-04-02T10:00:01Z",
    )


def test_site_collection_hostname_in_both_spellings():
    spelled_upper = {
        "id": "x",
        "name": "Root",
        "root": {},
        "siteCollection": {"hostName": "a.sharepoint.com", "root": {}},
    }
    spelled_lower = {
        "id": "y",
        "name": "B",
        "root": {},
        "siteCollection": {"hostname": "b.sharepoint.com", "dataLocationCode": "EUR"},
    }
    first, second = Site.from_graph(spelled_upper), Site.from_graph(spelled_lower)
    assert (first.hostname, first.is_root, first.site_collection_id) == (
        "a.sharepoint.com",
        True,
        None,
    )
    assert (second.hostname, second.is_root) == ("b.sharepoint.com", True)


def test_site_search_result_keeps_empty_description():
    site = Site.from_graph(
        {
            "id": f"{HOST},{COLLECTION},{WEB}",
            "name": "Team B",
            "description": "",
            "webUrl": f"https://{HOST}/sites/b",
        }
    )
    assert (site.description, site.display_name, site.web_id) == ("", None, WEB)


def test_drive_from_list_and_get():
    listed = Drive.from_graph(
        {
            "id": "DRIVE-1",
            "driveType": "documentLibrary",
            "name": "Shared Documents",
            "owner": {"user": {"id": "AAAA-1", "displayName": "Noor Haddad"}},
        }
    )
    got = Drive.from_graph(
        {
            "id": "b!abc",
            "driveType": "business",
            "owner": {"user": {"id": "u-2", "displayName": "Ines Ruiz"}},
            "quota": {"deleted": 100, "remaining": 900, "state": "normal", "total": 1000},
        }
    )
    assert listed == Drive(
        id="DRIVE-1",
        name="Shared Documents",
        description=None,
        drive_type="documentLibrary",
        web_url=None,
        owner=Identity("user", "AAAA-1", "Noor Haddad"),
        created_at=None,
        modified_at=None,
        quota_total=None,
        quota_used=None,
        system=False,
    )
    assert (got.quota_total, got.quota_used, got.drive_type, got.name) == (
        1000,
        None,
        "business",
        None,
    )


def test_delta_first_page_splits_deleted_items():
    page = {
        "value": [
            {"id": "f-1", "name": "folder2", "folder": {}},
            {"id": "i-2", "name": "file.txt", "file": {}},
            {"id": "i-3", "name": "file5.txt", "deleted": {}},
        ],
        "@odata.nextLink": "https://graph.microsoft.com/v1.0/me/drive/delta(token=abc)",
    }
    items = [DriveItem.from_graph(raw, "drive-9") for raw in page["value"]]
    changes = ChangesPage.from_objects(items, page, removed=lambda item: item.deleted)
    assert [(i.id, i.name, i.is_folder, i.is_file, i.drive_id) for i in changes.items] == [
        ("f-1", "folder2", True, False, "drive-9"),
        ("i-2", "file.txt", False, True, "drive-9"),
    ]
    assert changes.deleted_ids == ("i-3",)
    assert (changes.next_link, changes.delta_link, changes.last) == (
        "https://graph.microsoft.com/v1.0/me/drive/delta(token=abc)",
        None,
        False,
    )


def test_delta_last_page_deleted_facet_wins_over_folder():
    page = {
        "value": [
            {"id": "f-1", "name": "folder2", "folder": {}, "deleted": {}},
            {"id": "i-2", "name": "file.txt", "file": {}},
        ],
        "@odata.deltaLink": "https://graph.microsoft.com/v1.0/me/drive/root/delta?token=xyz",
    }
    changes = ChangesPage.from_objects(
        [DriveItem.from_graph(r) for r in page["value"]], page, removed=lambda item: item.deleted
    )
    assert [i.id for i in changes.items] == ["i-2"]
    assert changes.deleted_ids == ("f-1",)
    assert changes.delta_link.endswith("token=xyz") and changes.last


def test_delta_latest_token_page_is_empty():
    page = {"value": [], "@odata.deltaLink": "https://graph.microsoft.com/v1.0/x?token=1"}
    changes = ChangesPage.from_objects([], page, removed=lambda item: item.deleted)
    assert changes == ChangesPage((), (), None, "https://graph.microsoft.com/v1.0/x?token=1")


def test_delta_last_occurrence_of_an_item_wins():
    raws = [
        {"id": "a", "name": "old.txt", "file": {}},
        {"id": "b", "name": "b.txt", "file": {}},
        {"id": "a", "name": "new.txt", "file": {}},
        {"id": "b", "deleted": {"state": "deleted"}},
    ]
    changes = ChangesPage.from_objects(
        [DriveItem.from_graph(r) for r in raws], {}, removed=lambda item: item.deleted
    )
    assert [(i.id, i.name) for i in changes.items] == [("a", "new.txt")]
    assert changes.deleted_ids == ("b",)


def test_drive_root_item_with_tags():
    item = DriveItem.from_graph(
        {
            "createdBy": {"user": {"id": "u-7", "displayName": "Tomas Berg"}},
            "createdDateTime": "2016-03-21T20:01:37Z",
            "cTag": '"c:{11111111-2222-3333-4444-555555555555},0"',
            "eTag": '"{11111111-2222-3333-4444-555555555555},1"',
            "folder": {"childCount": 120},
            "id": "01ROOTITEMID",
            "lastModifiedBy": {"user": {"id": "u-7", "displayName": "Tomas Berg"}},
            "lastModifiedDateTime": "2016-03-21T20:01:37Z",
            "name": "OneDrive",
            "root": {},
            "size": 157286400,
            "webUrl": "https://fabrikam-my.sharepoint.com/personal/tberg/Documents",
        }
    )
    assert (item.is_root, item.is_folder, item.is_file, item.child_count, item.size) == (
        True,
        True,
        False,
        120,
        157286400,
    )
    assert item.etag == '"{11111111-2222-3333-4444-555555555555},1"'
    assert item.ctag == '"c:{11111111-2222-3333-4444-555555555555},0"'
    assert item.created_by == Identity("user", "u-7", "Tomas Berg")
    assert (item.parent_id, item.drive_id, item.list_id) == (None, None, None)


def test_children_without_ids_or_facets():
    raws = [
        {"name": "photo.jpg", "size": 2048, "file": {}},
        {"name": "Photos", "folder": {"childCount": 203}},
        {"name": "my sheet(1).xlsx", "size": 197},
    ]
    items = [DriveItem.from_graph(raw) for raw in raws]
    assert [(i.id, i.name, i.is_folder, i.child_count, i.size) for i in items] == [
        (None, "photo.jpg", False, None, 2048),
        (None, "Photos", True, 203, None),
        (None, "my sheet(1).xlsx", False, None, 197),
    ]


def test_sharepoint_item_with_ids_hashes_and_sharing_annotation():
    item = DriveItem.from_graph(
        {
            "id": "01ABC",
            "name": "Plan.docx",
            "size": 10,
            "file": {"mimeType": "application/msword", "hashes": {"quickXorHash": "q+x="}},
            "parentReference": {
                "driveId": "b!d",
                "driveType": "documentLibrary",
                "id": "01PARENT",
                "siteId": "site-guid",
            },
            "sharepointIds": {
                "listId": "list-guid",
                "listItemId": "21",
                "listItemUniqueId": "unique-guid",
                "siteId": "site-guid",
                "siteUrl": f"https://{HOST}/sites/tax",
                "webId": "web-guid",
            },
            "shared": {"scope": "users"},
            "@microsoft.graph.sharedChanged": "True",
            "unknownFutureProperty": {"x": 1},
        },
        drive_id="ignored-when-parent-says",
    )
    assert (item.drive_id, item.parent_id, item.mime_type, item.quick_xor_hash) == (
        "b!d",
        "01PARENT",
        "application/msword",
        "q+x=",
    )
    assert (item.list_id, item.list_item_id, item.list_item_unique_id, item.site_url) == (
        "list-guid",
        21,
        "unique-guid",
        f"https://{HOST}/sites/tax",
    )
    assert (item.shared, item.shared_scope, item.sharing_changed) == (True, "users", True)


def test_odb_tombstone_has_no_name():
    item = DriveItem.from_graph(
        {
            "id": "01GONE",
            "deleted": {"state": "deleted"},
            "size": 0,
            "parentReference": {"driveId": "b!d", "id": "01PARENT"},
        }
    )
    assert (item.deleted, item.name, item.size, item.is_file) == (True, None, 0, False)


def test_permissions_link_grant_and_inherited():
    link = {
        "webUrl": "https://onedrive.example/redir?resid=1",
        "type": "edit",
        "application": {"id": "123", "displayName": "Time Keeper"},
    }
    raws = [
        {"id": "1", "roles": ["write"], "link": {"webUrl": link["webUrl"], "type": "edit"}},
        {
            "id": "2",
            "roles": ["write"],
            "grantedTo": {"user": {"id": "5D33", "displayName": "Sam Okafor"}},
            "inheritedFrom": {
                "driveId": "1234",
                "id": "1234!123",
                "path": "/drive/root:/Documents",
            },
        },
        {"id": "3", "roles": ["write"], "link": link},
    ]
    first, second, third = (Permission.from_graph(raw) for raw in raws)
    assert first == Permission(
        "1",
        ("write",),
        (),
        SharingLink("edit", None, link["webUrl"], False),
        None,
        None,
        False,
        None,
    )
    assert second.grantees == (Identity("user", "5D33", "Sam Okafor"),)
    assert (second.link, second.inherited_from_id) == (None, "1234!123")
    assert third.link == SharingLink("edit", None, link["webUrl"], False)


def test_permission_prefers_granted_to_v2_with_site_user_login():
    permission = Permission.from_graph(
        {
            "id": "2",
            "@deprecated.GrantedTo": "GrantedTo has been deprecated. Refer to GrantedToV2",
            "roles": ["write"],
            "grantedTo": {"user": {"id": "OLD", "displayName": "Old Shape"}},
            "grantedToV2": {
                "user": {"id": "oid-1", "displayName": "Rin Sato", "email": "rin@fabrikam.com"},
                "siteUser": {
                    "id": "1",
                    "displayName": "Rin Sato",
                    "loginName": "i:0#.f|membership|rin@fabrikam.com",
                },
            },
        }
    )
    assert permission.grantees == (
        Identity(
            "user", "oid-1", "Rin Sato", "rin@fabrikam.com", "i:0#.f|membership|rin@fabrikam.com"
        ),
    )


def test_permission_site_group_everyone_and_specific_people_link():
    site_group = Permission.from_graph(
        {
            "id": "sg",
            "roles": ["read"],
            "grantedToV2": {
                "siteGroup": {"id": "4", "displayName": "Tax Visitors", "loginName": "Tax Visitors"}
            },
        }
    )
    everyone = Permission.from_graph(
        {
            "id": "e",
            "roles": ["read"],
            "grantedToV2": {
                "siteUser": {
                    "displayName": "Everyone except external users",
                    "loginName": "c:0-.f|rolemanager|spo-grid-all-users/tenant-guid",
                }
            },
        }
    )
    people_link = Permission.from_graph(
        {
            "id": "l",
            "roles": ["read"],
            "hasPassword": False,
            "expirationDateTime": "2030-01-01T00:00:00Z",
            "link": {
                "type": "view",
                "scope": "users",
                "webUrl": "https://x/l",
                "preventsDownload": True,
            },
            "grantedToIdentitiesV2": [
                {"user": {"id": "u-1", "displayName": "A"}},
                {"user": {"id": "u-2", "displayName": "B"}},
            ],
        }
    )
    assert site_group.grantees == (
        Identity("siteGroup", "4", "Tax Visitors", None, "Tax Visitors"),
    )
    assert everyone.grantees[0].is_everyone_except_external
    assert everyone.grantees[0].kind == "siteUser"
    assert [g.id for g in people_link.grantees] == ["u-1", "u-2"]
    assert people_link.link == SharingLink("view", "users", "https://x/l", True)
    assert people_link.expires_at == "2030-01-01T00:00:00Z"


def test_existing_access_link():
    permission = Permission.from_graph(
        {
            "id": "00000000-0000-0000-0000-000000000000",
            "roles": ["read"],
            "link": {"scope": "existingAccess", "type": "view", "webUrl": "https://x/e"},
            "expirationDateTime": "0001-01-01T00:00:00Z",
        }
    )
    assert permission.link.scope == "existingAccess" and permission.grantees == ()
