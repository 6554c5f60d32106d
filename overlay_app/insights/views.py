"""Insights pages, CSV and /api/v1/insights: thin routes over reads.py and expertise.py.

Who may see what: every member of the firm (not guests) sees the KPIs, the unit-level network
figures and the experts, each computed over what they may open; the person-level network
views (brokers, key-person risk, choke points) only administrators, who must ask for them
(`people=1` / `includePeople=true`), and each time they do it is written to the audit log.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext

from overlay_app import db, security
from overlay_app.errors import N_, BadInput, Forbidden
from overlay_app.identity import Person, require_person
from overlay_app.insights import charts, expertise, figures, kpis, reads
from overlay_app.insights.openapi import API_PATHS as API_PATHS
from overlay_app.insights.openapi import API_SCHEMAS as API_SCHEMAS
from overlay_app.insights.openapi import MAX_WORDS, UNIT_KINDS
from overlay_app.tags.reads import TAG_STORED
from sync import directory

bp = Blueprint("insights", __name__)

PEOPLE_VIEWED = "insights.people_viewed"


def require_member() -> Person:
    person = require_person()
    if person.guest:
        raise Forbidden("Insights are for members of the firm.")
    return person


def may_see_insights(person: Person | None) -> bool:
    """Whether the page header offers Insights to this person."""
    return person is not None and not person.guest


def init_app(app) -> None:
    app.add_template_global(may_see_insights, "may_see_insights")


# -- arguments -------------------------------------------------------------------------------


def days_arg() -> int:
    text = request.args.get("days", "28")
    if text not in {str(days) for days in kpis.PERIODS}:
        raise BadInput("days must be 7, 28 or 90.")
    return int(text)


def scope_arg() -> kpis.Scope:
    scope = kpis.parse_scope(request.args.get("scope", "all"))
    if scope is None or len(scope.value) > 200:
        raise BadInput(
            "scope must be all, or channel:, site:, library:, tag:, department: or office:"
            " followed by an id or a name."
        )
    return scope


def unit_arg() -> str:
    unit = request.args.get("unit", "department")
    if unit not in UNIT_KINDS:
        raise BadInput("unit must be department or office.")
    return unit


def as_of_arg() -> datetime | None:
    """`asOf` (ISO 8601 date or time, UTC when no offset): the end of the period, for reports."""
    text = request.args.get("asOf")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput("asOf must be an ISO 8601 date or time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def topic_args() -> tuple[str | None, str | None]:
    tag = request.args.get("tag", "").strip() or None
    words = request.args.get("q", "").strip() or None
    if tag is not None and not _is_tag(tag):
        raise BadInput("tag must be 1 to 40 lower-case letters, digits or hyphens.")
    if words is not None and len(words) > MAX_WORDS:
        raise BadInput("q is at most %(most)s characters.", most=MAX_WORDS)
    return tag, words


def _is_tag(text: str) -> bool:
    return re.fullmatch(TAG_STORED, text) is not None


def wants_people(person: Person, flag: str) -> bool:
    """An admin's choice to see person-level network views, audited; refused to others."""
    if request.args.get(flag, "").lower() not in ("1", "true"):
        return False
    if not person.is_admin:
        raise Forbidden("Person-level network views are for administrators.")
    return True


# -- pages -----------------------------------------------------------------------------------


@bp.get("/insights")
def overview_page():
    viewer = require_member()
    days, scope = days_arg(), scope_arg()
    answer, scopes = reads.kpis_page(viewer, scope, days, as_of_arg())
    return render_template(
        "insights/kpis.html",
        answer=answer,
        scopes=scopes,
        days=days,
        periods=kpis.PERIODS,
        daily_chart=_daily_chart(answer),
        trend_rows=_page_rows(answer),
    )


@bp.get("/insights/kpis.csv")
def kpis_csv():
    viewer = require_member()
    answer = reads.kpis_of(viewer, scope_arg(), days_arg(), as_of_arg())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scope", "days", "figure", "this period", "previous period", "change"])
    for name, now, before, change in _trend_rows(answer):
        writer.writerow([answer["scope"], answer["days"], name, now, before, change])
    filename = f"insights-{answer['days']}d.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/insights/network")
def network_page():
    viewer = require_member()
    unit, days = unit_arg(), days_arg()
    people = wants_people(viewer, "people")
    answer = _network_answer(viewer, unit, days, people)
    silos = answer.get("silos") or {"units": []}
    chart = charts.bars(
        gettext(
            "E-I index per %(unit)s (-1: talks only inside, +1: only outside)",
            unit=gettext(unit),
        ),
        [row["unit"] for row in silos["units"]],
        [row["ei"] for row in silos["units"]],
    )
    return render_template(
        "insights/network.html", answer=answer, unit=unit, days=days, chart=chart,
        periods=kpis.PERIODS, is_admin=viewer.is_admin, people=people,
    )  # fmt: skip


