"""A large batch of documents is checked in set form (the holders that admit a person, found
once) and a small one key by key: both must admit exactly the same documents, for everyone,
archived documents included."""

from __future__ import annotations

import json

import pytest

from overlay_app import access, db
from overlay_app.auth import views as auth
from sync import visibility
from sync.db import connect
from sync.trimming import principal_set, principals_json
from tests.postgres import index_at


def archive_a_folder_with_its_own_permissions(env) -> None:
    """Deletes, in SharePoint, a folder that holds its own ACL (so its files are archived with
    their holder) and one file elsewhere; then syncs."""
    tenant = env.handle.tenant
    folders = [
        item
        for state in tenant.drives.values()
        if not state.drive.system
        for item in state.iter_items()
        if item.folder and item.unique_permissions and not item.is_root
    ]
    assert folders
    folder = folders[0]
    assert tenant.children(folder.drive_id, folder.id)
    env.control("DELETE", f"/items/{folder.drive_id}/{folder.id}")
    env.sync(env.data_dir, people=False)


@pytest.fixture
def index(fresh_plaza_env):
    archive_a_folder_with_its_own_permissions(fresh_plaza_env)
    db = connect(index_at(fresh_plaza_env.data_dir / "index.db"), readonly=True)
    yield db
    db.close()


def test_the_set_form_admits_what_the_per_key_form_admits(index) -> None:
    keys = json.dumps(sorted(index.execute("SELECT drive_id, item_id FROM items").fetchall()))
    archived = index.execute("SELECT count(*) FROM items WHERE deleted = 1").fetchone()[0]
    assert archived >= 2
    people = [person_id for (person_id,) in index.execute("SELECT id FROM people ORDER BY id")]
    seen_archived = 0
    for person_id in people:
        params = {"keys": keys, "principals": principals_json(principal_set(index, person_id))}
        by_key = set(index.execute(visibility.VISIBLE_AMONG_SQL, params).fetchall())
        by_holders = set(index.execute(visibility.VISIBLE_AMONG_BY_HOLDERS_SQL, params).fetchall())
        assert by_holders == by_key, person_id
        seen_archived += index.execute(
            "SELECT count(*) FROM items WHERE deleted = 1 AND (drive_id, item_id) IN "
            "(SELECT value ->> 0, value ->> 1 FROM json_each(?))",
            [json.dumps(sorted(by_key))],
        ).fetchone()[0]
    assert seen_archived > 0  # archived documents were admitted to someone, in both forms


def test_a_batch_past_the_threshold_takes_the_set_form(
    fresh_plaza_env, make_app, people, monkeypatch
) -> None:
    archive_a_folder_with_its_own_permissions(fresh_plaza_env)
    app = make_app(env=fresh_plaza_env)  # its index a copy: made while nobody reads the source
    reader = fresh_plaza_env.handle.tenant.user(people["reader"]).id
    with app.test_request_context():
        keys = db.index().execute("SELECT drive_id, item_id FROM items").fetchall()
        person = auth.load_person(reader)
        assert person is not None
        key_by_key = access.filter_visible(person, keys)
        statements: list[str] = []
        db.index().conn.set_trace_callback(statements.append)
        monkeypatch.setattr(visibility, "SET_FORM_FROM", len(keys))
        in_set_form = access.filter_visible(person, keys)
        db.index().conn.set_trace_callback(None)
    assert in_set_form == key_by_key and len(key_by_key) > 10
    assert [s for s in statements if "admitting(" in s] != []
