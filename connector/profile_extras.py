"""Who manages whom and who has a photo, for many users at once through $batch.

Users delta does not carry `manager` (a relationship) or whether a photo exists, and asking
`/users/{id}/manager` and `/users/{id}/photo` one user at a time costs two round trips each.
Here both go in `$batch` calls (20 requests each): a 404 means "no manager" / "no photo";
any other error leaves the answer unknown (None) rather than guessing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from connector.graph_directory import USERS_READ
from connector.http import BatchRequest, GraphHttp


@dataclass(frozen=True)
class ProfileExtras:
    manager_id: str | None  # None: no manager, or unknown when manager_known is False
    manager_known: bool
    has_photo: bool | None  # None: could not tell
    photo_etag: str | None = None  # the photo's @odata.mediaEtag: changes when the photo does


def profile_extras(http: GraphHttp, user_ids: Iterable[str]) -> dict[str, ProfileExtras]:
    """Manager and photo presence of each user; raises PermissionMissing on 403."""
    ids = list(dict.fromkeys(user_ids))
    requests_: list[BatchRequest] = []
    for n, user_id in enumerate(ids):
        requests_.append(BatchRequest(f"m{n}", f"/users/{user_id}/manager?$select=id"))
        requests_.append(BatchRequest(f"p{n}", f"/users/{user_id}/photo"))
    answers = http.batch(requests_)
    found: dict[str, ProfileExtras] = {}
    for n, user_id in enumerate(ids):
        manager, photo = answers[f"m{n}"], answers[f"p{n}"]
        for answer in (manager, photo):
            if answer.status == 403:
                answer.raise_for_error(needs=USERS_READ)
        manager_known = manager.status < 400 or manager.status == 404
        manager_id = (manager.body or {}).get("id") if manager.status < 400 else None
        has_photo = True if photo.status < 400 else False if photo.status == 404 else None
        etag = (photo.body or {}).get("@odata.mediaEtag") if photo.status < 400 else None
        found[user_id] = ProfileExtras(manager_id, manager_known, has_photo, etag)
    return found


def photos(http: GraphHttp, user_ids: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
    """Each user's photo as (content type, bytes), through $batch (Graph sends a binary body
    there base64-encoded); None where there is none (404). Raises PermissionMissing on 403;
    any other error leaves the user out, to be asked again at the next sync."""
    ids = list(dict.fromkeys(user_ids))
    asked = [BatchRequest(f"p{n}", f"/users/{uid}/photo/$value") for n, uid in enumerate(ids)]
    answers = http.batch(asked)
    found: dict[str, tuple[str, bytes] | None] = {}
    for n, user_id in enumerate(ids):
        answer = answers[f"p{n}"]
        if answer.status == 403:
            answer.raise_for_error(needs=USERS_READ)
        if answer.status == 404:
            found[user_id] = None
        elif answer.status < 400 and isinstance(answer.body, str):
            kind = answer.headers.get("content-type", "image/jpeg").split(";")[0].strip()
            found[user_id] = (kind, base64.b64decode(answer.body))
    return found
