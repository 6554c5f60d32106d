"""Access queries on the hand-built firm (tests/sync/conftest.py), with exact expectations:
principal sets, can_view, visible keys, archived items, trimmed and paged listings, explain's
sentences, the query plans that keep them on indexes, and the `plaza sync visible` / `plaza
sync explain` commands. The end-to-end checks against the emulator's oracle are in
test_access_oracle.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync import access
from sync.visibility import CAN_VIEW_OR_ARCHIVED_SQL, CAN_VIEW_SQL, CHILDREN_SQL, VISIBLE_KEYS_SQL
from tests.postgres import sqlite_only
from tests.sync.conftest import (
    DEALS_DOCS,
    DEALS_ITEMS,
    DEALS_OWNERS,
    MEMBERS,
    OWNERS,
    SEES,
    TAX_DOCS,
    TAX_ITEMS,
    VISITORS,
    keys,
    run_access_cli,
)


def test_principal_sets(firm) -> None:
    assert access.principal_set(firm, "ann-oid") == {
        "user:ann-oid", "group:tax-team", "group:all-staff", "everyone", "link:organization",
        VISITORS, MEMBERS,
    }  # fmt: skip
    assert access.principal_set(firm, "bob-oid") == {
        "user:bob-oid", "group:tax-lead", "group:all-partners", "everyone", "link:organization",
        OWNERS, VISITORS, DEALS_OWNERS,
    }  # fmt: skip
    assert access.principal_set(firm, "gus-oid") == {"user:gus-oid", MEMBERS}
    for nobody in ("dee-oid", "gone-oid", "nobody@firm.example", ""):
        assert access.principal_set(firm, nobody) == frozenset()


def test_person_by_upn_in_any_case(firm) -> None:
    by_upn = access.principal_set(firm, "ann.lee@FIRM.example")
    assert by_upn == access.principal_set(firm, "ann-oid")


@pytest.mark.parametrize("person", sorted(SEES))
def test_visible_item_keys(firm, person: str) -> None:
    assert list(access.visible_item_keys(firm, person)) == keys(SEES[person])


@pytest.mark.parametrize("person", sorted(SEES))
def test_can_view_agrees_with_visible_keys(firm, person: str) -> None:
    every_item = [(TAX_DOCS, i[0]) for i in TAX_ITEMS] + [(DEALS_DOCS, i[0]) for i in DEALS_ITEMS]
    seen = sorted((d, i) for d, i in every_item if access.can_view(firm, person, d, i))
    assert seen == keys(SEES[person])


def test_can_view_unknown_item(firm) -> None:
    assert access.can_view(firm, "bob-oid", TAX_DOCS, "no-such-item") is False
    assert access.can_view(firm, "bob-oid", DEALS_DOCS, "plan") is False


def test_archived_items_stay_visible_to_their_last_acl_on_request(firm) -> None:
    """The tombstone old.docx inherited the Tax root (owners and members)."""
    for person, expected in (("ann-oid", True), ("gus-oid", True), ("carl-oid", False)):
        assert access.can_view(firm, person, TAX_DOCS, "old") is False
        assert access.can_view(firm, person, TAX_DOCS, "old", include_archived=True) is expected
    assert access.can_view(firm, "carl-oid", TAX_DOCS, "plan", include_archived=True) is True
    assert access.can_view(firm, "ann-oid", TAX_DOCS, "draft", include_archived=True) is False


def test_list_children_folders_first_then_name(firm) -> None:
    listed = access.list_children(firm, "bob-oid", TAX_DOCS, "shared")
    names = ["all-hands.pptx", "anon.docx", "org-link.pptx", "people-link.docx"]
    assert [child.name for child in listed] == names
    assert listed[0] == access.ListedItem(
        TAX_DOCS, "allhands", "all-hands.pptx", "/Shared/all-hands.pptx", None, False, "pptx",
        None, None, None,
    )  # fmt: skip
    root = access.list_children(firm, "bob-oid", TAX_DOCS, "tax-root")
    assert [(c.item_id, c.is_folder) for c in root] == [
        ("clients", True), ("public", True), ("shared", True),
    ]  # fmt: skip


def children(db, person: str, parent: str, **paging) -> list[str]:
    return [c.item_id for c in access.list_children(db, person, TAX_DOCS, parent, **paging)]


def test_list_children_is_trimmed_and_paged(firm) -> None:
    assert children(firm, "ann-oid", "shared") == ["allhands", "orglink"]
    assert children(firm, "carl-oid", "shared") == ["allhands", "orglink", "peoplelink"]
    pages = [children(firm, "bob-oid", "shared", limit=3, offset=o) for o in (0, 3, 6)]
    assert pages == [["allhands", "anon", "orglink"], ["peoplelink"], []]
    assert children(firm, "dee-oid", "shared") == []


def sentences(text: str) -> list[str]:
    """Paragraphs of `text` (separated by blank lines), each joined into one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]


