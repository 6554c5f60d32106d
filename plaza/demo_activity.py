"""A firm at work, for the demo: a few conversations written through Plaza's own JSON API by
the demo people themselves (each with their own token), so the home page, notifications, tags,
profiles and chat have something to show on first sign-in.

Every write goes through the same checks as a person's: nobody comments on, likes or tags a
document they cannot open. Written once per data directory (a marker file says so).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import requests

from connector.session import new_session

MARKER = "demo-activity.done"
DOCUMENTS = 6
TAGS = ("due-diligence", "q3-close", "client-query", "fee-schedule", "tax-2026", "sign-off")
OPENERS = (
    "Could someone check the figures on page 3? The totals do not match the appendix.",
    "This is the latest draft from the client. Comments before Friday, please.",
    "Is this still the version we sent to the partner for review?",
    "The engagement terms changed last week; this needs the new fee schedule.",
    "Sharing for the team meeting: the **summary** is on the first page.",
    "Who owns the follow-up on the open questions at the end?",
)
REPLIES = (
    "{mention} I checked: the appendix is from last quarter. I will update it today.",
    "{mention} agreed, I will take the open questions.",
    "Looks right to me now. {mention} can you sign off?",
)
FOLLOW_UPS = (
    "Thanks both — marking this as ready for review.",
    "I added the source numbers in a comment on the table.",
)
CHANNEL = "audit-practice"
CHANNEL_MESSAGES = (
    "Morning all: the Q3 close checklist is on the intranet.",
    "Reminder: partner review of the Greystone letter is on Thursday.",
    "Thanks — I will bring the updated fee schedule.",
)


def write_demo_activity(handle, web_url: str, data_dir: Path, say: Callable[[str], None]) -> None:
    """Writes the demo's conversations once; says how many it wrote."""
    marker = data_dir / MARKER
    if marker.exists():
        return
    talk = _Talk(handle, web_url)
    _wait_until_up(talk.session, web_url)
    tenant = handle.tenant
    people = sorted(
        (u for u in tenant.users.values()
         if not u.deleted and u.account_enabled and u.user_type == "Member"),
        key=lambda u: u.user_principal_name,
    )  # fmt: skip
    dice = random.Random(7)
    written = 0
    for n, (key, openers) in enumerate(_shared_documents(tenant, people, dice)):
        written += _conversation(talk, key, openers, n, dice)
    written += _channel(talk, people[:4])
    marker.write_text(f"{written}\n")
    say(f"  {written} demo comments, likes, tags and messages written")


def _shared_documents(tenant, people, dice: random.Random) -> list[tuple[tuple[str, str], list]]:
    """Files that three or more demo people can open, with those people, a few of them."""
    keys = sorted({key for person in people[:8] for key in tenant.visible_items(person.id)})
    dice.shuffle(keys)
    chosen = []
    for key in keys:
        item = tenant.item(*key)
        if item is None or item.folder:
            continue
        openers = [p for p in people if tenant.can_open(p.id, *key)]
        if len(openers) >= 3:
            dice.shuffle(openers)
            chosen.append((key, openers[:4]))
        if len(chosen) == DOCUMENTS:
            break
    return chosen


def _conversation(talk: _Talk, key: tuple[str, str], openers: list, n: int, dice) -> int:
    first, second, third = openers[:3]
    comments = f"/api/v1/documents/{key[0]}/{key[1]}/comments"
    opened = talk.post(first, comments, {"body": OPENERS[n % len(OPENERS)]})
    reply = REPLIES[n % len(REPLIES)].format(mention=_mention(first))
    talk.post(second, comments, {"body": reply, "parent_id": opened["id"]})
    talk.post(third, comments, {"body": FOLLOW_UPS[n % len(FOLLOW_UPS)]})
    talk.put(third, f"/api/v1/comments/{opened['id']}/like")
    for person in openers[1:]:
        talk.put(person, f"/api/v1/documents/{key[0]}/{key[1]}/like")
    tags = dice.sample(TAGS, 2)
    for tag in tags:
        talk.post(first, f"/api/v1/documents/{key[0]}/{key[1]}/tags", {"tag": tag})
    return 4 + len(openers) - 1 + len(tags)


def _channel(talk: _Talk, people: list) -> int:
    room = talk.post(people[0], "/api/v1/rooms", {"kind": "channel", "name": CHANNEL})
    for person in people[1:]:
        talk.post(person, f"/api/v1/rooms/{room['id']}/members", {"person_id": person.id})
    for person, text in zip(people, CHANNEL_MESSAGES, strict=False):
        talk.post(person, f"/api/v1/rooms/{room['id']}/messages", {"body": text})
    return 1 + len(CHANNEL_MESSAGES)


def _mention(person) -> str:
    return f"@[{person.display_name}]({person.id})"


class _Talk:
    """Calls to Plaza's API as one demo person or another, each with their own token."""

    def __init__(self, handle, web_url: str) -> None:
        self.handle, self.web_url = handle, web_url
        self.tokens: dict[str, str] = {}
        self.session = new_session(timeout=30)
        self.session.trust_env = False  # our own web app on loopback: no proxy

    def _headers(self, person) -> dict[str, str]:
        upn = person.user_principal_name
        if upn not in self.tokens:
            self.tokens[upn] = self.handle.token("api", user=upn)
        return {"Authorization": f"Bearer {self.tokens[upn]}"}

    def post(self, person, path: str, body: dict) -> dict:
        answer = self.session.post(self.web_url + path, json=body, headers=self._headers(person))
        answer.raise_for_status()
        return answer.json() if answer.content else {}

    def put(self, person, path: str) -> None:
        answer = self.session.put(self.web_url + path, headers=self._headers(person))
        answer.raise_for_status()


def _wait_until_up(session: requests.Session, web_url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if session.get(web_url + "/api/v1/openapi.json", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the web app did not answer at {web_url} within {seconds:.0f} s")
        time.sleep(0.3)
