"""One event stream's live checks: between syncs, Graph's word on each document room it carries.

The pump decides what a stream may carry from the index (and from live checks already refused
in this process). Before a stream writes an event of a document room, `StreamWatch` confirms
the person can still open the document (access.require_document, live: cached per person and
document for live_check_seconds, so at most one Graph call per document in that window). Once
a check fails, the stream says `room.removed` for the room and writes nothing more of it,
until the client reconnects (a new stream checks afresh). The same checks trim a replay.
It also asks Entra whether the person's account is still enabled (cached likewise): a disabled
person's stream closes within the window, not at the next people sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Flask

from overlay_app import access
from overlay_app.errors import NotFound
from overlay_app.identity import Person
from overlay_app.realtime.event_log import StreamItem
from overlay_app.realtime.pump import ROOM_REMOVED, Queued


class StreamWatch:
    def __init__(self, app: Flask, person: Person) -> None:
        self.app, self.person = app, person
        self.lost: set[str] = set()  # rooms whose document the live check refused
        self._passed: dict[tuple[str, str], float] = {}  # document -> when it last passed

    def keep(self, queued: Iterable[Queued], notify: bool = True) -> list[StreamItem]:
        """The items the person may still receive; with `notify`, a `room.removed` notice
        before the first item held back from each room newly lost."""
        kept: list[StreamItem] = []
        with self.app.app_context():
            for item, documents in queued:
                for room, key in sorted(documents.items()):
                    if room not in self.lost and not self._may_open(key):
                        self.lost.add(room)
                        if notify:
                            data = json.dumps({"roomId": room})
                            kept.append(StreamItem(None, ROOM_REMOVED, data))
                if not self.lost.intersection(documents):
                    kept.append(item)
        return kept

    def account_enabled(self) -> bool:
        with self.app.app_context():
            return access.account_checks().enabled(self.person.id)

    def _may_open(self, key: tuple[str, str]) -> bool:
        """The full check once per cache window and document (an event of a busy room does not
        reread the index); in between, only a refusal this process remembers."""
        checks = access.live_checks()
        now = checks.clock()
        passed = self._passed.get(key)
        if passed is not None and now - passed < checks.ttl:
            return not checks.denied(self.person.id, [key])
        try:
            access.require_document(self.person, *key)
        except NotFound:
            return False
        self._passed[key] = now
        return True
