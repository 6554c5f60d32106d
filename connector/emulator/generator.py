"""A deterministic professional-services firm: people, groups, sites, libraries and documents.

The directory and sites are built at start (their size grows with people, not documents).
Documents are never built up front: `base_item(ctx, index)` computes the item at a position of a
drive from the seed alone, so a million-item tenant starts as fast as a toy one. A drive's tree
is a complete BRANCHING-ary tree over positions: the parent of position i is (i - 1) // BRANCHING,
which keeps every parent before its children and makes paths cheap to walk.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from connector.emulator import names, people
from connector.emulator.ids import IdMaker
from connector.emulator.model import (
    EVERYONE,
    GROUP,
    OWNER,
    READ,
    USER,
    WRITE,
    App,
    Drive,
    Group,
    Principal,
    Site,
    SiteGroup,
    User,
)
from connector.emulator.people import EPOCH, iso

BRANCHING = 12
SIZES = {"small": (30, 400), "medium": (300, 20_000), "large": (3_000, 1_000_000)}
HOSTNAME = "localhost"

# Application permissions an admin consented for each generated app registration.
ALL_ROLES = {
    "User.Read.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "Directory.Read.All",
    "Sites.Read.All",
    "Sites.FullControl.All",
    "Files.Read.All",
}


@dataclass(frozen=True)
class TenantSpec:
    seed: int
    label: str
    people: int
    items: int
    ids: IdMaker = field(compare=False, repr=False)

    @classmethod
    def make(cls, seed: int, size: int | str) -> TenantSpec:
        if isinstance(size, str) and size in SIZES:
            people, items = SIZES[size]
            label = size
        else:
            items = int(size)
            if items < 1:
                raise ValueError("size must be small, medium, large or a positive item count")
            people, label = min(5_000, max(30, items // 300)), str(items)
        return cls(seed, label, people, items, IdMaker(seed))


@dataclass
class Practice:
    code: str
    title: str
    private: bool
    member_ids: list[str]
    owner_ids: list[str]
    group_id: str = ""
    leadership_group_id: str = ""


@dataclass
class Directory:
    tenant_id: str
    domain: str
    users: list[User]
    groups: list[Group]
    apps: list[App]
    password: str
    practices: list[Practice]
    group_ids: dict[str, str]  # well-known groups by short name


@dataclass(frozen=True)
class DriveContext:
    """What document generation needs to know about a drive's site."""

    drive: Drive
    site: Site
    authors: tuple[str, ...]
    guests: tuple[str, ...]
    restricted_group_id: str
    web_url: str


# -- directory ---------------------------------------------------------------------------------


