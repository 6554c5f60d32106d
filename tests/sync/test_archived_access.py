"""Archived items fail closed: a tombstone admits only whom both its last known ACL and the
current ACL of its nearest live ancestor admit (sync/trimming.py), in the per-item and the set
form; and the sync page that archives an item re-reads that ancestor's permissions, so a
revocation the change feed shows only later counts from that page on.

The rule's cases are on the hand-built firm (tests/sync/conftest.py): Carl reaches
/Shared/people-link.docx only through its own link and /Clients/Acme only through its own
grant; the library root admits Bob (owners) but not Carl.
"""

from __future__ import annotations

from sync import access
from sync.db import connect, open_index
from sync.engine import NullProgress, sync_documents, sync_people
from sync.targets import DocumentTarget
from sync.trimming import principal_set, principals_json
from sync.visibility._rule import ADMITTED_OR_ARCHIVED, HOLDERS_ADMITTING_OR_ARCHIVED
from tests.postgres import index_at
from tests.sync.conftest import TAX_DOCS, TAX_ITEMS
from tests.sync.emulated import connector_for, control

PEOPLE = ("ann-oid", "bob-oid", "carl-oid", "gus-oid")

# The set form, as the overlay runs it for large batches of keys.
SET_FORM_SQL = f"""
    WITH {HOLDERS_ADMITTING_OR_ARCHIVED}
    SELECT i.item_id FROM items AS i
    JOIN admitting AS ad ON ad.drive_id = i.drive_id AND ad.item_id = i.acl_item_id
    WHERE i.drive_id = :drive_id AND {ADMITTED_OR_ARCHIVED}"""


def archive(db, *item_ids: str) -> None:
    """Tombstones, as sync would after a deletion (the subtree's rows keep their holders)."""
    db.execute(
        "UPDATE items SET deleted = 1, deleted_at = '2026-01-01' WHERE drive_id = ? AND item_id"
        " IN (SELECT value FROM json_each(?))",
        [TAX_DOCS, principals_json(item_ids)],
    )


def archived_seen_by(db, person: str, item_ids: list[str]) -> set[str]:
    """Which of the items `person` may see, archived included, asked one by one; the set form
    must agree."""
    one_by_one = {
        item_id
        for item_id in item_ids
        if access.can_view(db, person, TAX_DOCS, item_id, include_archived=True)
    }
    params = {"drive_id": TAX_DOCS, "principals": principals_json(principal_set(db, person))}
    in_set_form = {row[0] for row in db.execute(SET_FORM_SQL, params)}
    assert in_set_form & set(item_ids) == one_by_one, person
    return one_by_one


def test_a_file_reached_only_through_its_own_acl_is_hidden_once_archived(firm) -> None:
    archive(firm, "peoplelink")
    seen = {p: archived_seen_by(firm, p, ["peoplelink"]) for p in PEOPLE}
    # Carl's link is still in its last known ACL, but /Shared (the root's ACL) never let him
    # in; Bob is in both. Ann and Gus were never in the file's ACL.
    assert seen == {"ann-oid": set(), "bob-oid": {"peoplelink"}, "carl-oid": set(),
                    "gus-oid": set()}  # fmt: skip


def test_an_archived_folder_and_its_files_answer_to_the_folder_above(firm) -> None:
    archive(firm, "acme", "plan", "secret")
    seen = {p: archived_seen_by(firm, p, ["acme", "plan", "secret"]) for p in PEOPLE}
    assert seen == {"ann-oid": set(), "bob-oid": {"acme", "plan", "secret"}, "carl-oid": set(),
                    "gus-oid": set()}  # fmt: skip


def test_the_nearest_live_ancestor_decides_not_the_root(firm) -> None:
    """/Clients gets its own ACL naming only Carl: the archived /Clients/Acme/plan.docx (Acme's
    ACL: All Partners and Carl) is Carl's alone, though the root admits Bob."""
    firm.execute(
        "UPDATE items SET has_unique_perms = 1, perms_state = 'ok', acl_item_id = 'clients'"
        " WHERE drive_id = ? AND item_id IN ('clients', 'brief')",
        [TAX_DOCS],
    )
    firm.execute(
        "INSERT INTO acl (drive_id, item_id, principal, role) VALUES (?, 'clients', ?, 'read')",
        [TAX_DOCS, "user:carl-oid"],
    )
    archive(firm, "acme", "plan")
    seen = {p: archived_seen_by(firm, p, ["acme", "plan"]) for p in PEOPLE}
    assert seen == {"ann-oid": set(), "bob-oid": set(), "carl-oid": {"acme", "plan"},
                    "gus-oid": set()}  # fmt: skip