EXPLAINED = {
    ("ann-oid", "brief"): """
        visible through site group 5 of site 'Tax', which holds group 'All Staff' (transitive
        via 'Tax Team'), granted write on the library root of 'Documents' in site 'Tax', from
        which the item inherits""",
    ("bob-oid", "plan"): """
        visible through group 'All Partners' (transitive via 'Tax Leadership'), granted write on
        folder /Clients/Acme, which has unique permissions and from which the item inherits""",
    ("bob-oid", "tax-root"): """
        visible through site group 3 of site 'Tax', which holds group 'Tax Leadership' (a direct
        member), granted owner on the library root of 'Documents' in site 'Tax'""",
    ("bob-oid", "public"): """
        visible through site group 3 of site 'Tax', which holds group 'Tax Leadership' (a direct
        member), granted owner on folder /Public, which has unique permissions

        visible through site group 4 of site 'Tax', which holds 'Everyone except external
        users', granted read on folder /Public, which has unique permissions""",
    ("carl-oid", "plan"): """
        visible through a direct grant to Carl Diaz (carl.diaz@firm.example), granted read on
        folder /Clients/Acme, which has unique permissions and from which the item inherits""",
    ("carl-oid", "peoplelink"): """
        visible through a link for specific people including Carl Diaz (carl.diaz@firm.example),
        granted read on file /Shared/people-link.docx, which has unique permissions""",
    ("ann-oid", "orglink"): """
        visible through a link for everyone in the organisation, granted read on file
        /Shared/org-link.pptx, which has unique permissions""",
    ("gus-oid", "shared"): """
        visible through site group 5 of site 'Tax', which holds Gus Guest (gus@client.example)
        directly, granted write on the library root of 'Documents' in site 'Tax', from which the
        item inherits""",
    ("ann-oid", "deal"): """
        not visible: the item inherits from the library root of 'Documents' in site 'Deals',
        which grants only site group 3 of site 'Deals' (owner)""",
    ("gus-oid", "handbook"): """
        not visible: the item inherits from folder /Public, whose unique permissions grant only
        site group 3 of site 'Tax' (owner) and site group 4 of site 'Tax' (read)

        Gus Guest (gus@client.example) is a guest: 'Everyone except external users' and links
        for the organisation leave guests out""",
    ("gus-oid", "allhands"): """
        not visible: the item has unique permissions, which grant only 'Everyone except external
        users' (read) and site group 3 of site 'Tax' (owner)

        Gus Guest (gus@client.example) is a guest: 'Everyone except external users' and links
        for the organisation leave guests out""",
    ("ann-oid", "anon"): """
        not visible: the item has unique permissions, which grant only an anonymous link (read)
        and site group 3 of site 'Tax' (owner)

        an anonymous link counts for nobody: no one is known to hold it""",
    ("ann-oid", "peoplelink"): """
        not visible: the item has unique permissions, which grant only site group 3 of site
        'Tax' (owner) and a link for specific people including Carl Diaz
        (carl.diaz@firm.example) (read)""",
    ("ann-oid", "legacy"): """
        not visible: the item has unique permissions, which grant only group 'Old Group'
        (read)""",
    ("carl-oid", "tax-root"): """
        not visible: the library root of 'Documents' in site 'Tax' grants only site group 3 of
        site 'Tax' (owner) and site group 5 of site 'Tax' (write)""",
    ("ann-oid", "empty"): "not visible: the item has unique permissions, which grant nobody",
    ("ann-oid", "draft"): "not visible: its permissions have not been read yet",
    ("ann-oid", "pending"): "not visible: its permissions have not been read yet",
    ("ann-oid", "failed-child"): """
        not visible: the permissions of folder /Failed could not be read (state 'failed'), so it
        stays hidden until a sync reads them""",
    ("bob-oid", "old"): "not visible: the item has been deleted",
    ("dee-oid", "brief"): """
        not visible: Dee Disabled (dee@firm.example) is disabled, and disabled accounts see
        nothing""",
    ("gone@firm.example", "brief"): """
        not visible: Gone Person (gone@firm.example) has been deleted, and deleted accounts see
        nothing""",
    ("nobody@firm.example", "brief"): "not visible: no person 'nobody@firm.example' in the index",
    ("ann-oid", "nope"): "not visible: no item b!tax/nope in the index",
}


