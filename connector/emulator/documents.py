"""Generated documents: the state and permissions of the item at any position of a drive.

Pure functions of (seed, drive, position). Siblings take their names from one rotation of a
word list longer than BRANCHING, so no two siblings share a name.
"""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

from connector.emulator import names
from connector.emulator.generator import BRANCHING, EPOCH, DriveContext, TenantSpec, iso
from connector.emulator.model import (
    GROUP,
    READ,
    SITE_GROUP,
    USER,
    WRITE,
    Grant,
    Item,
    Link,
    Principal,
    Site,
    User,
)

LATEST = EPOCH + timedelta(days=2_850)  # autumn 2026
SUFFIXES = ("", "", "", " v2", " v3", " DRAFT", " (Final)", " 2025", " - signed", " v1")


def parent_of(index: int) -> int | None:
    return None if index == 0 else (index - 1) // BRANCHING


def first_child(index: int) -> int:
    return index * BRANCHING + 1


def is_generated_folder(index: int, count: int) -> bool:
    return index == 0 or first_child(index) < count


def depth_of(index: int) -> int:
    depth = 0
    while index:
        index = (index - 1) // BRANCHING
        depth += 1
    return depth


def base_item(spec: TenantSpec, ctx: DriveContext, index: int) -> Item:
    drive = ctx.drive
    dice = spec.ids.number("doc", drive.number, index)
    folder = is_generated_folder(index, drive.base_count)
    name = "root" if index == 0 else _name(spec, ctx, index, folder, dice)
    created = EPOCH + timedelta(seconds=dice % 200_000_000)
    modified = min(LATEST, created + timedelta(seconds=(dice >> 30) % 31_000_000))
    parent = parent_of(index)
    return Item(
        drive_id=drive.id,
        id=spec.ids.item_id(drive.number, index),
        index=index,
        name=name,
        parent_index=parent,
        parent_id=None if parent is None else spec.ids.item_id(drive.number, parent),
        folder=folder,
        size=0 if folder else _size(name, dice),
        created_at=iso(created),
        created_by=ctx.authors[(dice >> 12) % len(ctx.authors)],
        modified_at=iso(modified),
        modified_by=ctx.authors[(dice >> 20) % len(ctx.authors)],
        version=1 + (dice >> 50) % 9,
        content_version=1 + (dice >> 50) % 9,
        unique_permissions=index == 0 or base_sharing(spec, ctx, index) is not None,
    )


def _name(spec: TenantSpec, ctx: DriveContext, index: int, folder: bool, dice: int) -> str:
    parent = parent_of(index) or 0
    rotation = spec.ids.number("names", ctx.drive.number, parent)
    ordinal = (index - 1) % BRANCHING
    if folder:
        depth = depth_of(index)
        words = (
            names.TOP_FOLDERS
            if depth == 1
            else names.CLIENTS
            if depth == 2
            else names.PHASE_FOLDERS
            if depth == 3
            else names.DEEP_FOLDERS
        )
        return words[(rotation + ordinal) % len(words)]
    kind, extension, _ = names.DOCUMENTS[(rotation + ordinal) % len(names.DOCUMENTS)]
    topic = names.CLIENTS[rotation % len(names.CLIENTS)]
    return f"{topic} {kind}{SUFFIXES[(dice >> 4) % len(SUFFIXES)]}.{extension}"


def _size(name: str, dice: int) -> int:
    low, high = names.SIZES.get(name.rsplit(".", 1)[-1], (10_000, 1_000_000))
    fraction = ((dice >> 8) & 0xFFFF) / 0xFFFF
    return int(low * (high / low) ** fraction)


def base_sharing(
    spec: TenantSpec, ctx: DriveContext, index: int
) -> tuple[bool, list[Grant]] | None:
    """Generated unique permissions of a position: (copies its parent's grants?, own grants).

    None when the position inherits. Restricted folders keep only owners and leadership;
    some files gain a sharing link or a guest, on top of what they inherited.
    """
    if index == 0:
        return None
    dice = spec.ids.number("sharing", ctx.drive.number, index)
    folder = is_generated_folder(index, ctx.drive.base_count)
    if folder and (dice % 23 == 0 or index == 4):
        author = ctx.authors[(dice >> 8) % len(ctx.authors)]
        return False, [
            site_group_grant(ctx.site, 3),
            principal_grant(Principal(GROUP, ctx.restricted_group_id), (WRITE,)),
            principal_grant(Principal(USER, author), (WRITE,)),
        ]
    if folder:
        return None
    if dice % 97 == 0:
        scope = ("organization", "users", "anonymous")[(dice >> 8) % 3]
        grantees = (ctx.authors[(dice >> 16) % len(ctx.authors)],) if scope == "users" else ()
        if scope == "users" and ctx.guests:
            grantees += (ctx.guests[(dice >> 24) % len(ctx.guests)],)
        link_id = spec.ids.guid("link", ctx.drive.number, index)
        url = f"{ctx.web_url}/:w:/s/{ctx.site.name or 'root'}/{link_id[:12]}"
        return True, [Grant(link_id, (READ,), link=Link("view", scope, url, grantees))]
    if dice % 97 == 1 and ctx.guests:
        guest = ctx.guests[(dice >> 8) % len(ctx.guests)]
        return True, [principal_grant(Principal(USER, guest), (READ,))]
    return None


def site_group_grant(site: Site, number: int) -> Grant:
    group = next(g for g in site.groups if g.id == number)
    return Grant(f"sitegroup-{number}", (group.role,), Principal(SITE_GROUP, str(number)))


def site_grants(site: Site) -> list[Grant]:
    """What a library root inherits from its site: the Owners, Visitors and Members groups."""
    return [site_group_grant(site, g.id) for g in site.groups]


def principal_grant(principal: Principal, roles: tuple[str, ...]) -> Grant:
    return Grant(f"{principal.kind}-{principal.id}", roles, principal)


def photo_bytes(spec: TenantSpec, user: User) -> bytes:
    """A 48x48 PNG portrait placeholder: a head and shoulders on a colour of the person's own
    (the emulator ships no photographs; a plain square looked like a broken image)."""
    version = f":{user.photo_version}" if user.photo_version else ""
    dice = spec.ids.number("photo", user.id + version)
    ground = tuple(60 + ((dice >> s) & 0x7F) for s in (0, 8, 16))  # muted, never white
    figure = tuple(min(255, c + 110) for c in ground)
    shades = [_blend(ground, figure, step / 16) for step in range(17)]
    rows = b"".join(b"\x00" + b"".join(shades[c] for c in row) for row in _FIGURE)
    header = struct.pack(">IIBBBBB", 48, 48, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def _figure_cover(x: int, y: int) -> int:
    """How many of 4x4 samples of pixel (x, y) the head (a circle) and shoulders (an ellipse)
    cover, so the edges are smooth."""
    inside = 0
    for i in range(4):
        for j in range(4):
            px, py = x + (i + 0.5) / 4, y + (j + 0.5) / 4
            head = (px - 24) ** 2 + (py - 19) ** 2 <= 9.5**2
            shoulders = ((px - 24) / 17) ** 2 + ((py - 49) / 17) ** 2 <= 1
            inside += head or shoulders
    return inside


_FIGURE = [[_figure_cover(x, y) for x in range(48)] for y in range(48)]  # the same for everyone


def _blend(ground: tuple[int, ...], figure: tuple[int, ...], cover: float) -> bytes:
    return bytes(round(g + (f - g) * cover) for g, f in zip(ground, figure, strict=True))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return struct.pack(">I", len(body)) + kind + body + crc
