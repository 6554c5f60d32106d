"""Who manages whom and who has a photo, for many users at once through $batch.

Users delta does not carry `manager` (a relationship) or whether a photo exists, and asking
`/users/{id}/manager` and `/users/{id}/photo` one user at a time costs two round trips each.
Here both go in `$batch` calls (20 requests each): a 404 means "no manager" / "no photo";
any other error leaves the answer unknown (None) rather than guessing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connector.graph_directory import USERS_READ
from connector.http import BatchRequest, GraphHttp


@dataclass(frozen=True)
class ProfileExtras:
    manager_id: str | None  # None: no manager, or unknown when manager_known is False
    manager_known: bool
    has_photo: bool | None  # None: could not tell


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
        found[user_id] = ProfileExtras(manager_id, manager_known, has_photo)
    return found
