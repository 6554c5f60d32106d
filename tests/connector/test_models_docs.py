"""Every Graph documentation example the connector reads, as our own fixtures, parsed exactly.

fixtures/graph_docs/<name>.json mirrors shared/reference/graph-docs/<name>.json (Microsoft's
examples, abbreviated as they are, with quirks such as `hostName` vs `hostname`, ids left out,
placeholder values) with our own names, ids and values. Each test asserts the whole parsed
dataclass, so a property dropped, renamed or misread fails. Examples the connector never parses
are listed with the reason in NOT_PARSED: all 44 documentation examples are accounted for.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from connector.models import (
    ChangesPage,
    Drive,
    DriveItem,
    ErrorInfo,
    Group,
    Identity,
    Member,
    Permission,
    SharingLink,
    Site,
    User,
)
from connector.pacing import retry_after_seconds

FIXTURES = Path(__file__).parent / "fixtures" / "graph_docs"
NOT_PARSED = {
    "driveitem-list-thumbnails.1": "thumbnailSet collection: Plaza shows no thumbnails",
    "driveitem-list-thumbnails.2": "a single thumbnail: Plaza shows no thumbnails",
    "driveitem-list-thumbnails.3": "a 302 redirect to thumbnail bytes, no JSON body",
    "driveitem-list-thumbnails.5": "custom thumbnail sizes; the documented body is not valid JSON",
    "group-list-members.2": "an empty text/plain body (a $count request)",
    "group-list-members.3": "an empty text/plain body (a $count request)",
    "user-list.3": "a bare number as text/plain ($count)",
    "profilephoto-get.1": "photo metadata: connector.Photo is read from /photo/$value bytes",
    "profilephoto-get.2": "photo metadata: connector.Photo is read from /photo/$value bytes",
}
DOC_EXAMPLE_COUNT = 44
HOST = "fabrikam.sharepoint.com"
ALBA = "5d2c8e1f-0a7b-4c3d-9e6f-1a2b3c4d5e6f"
EMPTY = {"bool": False, "tuple": ()}  # by annotation; anything else (str | None, ...) is None
INES = Identity("user", "0c9a4e71-5b2d-4f3e-9a81-6d2c7b3e4f10", "Ines Ruiz")


def doc(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def shaped(cls, **values):
    """`cls` with every field empty (None, False or ()) but `values`: a whole expected object."""
    empty = {f.name: EMPTY.get(f.type.split("[")[0]) for f in fields(cls)}
    return cls(**{**empty, **values})


def drive_changes(page: dict) -> ChangesPage[DriveItem]:
    items = [DriveItem.from_graph(raw) for raw in page["value"]]
    return ChangesPage.from_objects(items, page, removed=lambda item: item.deleted)


def directory_changes(page: dict, parse) -> ChangesPage:
    objects = [parse(raw) for raw in page["value"]]
    return ChangesPage.from_objects(objects, page, removed=lambda obj: obj.removed)


def test_every_documentation_example_is_a_fixture_or_has_a_reason():
    parsed = {path.stem for path in FIXTURES.glob("*.json")}
    assert not parsed & NOT_PARSED.keys()
    assert len(parsed) + len(NOT_PARSED) == DOC_EXAMPLE_COUNT


# -- drives and their items -------------------------------------------------------------------


def test_drive_get():
    assert Drive.from_graph(doc("drive-get.1")) == shaped(
        Drive,
        id="b!Qm9vayBvZiBQbGF6YSBkcml2ZXMgYW5kIGxpYnJhcmllcyBoZXJl-Xy7Tf9vQKf",
        drive_type="business",
        owner=INES,
        quota_total=1099511627776,  # the example has no `used`: remaining + deleted do not sum
    )


def test_drive_list():
    drives = [Drive.from_graph(raw) for raw in doc("drive-list.1")["value"]]
    # fmt: off
    assert drives == [
        shaped(Drive, id="7F3A1C20-44B1-4E0D-9C55-2B8E61D0A913", name="Shared Documents",
               drive_type="documentLibrary",
               owner=Identity("user", "B81D2E44-0C3F-4A7B-8E19-55D0F2A6C7E1", "Ines Ruiz")),
        shaped(Drive, id="2E90B7D4-81AC-4F62-A0D3-7C15E9B4F826", name="Harbour Project Files",
               drive_type="documentLibrary",
               owner=Identity("user", "4C6E8A02-9B17-4D35-B2F8-03A1E5C7D9B4", "Tomas Berg")),
    ]
    # fmt: on


def test_driveitem_delta_first_page():
    assert drive_changes(doc("driveitem-delta.1")) == ChangesPage(
        items=(
            shaped(DriveItem, id="01FOLDERTWO", name="briefs", is_folder=True),
            shaped(DriveItem, id="01FILEONE", name="notes.txt"),
        ),
        deleted_ids=("01FILEFIVE",),
        next_link="https://graph.microsoft.com/v1.0/me/drive/delta(token=f81ad2c9e0b4471a)",
        delta_link=None,
    )


def test_driveitem_delta_last_page_deletes_a_folder():
    changes = drive_changes(doc("driveitem-delta.2"))
    assert changes == ChangesPage(
        items=(shaped(DriveItem, id="01FILEONE", name="notes.txt"),),
        deleted_ids=("01FOLDERTWO",),
        next_link=None,
        # kept opaque, odd "?(token='...')" form included
        delta_link="https://graph.microsoft.com/v1.0/me/drive/root/delta?(token='f81ad2c9e0b4471a')",
    )
    assert changes.last and changes.items[0].is_file


def test_driveitem_delta_token_latest():
    assert drive_changes(doc("driveitem-delta.3")) == ChangesPage(
        (), (), None, "https://graph.microsoft.com/v1.0/me/drive/root/delta?token=c07e5d3a9b21f864"
    )


def test_driveitem_get_drive_root():
    item = DriveItem.from_graph(doc("driveitem-get.1"))
    # fmt: off
    assert item == shaped(
        DriveItem, id="01QWERTYROOTXYZ7KLMNOPQRSTUVWXYZAB", name="OneDrive", is_folder=True,
        is_root=True, size=73400320, etag='"{5A1F0C3E-7B92-4D68-A0E4-19C3B7D25F81},1"',
        ctag='"c:{5A1F0C3E-7B92-4D68-A0E4-19C3B7D25F81},0"',
        web_url="https://fabrikam-my.sharepoint.com/personal/iruiz_fabrikam_com/Documents",
        created_at="2017-06-12T08:14:05Z", modified_at="2017-06-12T08:14:05Z",
        created_by=INES, modified_by=INES, child_count=87,
    )
    # fmt: on
    assert not item.is_file


def test_driveitem_list_children_without_ids():
    items = [DriveItem.from_graph(raw, "b!d") for raw in doc("driveitem-list-children.1")["value"]]
    assert items == [
        shaped(DriveItem, drive_id="b!d", name="harbour.jpg", size=4096),
        shaped(DriveItem, drive_id="b!d", name="Contracts", is_folder=True, child_count=9),
        shaped(DriveItem, drive_id="b!d", name="Scans", is_folder=True, child_count=311),
        shaped(DriveItem, drive_id="b!d", name="budget(2).xlsx", size=512),
    ]


def test_driveitem_children_with_expanded_thumbnails():
    items = [DriveItem.from_graph(raw) for raw in doc("driveitem-list-thumbnails.4")["value"]]
    assert items == [
        shaped(DriveItem, id="9C1B54E2-3F7A-4D80-B6E1-0A2D8C5F7391", name="quay.jpg"),
        shaped(DriveItem, id="5E7F0A93-C2B4-4A16-8D3E-F49B1C6027A8", name="pitch.pptx"),
    ]


def test_driveitem_list_permissions():
    url = (
        "https://onedrive.live.com/redir?resid=8A41C0D7E2F9B365!4417&authkey=!BX2c9QmTfZkd0aE"
        "&ithint=folder%2cdocx"
    )
    edit_link = SharingLink("edit", None, url, False)
    permissions = [Permission.from_graph(r) for r in doc("driveitem-list-permissions.1")["value"]]
    assert permissions == [
        shaped(Permission, id="1", roles=("write",), link=edit_link),
        shaped(
            Permission,
            id="2",
            roles=("write",),
            inherited_from_id="9F8E7D6C5B4A3!208",
            grantees=(Identity("user", "8A41C0D7E2F9B365", "Noor Haddad"),),
        ),
        # the link's `application` (who created it) is not part of the grant
        shaped(Permission, id="3", roles=("write",), link=edit_link),
    ]


# -- sites ------------------------------------------------------------------------------------

ROOT_IDS = ("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")
TAX_IDS = ("1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e", "6f7a8b9c-0d1e-4f2a-b3c4-d5e6f7a8b9c0")
AUDIT_IDS = ("2c3d4e5f-6a7b-4c8d-ae9f-1a2b3c4d5e6f", "7a8b9c0d-1e2f-4a3b-c4d5-e6f7a8b9c0d1")
NORTH_IDS = ("3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a", "8b9c0d1e-2f3a-4b4c-95d6-f7a8b9c0d1e2")
SOUTH_IDS = ("3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a", "9c0d1e2f-3a4b-4c5d-a6e7-a8b9c0d1e2f3")


def site(ids: tuple[str, str], **values) -> Site:
    collection, web = ids
    where = {"hostname": HOST, "site_collection_id": collection, "web_id": web}
    return shaped(Site, id=f"{HOST},{collection},{web}", **where, **values)


def test_site_get():
    ids = ("6B0E2C1A-3D4F-4A58-9B67-C8D9E0F1A2B3", "9F8E7D6C-5B4A-4392-8170-6F5E4D3C2B1A")
    assert Site.from_graph(doc("site-get.1")) == site(
        ids, name="harbourteam", display_name="Harbour Team Site",
        web_url=f"https://{HOST}/teams/harbourteam",
        created_at="2018-02-14T11:20:00Z", modified_at="2018-02-14T11:20:01Z",
    )  # fmt: skip


@pytest.mark.parametrize("name", ["site-getallsites.1", "site-list.2"])
def test_all_sites_with_either_hostname_spelling(name):
    # getAllSites spells siteCollection.hostName, /sites spells hostname; every site listed
    # is the root web of its collection (`root` facet).
    sites = [Site.from_graph(raw) for raw in doc(name)["value"]]
    assert sites == [
        site(ROOT_IDS, name="Root Site", web_url=f"https://{HOST}", is_root=True),
        site(TAX_IDS, name="Tax", web_url=f"https://{HOST}/sites/tax", is_root=True),
        site(AUDIT_IDS, name="Audit", web_url=f"https://{HOST}/sites/audit", is_root=True),
    ]


@pytest.mark.parametrize(
    ("name", "titles", "paths"),
    [
        ("site-list-subsites.1", ("Tax Subsite North", "Tax Subsite South"),
         ("tax/north", "tax/south")),
        ("site-search.1", ("Harbour North", "Harbour South"), ("harbournorth", "harboursouth")),
    ],
)  # fmt: skip
def test_subsites_and_search_results(name, titles, paths):
    times = {"created_at": "2019-09-03T07:45:12Z", "modified_at": "2019-09-03T15:02:48Z"}
    sites = [Site.from_graph(raw) for raw in doc(name)["value"]]
    assert sites == [
        site(ids, name=title, description="", web_url=f"https://{HOST}/sites/{path}", **times)
        for ids, title, path in zip((NORTH_IDS, SOUTH_IDS), titles, paths, strict=True)
    ]


# -- users ------------------------------------------------------------------------------------

# fmt: off
ALBA_FULL = shaped(
    User, id=ALBA, user_principal_name="AlbaN@fabrikam.onmicrosoft.com",
    display_name="Alba Novak", given_name="Alba", surname="Novak",
    mail="AlbaN@fabrikam.onmicrosoft.com", job_title="Audit Manager", office_location="3/114",
    business_phones=("+44 20 7946 0321",), mobile_phone="+44 7700 900321",
    preferred_language="en-GB",
)
GUEST = shaped(
    User, display_name="harbourguest",
    mail="'harbourguest@example.net",  # the stray quote is in Microsoft's example too
    user_principal_name="harbourguest_example.net#EXT#@fabrikam.onmicrosoft.com",
)
LENA = shaped(
    User, display_name="Lena Ward", given_name="Lena", mail="lenaward@fabrikam.com",
    user_principal_name="lenaward@fabrikam.com",
)
# fmt: on
DELTA_NEXT = "https://graph.microsoft.com/v1.0/users/delta?$skiptoken=Pk4Xz9Lm2Qw7Rt1Yv6Hn3Bc8"


@pytest.mark.parametrize("name", ["user-get.1", "user-get.2"])
def test_user_get_default_properties(name):
    assert User.from_graph(doc(name)) == ALBA_FULL


def test_user_get_with_select():
    assert User.from_graph(doc("user-get.3")) == shaped(
        User, display_name="Alba Novak", given_name="Alba"
    )


@pytest.mark.parametrize(
    ("name", "user"),
    [
        ("user-delta.1", ALBA_FULL),
        (
            "user-delta.2",  # $select without id: Graph always adds it, the example leaves it out
            shaped(
                User, display_name="Alba Novak", job_title="Audit Manager",
                mobile_phone="+44 7700 900321",
            ),
        ),
        ("user-delta.3", shaped(User, display_name="Novak Alba", job_title="Audit Director")),
    ],
)  # fmt: skip
def test_users_delta_pages(name, user):
    changes = directory_changes(doc(name), User.from_graph)
    assert changes == ChangesPage((user,), (), DELTA_NEXT, None)


MIRA = shaped(
    User, id="e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b", display_name="Mira Castell", given_name="Mira",
    job_title="Designer", mail="MiraC@fabrikam.com", user_principal_name="MiraC@fabrikam.com",
)  # fmt: skip
B_GUEST = shaped(
    User, display_name="b", mail="b@fabrikam.com",
    user_principal_name="b_fabrikam.com#EXT#@partner.onmicrosoft.com",
)  # fmt: skip
LICENSED = [
    shaped(User, id="f0e1d2c3-b4a5-4968-8776-655443322110", mail="admin@fabrikam.com"),
    shaped(User, id="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", mail="LenaW@fabrikam.com"),
]


@pytest.mark.parametrize(
    ("name", "users"),
    [
        ("user-list.1", [GUEST]),
        ("user-list.2", [shaped(User, display_name="Kai Lindqvist")]),
        ("user-list.4", [B_GUEST]),
        ("user-list.5", [MIRA]),
        ("user-list.6", [LENA]),
        ("user-list.7", [LENA, GUEST]),
        ("user-list.8", LICENSED),  # assignedLicenses: not read
    ],
)
def test_user_lists(name, users):
    assert [User.from_graph(raw) for raw in doc(name)["value"]] == users


# -- groups -----------------------------------------------------------------------------------

GROUP_NEXT = "https://graph.microsoft.com/v1.0/groups/delta?$skiptoken=Yh6Tn2Qp8Wd4Kc1Rv7Jm0Xb5"


def test_group_delta_with_members():
    changes = directory_changes(doc("group-delta.1"), Group.from_graph)
    members = (
        Member("3b7e0d52-91c4-4a6f-8e23-5d1f0a9c7b84", "user"),
        Member("c5a19f3e-27d8-4b60-9f14-e82b6d0c3a57", "user"),
    )
    # fmt: off
    group = shaped(
        Group, display_name="HarbourPartners", description="Harbour partners", mail="mail-value",
        group_types=("groupTypes-value",), members_added=members,
        created_at="datetime-value",  # placeholders stay strings, unparsed
    )
    # fmt: on
    next_link = (
        "https://graph.microsoft.com/v1.0/groups/delta?$skiptoken=Zq3Lw8vN0rT5yHb2MxK9dPe4sUa7"
    )
    assert changes == ChangesPage((group,), (), next_link, None)


@pytest.mark.parametrize(
    ("name", "group"),
    [
        (
            "group-delta.2",
            shaped(Group, display_name="displayName-value", mail_nickname="mailNickname-value"),
        ),
        ("group-delta.3", shaped(Group, display_name="displayName-value")),
    ],
)
def test_group_delta_with_select_and_minimal(name, group):
    changes = directory_changes(doc(name), Group.from_graph)
    assert changes == ChangesPage((group,), (), GROUP_NEXT, None)


def test_group_members_are_directory_objects():
    # Members come without @odata.type when selected or abbreviated; a user reads as a User,
    # a group (a mail-enabled list here) as a Group.
    first = [User.from_graph(raw) for raw in doc("group-list-members.1")["value"]]
    selected = [User.from_graph(raw) for raw in doc("group-list-members.4")["value"]]
    groups = [Group.from_graph(raw) for raw in doc("group-list-members.5")["value"]]
    assert first == [
        shaped(User, id="aaaa1111-bbbb-4ccc-8ddd-eeeeffff0001", mail="member1@fabrikam.com")
    ]
    assert selected == [
        shaped(User, id="aaaa1111-bbbb-4ccc-8ddd-eeeeffff0001", display_name="Rin Sato"),
        shaped(User, id="aaaa1111-bbbb-4ccc-8ddd-eeeeffff0002", display_name="Omar Fadel"),
    ]
    assert groups == [
        shaped(Group, display_name="All Fabrikam Staff", mail="AllStaff@fabrikam.com")
    ]


# -- errors -----------------------------------------------------------------------------------


def test_error_envelope():
    assert ErrorInfo.from_graph(doc("errors.1")) == ErrorInfo(
        "invalidRange", "Uploaded fragment overlaps with existing data.", "request-id", None
    )


def test_throttling_429():
    assert ErrorInfo.from_graph(doc("throttling.429")) == ErrorInfo(
        "TooManyRequests",
        "Please retry again later.",
        "3f0c6a2e-8d41-4b7f-a5e9-1c2d3b4a5f60",
        "429",
    )
    assert retry_after_seconds("2.128") == 2.128  # the example's Retry-After header
