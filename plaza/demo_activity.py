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
DOCUMENTS = 10
# Two of the generated firm's practices (every size has them: connector/emulator/names.py) whose
# people never discuss a document together, so Insights has a silo to show: the pair of
# practices that never talk to each other (each holds at least five people).
APART = ("Deals & Transactions", "Tax")
TAGS = ("due-diligence", "q3-close", "client-query", "fee-schedule", "tax-2026", "sign-off")
# Conversations: (speaker, text, replied-to step or None). Speakers are the document's chosen
# readers; {0} ... {3} mention them. Reader 0 is, where possible, someone the welcome text
# names, so whoever signs in first finds mentions and replies waiting.
SCRIPTS = (
    (
        (1, "Could someone check page 3? The totals do not match the appendix.", None),
        (2, "{1} I checked: the appendix is from last quarter. I will update it today.", 0),
        (1, "Thanks. {0} can you sign off once it is in?", 1),
        (0, "Will do this afternoon.", 2),
    ),
    (
        (2, "This is the latest draft from the client. Comments before **Friday**, please.", None),
        (1, "The fee schedule on the last page is still the old one.", 0),
        (3, "Agreed with {1}; the rest reads well.", 1),
        (2, "{0} you negotiated the new rates: could you add them?", None),
    ),
    (
        (0, "Is this still the version we sent to the partner for review?", None),
        (1, "{0} yes, nothing has changed since Tuesday.", 0),
    ),
    (
        (3, "The engagement terms changed last week; this needs the new fee schedule.", None),
        (2, "I have the new schedule. I will upload it to the same folder.", 0),
        (1, "Please keep the old one too, the client asked for both.", 1),
        (3, "{0} for your information: the client copy goes out Monday.", None),
        (0, "Noted, thanks.", 3),
    ),
    (
        (1, "Sharing for the team meeting: the **summary** is on the first page.", None),
        (0, "Very clear. One question on section 2: where do the margins come from?", 0),
        (1, "{0} from the management accounts, tab 4.", 1),
    ),
    (
        (2, "Who owns the follow-up on the open questions at the end?", None),
        (3, "I can take questions 1 to 3. {0} could you take the tax ones?", 0),
        (0, "Yes, I will have them by Thursday.", 1),
        (2, "Great, thanks both.", 2),
    ),
)
CHANNEL = "audit-practice"
CHANNEL_MESSAGES = (
    "Morning all: the Q3 close checklist is on the intranet.",
    "Reminder: partner review of the Greystone letter is on Thursday.",
    "Thanks — I will bring the updated fee schedule.",
    "Has anyone seen the draft letter for Greystone? It is not in the usual folder.",
    "It is in the partner review folder now; I moved it this morning.",
)  # five writers: enough people for the channel's Insights figures to be shown


def write_demo_activity(
    handle, web_url: str, data_dir: Path, say: Callable[[str], None], welcome: list[str]
) -> None:
    """Writes the demo's conversations once, to the web app at `web_url` (up: wait_until_up);
    says how many it wrote. `welcome`: the UPNs the welcome text names, who should find
    something waiting for them."""
    marker = data_dir / MARKER
    if marker.exists():
        return
    talk = _Talk(handle, web_url)
    tenant = handle.tenant
    people = sorted(
        (u for u in tenant.users.values()
         if not u.deleted and u.account_enabled and u.user_type == "Member"),
        key=lambda u: u.user_principal_name,
    )  # fmt: skip
    dice = random.Random(7)
    written = 0
    for n, (key, openers) in enumerate(_shared_documents(tenant, people, welcome, dice)):
        written += _conversation(talk, key, openers, n, dice)
    welcome_first = sorted(people, key=lambda p: p.user_principal_name not in welcome)
    written += _channel(talk, welcome_first[:5])
    marker.write_text(f"{written}\n")
    say(f"  {written} demo comments, likes, tags and messages written")


def _shared_documents(
    tenant, people, welcome: list[str], dice: random.Random
) -> list[tuple[tuple[str, str], list]]:
    """Files that four or more demo people can open, with four of them, someone `welcome`
    names first where one of them can open it (each in turn), never people of both APART
    practices."""
    keys = sorted({key for person in people[:8] for key in tenant.visible_items(person.id)})
    dice.shuffle(keys)
    chosen = []
    for key in keys:
        item = tenant.item(*key)
        if item is None or item.folder:
            continue
        openers = [p for p in people if tenant.can_open(p.id, *key)]
        if len(openers) >= 4:
            dice.shuffle(openers)
            turn = welcome[len(chosen) % len(welcome)] if welcome else None
            openers.sort(key=lambda p: p.user_principal_name != turn)  # stable: the rest shuffled
            readers = _kept_apart(openers)
            if readers:
                chosen.append((key, readers))
        if len(chosen) == DOCUMENTS:
            break
    return chosen


def _kept_apart(openers: list) -> list | None:
    """The document's first four openers, except that once one of them belongs to a practice
    of APART, people of the other one give way to the next openers (None if too few are left):
    no conversation ties the two practices."""
    first = next((p.department for p in openers[:4] if p.department in APART), None)
    readers = [p for p in openers if first is None or p.department == first
               or p.department not in APART]  # fmt: skip
    return readers[:4] if len(readers) >= 4 else None


def _conversation(talk: _Talk, key: tuple[str, str], readers: list, n: int, dice) -> int:
    comments = f"/api/v1/documents/{key[0]}/{key[1]}/comments"
    script = SCRIPTS[n % len(SCRIPTS)]
    mentions = [_mention(person) for person in readers]
    written: list[dict] = []
    for speaker, text, parent in script:
        body = {"body": text.format(*mentions)}
        if parent is not None:
            body["parent_id"] = written[parent]["id"]
        written.append(talk.post(readers[speaker], comments, body))
    talk.put(readers[2], f"/api/v1/comments/{written[0]['id']}/like")
    for person in readers[dice.randrange(1, 3) :]:
        talk.put(person, f"/api/v1/documents/{key[0]}/{key[1]}/like")
    tags = dice.sample(TAGS, dice.randrange(1, 3))
    for tag in tags:
        talk.post(readers[1], f"/api/v1/documents/{key[0]}/{key[1]}/tags", {"tag": tag})
    return len(written) + 1 + len(readers) + len(tags)


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


def wait_until_up(web_url: str, seconds: float = 120) -> None:
    """Until the web app answers: before its conversations are written, and before the URL
    is printed (a person opening it at once must not meet a refused connection)."""
    deadline = time.monotonic() + seconds
    with new_session(timeout=30) as session:
        session.trust_env = False  # our own web app on loopback: no proxy
        while True:
            try:
                if session.get(web_url + "/api/v1/openapi.json", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the web app did not answer at {web_url} within {seconds:.0f} s"
                )
            time.sleep(0.3)
