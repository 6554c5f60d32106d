"""A person's principal set (sync/trimming.py) on scripted directories, on either engine
(PLAZA_TEST_BACKEND): nested groups, a cycle, a deleted group in a chain, a group not listed
yet, guests, disabled and deleted people, site groups reached through a nested group, UPNs in
any case, and that the whole set is read in one statement.

Memberships are derived by sync/people.py's own `recompute_memberships` from the direct edges,
as a people sync stores them.
"""

from __future__ import annotations

import pytest

from sync.db import open_index
from sync.people import recompute_memberships
from sync.trimming import (
    PRINCIPALS,
    find_person,
    person_and_principals,
    principal_set,
    principals_of,
)
from tests.postgres import sqlite_only
from tests.sync.conftest import insert_group_members, insert_rows

SITE = "localhost,3333,cccc"
EVERYONE_KEYS = {"everyone", "link:organization"}

# id, upn, enabled, guest, deleted
PEOPLE = [
    ("ann", "ann@firm.example", 1, 0, 0),
    ("bob", "bob@firm.example", 1, 0, 0),
    ("carl", "carl@firm.example", 1, 0, 0),
    ("gus", "gus@client.example", 1, 1, 0),
    ("dee", "dee@firm.example", 0, 0, 0),
    ("gone", "same@firm.example", 1, 0, 1),  # deleted; its UPN came back as "kept"'s
    ("kept", "Same@Firm.example", 1, 0, 0),
    ("solo", "ann", 1, 0, 0),  # a UPN that is someone else's id: the id wins
]
GROUPS = ["inner", "middle", "outer", "loop-a", "loop-b", "dead", "behind-dead"]
# group <- direct member (a user, or a group if listed in GROUPS)
GROUP_MEMBERS = """inner ann  middle inner  outer middle  inner gus  inner dee  inner gone
                   loop-a bob  loop-b loop-a  loop-a loop-b  dead carl  behind-dead dead"""
SITE_GROUPS = [(3, "group:outer"), (4, "everyone"), (5, "user:gus"), (6, "group:loop-b"),
               (7, "group:dead"), (8, "group:unlisted"), (9, "sitegroup:x:1")]  # fmt: skip


def site_group(number: int) -> str:
    return f"sitegroup:{SITE}:{number}"


@pytest.fixture
def directory(index_location):
    db = open_index(index_location)
    columns = ("id", "upn", "enabled", "guest", "deleted")
    insert_rows(db, "people", (dict(zip(columns, p, strict=True)) for p in PEOPLE))
    insert_rows(db, "groups", ({"id": g, "deleted": int(g == "dead")} for g in GROUPS))
    insert_group_members(db, GROUP_MEMBERS, GROUPS)
    recompute_memberships(db.conn)
    # A group the people sync has not listed yet (no groups row) still admits its members.
    insert_rows(db, "memberships", [{"user_id": "carl", "group_id": "unlisted"}])
    insert_rows(
        db,
        "site_group_members",
        ({"site_id": SITE, "group_number": n, "principal": p} for n, p in SITE_GROUPS),
    )
    yield db
    db.close()


def test_nested_groups_and_the_site_groups_they_reach(directory) -> None:
    assert principal_set(directory, "ann") == {
        "user:ann", "group:inner", "group:middle", "group:outer", *EVERYONE_KEYS,
        site_group(3), site_group(4),
    }  # fmt: skip


def test_a_cycle_of_groups_holds_each_once(directory) -> None:
    assert principal_set(directory, "bob") == {
        "user:bob", "group:loop-a", "group:loop-b", *EVERYONE_KEYS, site_group(4), site_group(6),
    }  # fmt: skip


def test_a_deleted_group_admits_nobody_an_unlisted_one_does(directory) -> None:
    # Not "dead", nor "behind-dead" through it, nor site group 7 that holds "dead".
    assert principal_set(directory, "carl") == {
        "user:carl", "group:unlisted", *EVERYONE_KEYS, site_group(4), site_group(8),
    }  # fmt: skip


def test_a_guest_is_not_everyone(directory) -> None:
    assert principal_set(directory, "gus") == {
        "user:gus", "group:inner", "group:middle", "group:outer", site_group(3), site_group(5),
    }  # fmt: skip


@pytest.mark.parametrize("person", ["dee", "gone", "nobody", "", "dee@firm.example"])
def test_disabled_deleted_and_unknown_people_see_nothing(directory, person: str) -> None:
    assert principal_set(directory, person) == frozenset()


def test_a_upn_in_any_case_names_the_live_person_and_an_id_wins(directory) -> None:
    kept = principal_set(directory, "kept")
    assert kept == {"user:kept", *EVERYONE_KEYS, site_group(4)}
    assert principal_set(directory, "SAME@firm.EXAMPLE") == kept
    assert find_person(directory, "same@firm.example").id == "kept"
    assert find_person(directory, "ann").id == "ann"
    assert find_person(directory, "nobody") is None


def test_the_person_comes_with_the_set(directory) -> None:
    person, keys = person_and_principals(directory, "ANN@firm.example")
    assert (person.id, person.upn, person.enabled, person.guest) == (
        "ann", "ann@firm.example", True, False,
    )  # fmt: skip
    assert keys == principal_set(directory, "ann") == principals_of(directory, person)
    dee, none = person_and_principals(directory, "dee")
    assert (dee.id, dee.enabled, none) == ("dee", False, frozenset())
    assert principals_of(directory, dee) == frozenset()
    assert person_and_principals(directory, "nobody") == (None, frozenset())


@pytest.mark.parametrize("person", ["ann", "bob@firm.example", "gus", "dee", "nobody"])
def test_the_set_is_read_in_one_statement(directory, person: str) -> None:
    statements: list[str] = []
    directory.conn.set_trace_callback(statements.append)
    try:
        principal_set(directory, person)
    finally:
        directory.conn.set_trace_callback(None)
    assert len(statements) == 1, statements


@sqlite_only("its query planner's choices")
def test_the_set_is_read_through_indexes(directory) -> None:
    plan = "\n".join(
        row[3] for row in directory.execute(f"EXPLAIN QUERY PLAN {PRINCIPALS}", {"person": "x"})
    )
    assert "SEARCH people USING INDEX people_by_upn (upn=?)" in plan, plan
    assert "SEARCH m USING COVERING INDEX sqlite_autoindex_memberships_1 (user_id=?)" in plan
    assert "SEARCH s USING INDEX site_group_members_by_principal (principal=?)" in plan
    assert "SCAN m" not in plan and "SCAN s" not in plan
