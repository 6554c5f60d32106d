"""Faces: a person's synced photo, else their initials, at one URL per person."""

from __future__ import annotations

import pytest

from overlay_app.people.photos import initials, initials_svg


@pytest.fixture
def reader(app, sign_in, people):
    client = app.test_client()
    sign_in(client, people["reader"])
    return client


def test_initials_are_first_and_last_names_first_letters():
    assert initials("Ada Lovelace") == "AL"
    assert initials("Jan van der Berg") == "JB"
    assert initials("Prince") == "P"
    assert initials("ada@firm.example") == "A"
    assert initials("  ") == "?"


def test_a_photo_synced_from_graph_is_served_with_its_etag(reader, plaza_env):
    tenant = plaza_env.tenant
    user = next(
        u for u in tenant.users.values() if u.has_photo and not u.deleted and u.account_enabled
    )
    answer = reader.get(f"/people/{user.id}/photo")
    assert answer.status_code == 200
    assert (answer.content_type, answer.data) == ("image/png", tenant.photo(user.id))
    assert answer.headers["Cache-Control"] == "private, max-age=3600"
    again = reader.get(
        f"/people/{user.id}/photo", headers={"If-None-Match": answer.headers["ETag"]}
    )
    assert (again.status_code, again.data) == (304, b"")


def test_without_a_photo_the_initials_stand_in(reader, plaza_env):
    user = next(u for u in plaza_env.tenant.users.values() if not u.has_photo and not u.deleted)
    answer = reader.get(f"/people/{user.id}/photo")
    assert answer.status_code == 200
    assert answer.content_type == "image/svg+xml"
    assert answer.get_data(as_text=True) == initials_svg(user.id, user.display_name)
    assert f">{initials(user.display_name)}</text>" in answer.get_data(as_text=True)


def test_nobody_the_index_lists_has_no_face(reader, app, plaza_env):
    assert reader.get("/people/no-such-person/photo").status_code == 404
    someone = next(iter(plaza_env.tenant.users))
    signed_out = app.test_client().get(f"/people/{someone}/photo")
    assert signed_out.status_code == 302  # to sign-in, as every page
