"""Follows, levels and delivery choices: `check_*` validates and authorises, `do_*` writes in
one transaction with the rate-limit count. One may only follow, or set a level on, what one
may open now (follow.targets); unfollowing and resetting need no check (one's own rows).
`following` lists what a person follows, trimmed again: a follow of something they can no
longer open stays stored (access may come back) but is shown nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overlay_app import access, db, security
from overlay_app.chat import access as chat_access
from overlay_app.discussion.reads import now
from overlay_app.errors import BadInput
from overlay_app.follow import levels, store, targets
from overlay_app.follow.targets import Target
from overlay_app.identity import Person
from overlay_app.mail import store as mail_store
from overlay_app.tags import reads as tag_reads
from sync import directory, visibility

DIGESTS = (mail_store.HOURLY, mail_store.DAILY, mail_store.WEEKLY, mail_store.OFF)


@dataclass(frozen=True)
class Followed:
    target: Target
    level: str | None  # None: the default (participating), or a kind without levels
    followed_at: str

    def to_json(self) -> dict[str, Any]:
        t = self.target
        return {"kind": t.kind, "target": t.key, "label": t.label, "url": t.url,
                "level": self.level, "followedAt": self.followed_at}  # fmt: skip


def follow(person: Person, kind: Any, key: Any) -> Target:
    target = targets.check_target(person, kind, key)
    with db.transaction() as conn:
        security.check_rate(person, "follow")
        store.follow(conn, person.id, target.kind, target.key, now())
    return target


def unfollow(person: Person, kind: Any, key: Any) -> None:
    kind, key = targets.check_kind(kind), targets.check_key(key)
    if kind == targets.TAG:
        key = tag_reads.normalise(key)
    with db.transaction() as conn:
        security.check_rate(person, "follow")
        store.unfollow(conn, person.id, kind, key)


def check_level(level: Any) -> str | None:
    if level in (None, "", "default"):
        return None
    if level not in levels.LEVELS:
        raise BadInput(
            '"level" must be one of: %(choices)s, or "default".', choices=", ".join(levels.LEVELS)
        )
    return level


def set_level(person: Person, kind: Any, key: Any, level: Any) -> Target:
    level = check_level(level)
    target = targets.check_target(person, kind, key, targets.LEVEL_KINDS)
    with db.transaction() as conn:
        security.check_rate(person, "follow")
        store.set_level(conn, person.id, target.kind, target.key, level, now())
    return target


# -- delivery choices ----------------------------------------------------------------------------


def choices(person: Person) -> dict[str, Any]:
    """{"events": {event: {channel: on}}, "digest": frequency}: the settings page's state."""
    chosen = store.choices_of(db.social(), [person.id]).get(person.id, {})
    events = {
        event: {
            channel.name: channel.name in levels.chosen_channels(chosen, event)
            for channel in levels.CHANNELS
        }
        for event in levels.EVENTS
    }
    return {"events": events, "digest": mail_store.digest_choice(db.social(), person.id)[0]}


def check_choices(payload: Any) -> tuple[dict[tuple[str, str], bool], str | None]:
    """{"events": {event: {channel: bool}}, "digest": ...} -> the choices to store."""
    if not isinstance(payload, dict):
        raise BadInput('Send {"events": {event: {channel: true|false}}, "digest": ...}.')
    events, found = payload.get("events", {}), {}
    names = {channel.name for channel in levels.CHANNELS}
    if not isinstance(events, dict):
        raise BadInput('"events" must map kinds of event to {channel: true|false}.')
    for event, by_channel in events.items():
        if event not in levels.EVENTS or not isinstance(by_channel, dict):
            raise BadInput(
                '"events" keys must be among: %(choices)s.', choices=", ".join(levels.EVENTS)
            )
        for channel, enabled in by_channel.items():
            if channel not in names or not isinstance(enabled, bool):
                raise BadInput(
                    "Each event maps channels (%(channels)s) to true or false.",
                    channels=", ".join(sorted(names)),
                )
            found[(event, channel)] = enabled
    digest = payload.get("digest")
    if digest is not None and digest not in DIGESTS:
        raise BadInput('"digest" must be one of: %(choices)s.', choices=", ".join(DIGESTS))
    return found, digest


def set_choices(person: Person, payload: Any) -> dict[str, Any]:
    chosen, digest = check_choices(payload)
    with db.transaction() as conn:
        security.check_rate(person, "follow")
        for (event, channel), enabled in sorted(chosen.items()):
            store.set_choice(conn, person.id, event, channel, enabled)
        if digest is not None:
            mail_store.set_digest(conn, person.id, digest)
    return choices(person)


# -- what a person follows, trimmed -------------------------------------------------------------


def following(person: Person) -> list[Followed]:
    rows = store.follows_of(db.social(), person.id)
    set_levels = store.levels_of(db.social(), person.id)
    shown = _visible_targets(person, [(kind, key) for kind, key, _ in rows])
    return [
        Followed(shown[(kind, key)], set_levels.get((kind, key)), at)
        for kind, key, at in rows
        if (kind, key) in shown
    ]


def _visible_targets(person: Person, wanted: list[tuple[str, str]]) -> dict[tuple, Target]:
    found: dict[tuple, Target] = {}
    keys = [
        targets.split_document_key(k)
        for kind, k in wanted
        if kind in (targets.DOCUMENT, targets.FOLDER)
    ]
    documents = access.documents(person, access.filter_visible(person, keys)) if keys else {}
    rooms = [k for kind, k in wanted if kind == targets.CHANNEL]
    room_ids = chat_access.visible_room_ids(person, rooms) if rooms else set()
    loaded = chat_access.load_rooms(room_ids)
    sites = (
        {s.id: s for s in visibility.visible_sites(db.index(), access.principals_of(person.id))}
        if any(kind == targets.SITE for kind, _ in wanted)
        else {}
    )
    for kind, key in wanted:
        target = _target(kind, key, documents, loaded, sites)
        if target is not None:
            found[(kind, key)] = target
    return found


def _target(kind: str, key: str, documents: dict, rooms: dict, sites: dict) -> Target | None:
    if kind in (targets.DOCUMENT, targets.FOLDER):
        document = documents.get(targets.split_document_key(key))
        if document is None or document.archived:
            return None
        d, i = document.key
        url = f"/drives/{d}/items/{i}" if kind == targets.FOLDER else f"/documents/{d}/{i}"
        return Target(kind, key, document.name or kind, url)
    if kind == targets.CHANNEL:
        room = rooms.get(key)
        return None if room is None else Target(kind, key, f"#{room.name}", f"/chat/{key}")
    if kind == targets.SITE:
        site = sites.get(key)
        return None if site is None else Target(kind, key, site.title or "a site", f"/sites/{key}")
    if kind == targets.TAG:
        return Target(kind, key, f"#{key}", f"/tags/{key}")
    profile = directory.active_profile(db.index(), key)
    if profile is None:
        return None
    return Target(kind, key, profile.display_name or profile.upn or "someone", f"/people/{key}")
