"""Which sites and libraries a documents job covers, and their rows in `sites`, `drives` and
`site_group_members` (the SQL on those tables lives here).

A DocumentTarget chooses sites (all of them, by URL, or by a search) and optionally libraries;
each site's document libraries become the drives to sync. Site group members are read from
SharePoint REST each run and replace what the index held, so a person removed from "Tax
Members" loses what that group grants at the next run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from connector.errors import NotFound
from connector.models import Drive, Site
from sync.errors import SiteNotFound
from sync.principals import ResolveUpn, principal_of_claim
from sync.source import Connector
from sync.targets import DocumentTarget


@dataclass(frozen=True)
class SiteDrives:
    """A site and the libraries of it that the job keeps."""

    site: Site
    drives: tuple[Drive, ...]

    @property
    def site_id(self) -> str:
        return self.site.id or ""


def sites_of_target(connector: Connector, target: DocumentTarget) -> list[SiteDrives]:
    """The target's sites (each once) with their kept libraries; SiteNotFound for a bad URL."""
    chosen: dict[str, Site] = {}
    for site in _chosen_sites(connector, target):
        if site.id and site.id not in chosen:
            chosen[site.id] = site
    found = []
    for site_id, site in chosen.items():
        drives = tuple(
            drive
            for drive in connector.graph.drives(site_id)
            if drive.id and not drive.system and target.keeps_library(drive.id, drive.name)
        )
        found.append(SiteDrives(site, drives))
    return found


def _chosen_sites(connector: Connector, target: DocumentTarget) -> Iterator[Site]:
    if target.all_sites:
        yield from connector.graph.sites()
    for url in target.site_urls:
        try:
            yield connector.graph.site_by_url(url)
        except NotFound as exc:
            raise SiteNotFound(url, exc.request_id) from exc
    if target.site_search:
        yield from connector.graph.search_sites(target.site_search)


def save_sites(conn: sqlite3.Connection, found: list[SiteDrives], now: str) -> None:
    """Upserts the sites and drives; a kept site's libraries no longer listed become removed."""
    for entry in found:
        site = entry.site
        conn.execute(
            "INSERT INTO sites (id, hostname, name, title, description, web_url, created_at, "
            "modified_at, synced_at, removed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0) "
            "ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, name = excluded.name, "
            "title = excluded.title, description = excluded.description, "
            "web_url = excluded.web_url, created_at = excluded.created_at, "
            "modified_at = excluded.modified_at, synced_at = excluded.synced_at, removed = 0",
            (site.id, site.hostname, site.name, site.display_name or site.name,
             site.description, site.web_url, site.created_at, site.modified_at, now),
        )  # fmt: skip
        for drive in entry.drives:
            conn.execute(
                "INSERT INTO drives (id, site_id, name, web_url, drive_type, synced_at, removed) "
                "VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO UPDATE SET "
                "site_id = excluded.site_id, name = excluded.name, web_url = excluded.web_url, "
                "drive_type = excluded.drive_type, synced_at = excluded.synced_at, removed = 0",
                (drive.id, site.id, drive.name, drive.web_url, drive.drive_type, now),
            )
        kept = [d.id for d in entry.drives]
        conn.execute(
            "UPDATE drives SET removed = 1 WHERE site_id = ? AND id NOT IN "
            f"({', '.join('?' * len(kept))})",
            (site.id, *kept),
        )


def read_site_groups(
    connector: Connector, site_url: str, resolve_upn: ResolveUpn
) -> list[tuple[int, str]]:
    """(group number, member principal key) for every site group of the site.

    Members that map to no known principal are left out (fail closed).
    """
    rows: set[tuple[int, str]] = set()
    for group in connector.site_groups.site_groups(site_url):
        for member in connector.site_groups.members(site_url, group.id):
            principal = principal_of_claim(member.login_name, resolve_upn)
            if principal:
                rows.add((group.id, principal))
    return sorted(rows)


def save_site_groups(conn: sqlite3.Connection, site_id: str, rows: list[tuple[int, str]]) -> int:
    """Replaces the site's group members; returns how many rows changed (added or removed),
    0 the first time (nothing changed for anyone: the site was not known)."""
    before = set(
        conn.execute(
            "SELECT group_number, principal FROM site_group_members WHERE site_id = ?", (site_id,)
        )
    )
    conn.execute("DELETE FROM site_group_members WHERE site_id = ?", (site_id,))
    conn.executemany(
        "INSERT INTO site_group_members (site_id, group_number, principal) VALUES (?, ?, ?)",
        [(site_id, number, principal) for number, principal in rows],
    )
    return len(before ^ set(rows)) if before else 0