@pytest.mark.parametrize(("person", "item"), list(EXPLAINED))
def test_explain(firm, person: str, item: str) -> None:
    drive = DEALS_DOCS if item.startswith("deal") else TAX_DOCS
    reasons = sentences(EXPLAINED[person, item])
    visible = reasons[0].startswith("visible")
    assert access.explain(firm, person, drive, item) == access.Explanation(visible, reasons)


def test_explain_agrees_with_can_view(firm) -> None:
    for person in SEES:
        for item_id, *_ in TAX_ITEMS:
            answer = access.explain(firm, person, TAX_DOCS, item_id)
            assert answer.visible == access.can_view(firm, person, TAX_DOCS, item_id)


def query_plan(db, sql: str) -> list[str]:
    params = {"drive_id": TAX_DOCS, "item_id": "plan", "parent_id": "shared",
              "principals": "[]", "limit": 10, "offset": 0}  # fmt: skip
    return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def assert_indexed(plan: list[str]) -> None:
    """No full scan of items or acl (aliases i, h, a); only index searches on them."""
    assert not [step for step in plan if re.match(r"SCAN (i|h|a|items|acl)\b", step)], plan


@sqlite_only("its query planner's choices")
@pytest.mark.parametrize("sql", [CAN_VIEW_SQL, CAN_VIEW_OR_ARCHIVED_SQL])
def test_can_view_plan_uses_indexes(firm, sql: str) -> None:
    plan = query_plan(firm, sql)
    assert_indexed(plan)
    assert "SEARCH i USING INDEX sqlite_autoindex_items_1 (drive_id=? AND item_id=?)" in plan
    acl_search = "SEARCH a USING COVERING INDEX sqlite_autoindex_acl_1"
    assert f"{acl_search} (drive_id=? AND item_id=? AND principal=?)" in plan


@sqlite_only("its query planner's choices")
def test_list_children_plan_uses_indexes(firm) -> None:
    plan = query_plan(firm, CHILDREN_SQL)
    assert_indexed(plan)
    assert "SEARCH i USING INDEX items_by_parent (drive_id=? AND parent_id=?)" in plan


@sqlite_only("its query planner's choices")
def test_visible_keys_plan_starts_from_the_principals(firm) -> None:
    plan = query_plan(firm, VISIBLE_KEYS_SQL)
    assert_indexed(plan)
    assert "SEARCH a USING COVERING INDEX acl_by_principal (principal=?)" in plan
    assert "SEARCH i USING INDEX items_by_acl (drive_id=? AND acl_item_id=?)" in plan


def test_cli_visible(firm, tmp_path: Path) -> None:
    result = run_access_cli(tmp_path, "visible", "--user", "carl.diaz@firm.example", index=firm)
    assert result.exit_code == 0
    assert result.output == "".join(f"{d}/{i}\n" for d, i in keys(SEES["carl-oid"]))


def test_cli_explain(firm, tmp_path: Path) -> None:
    result = run_access_cli(
        tmp_path, "explain", "--user", "ann-oid", "--item", f"{DEALS_DOCS}/deal", index=firm
    )
    assert result.exit_code == 0
    assert result.output.splitlines() == sentences(EXPLAINED["ann-oid", "deal"])


NO_PEOPLE_JOB = "in the index (has the people job run?)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("visible --user nobody@firm.example", f"no person 'nobody@firm.example' {NO_PEOPLE_JOB}"),
        (f"explain --user nobody --item {TAX_DOCS}/plan", f"no person 'nobody' {NO_PEOPLE_JOB}"),
        (f"explain --user ann-oid --item {TAX_DOCS}/nope", "no item b!tax/nope in the index"),
        (
            "explain --user ann-oid --item plan",
            "--item takes DRIVE_ID/ITEM_ID, as `plaza sync visible` prints them; got 'plan'",
        ),
    ],
)
def test_cli_unknown_user_or_item(firm, tmp_path: Path, args: str, message: str) -> None:
    result = run_access_cli(tmp_path, *args.split(), index=firm)
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")


def test_cli_without_an_index(tmp_path: Path) -> None:
    result = run_access_cli(tmp_path / "empty", "visible", "--user", "ann-oid")
    missing = tmp_path / "empty" / "index.db"
    assert result.exit_code == 1
    assert result.output == f"Error: no index at {missing}: run `plaza sync run` first\n"
