"""What one delta page means for the index, decided without any I/O.

`plan_page` takes the page's DriveItems and what the index already knows about them (and their
parents) and returns a PagePlan: rows to upsert (each with its path and ACL holder when its
parent's are known), items to tombstone, whose permissions to read or drop, and the folders
whose subtree must be re-derived (new, renamed, moved, or changed uniqueness; derive.py).
apply.py carries the plan out inside one transaction.

Glossary: an item is *unique* when it is a root of the permission hierarchy: the library root,
or an item with a `shared` facet (with `Prefer: hierarchicalsharing`, Graph puts the facet on
exactly those, empty when the item is unique but shared with nobody beyond the site's groups).
Other items inherit: their ACL is their nearest unique ancestor's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connector.models import DriveItem
from sync.targets import DocumentTarget

INHERITED, UNKNOWN, OK, FAILED = "inherited", "unknown", "ok", "failed"  # perms_state values


@dataclass(frozen=True)
class DriveContext:
    """The drive a page belongs to, with the site facts copied onto each item row."""

    drive_id: str
    site_id: str
    site_title: str | None


@dataclass(frozen=True)
class KnownItem:
    """What the index holds about an item before the page is applied."""

    item_id: str
    parent_id: str | None
    name: str | None
    etag: str | None
    web_url: str | None
    path: str | None
    acl_item_id: str | None
    is_folder: bool
    has_unique_perms: bool
    perms_state: str
    deleted: bool
    ctag: str | None = None
    modified_at: str | None = None
    modified_by: str | None = None


@dataclass(frozen=True)
class ItemRow:
    """The columns of `items` that come straight from Graph (field order = SQL order)."""

    drive_id: str
    item_id: str
    parent_id: str | None
    name: str | None
    web_url: str | None
    is_folder: int
    is_root: int
    file_type: str | None
    mime_type: str | None
    size: int | None
    created_by: str | None
    created_by_name: str | None
    created_at: str | None
    modified_by: str | None
    modified_by_name: str | None
    modified_at: str | None
    etag: str | None
    ctag: str | None
    site_id: str
    site_title: str | None
    list_id: str | None
    list_item_id: int | None
    list_item_unique_id: str | None
    has_unique_perms: int
    seen_round: str | None
    path: str | None = None  # derived: set by plan_page when the parent's is known
    acl_item_id: str | None = None


@dataclass
class PagePlan:
    upserts: list[ItemRow] = field(default_factory=list)
    tombstones: list[str] = field(default_factory=list)  # live items to delete (+ subtrees)
    read_permissions: list[str] = field(default_factory=list)
    drop_permissions: list[str] = field(default_factory=list)  # no longer unique
    rederive: list[str] = field(default_factory=list)  # folders to recompute with subtrees
    old_web_urls: dict[str, str | None] = field(default_factory=dict)  # of every upsert
    added: int = 0
    updated: int = 0
    moved: int = 0


def ids_to_know(items: Iterable[DriveItem], deleted_ids: Iterable[str]) -> set[str]:
    """Which rows plan_page needs from the index: the page's items, their parents, the deleted."""
    wanted = set(deleted_ids)
    for item in items:
        wanted.add(item.id or "")
        if item.parent_id:
            wanted.add(item.parent_id)
    wanted.discard("")
    return wanted


def plan_page(
    drive: DriveContext,
    items: Iterable[DriveItem],
    deleted_ids: Iterable[str],
    known: Mapping[str, KnownItem],
    target: DocumentTarget,
    round_id: str | None = None,
) -> PagePlan:
    """Decide everything about a page. `round_id` set = a full enumeration (mark and sweep),
    in which every unique item's permissions are read again."""
    plan = PagePlan()
    derived: dict[str, tuple[str | None, str | None]] = {}  # this page's (path, acl holder)
    for item in items:
        if not item.id:
            continue
        before = known.get(item.id)
        unique = item.is_root or item.shared
        path, acl = _derive(item, unique, known, derived)
        derived[item.id] = (path, acl)
        if not _kept(item, path, target):
            if before is not None and not before.deleted:
                plan.tombstones.append(item.id)
            continue
        row = item_row(drive, item, round_id, path, acl)
        plan.upserts.append(row)
        _count(plan, before, row)
        _decide_permissions(plan, item, before, unique, round_id)
        plan.old_web_urls[item.id] = before.web_url if before and not before.deleted else None
        if item.is_folder and _needs_rederive(before, row):
            plan.rederive.append(item.id)
    for item_id in deleted_ids:
        before = known.get(item_id)
        if before is not None and not before.deleted:
            plan.tombstones.append(item_id)
    return plan


@dataclass(frozen=True)
class Lineage:
    """An ancestor of a deleted item as the index holds it before the page is applied."""

    parent_id: str | None
    acl_item_id: str | None
    deleted: bool


def holders_above_deletions(plan: PagePlan, lineage: Mapping[str, Lineage]) -> list[str]:
    """ACL holders to read again with this page: those of the nearest ancestors that survive
    its deletions. An archived item admits only whom that ancestor's current ACL admits too
    (sync/visibility), so the page that archives it must not leave that ACL stale: a
    revocation the feed shows later, or not at all, would count for nothing until then.
    `lineage` holds every ancestor of plan.tombstones (load_lineage)."""
    page = {row.item_id: row for row in plan.upserts}
    doomed = set(plan.tombstones)
    skip = doomed | set(plan.read_permissions) | set(plan.drop_permissions)
    holders: list[str] = []
    for item_id in plan.tombstones:
        survivor = _nearest_survivor(item_id, page, lineage, doomed)
        if survivor is None:
            continue
        row = page.get(survivor)
        holder = row.acl_item_id if row is not None else lineage[survivor].acl_item_id
        known = lineage.get(holder or "")
        if holder and holder not in skip and (row is not None or (known and not known.deleted)):
            skip.add(holder)
            holders.append(holder)
    return holders


