"""Revoked, then deleted before the next sync: the revoked reader loses the archived discussion
everywhere; the author, still admitted, keeps reading it.

The reader reaches the document only through its own permissions (a direct grant; its folder
admits the author alone). The discussion is held (test_revocation.Discussion: comments, a
reply, a mention, likes, a tag, notifications, a chat room); then, in the emulator, the grant
goes and the document is deleted. The change feed shows only the deletion, so the last known
ACL still names the reader: the archived document must answer to its folder's current ACL too
(sync/trimming.py). After two syncs, every page and API answer the reader can ask for is
checked as in test_revocation.py.

(Had the reader been admitted by the folder, removing them by breaking inheritance on the file
just before deleting it leaves no trace in any Graph read: sync/README.md, Known limits.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.overlay_app.conftest import PlazaEnv, resync
from tests.overlay_app.test_revocation import (
    SAID,
    TAG,
    Discussion,
    assert_gone_for_reader,
    assert_reader_cannot_write,
    assert_sees_everything,
    grant,
)


@pytest.fixture
def shared_with_the_reader(
    fresh_plaza_env: PlazaEnv,
    make_app: Callable[..., Flask],
    people: dict[str, str],
    document: tuple[str, str],
) -> Discussion:
    """The document's folder admits only the author; the document admits the author and, by a
    grant of its own, the reader. Both discuss it."""
    env, (drive_id, item_id) = fresh_plaza_env, document
    author, reader = (env.tenant.user(people[role]).id for role in ("author", "reader"))
    folder = env.tenant.item(drive_id, item_id).parent_id
    writes, reads = grant("user", author, "write"), grant("user", reader, "read")
    env.control("POST", f"/items/{drive_id}/{folder}/permissions/break", {"grants": [writes]})
    env.control("POST", f"/items/{drive_id}/{item_id}/permissions/break",
                {"grants": [writes, reads]})  # fmt: skip
    assert not env.tenant.can_open(reader, drive_id, folder)
    app = make_app(env=env, live_check_seconds=0, writes_per_minute=10_000)
    resync(app, people=False, documents=True)
    found = Discussion(app, env, people, document)
    found.hold()
    assert_sees_everything(found, "reader")
    found.counts_before = found.counts("reader")
    return found


def assert_author_reads_the_archive(discussion: Discussion) -> None:
    get = discussion.get
    page = get("author", discussion.document_urls()[0])
    assert page.status_code == 200
    assert [mark for mark in (discussion.title, *SAID.values()) if mark not in page.text] == []
    document = get("author", discussion.base)
    assert (document.status_code, document.get_json()["archived"]) == (200, True)
    comments = get("author", discussion.base + "/comments").get_data(as_text=True)
    assert SAID["author"] in comments and SAID["reader"] in comments
    tags = get("author", discussion.base + "/tags").get_json()
    assert TAG in str(tags)
    room = discussion.ids["room"]
    assert SAID["chat"] in get("author", f"/api/v1/rooms/{room}/messages").get_data(as_text=True)


def test_a_revocation_then_a_deletion_before_the_next_sync_takes_the_archive_away(
    shared_with_the_reader: Discussion,
) -> None:
    discussion = shared_with_the_reader
    env, d, i = discussion.env, discussion.drive_id, discussion.item_id
    env.control("DELETE", f"/items/{d}/{i}/permissions/user-{discussion.oid['reader']}")
    env.control("DELETE", f"/items/{d}/{i}")
    for _ in range(2):
        resync(discussion.app, people=True, documents=True)

    assert_gone_for_reader(discussion)
    assert_reader_cannot_write(discussion)
    assert_author_reads_the_archive(discussion)