@bp.get("/insights/experts")
def experts_page():
    viewer = require_member()
    tag, words = topic_args()
    found = []
    if tag or words:
        security.check_read_rate(viewer, "search")
        found = expertise.experts(viewer, tag, words)
    return render_template("insights/experts.html", experts=found, tag=tag or "", words=words or "")


# -- API -------------------------------------------------------------------------------------


@bp.get("/api/v1/insights/scopes")
def api_scopes():
    return jsonify(reads.scopes_of(require_member()))


@bp.get("/api/v1/insights/kpis")
def api_kpis():
    viewer = require_member()
    return jsonify(reads.kpis_of(viewer, scope_arg(), days_arg(), as_of_arg()))


@bp.get("/api/v1/insights/network")
def api_network():
    viewer = require_member()
    unit, days = unit_arg(), days_arg()
    return jsonify(_network_answer(viewer, unit, days, wants_people(viewer, "includePeople")))


@bp.get("/api/v1/insights/experts")
def api_experts():
    viewer = require_member()
    tag, words = topic_args()
    if not (tag or words):
        raise BadInput("Name a tag or some words (tag or q).")
    security.check_read_rate(viewer, "search")
    return jsonify({"tag": tag, "q": words, "value": expertise.experts(viewer, tag, words)})


@bp.get("/api/v1/insights/evidence/<person_id>")
def api_evidence(person_id: str):
    viewer = require_member()
    return jsonify({"id": person_id, "value": expertise.profile_evidence(viewer, person_id)})


# -- helpers ---------------------------------------------------------------------------------


def _network_answer(viewer: Person, unit: str, days: int, people: bool) -> dict:
    answer = dict(reads.network_of(viewer, unit, days))
    person_level = answer.pop("personLevel", None)
    if people:  # the choice is audited, whether or not there is anything to show
        security.audit(viewer.id, PEOPLE_VIEWED, f"insights:network/{unit}/{days}")
        if person_level is not None:
            answer["personLevel"] = _named(person_level)
    return answer


def _named(person_level: dict) -> dict:
    """The person-level lists with display names beside the ids."""
    ids = {e["person"] for e in person_level["brokers"] + person_level["chokePoints"]}
    ids |= {p for risk in person_level["keyPersonRisk"] for p in risk["people"]}
    names = directory.display_names(db.index(), ids)
    return {
        "brokers": [e | {"name": names.get(e["person"], "")} for e in person_level["brokers"]],
        "chokePoints": [
            e | {"name": names.get(e["person"], "")} for e in person_level["chokePoints"]
        ],
        "keyPersonRisk": [
            {
                "unit": r["unit"],
                "people": [{"person": p, "name": names.get(p, "")} for p in r["people"]],
            }
            for r in person_level["keyPersonRisk"]
        ],
    }


FIGURE_NAMES = {  # English in the CSV; the page translates them
    "posting": N_("People posting"),
    "onlyReading": N_("People only reading"),
    "contributions": N_("Contributions"),
    "perActivePerson": N_("Contributions per active person"),
    "threads": N_("Threads"),
    "replies": N_("Replies"),
    "answeredShare": N_("Share of threads answered"),
    "medianHoursToFirstReply": N_("Median time to first reply"),
}


def _trend_rows(answer: dict) -> list[tuple[str, object, object, object]]:
    """(figure, this period, previous, change), "too few people" where withheld."""
    current, previous, trend = answer["current"], answer["previous"], answer["trend"]
    rows = []
    for name, words in FIGURE_NAMES.items():
        rows.append(
            (
                words,
                kpis.TOO_FEW if current is None else _shown(current[name]),
                kpis.TOO_FEW if previous is None else _shown(previous[name]),
                "" if trend is None else _shown(trend[name]),
            )
        )
    return rows


def _page_rows(answer: dict) -> list[tuple[str, object, object, object]]:
    """The trend rows with each figure as people read it (percent, duration, locale digits)."""
    return [
        (words, figures.shown(name, now), figures.shown(name, before), figures.change(name, diff))
        for name, (words, now, before, diff) in zip(FIGURE_NAMES, _trend_rows(answer), strict=True)
    ]


def _shown(value: object) -> object:
    return "-" if value is None else value


def _daily_chart(answer: dict):
    if not answer["daily"]:
        return None
    return charts.columns(
        gettext("Contributions per day"), answer["daily"], answer["from"][:10], answer["until"][:10]
    )
