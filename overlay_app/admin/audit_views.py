"""The audit log viewer (admins): filters by who, what and when; CSV export."""

from __future__ import annotations

import csv
import io
import re

from flask import Response, jsonify, render_template, request

from overlay_app import db
from overlay_app.admin.gate import bp
from overlay_app.discussion import reads as discussion
from overlay_app.errors import BadInput
from overlay_app.security import audit_entries
from sync import directory

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PAGE_LIMIT, CSV_LIMIT = 200, 100_000
COLUMNS = ("id", "at", "actorId", "actor", "action", "target", "detail")


def _filters() -> dict[str, str]:
    args = {key: request.args.get(key, "").strip() for key in ("who", "what", "from", "to")}
    for key in ("from", "to"):
        if args[key] and not DATE.fullmatch(args[key]):
            raise BadInput("'%(key)s' must be a date like 2026-01-31.", key=key)
    return args


def _entries(filters: dict[str, str], limit: int) -> list[dict]:
    who = filters["who"]
    actor = None
    if who:
        found = directory.listed_by_upn(db.index(), who) if "@" in who else None
        actor = found.id if found else who
    rows = audit_entries(db.social(), actor, filters["what"], filters["from"], filters["to"],
                         limit)  # fmt: skip
    names = discussion.display_names(row[2] for row in rows if row[2])
    return [
        dict(zip(COLUMNS, (entry_id, at, actor_id, names.get(actor_id or "", actor_id or ""),
                           action, target, detail), strict=True))
        for entry_id, at, actor_id, action, target, detail in rows
    ]  # fmt: skip


@bp.get("/admin/audit")
def audit_page():
    filters = _filters()
    return render_template("admin/audit.html", entries=_entries(filters, PAGE_LIMIT),
                           filters=filters)  # fmt: skip


@bp.get("/admin/audit.csv")
def audit_csv():
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for entry in _entries(_filters(), CSV_LIMIT):
        # A cell starting with = + - @ is a formula to spreadsheets: quote it as text.
        writer.writerow({k: f"'{v}" if str(v or "")[:1] in "=+-@" and v else v
                         for k, v in entry.items()})  # fmt: skip
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="plaza-audit.csv"'
    return response


@bp.get("/api/v1/admin/audit")
def api_audit():
    return jsonify({"entries": _entries(_filters(), PAGE_LIMIT)})
