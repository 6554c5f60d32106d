"""CSRF, the Content-Security-Policy and other headers, rate limits and the audit log.

Through the real app on a synced emulator tenant (tests/overlay_app/conftest.py): people sign
in through the emulator's sign-in page, API callers bring real bearer tokens, and "nothing
written" is checked on the comment rows themselves.
"""

from __future__ import annotations

import re
import sqlite3
import time
from urllib.parse import urlencode

import psycopg
import pytest
from flask import Blueprint

from overlay_app import create_app, db, rate_limits, security
from overlay_app.auth import views as auth
from overlay_app.errors import RateLimited
from overlay_app.settings import SettingsError
from tests.overlay_app.conftest import app_on_backend, drop_when_done

EXPIRED = "the form expired: reload the page and try again"
SCRIPT_TAG = re.compile(r"<script[^>]*>")


def comment_rows(app) -> list[tuple[str, str]]:
    with app.app_context():
        return list(db.social().execute("SELECT author_id, body FROM comments ORDER BY rowid"))


def person_id(app, upn: str) -> str:
    return app.extensions["plaza.test_env"].tenant.user(upn).id


@pytest.fixture
def reader(app, people, sign_in):
    """A test client signed in as the reader of `document`."""
    client = app.test_client()
    sign_in(client, people["reader"])
    return client


# -- CSRF ----------------------------------------------------------------------------------------


def test_a_comment_form_with_the_token_is_accepted(app, reader, document, people, csrf_token):
    drive_id, item_id = document
    response = reader.post(
        f"/documents/{drive_id}/{item_id}/comments",
        data={"body": "Looks right", "csrf_token": csrf_token(reader)},
    )
    assert response.status_code == 303
    assert comment_rows(app) == [(person_id(app, people["reader"]), "Looks right")]


@pytest.mark.parametrize("sent", [None, "", "forged-token"])
def test_a_comment_form_without_the_right_token_is_refused_and_writes_nothing(
    app, reader, document, sent
):
    drive_id, item_id = document
    form = {"body": "Sneaky"} if sent is None else {"body": "Sneaky", "csrf_token": sent}
    response = reader.post(f"/documents/{drive_id}/{item_id}/comments", data=form)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert EXPIRED in response.get_data(as_text=True)
    assert comment_rows(app) == []


def test_a_token_from_another_session_is_refused(
    app, reader, document, people, sign_in, csrf_token
):
    other = app.test_client()
    sign_in(other, people["author"])
    drive_id, item_id = document
    response = reader.post(
        f"/documents/{drive_id}/{item_id}/comments",
        data={"body": "Sneaky", "csrf_token": csrf_token(other)},
    )
    assert response.status_code == 400
    assert comment_rows(app) == []


def test_signed_out_visitors_get_no_session_from_a_page(app):
    response = app.test_client().get("/signout")
    assert response.status_code == 200
    assert '<meta name="csrf-token" content="">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_sign_out_needs_the_token(reader, csrf_token):
    assert reader.post("/signout").status_code == 400
    assert reader.get("/api/v1/me").status_code == 200  # still signed in
    assert reader.post("/signout", data={"csrf_token": csrf_token(reader)}).status_code == 302
    assert reader.get("/api/v1/me").status_code == 401


