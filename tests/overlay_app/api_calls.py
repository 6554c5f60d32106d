"""Calls to Plaza's JSON API that many test modules make, each checking that it succeeded, and
the answers they compare with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NOT_FOUND = {"error": {"code": "notFound", "message": "Not found."}}


def answer(response, status: int = 200) -> Any:
    """The JSON body, once the status is the one expected (the body is shown otherwise)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


def comments_path(document: tuple[str, str]) -> str:
    return "/api/v1/documents/{}/{}/comments".format(*document)


def post(api, document, body: str, parent_id: str | None = None, key: str | None = None):
    """POSTs a comment (or a reply to `parent_id`), with an Idempotency-Key when `key` is given."""
    headers = {"Idempotency-Key": key} if key else None
    return api.post(
        comments_path(document), json={"body": body, "parent_id": parent_id}, headers=headers
    )


def posted(api, document, body: str, parent_id: str | None = None) -> dict[str, Any]:
    """A new comment (or reply), as the API answers it."""
    response = post(api, document, body, parent_id)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_two_writes_a_minute(write: Callable[..., Any]) -> None:
    """For an app made with writes_per_minute=2: `write(body, key=None)` is allowed twice (a
    replay with the same Idempotency-Key is no new write), then answered 429 with a
    Retry-After of at most a minute."""
    assert write("one", key="k1").status_code == 201
    assert write("one", key="k1").status_code == 201  # a replay: not a write
    assert write("two").status_code == 201
    limited = write("three")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "tooManyRequests"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def send(api, room_id: str, body: Any, key: str | None = None, headers=None):
    """POSTs a chat message, with a client_key (the retry key of chat) when `key` is given."""
    payload = {"body": body} if key is None else {"body": body, "client_key": key}
    return api.post(f"/api/v1/rooms/{room_id}/messages", json=payload, headers=headers)


def sent(api, room_id: str, body: str, key: str | None = None) -> dict[str, Any]:
    """A new chat message, as the API answers it."""
    return answer(send(api, room_id, body, key), 201)


def mention(person: dict[str, str]) -> str:
    """How a message or comment mentions `person` ({"id", "displayName"})."""
    return f"@[{person['displayName']}]({person['id']})"


def document_room(api, document) -> dict[str, Any]:
    """The document's chat room as the API answers it, opened by the caller (made on first
    open, 201; the same room after that, 200)."""
    response = api.post("/api/v1/documents/{}/{}/room".format(*document))
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def profile(env, upn: str, roles: list[str]) -> dict[str, Any]:
    """What GET /api/v1/me answers for `upn` with `roles`, from the emulated tenant (`env`)."""
    user = env.tenant.user(upn)
    return {
        "id": user.id,
        "displayName": user.display_name,
        "upn": upn,
        "mail": user.mail,
        "jobTitle": user.job_title,
        "department": user.department,
        "roles": roles,
    }
