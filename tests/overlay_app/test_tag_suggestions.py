"""Tag suggestions: only uses on documents the person may see count, and the ranking each worker
keeps is counted again as soon as the tags or the index change.

Two sets of files: four the reader can open and another member cannot (`shared`), and four
the other can open and the reader cannot (`hidden`, from the reader's side). Tags:

    alpha   shared[1] shared[2]                      2 uses the reader sees
    zeta    shared[2] shared[3]                      2
    beta    shared[1] hidden[1] hidden[2] hidden[3]  1 (4 in all: the most used tag)
    gamma   shared[3]                                1
    secret  hidden[1] hidden[2]                      0

shared[0] and hidden[0] carry no tag: their pages suggest from everything.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_utils

from overlay_app import db
from overlay_app.tags import suggestions as tag_suggestions
from overlay_app.tags.suggestions import Ranking, Rankings
from sync.db import open_index, transaction
from tests.postgres import sqlite_only

Key = tuple[str, str]
LAYOUT = {
    "alpha": [("shared", 1), ("shared", 2)],
    "zeta": [("shared", 2), ("shared", 3)],
    "beta": [("shared", 1), ("hidden", 1), ("hidden", 2), ("hidden", 3)],
    "gamma": [("shared", 3)],
    "secret": [("hidden", 1), ("hidden", 2)],
}
READER_SEES = ["alpha", "zeta", "beta", "gamma"]  # by visible uses, ties alphabetically


def tags_url(key: Key, tag: str | None = None) -> str:
    url = "/api/v1/documents/{}/{}/tags".format(*key)
    return f"{url}/{tag}" if tag else url


def only_openable(tenant, user_id: str, not_by: str) -> list[Key]:
    """The first four files (by id) that `user_id` can open and `not_by` cannot."""
    keys = sorted(tenant.visible_items(user_id))
    found = [k for k in keys if not tenant.item(*k).folder and not tenant.can_open(not_by, *k)]
    return found[:4]


@pytest.fixture
def cast(plaza_env, people) -> tuple[str, dict[str, list[Key]]]:
    """Another member (the first by UPN who fits), and four files of each set: `shared` (the
    reader can open them, the other cannot) and `hidden` (the reverse)."""
    tenant = plaza_env.tenant
    reader = tenant.user(people["reader"]).id
    members = [u for u in tenant.users.values() if u.account_enabled and u.user_type == "Member"]
    for other in sorted(members, key=lambda u: u.user_principal_name):
        files = {
            "shared": only_openable(tenant, reader, other.id),
            "hidden": only_openable(tenant, other.id, reader),
        }
        if not other.deleted and all(len(keys) == 4 for keys in files.values()):
            return other.user_principal_name, files
    raise AssertionError("no member who sees other files than the reader")


@pytest.fixture
def files(cast) -> dict[str, list[Key]]:
    return cast[1]


@pytest.fixture
def tagged(api, people, cast) -> dict[str, Any]:
    """The layout above, each tag added by someone who can open the file; the callers."""
    other, files = cast
    callers = {"shared": api(people["reader"]), "hidden": api(other)}
    for tag, places in LAYOUT.items():
        for side, n in places:
            added = callers[side].post(tags_url(files[side][n]), json={"tag": tag})
            assert added.status_code == 201
    return callers


def suggested(caller, key: Key) -> list[str]:
    answer = caller.get(tags_url(key))
    assert answer.status_code == 200, answer.get_json()
    return answer.json["suggestions"]


def test_only_visible_uses_count_and_hidden_ones_never_change_the_order(tagged, files):
    reader, other = tagged["shared"], tagged["hidden"]
    # beta is the most used tag of all, but the reader sees one use of it; secret none.
    assert suggested(reader, files["shared"][0]) == READER_SEES
    # A page leaves out its own tags.
    assert suggested(reader, files["shared"][2]) == ["beta", "gamma"]
    assert suggested(other, files["hidden"][0]) == ["beta", "secret"]
    assert suggested(other, files["hidden"][1]) == []


def test_a_tag_write_shows_at_once(tagged, files):
    reader = tagged["shared"]
    page = files["shared"][0]
    assert suggested(reader, page) == READER_SEES
    assert reader.post(tags_url(files["shared"][1]), json={"tag": "gamma"}).status_code == 201
    assert suggested(reader, page) == ["alpha", "gamma", "zeta", "beta"]
    assert reader.delete(tags_url(files["shared"][3], "zeta")).status_code == 204
    assert suggested(reader, page) == ["alpha", "gamma", "beta", "zeta"]


@sqlite_only("SQLite gives a removed newest rowid to the next row")
def test_the_newest_tag_replaced_by_one_on_a_hidden_file_is_not_suggested(app, tagged, files):
    """Removing the newest tag and adding another frees its rowid for the new row: the row
    count and the newest rowid are as before, and only the new row's time tells."""
    reader, other = tagged["shared"], tagged["hidden"]
    page = files["shared"][0]
    assert reader.post(tags_url(files["shared"][1]), json={"tag": "omega"}).status_code == 201
    assert suggested(reader, page) == [*READER_SEES, "omega"]
    before = rows_and_newest(app)
    assert reader.delete(tags_url(files["shared"][1], "omega")).status_code == 204
    assert other.post(tags_url(files["hidden"][1]), json={"tag": "omega"}).status_code == 201
    assert rows_and_newest(app) == before
    assert suggested(reader, page) == READER_SEES


