"""Stable GUIDs for what the build names, derived (uuid5) rather than random.

Rebuilding with the same inputs gives the same ids, so re-uploading the Teams package updates
the app instead of adding a second one, and re-applying the registration keeps the scope and
role ids that consents and role assignments already point at.
"""

from __future__ import annotations

import uuid

# Plaza's own namespace for these names (uuid5 of the URL namespace and "plaza manifests").
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:plaza:manifests")


def _derived(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


def teams_app_id(client_id: str, public_url: str) -> str:
    """The Teams app's id: one app per registration and address."""
    return _derived("teams-app", client_id.lower(), public_url)


def access_as_user_scope_id(client_id: str) -> str:
    """The `access_as_user` scope's id: tied to the registration only, so moving Plaza to
    another address keeps the consents people gave."""
    return _derived("scope:access_as_user", client_id.lower())


def admin_role_id(client_id: str) -> str:
    """The id of the app role that makes a person a Plaza admin (settings.admin_role)."""
    return _derived("app-role:Plaza.Admin", client_id.lower())
