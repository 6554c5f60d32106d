"""One drive's live state: generated items, the control API's overrides, and its change journal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache, partial

from connector.emulator import documents
from connector.emulator.generator import DriveContext, TenantSpec
from connector.emulator.model import Change, Grant, Item

GENERATED_KEPT = 50_000  # generated items kept per drive (about 1 KB each)


@dataclass
class ItemOverride:
    """What changed about one item since start; None fields mean "as generated"."""

    name: str | None = None
    parent_index: int | None = None
    folder: bool | None = None
    size: int | None = None
    created_at: str | None = None
    created_by: str | None = None
    modified_at: str | None = None
    modified_by: str | None = None
    version_bump: int = 0
    content_bump: int = 0
    deleted: bool = False
    grants: list[Grant] | None = None  # set = unique permissions, exactly these
    inherits: bool = False  # inheritance restored: generated unique permissions dropped


class DriveState:
    def __init__(self, spec: TenantSpec, ctx: DriveContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.drive = ctx.drive
        self.overrides: dict[int, ItemOverride] = {}
        self.extra_children: dict[int, set[int]] = {}  # moved in or created, by parent position
        self.next_index = ctx.drive.base_count
        # A generated item costs a dozen keyed hashes and never changes: the positions a sync
        # and its checks keep reading are kept (bounded: the large tenant has 1M of them).
        self._generated = lru_cache(maxsize=GENERATED_KEPT)(partial(documents.base_item, spec, ctx))
        self.journal: list[Change] = []

    # -- reading -------------------------------------------------------------------------------

    def index_of(self, item_id: str) -> int | None:
        if item_id == "root":
            return 0
        parsed = self.spec.ids.parse_item_id(item_id)
        if parsed is None or parsed[0] != self.drive.number or parsed[1] >= self.next_index:
            return None
        return parsed[1]

    def item_at(self, index: int) -> Item | None:
        if index < 0 or index >= self.next_index:
            return None
        override = self.overrides.get(index)
        if index >= self.drive.base_count:
            return self._created_item(index, override) if override else None
        item = self._generated(index)
        if override is None:
            return item
        return self._apply(item, override)

    def _apply(self, item: Item, o: ItemOverride) -> Item:
        parent = o.parent_index if o.parent_index is not None else item.parent_index
        return replace(
            item,
            name=o.name or item.name,
            parent_index=parent,
            parent_id=None if parent is None else self.item_id(parent),
            size=item.size if o.size is None else o.size,
            modified_at=o.modified_at or item.modified_at,
            modified_by=o.modified_by or item.modified_by,
            version=item.version + o.version_bump,
            content_version=item.content_version + o.content_bump,
            deleted=o.deleted,
            unique_permissions=self.own_sharing(item.index) is not None,
        )

    def _created_item(self, index: int, o: ItemOverride) -> Item:
        assert o.parent_index is not None and o.name and o.created_at and o.created_by
        return Item(
            drive_id=self.drive.id,
            id=self.item_id(index),
            index=index,
            name=o.name,
            parent_index=o.parent_index,
            parent_id=self.item_id(o.parent_index),
            folder=bool(o.folder),
            size=o.size or 0,
            created_at=o.created_at,
            created_by=o.created_by,
            modified_at=o.modified_at or o.created_at,
            modified_by=o.modified_by or o.created_by,
            version=1 + o.version_bump,
            content_version=1 + o.content_bump,
            unique_permissions=o.grants is not None,
            deleted=o.deleted,
        )

    def item_id(self, index: int) -> str:
        return self.spec.ids.item_id(self.drive.number, index)

    def name_at(self, index: int) -> str:
        """An existing position's name, without building its Item when it was renamed or
        created (checking a new name against a large folder's children stays cheap)."""
        override = self.overrides.get(index)
        if override and override.name:
            return override.name
        item = self.item_at(index)
        assert item is not None
        return item.name

    def parent_index(self, index: int) -> int | None:
        override = self.overrides.get(index)
        if override and override.parent_index is not None:
            return override.parent_index
        return documents.parent_of(index) if index < self.drive.base_count else None

    def children_indexes(self, index: int) -> list[int]:
        """Live children of a position: generated ones still there, then moved-in and new ones."""
        found: list[int] = []
        if index < self.drive.base_count and documents.is_generated_folder(
            index, self.drive.base_count
        ):
            start = documents.first_child(index)
            stop = min(start + documents.BRANCHING, self.drive.base_count)
            found.extend(range(start, stop))
        found.extend(sorted(self.extra_children.get(index, ())))
        return [
            child
            for child in dict.fromkeys(found)
            if self.parent_index(child) == index and not self._deleted(child)
        ]

    def _deleted(self, index: int) -> bool:
        override = self.overrides.get(index)
        return bool(override and override.deleted)

    def iter_items(self, start: int = 0) -> Iterator[Item]:
        for index in range(max(0, start), self.next_index):
            if self._deleted(index):
                continue
            item = self.item_at(index)
            if item is not None:
                yield item

    def own_sharing(self, index: int) -> tuple[bool, list[Grant]] | None:
        """(copies parent's grants?, own grants) for an item with unique permissions, else None."""
        override = self.overrides.get(index)
        if override and override.grants is not None:
            return False, override.grants
        if index == 0:
            return False, documents.site_grants(self.ctx.site)
        if (override and override.inherits) or index >= self.drive.base_count:
            return None
        return documents.base_sharing(self.spec, self.ctx, index)

    def path_names(self, index: int) -> list[str]:
        parts: list[str] = []
        current: int | None = index
        while current:  # stops at the root (0) and at None
            item = self.item_at(current)
            if item is None:
                break
            parts.append(item.name)
            current = self.parent_index(current)
        return parts[::-1]

    def descendants(self, index: int) -> list[int]:
        found, todo = [], [index]
        while todo:
            for child in self.children_indexes(todo.pop()):
                found.append(child)
                todo.append(child)
        return found

    def changes_since(self, seq: int) -> list[Change]:
        """The latest journal entry per item after `seq`, oldest first; a sharing change sticks."""
        latest: dict[int, Change] = {}
        sharing: set[int] = set()
        for change in self.journal:
            if change.seq > seq:
                latest.pop(change.item_index, None)
                latest[change.item_index] = change
                if change.sharing_changed:
                    sharing.add(change.item_index)
        return [replace(c, sharing_changed=c.item_index in sharing) for c in latest.values()]

    # -- writing (the tenant holds the lock and hands out seq) ------------------------------

    def override(self, index: int) -> ItemOverride:
        return self.overrides.setdefault(index, ItemOverride())

    def record(self, seq: int, index: int, sharing_changed: bool = False) -> None:
        self.journal.append(Change(seq, index, sharing_changed))

    def attach(self, index: int, parent: int) -> None:
        old = self.parent_index(index)
        if old is not None:
            self.extra_children.get(old, set()).discard(index)
        self.override(index).parent_index = parent
        self.extra_children.setdefault(parent, set()).add(index)