def generate_directory(spec: TenantSpec) -> Directory:
    ids = spec.ids
    count = len(names.PRACTICES) if spec.people >= 300 else max(3, min(12, spec.people // 25))
    practices = [
        Practice(code, title, code in names.PRIVATE_PRACTICES, [], [])
        for code, title in names.PRACTICES[:count]
    ]
    users = people.generate_people(spec, practices)
    groups, group_ids = people.generate_groups(spec, practices, users)
    apps = [
        App(ids.guid("app", "plaza"), "Plaza", _secret(ids, "plaza"), set(ALL_ROLES)),
        App(
            ids.guid("app", "limited"),
            "Plaza (users only)",
            _secret(ids, "limited"),
            {"User.Read.All"},
        ),
    ]
    return Directory(
        tenant_id=ids.guid("tenant"),
        domain=names.DOMAIN,
        users=users,
        groups=groups,
        apps=apps,
        password=f"Plaza-demo-{spec.seed}!",
        practices=practices,
        group_ids=group_ids,
    )


def _secret(ids: IdMaker, name: str) -> str:
    return "pz~" + ids.guid("secret", name).replace("-", "")[:30]


# -- sites and drives --------------------------------------------------------------------------


def generate_sites(spec: TenantSpec, directory: Directory) -> list[tuple[Site, list[Drive]]]:
    """Every site with its libraries; the items of all libraries add up to spec.items."""
    layouts = _site_layouts(directory) + _engagement_layouts(spec, directory)
    weights = [w for _, libraries in layouts for _, w in libraries]
    budget = _split(spec.items, weights)
    result, number = [], 0
    for site, libraries in layouts:
        drives = []
        for title, _ in libraries:
            drives.append(_drive(spec, site, title, number, budget[number], system=False))
            number += 1
        result.append((site, drives))
    for site, drives in result:  # system libraries come after, so content numbering stays put
        drives.append(_drive(spec, site, "Preservation Hold Library", number, 1, system=True))
        number += 1
    return result


def _site_layouts(directory: Directory) -> list[tuple[Site, list[tuple[str, int]]]]:
    everyone = Principal(EVERYONE)
    editors = Principal(GROUP, directory.group_ids["editors"])
    managing = Principal(USER, directory.users[0].id)
    layouts = [
        (
            _site(
                directory,
                "",
                "/",
                names.FIRM,
                "The firm's home site",
                [managing],
                [editors],
                [everyone],
            ),
            [("Documents", 10)],
        ),
        (
            _site(
                directory,
                "intranet",
                "/sites/intranet",
                f"{names.FIRM} Intranet",
                "News, policies and templates for everyone",
                [managing],
                [editors],
                [everyone],
            ),
            [("Documents", 20), ("Policies", 10)],
        ),
    ]
    for practice in directory.practices:
        visitors = [] if practice.private else [everyone]
        site = _site(
            directory,
            practice.code.lower(),
            f"/sites/{practice.code.lower()}",
            practice.title,
            f"Team site of {practice.title}",
            [Principal(USER, i) for i in practice.owner_ids],
            [Principal(GROUP, practice.group_id)],
            visitors,
        )
        site.group_id = practice.group_id
        layouts.append((site, [("Documents", 40), ("Client Deliverables", 20)]))
    return layouts


# One engagement site per this many documents: a large tenant has hundreds of small sites.
ITEMS_PER_ENGAGEMENT = 2_000


def _engagement_layouts(spec: TenantSpec, directory: Directory) -> list:
    """Private project sites: a practice's leaders own them, a handful of its people work there."""
    layouts = []
    for n in range(spec.items // ITEMS_PER_ENGAGEMENT):
        practice = directory.practices[n % len(directory.practices)]
        client = names.CLIENTS[(n // len(directory.practices)) % len(names.CLIENTS)]
        dice = spec.ids.number("engagement", n)
        team = [
            practice.member_ids[(dice >> (8 * k)) % len(practice.member_ids)]
            for k in range(3 + dice % 4)
        ]
        slug = f"eng-{n:04d}-{client.lower().replace(' ', '-')}"
        site = _site(
            directory,
            slug,
            f"/sites/{slug}",
            f"{client} - {practice.title} {2021 + dice % 6}",
            f"Engagement workspace for {client}",
            [Principal(USER, i) for i in practice.owner_ids],
            [Principal(USER, i) for i in dict.fromkeys(team)],
            [Principal(GROUP, directory.group_ids["confidential"])],
        )
        layouts.append((site, [("Documents", 1), ("Deliverables", 1)]))
    return layouts


def _site(directory, name, path, title, description, owners, members, visitors) -> Site:
    collection = _guid_from(directory.tenant_id, "site", path)
    web = _guid_from(directory.tenant_id, "web", path)
    return Site(
        id=f"{HOSTNAME},{collection},{web}",
        collection_id=collection,
        web_id=web,
        name=name,
        path=path,
        display_name=title,
        description=description,
        created_at=iso(EPOCH),
        groups=[
            SiteGroup(3, f"{title} Owners", OWNER, list(owners)),
            SiteGroup(4, f"{title} Visitors", READ, list(visitors)),
            SiteGroup(5, f"{title} Members", WRITE, list(members)),
        ],
    )


def _guid_from(*parts: str) -> str:
    """Site GUIDs follow from the tenant id, so they are as stable as the seed."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _drive(spec, site, title, number, count, system) -> Drive:
    list_id = spec.ids.guid("list", site.path, title)
    url_name = "Shared Documents" if title == "Documents" else title.replace(" ", "")
    return Drive(
        id=IdMaker.drive_id(site.collection_id, site.web_id, list_id),
        site_id=site.id,
        number=number,
        name=title,
        list_id=list_id,
        list_title=title,
        url_name=url_name,
        base_count=max(1, count),
        system=system,
        created_at=site.created_at,
    )


def _split(total: int, weights: list[int]) -> list[int]:
    whole = sum(weights)
    shares = [max(1, total * w // whole) for w in weights]
    shares[0] += max(0, total - sum(shares))
    return shares


def drive_context(
    spec: TenantSpec, directory: Directory, site: Site, drive: Drive, web_url: str
) -> DriveContext:
    practice = next((p for p in directory.practices if p.group_id == site.group_id), None)
    enabled = {u.id for u in directory.users if u.account_enabled}
    if practice:
        authors = [i for i in practice.member_ids if i in enabled]
        group = next(g for g in directory.groups if g.id == practice.group_id)
        guests = [i for i in group.member_ids if i not in practice.member_ids]
        restricted = practice.leadership_group_id
    else:
        team = [p.id for g in site.groups for p in g.members if p.kind == USER]
        members = [u.id for u in directory.users if u.user_type == "Member"]
        authors = [i for i in (team or members) if i in enabled]
        guests, restricted = [], directory.group_ids["editors"]
    return DriveContext(
        drive, site, tuple(authors or [directory.users[0].id]), tuple(guests), restricted, web_url
    )