def test_api_calls_with_the_session_cookie_need_the_header(app, reader, document, csrf_token):
    drive_id, item_id = document
    path = f"/api/v1/documents/{drive_id}/{item_id}/comments"
    refused = reader.post(path, json={"body": "No header"})
    assert refused.status_code == 400
    assert refused.get_json() == {"error": {"code": "badRequest", "message": EXPIRED}}
    wrong = reader.post(path, json={"body": "Wrong header"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 400
    accepted = reader.post(
        path, json={"body": "With header"}, headers={"X-CSRF-Token": csrf_token(reader)}
    )
    assert accepted.status_code == 201
    assert [body for _author, body in comment_rows(app)] == ["With header"]


def test_bearer_calls_are_exempt_and_cookieless_calls_meet_sign_in_first(
    app, api, document, people
):
    drive_id, item_id = document
    path = f"/api/v1/documents/{drive_id}/{item_id}/comments"
    assert api(people["author"]).post(path, json={"body": "By token"}).status_code == 201
    anonymous = app.test_client().post(path, json={"body": "Nobody"})
    assert anonymous.status_code == 401
    assert comment_rows(app) == [(person_id(app, people["author"]), "By token")]


def test_a_signed_out_form_post_is_sent_to_sign_in_and_back_to_its_page(app, document):
    """Sign-in comes before the CSRF check: no session means no "form expired" (400), but the
    sign-in a GET would get, returning to the page the form was on."""
    page = "/documents/{}/{}".format(*document)
    anonymous = app.test_client()
    for referrer, back in [
        (f"http://localhost{page}?sort=new", f"{page}?sort=new"),
        ("https://elsewhere.example/documents/x/y", "/"),  # another site's page: home
        (None, "/"),
    ]:
        headers = {"Referer": referrer} if referrer else {}
        posted = anonymous.post(page + "/comments", data={"body": "Nobody"}, headers=headers)
        assert posted.status_code == 303
        assert posted.headers["Location"] == "/signin?" + urlencode({"next": back})
    assert comment_rows(app) == []


def test_a_form_posted_after_the_session_ended_goes_to_sign_in(
    make_app, clock, people, document, sign_in, csrf_token
):
    app = make_app(session_idle_minutes=1)
    client = app.test_client()
    sign_in(client, people["reader"])
    token = csrf_token(client)
    page = "/documents/{}/{}".format(*document)
    clock.advance(61)
    posted = client.post(
        page + "/comments",
        data={"body": "Too late", "csrf_token": token},
        headers={"Referer": "http://localhost" + page},
    )
    assert posted.status_code == 303
    assert posted.headers["Location"] == "/signin?" + urlencode({"next": page})
    called = client.post(page.replace("/", "/api/v1/", 1) + "/comments", json={"body": "Late"})
    assert called.status_code == 401
    assert called.get_json()["error"]["code"] == "unauthenticated"
    assert called.headers["WWW-Authenticate"] == "Bearer"
    assert comment_rows(app) == []


def test_reads_need_no_token(reader, document):
    drive_id, item_id = document
    assert reader.get(f"/api/v1/documents/{drive_id}/{item_id}/comments").status_code == 200


def test_views_marked_exempt_skip_the_check(make_app):
    app = make_app()
    probe = Blueprint("probe", __name__)

    @probe.post("/probe")
    @auth.public
    @security.csrf_exempt
    def exempt():
        return "", 204

    app.register_blueprint(probe)
    assert app.test_client().post("/probe").status_code == 204


# -- Content-Security-Policy and headers ---------------------------------------------------------


def expected_policy(app, nonce: str, frame_ancestors: str = "'self'") -> str:
    base_url = app.extensions["plaza.test_env"].handle.base_url
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "object-src 'none'; "
        "base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}; "
        f"form-action 'self' {base_url}"
    )


def test_pages_carry_the_policy_with_a_fresh_nonce_on_their_script(app, reader, document):
    drive_id, item_id = document
    nonces = []
    for path in ("/", f"/documents/{drive_id}/{item_id}", "/signout"):
        response = reader.get(path)
        assert response.status_code == 200, path
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        assert response.headers["Content-Security-Policy"] == expected_policy(app, nonce)
        scripts = SCRIPT_TAG.findall(response.get_data(as_text=True))
        assert scripts[0] == f'<script src="/static/plaza.js" nonce="{nonce}" defer>', path
        assert all(f'nonce="{nonce}"' in tag for tag in scripts), path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        nonces.append(nonce)
    assert len(set(nonces)) == 3 and all(len(n) >= 24 for n in nonces)


def test_api_answers_errors_and_static_files_carry_the_headers_too(app, reader):
    for path in ("/api/v1/me", "/api/v1/nothing-here", "/static/plaza.css"):
        with reader.get(path) as response:  # closes the static file
            headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        nonce = re.search(r"'nonce-([^']+)'", headers["Content-Security-Policy"])[1]
        assert headers["Content-Security-Policy"] == expected_policy(app, nonce), path


def test_strict_transport_security_goes_over_https_only(reader):
    for path in ("/", "/api/v1/me", "/api/v1/nothing-here", "/static/plaza.css"):
        with reader.get(path, base_url="https://localhost") as response:
            assert response.headers["Strict-Transport-Security"] == (
                "max-age=31536000; includeSubDomains"
            ), path
        with reader.get(path) as response:  # plain http: a browser must ignore it, so never
            assert response.request.scheme == "http"
            assert "Strict-Transport-Security" not in response.headers, path


def test_frame_ancestors_come_from_the_settings(make_app):
    hosts = "'self' https://teams.microsoft.com https://*.sharepoint.com"
    app = make_app(extra={"testing": True, "frame_ancestors": hosts})
    response = app.test_client().get("/signout")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
    assert response.headers["Content-Security-Policy"] == expected_policy(app, nonce, hosts)


def test_a_frame_ancestor_that_would_break_the_header_stops_the_start(plaza_env, tmp_path, request):
    settings = plaza_env.settings(
        tmp_path, extra={"testing": True, "frame_ancestors": ["https://a.test", "x; script-src *"]}
    )
    drop_when_done(request, settings, tmp_path)  # no app to close, but a database to drop
    with pytest.raises(SettingsError) as stopped:
        create_app(settings)
    assert stopped.value.problems == ["frame ancestor 'x; script-src *' is not a CSP source"]


# -- rate limits -------------------------------------------------------------------------------


def test_writes_beyond_the_limit_get_429_with_retry_after_and_write_nothing(
    make_app, api, document, people
):
    app = make_app(writes_per_minute=3)
    author, reader = (people["author"], people["reader"])
    drive_id, item_id = document
    path = f"/api/v1/documents/{drive_id}/{item_id}/comments"
    token = app.extensions["plaza.test_env"].handle.token("api", user=author)
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    statuses = [
        client.post(path, json={"body": f"Note {n}"}, headers=headers).status_code for n in range(3)
    ]
    refused = client.post(path, json={"body": "One too many"}, headers=headers)
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    retry_after = refused.headers["Retry-After"]
    assert retry_after in ("59", "60")  # a minute after the first write, rounded up
    assert refused.get_json() == {
        "error": {
            "code": "tooManyRequests",
            "message": f"Too many changes at once: try again in {retry_after} s.",
        }
    }
    assert [body for _author, body in comment_rows(app)] == ["Note 0", "Note 1", "Note 2"]
    other_token = app.extensions["plaza.test_env"].handle.token("api", user=reader)
    other = client.post(
        path, json={"body": "Mine"}, headers={"Authorization": f"Bearer {other_token}"}
    )
    assert other.status_code == 201  # the limit is per person


def test_the_limit_is_shared_by_every_worker(plaza_env, tmp_path, document, people, request):
    # Two apps on one data directory (and database) stand for two gunicorn worker processes.
    plaza_env.copy_index(tmp_path)
    first, second = (
        app_on_backend(plaza_env, tmp_path, request, writes_per_minute=3) for _ in range(2)
    )
    drive_id, item_id = document
    path = f"/api/v1/documents/{drive_id}/{item_id}/comments"
    headers = {"Authorization": f"Bearer {plaza_env.handle.token('api', user=people['author'])}"}
    for n, app in enumerate((first, second, first)):
        answer = app.test_client().post(path, json={"body": f"Note {n}"}, headers=headers)
        assert answer.status_code == 201
    answer = second.test_client().post(path, json={"body": "Too many"}, headers=headers)
    assert answer.status_code == 429


def test_the_window_slides(make_app):
    app = make_app(writes_per_minute=3)
    with app.test_request_context():
        with db.transaction() as conn:  # three writes made 61, 59 and 30 seconds ago
            conn.executemany(
                "INSERT INTO rate_events (person_id, action, at) VALUES ('ann', 'like', ?)",
                [(time.time() - age,) for age in (61, 59, 30)],
            )
        security.check_rate("ann", "like")  # the 61-second-old write no longer counts
        with pytest.raises(RateLimited) as refused:
            security.check_rate("ann", "like")
        assert refused.value.retry_after == 1  # when the 59-second-old one leaves the window
        security.check_rate("ann", "comment")  # each kind of write has its own window
        counts = db.social().execute(
            "SELECT action, count(*) FROM rate_events GROUP BY action ORDER BY action"
        )
        assert list(counts) == [("comment", 1), ("like", 4)]  # the old one not pruned yet


def test_writes_out_of_the_window_are_pruned_in_batches(make_app):
    """Older writes are deleted once PRUNE_STALE of them are left, not one by one (a
    statement fewer per write); the window counts only the last minute either way."""
    app = make_app(writes_per_minute=3)
    stale = rate_limits.PRUNE_STALE
    with app.test_request_context():
        with db.transaction() as conn:
            conn.executemany(
                "INSERT INTO rate_events (person_id, action, at) VALUES ('ann', 'like', ?)",
                [(time.time() - 61 - n,) for n in range(stale - 1)],
            )
        security.check_rate("ann", "like")  # stale - 1 old ones: kept
        kept = "SELECT count(*) FROM rate_events WHERE action = 'like'"
        assert db.social().execute(kept).fetchone() == (stale,)
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO rate_events (person_id, action, at) VALUES ('ann', 'like', ?)",
                [time.time() - 61],
            )
        security.check_rate("ann", "like")  # stale old ones: pruned
        assert db.social().execute(kept).fetchone() == (2,)