def _nearest_survivor(
    item_id: str, page: Mapping[str, ItemRow], lineage: Mapping[str, Lineage], doomed: set[str]
) -> str | None:
    """The first ancestor still live once the page is applied: not deleted, not tombstoned by
    the page, and not below (through live folders) an item the page tombstones."""
    survivor = None
    seen = {item_id}
    current = lineage[item_id].parent_id if item_id in lineage else None
    while current is not None and current not in seen:
        seen.add(current)
        row = page.get(current)
        node = Lineage(row.parent_id, row.acl_item_id, False) if row else lineage.get(current)
        if node is None:  # not indexed: nothing above it is known
            break
        if current in doomed:
            survivor = None  # it goes, and its live subtree with it
        elif node.deleted:
            if survivor is not None:
                break  # a tombstone above: it takes nothing live below it along
        elif survivor is None:
            survivor = current
        current = node.parent_id
    return survivor


def item_row(
    drive: DriveContext,
    item: DriveItem,
    round_id: str | None,
    path: str | None = None,
    acl_item_id: str | None = None,
) -> ItemRow:
    assert item.id is not None
    created, modified = item.created_by, item.modified_by
    return ItemRow(
        drive_id=drive.drive_id,
        item_id=item.id,
        parent_id=None if item.is_root else item.parent_id,
        name=item.name,
        web_url=item.web_url,
        is_folder=int(item.is_folder),
        is_root=int(item.is_root),
        file_type=file_type(item),
        mime_type=item.mime_type,
        size=item.size,
        created_by=created.id if created else None,
        created_by_name=created.display_name if created else None,
        created_at=item.created_at,
        modified_by=modified.id if modified else None,
        modified_by_name=modified.display_name if modified else None,
        modified_at=item.modified_at,
        etag=item.etag,
        ctag=item.ctag,
        site_id=drive.site_id,
        site_title=drive.site_title,
        list_id=item.list_id,
        list_item_id=item.list_item_id,
        list_item_unique_id=item.list_item_unique_id,
        has_unique_perms=int(item.is_root or item.shared),
        seen_round=round_id,
        path=path,
        acl_item_id=acl_item_id,
    )


def file_type(item: DriveItem) -> str | None:
    """The extension of a file's name, lower case, without the dot ("docx")."""
    if item.is_folder or not item.name or "." not in item.name:
        return None
    return item.name.rsplit(".", 1)[-1].lower() or None


def _derive(
    item: DriveItem,
    unique: bool,
    known: Mapping[str, KnownItem],
    derived: Mapping[str, tuple[str | None, str | None]],
) -> tuple[str | None, str | None]:
    """(path below the library root, ACL holder) from the parent as this page or the index
    has it; (None, None) while the parent is not known (derive.py fills it in later)."""
    if item.is_root:
        return "", item.id
    parent = item.parent_id or ""
    if parent in derived:
        parent_path, parent_acl = derived[parent]
    else:
        parent_item = known.get(parent)
        if parent_item is None or parent_item.deleted:
            return None, None
        parent_path, parent_acl = parent_item.path, parent_item.acl_item_id
    if parent_path is None:
        return None, None
    return f"{parent_path}/{item.name}", item.id if unique else parent_acl


def _kept(item: DriveItem, path: str | None, target: DocumentTarget) -> bool:
    """Folders are always kept; a file whose path is not known yet is kept for now."""
    if item.is_folder or item.is_root or path is None:
        return True
    return target.keeps_file(path, file_type(item))


def _count(plan: PagePlan, before: KnownItem | None, row: ItemRow) -> None:
    if before is None or before.deleted:
        plan.added += 1
    elif before.parent_id != row.parent_id:
        plan.moved += 1
    elif before.name != row.name or (before.etag != row.etag and not _system_update(before, row)):
        plan.updated += 1


def _system_update(before: KnownItem, row: ItemRow) -> bool:
    """A new eTag with the same content, Modified and Modified By: only list columns changed
    through a system update (Plaza's own write-back is one), not an edit by a person."""
    same_content = before.ctag is None or row.ctag is None or before.ctag == row.ctag
    return (
        row.modified_at is not None
        and (before.modified_at, before.modified_by) == (row.modified_at, row.modified_by)
        and same_content  # delta omits cTag on OneDrive for Business: then Modified decides
    )


def _decide_permissions(
    plan: PagePlan, item: DriveItem, before: KnownItem | None, unique: bool, round_id: str | None
) -> None:
    assert item.id is not None
    if not unique:
        if before is not None and before.has_unique_perms:
            plan.drop_permissions.append(item.id)
        return
    stale = (
        round_id is not None
        or before is None
        or before.deleted
        or not before.has_unique_perms
        or before.perms_state != OK
        or item.sharing_changed
    )
    if stale:
        plan.read_permissions.append(item.id)


def _needs_rederive(before: KnownItem | None, row: ItemRow) -> bool:
    return (
        before is None
        or before.deleted
        or before.path is None
        or before.name != row.name
        or before.parent_id != row.parent_id
        or before.has_unique_perms != bool(row.has_unique_perms)
    )
