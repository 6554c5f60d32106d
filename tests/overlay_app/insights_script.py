"""The scripted discussion that insights' tests share (test_insights*.py).

On a document A that the outsider (the viewer) and at least six other members can open, p1
starts a thread, p2 answers it, p3 starts a thread mentioning p6, p4 likes p1's comment, p5
likes the document, and p6 marks the mention read (reading only). B is the cast's document,
which the outsider cannot open.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from tests.overlay_app.api_calls import mention, posted
from tests.overlay_app.app_rows import who
from tests.overlay_app.conftest import PlazaEnv

AS_OF_SHIFT_DAYS = 1  # asOf: one day ahead, so that the period holds everything written now


def openers(env: PlazaEnv, key: tuple[str, str]) -> list[str]:
    """UPNs of the enabled members who can open the item, sorted."""
    tenant = env.tenant
    members = [
        u for u in tenant.users.values()
        if not u.deleted and u.account_enabled and u.user_type == "Member"
    ]  # fmt: skip
    return sorted(u.user_principal_name for u in members if tenant.can_open(u.id, *key))


def find_stage(plaza_env: PlazaEnv) -> dict[str, Any]:
    """Document A (the outsider and six others can open it, the document B of the cast not
    the outsider) and p1..p6, none of them the cast."""
    people = plaza_env.people
    cast = set(people.values())
    hidden = plaza_env.document
    tenant = plaza_env.tenant
    for site in sorted(tenant.sites.values(), key=lambda s: s.name):
        for drive in tenant.drives_of(site.id):
            for item in tenant.iter_items(drive.id):
                if item.folder or item.deleted or (drive.id, item.id) == hidden:
                    continue
                can = openers(plaza_env, (drive.id, item.id))
                others = [upn for upn in can if upn not in cast]
                if people["outsider"] in can and len(others) >= 6:
                    return {"a": (drive.id, item.id), "p": others[:6], "b": hidden}
    raise AssertionError("no document for the script")


def as_of() -> str:
    moment = datetime.now(UTC) + timedelta(days=AS_OF_SHIFT_DAYS)
    return moment.date().isoformat()


def run_script(app: Flask, api, stage: dict[str, Any]) -> dict[str, Any]:
    a, p = stage["a"], stage["p"]
    t1 = posted(api(p[0]), a, "Which clause applies here?")
    r1 = posted(api(p[1]), a, "Clause 4, see the appendix.", parent_id=t1["id"])
    t2 = posted(api(p[2]), a, f"{mention(who(app, p[5]))} could you review this?")
    assert api(p[3]).put(f"/api/v1/comments/{t1['id']}/like").status_code in (200, 204)
    assert api(p[4]).put(f"/api/v1/documents/{a[0]}/{a[1]}/like").status_code in (200, 204)
    read = api(p[5]).post("/api/v1/notifications/read", json={"all": True})
    assert read.status_code == 200, read.get_json()
    return {"t1": t1, "r1": r1, "t2": t2}
