"""The Entra app registration, in Microsoft Graph's `application` resource shape.

An admin applies it to the registration Plaza already uses (PATCH
/applications(appId='{client id}')): it exposes Plaza's API as `api://{host}/{client id}`
with an `access_as_user` scope that Teams and Microsoft 365 clients are pre-authorised for,
asks for v2.0 access tokens, and lists every Graph and SharePoint permission Plaza uses by
its GUID (manifests/README.md says why each is needed).
"""

from __future__ import annotations

from plaza.manifests import ids
from plaza.manifests.inputs import BuildInputs
from plaza.manifests.templates import filled


def registration(inputs: BuildInputs) -> dict:
    return filled(
        "app-registration.json",
        {
            "app_id_uri": inputs.app_id_uri,
            "redirect_uri": inputs.redirect_uri,
            "public_url": inputs.public_url,
            "scope_id": ids.access_as_user_scope_id(inputs.client_id),
            "admin_role_id": ids.admin_role_id(inputs.client_id),
        },
    )


def admin_consent_url(inputs: BuildInputs) -> str:
    """Where a tenant admin grants every permission the registration lists, once, for everyone
    (the admin consent endpoint; the portal's "Grant admin consent" button does the same)."""
    return f"{inputs.login_url}/{inputs.tenant_id}/adminconsent?client_id={inputs.client_id}"
