"""The tenant as sync reads it: one GraphHttp shared by Graph and SharePoint REST readers.

`Connector` bundles what a run needs (GraphSource for sites, drives, delta, permissions and the
directory; SiteGroupReader for SharePoint site groups; batched profile extras). Build one per
process and share it between runs and worker threads: its MSAL token cache and throttle pause
are then shared too, which is what Microsoft asks of one app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connector.auth import TokenProvider
from connector.graph import GraphSource
from connector.http import GraphHttp, HttpStats
from connector.profile_extras import ProfileExtras, photos, profile_extras
from connector.settings import ConnectorSettings
from connector.sharepoint_groups import SiteGroupReader


@dataclass
class Connector:
    graph: GraphSource
    site_groups: SiteGroupReader

    @classmethod
    def from_settings(cls, settings: ConnectorSettings) -> Connector:
        http = GraphHttp(settings, TokenProvider(settings))
        return cls(GraphSource(http), SiteGroupReader(http))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Connector:
        """From PLAZA_* settings; raises connector.errors.SettingsError listing every problem."""
        return cls.from_settings(ConnectorSettings.from_env(environ))

    @property
    def http(self) -> GraphHttp:
        return self.graph.http

    def stats(self) -> HttpStats:
        return self.graph.http.stats()

    def profile_extras(self, user_ids: Iterable[str]) -> dict[str, ProfileExtras]:
        return profile_extras(self.graph.http, user_ids)

    def photos(self, user_ids: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
        return photos(self.graph.http, user_ids)
