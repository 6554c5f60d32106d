"""Terms of use: versioned, accepted before the first write, recorded."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.overlay_app.admin_staff import staff_app
from tests.overlay_app.app_rows import committed_rows
from tests.overlay_app.conftest import Api, PlazaEnv, csrf_token, sign_in


def test_terms_gate_every_write_until_accepted(
    make_app: Callable[..., Flask], plaza_env: PlazaEnv, document
):
    app = staff_app(make_app, plaza_env)
    reader = Api(app.test_client(), plaza_env.handle.token("api", user=plaza_env.people["reader"]))
    comments = f"/api/v1/documents/{document[0]}/{document[1]}/comments"
    assert reader.post(comments, json={"body": "Before any terms"}).status_code == 201
    admin = app.test_client()
    sign_in(admin, plaza_env.people["admin"])
    published = admin.post("/admin/terms", data={"text": "Be kind.\n\nNo secrets.",
                                                 "csrf_token": csrf_token(admin)})  # fmt: skip
    assert published.status_code == 303
    refused = reader.post(comments, json={"body": "After the terms"})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "termsNotAccepted")
    assert reader.get("/api/v1/terms").get_json() == {
        "version": 1, "text": "Be kind.\n\nNo secrets.",
        "publishedAt": reader.get("/api/v1/terms").get_json()["publishedAt"], "accepted": False,
    }  # fmt: skip
    page = app.test_client()
    sign_in(page, plaza_env.people["reader"])
    form = page.post(comments.removeprefix("/api/v1"),
                     data={"body": "By form", "csrf_token": csrf_token(page)})  # fmt: skip
    assert (form.status_code, form.headers["Location"]) == (303, "/terms")
    assert "I accept these terms" in page.get("/terms").get_data(as_text=True)
    assert reader.post("/api/v1/terms/accept", json={"version": 1}).get_json() == {"accepted": 1}
    assert reader.post(comments, json={"body": "After accepting"}).status_code == 201
    admin.post("/admin/terms", data={"text": "Version two.", "csrf_token": csrf_token(admin)})
    assert reader.post(comments, json={"body": "Again"}).status_code == 403
    stale = reader.post("/api/v1/terms/accept", json={"version": 1})
    assert stale.status_code == 409
    rows = committed_rows(app, "SELECT person_id, version FROM terms_acceptances")
    audited = committed_rows(
        app, "SELECT action, target FROM audit WHERE action = 'admin.terms.publish' ORDER BY id"
    )
    assert rows == [(plaza_env.tenant.user(plaza_env.people["reader"]).id, 1)]
    assert audited == [("admin.terms.publish", "terms:1"), ("admin.terms.publish", "terms:2")]
