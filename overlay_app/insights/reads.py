"""Insights for one viewer: the KPIs of a scope, the scopes they may pick, the network analysis.

Everything starts from the viewer's principal set (access.principals_of), so every figure is
computed over what they may open (activity.py trims first). Group thresholds and ethical walls
come from the settings (`insights_min_group`, never below 5; `insights_ethical_walls`).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

from flask import current_app

from overlay_app import access, db
from overlay_app.errors import N_
from overlay_app.identity import Person
from overlay_app.insights import kpis, network, totals
from overlay_app.insights import store as insights_store
from overlay_app.insights.activity import (
    Activity,
    Raw,
    discussed_visible,
    raw_activity,
    stamp,
    trimmed,
    viewer_activity,
)
from overlay_app.insights.kpis import Scope
from sync import directory


def settings():
    return current_app.extensions["plaza.settings"]


def min_group() -> int:
    return max(5, settings().insights_min_group)


def walled_people() -> set[str]:
    """Members of the ethical-walls groups (transitively, as the last people sync saw them)."""
    return directory.members_of_groups(db.index(), settings().ethical_wall_groups)


def now_or(as_of: datetime | None) -> datetime:
    return as_of or datetime.now(UTC)


# -- KPIs ------------------------------------------------------------------------------------


def activity_for(viewer: Person, days: int, as_of: datetime | None = None) -> Activity:
    """The viewer's trimmed activity of the period asked and the one before it."""
    now = now_or(as_of)
    since = kpis.periods(now, days)[1].start
    return viewer_activity(viewer, access.principals_of(viewer.id), now, since)


def kpis_of(viewer: Person, scope: Scope, days: int, as_of: datetime | None = None) -> dict:
    """The KPIs of `scope` as the viewer may see them, with the scope's name: from the nightly
    totals once there are any (totals.py), else from the activity itself."""
    found = totals.window(viewer, days, now_or(as_of))
    if found is None:
        return kpis_direct(viewer, scope, days, as_of)
    if scope.kind in ("site", "library"):
        totals.with_documents(found)  # to name it
    return kpis_from(found, scope, days)


def kpis_direct(viewer: Person, scope: Scope, days: int, as_of: datetime | None = None) -> dict:
    """The same answer computed from the activity itself (before the first nightly run)."""
    return kpis_in(activity_for(viewer, days, as_of), scope, days)


def kpis_page(
    viewer: Person, scope: Scope, days: int, as_of: datetime | None = None
) -> tuple[dict, dict[str, list[dict]]]:
    """The KPIs and the scopes the viewer may pick, read once for both."""
    found = totals.window(viewer, days, now_or(as_of))
    if found is None:
        activity = activity_for(viewer, days, as_of)
        return kpis_in(activity, scope, days), scopes_in(activity)
    activity = totals.with_documents(found)
    return kpis_from(found, scope, days), scopes_in(activity)


def kpis_from(found: totals.Window, scope: Scope, days: int) -> dict:
    unit_size = _unit_size(found.recent, scope)
    answer = totals.kpis_in(found, scope, days, min_group(), unit_size)
    return {"label": scope_label(found.recent, scope)} | answer


def kpis_in(activity: Activity, scope: Scope, days: int) -> dict:
    answer = kpis.kpis(activity, scope, days, min_group(), _unit_size(activity, scope))
    return {"label": scope_label(activity, scope)} | answer


def _unit_size(activity: Activity, scope: Scope) -> int | None:
    if scope.kind not in kpis.UNIT_KINDS:
        return None
    index = kpis.UNIT_KINDS.index(scope.kind)
    return sum(1 for unit in activity.units.values() if unit[index] == scope.value)


def scope_label(activity: Activity, scope: Scope) -> str:
    """A name for the scope from what the viewer may see (the id itself when nothing names it)."""
    if scope.kind == "all":
        return N_("Everything you can open")
    if scope.kind == "channel":
        room = activity.channels.get(scope.value)
        return f"#{room.name}" if room else scope.value
    for document in activity.documents.values():
        if scope.kind == "site" and document.site_id == scope.value:
            return document.site_title or scope.value
        if scope.kind == "library" and document.drive_id == scope.value:
            return f"{document.site_title} / {document.drive_name}"
    return scope.value


def scopes_of(viewer: Person, as_of: datetime | None = None) -> dict[str, list[dict]]:
    """What the viewer may pick (scopes_in over the longest periods)."""
    return scopes_in(activity_for(viewer, max(kpis.PERIODS), as_of))