def rows_and_newest(app) -> tuple[int, int]:
    social = sqlite_utils.Database(app.extensions["plaza.settings"].social_path)
    found = social.execute("SELECT count(*), max(rowid) FROM tags").fetchone()
    social.close()
    return found


def test_a_sync_that_hides_a_document_applies_at_once(app, tagged, files):
    """The reader's principal set is unchanged: only the index tells that shared[1] is hidden
    now (its permissions are unknown, so it is visible to nobody)."""
    reader = tagged["shared"]
    page = files["shared"][0]
    assert suggested(reader, page) == READER_SEES
    # as a sync writes: another connection to the app's index (index.db, or its database)
    index = open_index(db.index_location(app.extensions["plaza.settings"]))
    with transaction(index) as conn:
        conn.execute(
            "UPDATE items SET acl_item_id = NULL WHERE drive_id = ? AND item_id = ?",
            list(files["shared"][1]),
        )
    index.close()
    assert suggested(reader, page) == ["zeta", "alpha", "gamma"]


def test_a_page_with_more_own_tags_than_the_ranking_spares_is_counted_afresh(
    tagged, files, monkeypatch
):
    monkeypatch.setattr(tag_suggestions, "RANKED", 2)  # keeps alpha and zeta only
    reader = tagged["shared"]
    assert suggested(reader, files["shared"][2]) == ["beta", "gamma"]  # alpha, zeta its own
    assert suggested(reader, files["shared"][0]) == READER_SEES  # more than the kept two


def test_rankings_keep_the_most_recently_used_principal_sets(monkeypatch):
    monkeypatch.setattr(tag_suggestions, "MAX_RANKINGS", 2)
    rankings, state = Rankings(), (1, (5, 5, "t"))
    ann, bob, cy = frozenset({"user:ann"}), frozenset({"user:bob"}), frozenset({"user:cy"})
    assert rankings.get(state, ann) is None
    for principals, tags in ((ann, ["a"]), (bob, ["b"])):
        rankings.put(state, principals, Ranking(tags, True))
    assert rankings.get(state, ann) == Ranking(["a"], True)  # ann is now the most recent
    rankings.put(state, cy, Ranking(["c"], True))
    assert [rankings.get(state, p) for p in (ann, bob, cy)] == [
        Ranking(["a"], True),
        None,
        Ranking(["c"], True),
    ]
    assert rankings.get((2, (5, 5, "t")), ann) is None  # another state: all counted again
    rankings.put((1, (5, 5, "t")), ann, Ranking(["old"], True))  # counted under a past state
    assert rankings.get((2, (5, 5, "t")), ann) is None
