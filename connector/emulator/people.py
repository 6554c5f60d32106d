"""The firm's people and groups: a partner-led hierarchy per practice, guests, nested groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from connector.emulator import names
from connector.emulator.model import Group, User

if TYPE_CHECKING:
    from connector.emulator.generator import Practice, TenantSpec

EPOCH = datetime(2019, 1, 7, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_people(spec: TenantSpec, practices: list[Practice]) -> list[User]:
    ids, taken = spec.ids, set()
    guests = max(1, spec.people // 30)
    users: list[User] = []
    for n in range(spec.people):
        dice = ids.number("person", n)
        first = names.FIRST_NAMES[dice % len(names.FIRST_NAMES)]
        last = names.LAST_NAMES[(dice >> 8) % len(names.LAST_NAMES)]
        guest = n >= spec.people - guests
        practice = practices[(n - 1) % len(practices)] if n else practices[0]
        users.append(_person(spec, n, first, last, guest, practice, taken))
    _assign_managers(users, practices)
    disabled = max(1, spec.people // 40)
    for user in users[-guests - disabled : -guests]:
        user.account_enabled = False
    return users


def _person(spec, n, first, last, guest, practice, taken) -> User:
    ids, dice = spec.ids, spec.ids.number("person-detail", n)
    local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    while local in taken:
        local += str(len(taken) % 10)
    taken.add(local)
    if guest:
        domain = names.GUEST_DOMAINS[n % len(names.GUEST_DOMAINS)]
        mail = f"{local}@{domain}"
        upn = f"{local}_{domain}#EXT#@{names.DOMAIN}"
    else:
        mail = upn = f"{local}@{names.DOMAIN}"
    user = User(
        id=ids.guid("user", n),
        user_principal_name=upn,
        display_name=f"{first} {last}",
        given_name=first,
        surname=last,
        mail=mail,
        job_title=None if guest else names.TITLES[min(5, 2 + dice % 4)],
        department=None if guest else practice.title,
        office_location=None if guest else names.OFFICES[dice % len(names.OFFICES)],
        business_phones=[] if guest else [f"+44 20 7946 {1000 + n % 9000:04d}"],
        mobile_phone=None if guest or dice % 3 else f"+44 7700 9{n % 100000:05d}",
        manager_id=None,
        user_type="Guest" if guest else "Member",
        has_photo=not guest and dice % 5 < 3,
        created_at=iso(EPOCH + timedelta(days=dice % 2000)),
    )
    if not guest:
        practice.member_ids.append(user.id)
    return user


def _assign_managers(users: list[User], practices: list[Practice]) -> None:
    """Managing partner on top; per practice a partner, directors under them, staff below."""
    managing = users[0]
    managing.job_title = "Managing Partner"
    by_id = {u.id: u for u in users}
    for practice in practices:
        staff = [by_id[i] for i in practice.member_ids if i != managing.id]
        if not staff:
            practice.owner_ids = [managing.id]
            continue
        head, directors = staff[0], staff[1:3]
        head.job_title, head.manager_id = "Partner", managing.id
        for director in directors:
            director.job_title, director.manager_id = "Director", head.id
        leads = [head, *directors]
        for k, person in enumerate(staff[3:]):
            person.manager_id = leads[k % len(leads)].id
        practice.owner_ids = [p.id for p in leads]


def generate_groups(spec, practices, users) -> tuple[list[Group], dict[str, str]]:
    ids, created = spec.ids, iso(EPOCH)
    guests = [u.id for u in users if u.user_type == "Guest"]
    groups: list[Group] = []
    for k, practice in enumerate(practices):
        practice.group_id = ids.guid("group", practice.code)
        practice.leadership_group_id = ids.guid("group", practice.code, "leadership")
        members = list(practice.member_ids) + ([guests[k]] if k < len(guests) else [])
        groups.append(
            Group(
                practice.group_id,
                practice.title,
                practice.code.lower(),
                f"Everyone in {practice.title}",
                True,
                members,
                list(practice.owner_ids),
                "Private" if practice.private else "Public",
                created,
            )
        )
        groups.append(
            Group(
                practice.leadership_group_id,
                f"{practice.code} Leadership",
                f"{practice.code.lower()}-leadership",
                f"Partners and directors of {practice.title}",
                False,
                list(practice.owner_ids),
                [],
                "Private",
                created,
            )
        )
    well_known = {
        "partners": ids.guid("group", "all-partners"),
        "staff": ids.guid("group", "all-staff"),
        "confidential": ids.guid("group", "client-confidential"),
        "editors": ids.guid("group", "intranet-editors"),
    }
    groups += [
        Group(
            well_known["partners"],
            "All Partners",
            "all-partners",
            "Every partner and director",
            False,
            [users[0].id] + [p.leadership_group_id for p in practices],
            [],
            "Private",
            created,
        ),
        Group(
            well_known["staff"],
            "All Staff",
            "all-staff",
            "Everyone employed by the firm",
            False,
            [p.group_id for p in practices],
            [],
            "Private",
            created,
        ),
        Group(
            well_known["confidential"],
            "Client Confidential",
            "client-confidential",
            "May open client-confidential matters",
            False,
            [well_known["partners"], users[-len(guests) - 1 - max(1, spec.people // 40)].id],
            [],
            "Private",
            created,
        ),
        Group(
            well_known["editors"],
            "Intranet Editors",
            "intranet-editors",
            "Publish news and policies on the intranet",
            False,
            [u.id for u in users[1:4] if u.user_type == "Member"],
            [],
            "Private",
            created,
        ),
    ]
    return groups, well_known
