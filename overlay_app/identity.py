"""Who is asking: the signed-in person (or bearer-token caller) of the current request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from overlay_app.errors import Unauthenticated

ADMIN, MEMBER, GUEST = "admin", "member", "guest"
MODERATOR = "moderator"
# Who an erased person's kept words belong to (admin/data_requests.py): shown as "Deleted person".
ERASED_PERSON = "erased-person"


@dataclass(frozen=True)
class Person:
    id: str  # Entra object id
    display_name: str
    upn: str
    guest: bool
    roles: frozenset[str]  # ADMIN / MODERATOR / MEMBER / GUEST

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_moderator(self) -> bool:
        """Moderators handle reports; admins may too."""
        return MODERATOR in self.roles or ADMIN in self.roles


def current_person() -> Person | None:
    return g.get("person")


def require_person() -> Person:
    person = current_person()
    if person is None:
        raise Unauthenticated()
    return person
