"""GraphSource: what Plaza reads from Microsoft Graph about sites, drives and their items.

Directory reads (users, groups, manager, photo) live in graph_directory.py and are mixed in,
so `GraphSource` is the one object sync code holds. Everything returned is a dataclass from
connector.models; cursors (nextLink, deltaLink) are opaque strings to persist and give back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote, urlsplit

from connector.auth import TokenProvider
from connector.errors import GraphError
from connector.graph_directory import DirectoryReads
from connector.http import BatchRequest, GraphHttp
from connector.models import ChangesPage, Drive, DriveItem, Permission, Site
from connector.settings import ConnectorSettings

SITES_READ = "Sites.Read.All"
# Properties a sync needs from drive delta. `deleted` must be selected or tombstones lose
# their facet; `sharepointIds` bridges to SharePoint REST comments (PROTOCOL.md 9.2).
ITEM_SELECT = (
    "id,name,deleted,file,folder,package,root,parentReference,eTag,cTag,size,webUrl,"
    "createdDateTime,lastModifiedDateTime,createdBy,lastModifiedBy,sharepointIds,shared"
)
# Sharing changes in delta: items whose permissions changed are returned, flagged with
# "@microsoft.graph.sharedChanged"; `shared` only on roots of the permission hierarchy.
DELTA_PREFER = (
    "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges, "
    "hierarchicalsharing"
)


class GraphSource(DirectoryReads):
    """Reads sites, drives, drive changes, permissions and the directory through GraphHttp."""

    def __init__(self, http: GraphHttp) -> None:
        self.http = http

    @classmethod
    def from_settings(cls, settings: ConnectorSettings) -> GraphSource:
        return cls(GraphHttp(settings, TokenProvider(settings)))

    # -- sites -----------------------------------------------------------------------------

    def sites(self) -> Iterator[Site]:
        """Every site the app can read (app-only: /sites/getAllSites, else /sites)."""
        yielded = 0
        try:
            for site in self._sites("/sites/getAllSites"):
                yielded += 1
                yield site
        except GraphError as exc:
            if yielded or exc.status not in (400, 404, 501):
                raise
            yield from self._sites("/sites")

    def search_sites(self, query: str) -> Iterator[Site]:
        yield from self._sites("/sites", params={"search": query})

    def site(self, site_id: str) -> Site:
        return Site.from_graph(self.http.get_json(f"/sites/{site_id}", needs=SITES_READ))

    def site_by_url(self, url: str) -> Site:
        """The site at an absolute URL, e.g. https://contoso.sharepoint.com/sites/tax."""
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        if not path:
            raw = self.http.get_json("/sites/root", needs=SITES_READ)
        else:
            raw = self.http.get_json(f"/sites/{parts.hostname}:{quote(path)}", needs=SITES_READ)
        return Site.from_graph(raw)

    def _sites(self, path: str, params: dict[str, str] | None = None) -> Iterator[Site]:
        for page in self.http.pages(path, params=params, needs=SITES_READ):
            for raw in page.get("value", ()):
                yield Site.from_graph(raw)

    # -- drives and items ------------------------------------------------------------------

    def drives(self, site_id: str) -> list[Drive]:
        """The document libraries of a site (system drives stay hidden, as Graph hides them)."""
        return [
            Drive.from_graph(raw)
            for page in self.http.pages(f"/sites/{site_id}/drives", needs=SITES_READ)
            for raw in page.get("value", ())
        ]

    def drive(self, drive_id: str) -> Drive:
        return Drive.from_graph(self.http.get_json(f"/drives/{drive_id}", needs=SITES_READ))

    def item(self, drive_id: str, item_id: str) -> DriveItem:
        raw = self.http.get_json(
            f"/drives/{drive_id}/items/{item_id}", params={"$select": ITEM_SELECT}, needs=SITES_READ
        )
        return DriveItem.from_graph(raw, drive_id)

    def children(self, drive_id: str, item_id: str = "root") -> Iterator[DriveItem]:
        path = f"/drives/{drive_id}/{'root' if item_id == 'root' else 'items/' + item_id}"
        for page in self.http.pages(
            path + "/children", params={"$select": ITEM_SELECT}, needs=SITES_READ
        ):
            for raw in page.get("value", ()):
                yield DriveItem.from_graph(raw, drive_id)

    def drive_changes(
        self, drive_id: str, delta_link: str | None = None, page_size: int | None = None
    ) -> Iterator[ChangesPage[DriveItem]]:
        """One ChangesPage per HTTP page of a delta round; the last one has the deltaLink.

        Without `delta_link` the round enumerates the whole drive. Raises DeltaExpired (410)
        when the link is too old, or is for another Graph endpoint: drop it and start again
        without one (or from `location`).
        Within a page the last occurrence of an item wins ("The same item may appear more
        than once in a delta feed ... use the last occurrence you see").
        """
        if delta_link:
            url, params = self.http.resume(delta_link), None
        else:
            url = f"/drives/{drive_id}/root/delta"
            params = {"$select": ITEM_SELECT}
            if page_size:
                params["$top"] = str(page_size)
        headers = {"Prefer": DELTA_PREFER}
        for page in self.http.pages(url, params=params, headers=headers, needs=SITES_READ):
            items = [DriveItem.from_graph(raw, drive_id) for raw in page.get("value", ())]
            yield ChangesPage.from_objects(items, page, removed=lambda item: item.deleted)

    def latest_delta_link(self, drive_id: str) -> str:
        """A deltaLink for "from now on", without enumerating the drive (`token=latest`)."""
        params = {"$select": ITEM_SELECT, "token": "latest"}
        page = self.http.get_json(
            f"/drives/{drive_id}/root/delta",
            params=params,
            headers={"Prefer": DELTA_PREFER},
            needs=SITES_READ,
        )
        return page["@odata.deltaLink"]

    # -- permissions -----------------------------------------------------------------------

    def permissions(self, drive_id: str, item_id: str) -> list[Permission]:
        path = f"/drives/{drive_id}/items/{item_id}/permissions"
        return [
            Permission.from_graph(raw)
            for page in self.http.pages(path, needs=SITES_READ)
            for raw in page.get("value", ())
        ]

    def permissions_of_items(
        self, drive_id: str, item_ids: Iterable[str]
    ) -> dict[str, list[Permission]]:
        """Permissions of many items through $batch (20 per call); NotFound items are left out."""
        ids = list(dict.fromkeys(item_ids))
        requests_ = [
            BatchRequest(str(n), f"/drives/{drive_id}/items/{item_id}/permissions")
            for n, item_id in enumerate(ids)
        ]
        answers = self.http.batch(requests_)
        found: dict[str, list[Permission]] = {}
        for request, item_id in zip(requests_, ids, strict=True):
            answer = answers[request.id]
            if answer.status == 404:
                continue
            answer.raise_for_error(needs=SITES_READ)
            body = answer.body or {}
            entries = list(body.get("value", ()))
            if body.get("@odata.nextLink"):  # rare: more permissions than one page
                for page in self.http.pages(body["@odata.nextLink"], needs=SITES_READ):
                    entries.extend(page.get("value", ()))
            found[item_id] = [Permission.from_graph(raw) for raw in entries]
        return found