# -- audit -------------------------------------------------------------------------------------


def test_audit_appends_and_refuses_changes(app):
    with app.test_request_context():
        security.audit("ann", "admin.job.pause", "job:people")
        security.audit(None, "access.denied", "document:d/i", {"why": "not visible"})
        conn = db.social().conn
        for statement in ("UPDATE audit SET action = 'x'", "DELETE FROM audit"):
            refused = (sqlite3.IntegrityError, psycopg.errors.RaiseException)
            with pytest.raises(refused, match="the audit log is append-only"):
                conn.execute(statement)
        query = "SELECT id, at, actor_id, action, target, detail FROM audit"
        rows = list(db.social().execute(query))
    assert [row[2:] for row in rows] == [
        ("ann", "admin.job.pause", "job:people", None),
        (None, "access.denied", "document:d/i", '{"why": "not visible"}'),
    ]
    assert [row[0] for row in rows] == [1, 2]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row[1]) for row in rows)


def test_audit_inside_a_transaction_commits_or_rolls_back_with_it(app):
    with app.test_request_context():
        with pytest.raises(RuntimeError), db.transaction():
            security.audit("ann", "admin.action", "x")
            raise RuntimeError("the admin action failed")
        assert db.social().execute("SELECT count(*) FROM audit").fetchone() == (0,)


def test_a_refused_document_read_is_audited_without_its_title(app, document, people, sign_in):
    outsider = app.test_client()
    sign_in(outsider, people["outsider"])
    drive_id, item_id = document
    name = app.extensions["plaza.test_env"].tenant.item(drive_id, item_id).name
    assert outsider.get(f"/documents/{drive_id}/{item_id}").status_code == 404
    with app.app_context():
        rows = list(db.social().execute("SELECT actor_id, action, target, detail FROM audit"))
    target = f"document:{drive_id}/{item_id}"
    assert rows == [(person_id(app, people["outsider"]), "access.denied", target, "not visible")]
    assert name not in str(rows)