def scopes_in(activity: Activity) -> dict[str, list[dict]]:
    """What the viewer may pick: their channels, the sites, libraries and tags of documents
    they may open that have activity, and the units holding at least the threshold."""
    sites, libraries = {}, {}
    for document in activity.documents.values():
        sites[document.site_id] = document.site_title or document.site_id
        libraries[document.drive_id] = f"{document.site_title} / {document.drive_name}"
    tags = sorted({tag for found in activity.tags.values() for tag in found})
    found = {
        "channel": [(room.id, f"#{room.name}") for room in activity.channels.values()],
        "site": sorted(sites.items(), key=lambda pair: (pair[1] or "", pair[0] or "")),
        "library": sorted(libraries.items(), key=lambda pair: (pair[1], pair[0])),
        "tag": [(tag, tag) for tag in tags],
    }
    for index, kind in enumerate(kpis.UNIT_KINDS):
        sizes = Counter(unit[index] for unit in activity.units.values() if unit[index])
        found[kind] = [(unit, unit) for unit in sorted(sizes) if sizes[unit] >= min_group()]
    return {
        kind: [{"scope": f"{kind}:{value}", "label": label} for value, label in entries if value]
        for kind, entries in found.items()
    }


# -- the network -----------------------------------------------------------------------------


def network_of(viewer: Person, unit_kind: str, days: int) -> dict:
    """The network analysis over the documents the viewer may open: the cached answer for
    exactly that set of documents when the nightly job (or an earlier request) computed it,
    else computed now and cached."""
    principals, now = access.principals_of(viewer.id), datetime.now(UTC)
    visible = discussed_visible(principals, now, days)
    key, params = insights_store.visibility_hash(visible), network_params(unit_kind, days)
    found = insights_store.cached(db.social(), key, "network", params)
    if found is not None:
        return found[1] | {"computedAt": found[0]}
    return compute_networks(raw_activity(now, days), principals, visible, days)[unit_kind]


def network_params(unit_kind: str, days: int) -> str:
    walls = ",".join(sorted(settings().ethical_wall_groups))
    return f"{unit_kind}/{days}/min{min_group()}/walls:{walls}"


def compute_networks(raw: Raw, principals: frozenset[str], visible: set, days: int) -> dict:
    """Computes the analysis by every unit kind over the `visible` documents
    (discussed_visible, or the same set from the nightly job), stores each in the cache, and
    answers them by unit kind. One trim and one graph serve both kinds."""
    started = time.perf_counter()
    activity = trimmed(raw, principals, visible)
    answers = analyse_all(activity, days, min_group(), walled_people())
    seconds = time.perf_counter() - started
    key, at = insights_store.visibility_hash(visible), stamp(raw.now)
    with db.transaction() as conn:
        for unit_kind, answer in answers.items():
            params = network_params(unit_kind, days)
            insights_store.store(conn, key, "network", params, at, seconds, answer)
    return {unit_kind: answer | {"computedAt": at} for unit_kind, answer in answers.items()}


def analyse(activity: Activity, unit_kind: str, days: int, least: int, walled: set[str]) -> dict:
    return analyse_all(activity, days, least, walled)[unit_kind]


def analyse_all(activity: Activity, days: int, least: int, walled: set[str]) -> dict[str, dict]:
    """By unit kind: unit-level silo figures for everyone allowed insights; person-level
    parts (`personLevel`) only ever leave views.py for admins who chose to see them."""
    graph = network.person_graph(activity, days, walled)
    if graph.number_of_nodes() < least:
        return {
            kind: {"unitKind": kind, "days": days, "withheld": kpis.TOO_FEW}
            for kind in network.UNIT_FIELDS
        }
    brokers = network.brokers(graph)
    chokes = network.choke_points(activity, days, walled)
    answers = {}
    for kind in network.UNIT_FIELDS:
        units = {p: u for p, u in network.unit_of(activity, kind).items() if p not in walled}
        sizes = network.unit_sizes(activity, kind, walled)
        answers[kind] = {
            "unitKind": kind,
            "days": days,
            "withheld": None,
            "people": graph.number_of_nodes(),
            "ties": graph.number_of_edges(),
            "silos": network.silos(graph, units, sizes, least),
            "threadsWaitingOnOnePerson": sum(entry["threads"] for entry in chokes),
            "personLevel": {
                "brokers": brokers,
                "keyPersonRisk": network.key_person_risk(graph, units, sizes, least),
                "chokePoints": chokes,
            },
        }
    return answers
