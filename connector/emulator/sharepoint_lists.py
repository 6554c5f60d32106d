"""SharePoint's view of a site's content: lists (libraries and Site Pages) and their items.

A document library is a Graph drive seen from SharePoint: list id = drive.list_id, list item id
= the item's position, UniqueId = Graph's sharepointIds.listItemUniqueId. The "Site Pages"
library is SharePoint's alone (spstore.py generates its pages). `SPContext` is one request:
the site, the caller, and the rules for what that caller may see.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from connector.emulator import sharepoint_wire as wire
from connector.emulator.model import Drive, Item, Site
from connector.emulator.spstore import SITE_PAGES, Page, SocialStore
from connector.emulator.tenant import Tenant
from connector.emulator.tokens import Caller

DOCUMENT_LIBRARY, PAGE_LIBRARY = 101, 119  # SharePoint's BaseTemplate numbers
FOLDER_CONTENT_TYPE = "0x0120"
DOCUMENT_CONTENT_TYPE = "0x0101"
PAGE_CONTENT_TYPE = "0x0101009D1CB255DA76424F860D91F20E6C4118"


@dataclass(frozen=True)
class ListRef:
    id: str  # list GUID, lower case
    title: str
    url_name: str  # the list's URL segment: "Shared Documents", "SitePages"
    template: int
    created_at: str
    drive: Drive | None = None  # None for Site Pages


@dataclass(frozen=True)
class ItemRef:
    list: ListRef
    number: int  # list item id
    item: Item | None = None  # a document or folder in a library
    page: Page | None = None  # a page in Site Pages


@dataclass
class SPContext:
    tenant: Tenant
    site: Site
    store: SocialStore
    caller: Caller
    web_url: str  # absolute URL of the site on this host

    @property
    def api_url(self) -> str:
        return self.web_url + "/_api"

    @property
    def server_relative(self) -> str:
        return "" if self.site.path == "/" else self.site.path

    def principal_number(self, key: str) -> int:
        """A person's or group's id on this site (site_users.py: the same id Graph shows)."""
        return self.tenant.site_users(self.site).number(key)

    def can_open_site(self) -> bool:
        if self.caller.user_id is None:
            return True
        return self.tenant.can_open_site(self.caller.user_id, self.site)

    def can_see_list(self, ref: ListRef) -> bool:
        """A site member sees every list; someone shared into a library sees that library."""
        if self.can_open_site():
            return True
        drive = ref.drive
        user_id = self.caller.user_id or ""
        return drive is not None and self.tenant.can_open(
            user_id, drive.id, self.tenant.root(drive.id).id
        )

    def can_see_item(self, ref: ItemRef) -> bool:
        if self.caller.user_id is None:
            return True
        if ref.item is None or ref.list.drive is None:
            return self.can_open_site()
        return self.tenant.can_open(self.caller.user_id, ref.list.drive.id, ref.item.id)

    def find_item(self, ref: ListRef, number: int) -> ItemRef:
        """The list item, else "Item does not exist" (also for what the caller cannot open)."""
        found: ItemRef | None = None
        if ref.drive is not None and number >= 1:
            item = self.tenant.item_at(ref.drive.id, number)
            if item is not None and not item.deleted:
                found = ItemRef(ref, number, item=item)
        elif ref.drive is None:
            page = self.store.page(self.site, number)
            found = ItemRef(ref, number, page=page) if page else None
        if found is None or not self.can_see_item(found):
            raise wire.item_missing()
        return found

    def iter_items(self, ref: ListRef, start: int) -> Iterator[ItemRef]:
        """Every item of the list from list item id `start` on, visible or not."""
        if ref.drive is None:
            yield from (
                ItemRef(ref, p.index, page=p)
                for p in self.store.pages(self.site)
                if p.index >= start
            )
            return
        for item in self.tenant.iter_items(ref.drive.id, max(start, 1)):
            yield ItemRef(ref, item.index, item=item)

    def list_uri(self, ref: ListRef) -> str:
        return f"{self.api_url}/Web/Lists(guid'{ref.id}')"

    def item_uri(self, ref: ItemRef) -> str:
        return f"{self.list_uri(ref.list)}/Items({ref.number})"


def lists_of(ctx: SPContext) -> list[ListRef]:
    """The site's document libraries (system ones hidden, as in SharePoint) and Site Pages."""
    libraries = [
        ListRef(d.list_id.lower(), d.list_title, d.url_name, DOCUMENT_LIBRARY, d.created_at, d)
        for d in ctx.tenant.drives_of(ctx.site.id)
    ]
    pages_id = ctx.store.pages_list_id(ctx.site)
    return [
        *libraries,
        ListRef(pages_id, SITE_PAGES, "SitePages", PAGE_LIBRARY, ctx.site.created_at),
    ]