def test_an_ancestor_whose_permissions_failed_admits_nobody(firm) -> None:
    archive(firm, "acme", "plan")
    assert archived_seen_by(firm, "bob-oid", ["acme", "plan"]) == {"acme", "plan"}
    firm.execute("UPDATE items SET perms_state = 'failed' WHERE item_id = 'tax-root'")
    seen = {p: archived_seen_by(firm, p, ["acme", "plan"]) for p in PEOPLE}
    assert seen == {p: set() for p in PEOPLE}


def test_with_the_whole_library_archived_nobody_sees_any_of_it(firm) -> None:
    every_item = [item[0] for item in TAX_ITEMS]
    archive(firm, *every_item)
    for person in PEOPLE:
        assert archived_seen_by(firm, person, every_item) == set(), person


# -- the page that archives an item re-reads its surviving ancestor's permissions ------------


class PageWatch(NullProgress):
    """After each committed page: whether each person may see the document, archived or not,
    and whether it is archived yet (read on a connection of its own: pages commit on worker
    threads)."""

    def __init__(self, path, document: tuple[str, str], people: dict[str, str]) -> None:
        self.path, self.document, self.people = path, document, people
        self.seen: list[dict[str, bool]] = []

    def on_page(self, items: int) -> None:
        db = connect(self.path, readonly=True)
        try:
            drive_id, item_id = self.document
            (deleted,) = db.execute(
                "SELECT deleted FROM items WHERE drive_id = ? AND item_id = ?", self.document
            ).fetchone()
            answer = {"archived": bool(deleted)}
            for role, person in self.people.items():
                answer[role] = access.can_view(db, person, drive_id, item_id, include_archived=True)
            self.seen.append(answer)
        finally:
            db.close()


def test_an_ancestor_revocation_on_a_later_page_counts_from_the_archiving_page(
    fresh_emulator, tmp_path
) -> None:
    """The reader reaches a file through its folder's own ACL. The file is deleted, 200 other
    changes follow (a delta page holds 200), then the folder stops admitting the reader: the
    feed shows the deletion on one page and the folder's change on the next. The reader must
    not see the archived file after either page; the author, still admitted, sees it."""
    handle, tenant = fresh_emulator, fresh_emulator.tenant
    drive_id = next(d for d, s in tenant.drives.items() if s.drive.base_count >= 72)
    folder, document = next(
        (folder, child)
        for folder in tenant.children(drive_id, "root")
        if folder.folder
        for child in tenant.children(drive_id, folder.id)
        if not child.folder and not child.unique_permissions
    )
    members = [u for u in tenant.users.values() if u.user_type == "Member" and u.account_enabled]
    author, reader = members[0].id, members[1].id
    control(handle, "POST", f"items/{drive_id}/{folder.id}/permissions/break",
            {"grants": [grant(author, "write"), grant(reader, "read")]})  # fmt: skip
    path = index_at(tmp_path / "index.db")
    db = open_index(path)
    connector = connector_for(handle)
    target = DocumentTarget(site_urls=(tenant.site_web_url(tenant.site_of(drive_id)),))
    sync_people(db, connector)
    sync_documents(db, connector, target)
    assert access.can_view(db, reader, drive_id, document.id)

    control(handle, "DELETE", f"items/{drive_id}/{document.id}")
    for n in range(200):
        tenant.add_item(drive_id, folder.id, f"Filler {n:03}.txt", False, author)
    control(handle, "POST", f"items/{drive_id}/{folder.id}/permissions/break",
            {"grants": [grant(author, "write")]})  # fmt: skip
    watch = PageWatch(path, (drive_id, document.id), {"author": author, "reader": reader})
    sync_documents(db, connector, target, progress=watch, workers=1)
    db.close()

    archiving = next(n for n, seen in enumerate(watch.seen) if seen["archived"])
    assert archiving < len(watch.seen) - 1  # the folder's own change came on a later page
    after = watch.seen[archiving:]
    assert after == [{"archived": True, "author": True, "reader": False}] * len(after)


def grant(user_id: str, role: str) -> dict:
    return {"principal": {"kind": "user", "id": user_id}, "roles": [role]}
