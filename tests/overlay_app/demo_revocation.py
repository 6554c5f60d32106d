"""The demo's promise (issue 18): revoking someone's access in the emulator removes the document
from their Plaza page within a minute, without anyone running a sync.

Against a running `plaza demo` (its own processes: emulator, web app, scheduler): a person signs
in over HTTP as a browser would (no browser), sees a file in a folder listing, the emulator
breaks the file's inheritance to leave one colleague only, and the same listing loses the file.
Listings read the index (no live Graph check), so only a sync can make it go; the scheduler's
log must show a notified round of that library after the revocation (the demo's documents job
runs every 2 minutes: a minute is the notification path's to keep).
"""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path
from typing import Any

import requests

from overlay_app.browse.listing import PER_PAGE
from sync.db import Location, connect, index_location
from sync.trimming import principal_set
from sync.visibility import can_view

CREDENTIALS_FORM = re.compile(r'<form method="post" action="([^"]+)" class="credentials">')
WITHIN = 60.0


def check_revocation_reaches_the_page(data_dir: Path, web_url: str, upn: str) -> float:
    """Seconds from the revocation to the person's listing no longer showing the file."""
    info = json.loads((data_dir / "emulator.json").read_text())
    web = signed_in(web_url, info, upn)
    index = index_location(data_dir / "index.db", demo_settings(data_dir).get("PLAZA_DATABASE_URL"))
    drive_id, folder_id, item_id, colleague = shared_file(index, upn)
    children = f"{web_url}/api/v1/drives/{drive_id}/items/{folder_id}/children"
    assert item_id in listed(web, children)
    rounds_before = notified_rounds(data_dir, drive_id)
    emulator = info["authority"].rsplit("/", 1)[0]
    grant = {"principal": {"kind": "user", "id": colleague}, "roles": ["write"]}
    with emulator_session(info) as control:
        answer = control.post(
            f"{emulator}/_emulator/items/{drive_id}/{item_id}/permissions/break",
            json={"grants": [grant]},
            timeout=30,
        )
    assert answer.status_code in (200, 201, 204), answer.text
    revoked = time.monotonic()
    while item_id in listed(web, children):
        assert time.monotonic() - revoked < WITHIN, "still listed a minute after the revocation"
        time.sleep(0.25)
    seconds = time.monotonic() - revoked
    assert notified_rounds(data_dir, drive_id) > rounds_before
    return seconds


def emulator_session(info: dict[str, Any]) -> requests.Session:
    session = requests.Session()
    session.verify, session.trust_env = info["ca_file"], False
    return session


def signed_in(web_url: str, info: dict[str, Any], upn: str) -> requests.Session:
    """A cookie session of `upn` in the demo's web app, through the emulator's sign-in page."""
    web = requests.Session()
    web.trust_env = False
    start = web.get(f"{web_url}/signin", allow_redirects=False, timeout=30)
    assert start.status_code == 302, start.text
    with emulator_session(info) as entra:
        page = entra.get(start.headers["Location"], timeout=30)
        action = html.unescape(CREDENTIALS_FORM.search(page.text).group(1))
        origin = info["authority"].rsplit("/", 1)[0]
        posted = entra.post(
            origin + action,
            data={"login": upn, "password": info["password"]},
            allow_redirects=False,
            timeout=30,
        )
    assert posted.status_code == 302, posted.text
    back = web.get(posted.headers["Location"], allow_redirects=False, timeout=30)
    assert back.status_code == 302, back.text
    return web


def listed(web: requests.Session, children_url: str) -> set[str]:
    answer = web.get(children_url, timeout=30)
    assert answer.status_code == 200, answer.text
    return {row["itemId"] for row in answer.json()["value"]}


def demo_settings(data_dir: Path) -> dict[str, str]:
    """The PLAZA_* settings the demo wrote for its processes (emulator.env)."""
    lines = (data_dir / "emulator.env").read_text().split()
    return {name: value.strip("'") for name, value in (line.split("=", 1) for line in lines)}


def shared_file(index: Location, upn: str) -> tuple[str, str, str, str]:
    """(drive, its folder, file, a colleague): a file that `upn` and another enabled member can
    both open, by the index, in a folder small enough to list on one page."""
    db = connect(index, readonly=True)
    try:
        person = db.execute("SELECT id FROM people WHERE lower(upn) = lower(?)", [upn]).fetchone()
        others = [row[0] for row in db.execute(
            "SELECT id FROM people WHERE enabled = 1 AND deleted = 0 AND guest = 0 AND id != ?"
            " ORDER BY id", [person[0]])]  # fmt: skip
        mine = principal_set(db, person[0])
        theirs = {other: principal_set(db, other) for other in others}
        rows = db.execute(
            "SELECT i.drive_id, i.parent_id, i.item_id FROM items i WHERE i.is_folder = 0"
            " AND i.deleted = 0 AND (SELECT count(*) FROM items s WHERE s.drive_id = i.drive_id"
            " AND s.parent_id = i.parent_id) <= ? ORDER BY i.drive_id, i.parent_id, i.name",
            [PER_PAGE],
        ).fetchall()
        for drive_id, folder_id, item_id in rows:
            if not can_view(db, mine, drive_id, item_id):
                continue
            for other, principals in theirs.items():
                if can_view(db, principals, drive_id, item_id):
                    return drive_id, folder_id, item_id, other
    finally:
        db.close()
    raise AssertionError(f"no file that {upn} shares with a colleague")


def notified_rounds(data_dir: Path, drive_id: str) -> int:
    """Rounds the scheduler ran for this library on a notification, by its log."""
    log = (data_dir / "scheduler.log").read_text()
    return log.count(f"library {drive_id}: notified round")