def item_type(ref: ListRef) -> str:
    """The list's item entity type, e.g. SP.Data.Shared_x0020_DocumentsItem."""
    return f"SP.Data.{wire.escape_name(ref.url_name)}Item"


def list_entity(ctx: SPContext, ref: ListRef) -> wire.Entity:
    uri = ctx.list_uri(ref)
    if ref.drive is None:
        count = len(ctx.store.pages(ctx.site))
    else:
        count = max(0, ctx.tenant.end_position(ref.drive.id) - 1)
    return wire.Entity(
        "SP.List",
        uri,
        {
            "BaseTemplate": ref.template,
            "BaseType": 1,
            "Created": ref.created_at,
            "Description": "",
            "EntityTypeName": wire.escape_name(ref.url_name),
            "Hidden": False,
            "Id": ref.id,
            "ItemCount": count,
            "ListItemEntityTypeFullName": item_type(ref),
            "ParentWebUrl": ctx.site.path,
            "Title": ref.title,
            "Items": wire.Deferred(f"{uri}/Items"),
            "RootFolder": wire.Deferred(f"{uri}/RootFolder"),
        },
    )


def item_entity(ctx: SPContext, ref: ItemRef) -> wire.Entity:
    """A list item with the fields a sync reads: name, path, ids, dates, people, comments."""
    social = ctx.store.peek(ref.list.id, ref.number)
    common = {
        "FileSystemObjectType": 0,
        "Id": ref.number,
        "ID": ref.number,
        "CommentsDisabled": bool(social and social.comments_disabled),
        "OData__CommentCount": len(social.comments) if social else 0,
    }
    if ref.page is not None:
        fields = _page_fields(ctx, ref, ref.page)
    else:
        assert ref.item is not None and ref.list.drive is not None
        fields = _document_fields(ctx, ref.list.drive, ref.item)
    return wire.Entity(item_type(ref.list), ctx.item_uri(ref), {**common, **fields})


def _document_fields(ctx: SPContext, drive: Drive, item: Item) -> dict:
    ids = ctx.tenant.ids
    file_ref = f"{ctx.server_relative}/{drive.url_name}{ctx.tenant.path_of(item)}"
    return {
        "FileSystemObjectType": 1 if item.folder else 0,
        "ContentTypeId": FOLDER_CONTENT_TYPE if item.folder else DOCUMENT_CONTENT_TYPE,
        "Title": None,  # documents have an empty Title unless someone sets one
        "Created": item.created_at,
        "Modified": item.modified_at,
        "AuthorId": ctx.principal_number(item.created_by),
        "EditorId": ctx.principal_number(item.modified_by),
        "GUID": ids.guid("list-item-guid", drive.number, item.index),
        "UniqueId": ids.item_guid(drive.number, item.index).lower(),
        "FileLeafRef": item.name,
        "FileRef": file_ref,
        "FileDirRef": file_ref.rsplit("/", 1)[0],
        "FSObjType": 1 if item.folder else 0,
        "OData__UIVersionString": f"{item.version}.0",
    }


def _page_fields(ctx: SPContext, ref: ItemRef, page: Page) -> dict:
    ids = ctx.tenant.ids
    file_ref = f"{ctx.server_relative}/SitePages/{page.name}"
    author = ctx.principal_number(page.author)
    return {
        "ContentTypeId": PAGE_CONTENT_TYPE,
        "Title": page.title,
        "Created": page.created_at,
        "Modified": page.created_at,
        "AuthorId": author,
        "EditorId": author,
        "GUID": ids.guid("page-item-guid", ctx.site.path, page.index),
        "UniqueId": ids.guid("page-unique-id", ctx.site.path, page.index),
        "FileLeafRef": page.name,
        "FileRef": file_ref,
        "FileDirRef": file_ref.rsplit("/", 1)[0],
        "FSObjType": 0,
        "OData__UIVersionString": "1.0",
    }
