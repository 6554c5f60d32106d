"""Who plays which part in the admin console's tests: the admin (tests/overlay_app/conftest.py
picks them from the admin group) and a moderator, a member of another group that holds none of
the cast and no admin; plus `staff_app(make_app)`, the app that knows both groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.overlay_app.conftest import PlazaEnv


def moderator_group(env: PlazaEnv) -> tuple[str, str]:
    """(group id, a member's UPN): a group of members with no one of the cast and no admin."""
    tenant = env.tenant
    admins = set(tenant.transitive_members(env.admin_group_id))
    cast = set(env.people.values())
    for group in sorted(tenant.groups.values(), key=lambda g: g.display_name):
        if group.id == env.admin_group_id:
            continue
        members = [tenant.user(m) for m in tenant.transitive_members(group.id)]
        if not members or any(m is None or m.user_type != "Member" for m in members):
            continue
        if {m.user_principal_name for m in members} & cast or {m.id for m in members} & admins:
            continue
        enabled = [m for m in members if m.account_enabled and not m.deleted]
        if enabled:
            return group.id, enabled[0].user_principal_name
    raise AssertionError("no group for moderators")


def staff_app(
    make_app: Callable[..., Flask], env: PlazaEnv, fresh: bool = False, **settings: Any
) -> Flask:
    """The app on `env` (pass fresh=True for a fresh_plaza_env) with the moderators' group."""
    group_id, _ = moderator_group(env)
    if fresh:
        settings["env"] = env
    return make_app(moderator_group_id=group_id, writes_per_minute=10_000, **settings)
