"""Directory objects as Graph shows them, and the OData options over them.

A *catalog* describes one directory type: every property the emulator answers (Graph's order),
the default set a list shows without `$select`, and which properties `$filter`, `startswith` and
`$orderby` accept without advanced queries. Advanced queries (`ne`, `not`, `endswith`, `eq null`,
`$filter` with `$orderby`) need `ConsistencyLevel: eventual` plus `$count=true`, and fail with
400 Request_UnsupportedQuery "Unsupported Query." otherwise (microsoft-graph-docs issues #10324,
#11575).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import request

from connector.emulator.graph_directory_delta import decode_token, encode_token
from connector.emulator.graph_directory_filter import (
    FilterParser,
    Predicate,
    advanced_query,
    search_predicate,
    unsupported,
)
from connector.emulator.model import Group, User
from connector.emulator.odata import GraphHTTPError, absolute_url, query_param, top


@dataclass(frozen=True)
class Catalog:
    resource: str  # as error messages name it: "User", "Group"
    odata_type: str  # "#microsoft.graph.user"
    properties: tuple[str, ...]  # every property answered, in Graph's order
    defaults: tuple[str, ...]  # what a list shows without $select
    single_only: tuple[str, ...]  # only on a single-object GET (501 on lists)
    filterable: frozenset[str]
    prefix: frozenset[str]  # accepted by startswith()
    sortable: frozenset[str]
    order_by: str  # default order of lists


# fmt: off
USER_DEFAULTS = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
)
_USER_MORE = (
    "accountEnabled", "ageGroup", "city", "companyName", "country", "createdDateTime",
    "creationType", "deletedDateTime", "department", "employeeId", "employeeType",
    "externalUserState", "faxNumber", "imAddresses", "isResourceAccount", "mailNickname",
    "onPremisesSyncEnabled", "otherMails", "postalCode", "proxyAddresses", "showInAddressList",
    "state", "streetAddress", "usageLocation", "userType",
)
_USER_SINGLE = (
    "aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects", "preferredName",
    "responsibilities", "schools", "skills",
)
_USER_TEXT = frozenset((
    "displayName", "givenName", "surname", "mail", "mailNickname", "userPrincipalName",
    "jobTitle", "department", "companyName", "employeeId",
))
GROUP_PROPERTIES = (
    "id", "deletedDateTime", "classification", "createdDateTime", "description", "displayName",
    "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
    "mailNickname", "membershipRule", "onPremisesSyncEnabled", "preferredDataLocation",
    "preferredLanguage", "proxyAddresses", "renewedDateTime", "securityEnabled", "theme",
    "visibility",
)
_GROUP_FILTERABLE = frozenset((
    "id", "displayName", "mail", "mailNickname", "mailEnabled", "securityEnabled", "groupTypes",
    "proxyAddresses", "createdDateTime", "visibility",
))
# fmt: on
USERS = Catalog(
    resource="User",
    odata_type="#microsoft.graph.user",
    properties=USER_DEFAULTS + _USER_MORE,
    defaults=USER_DEFAULTS,
    single_only=_USER_SINGLE,
    filterable=_USER_TEXT
    | {"id", "accountEnabled", "userType", "createdDateTime", "otherMails", "proxyAddresses"},
    prefix=_USER_TEXT,
    sortable=frozenset(("displayName", "userPrincipalName")),
    order_by="userPrincipalName",
)
GROUPS = Catalog(
    resource="Group",
    odata_type="#microsoft.graph.group",
    properties=GROUP_PROPERTIES,
    defaults=GROUP_PROPERTIES,
    single_only=(),
    filterable=_GROUP_FILTERABLE,
    prefix=frozenset(("displayName", "mail", "mailNickname")),
    sortable=frozenset(("displayName",)),
    order_by="displayName",
)


def user_json(user: User) -> dict[str, Any]:
    """Every property of a user the emulator answers (what a `$select` may pick from)."""
    guest = user.user_type == "Guest"
    body = {
        "businessPhones": list(user.business_phones),
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": user.job_title,
        "mail": user.mail,
        "mobilePhone": user.mobile_phone,
        "officeLocation": user.office_location,
        "preferredLanguage": user.preferred_language,
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
        "id": user.id,
    }
    more = {
        "accountEnabled": user.account_enabled,
        "createdDateTime": user.created_at,
        "creationType": "Invitation" if guest else None,
        "department": user.department,
        "externalUserState": "Accepted" if guest else None,
        "imAddresses": [],
        "mailNickname": user.user_principal_name.split("@")[0],
        "otherMails": [],
        "proxyAddresses": [f"SMTP:{user.mail}"] if user.mail else [],
        "userType": user.user_type,
    }
    body.update({name: more.get(name) for name in _USER_MORE})
    return body


def group_json(group: Group, domain: str) -> dict[str, Any]:
    """Every property of a group; Microsoft 365 groups are mail-enabled with groupTypes Unified."""
    mail = f"{group.mail_nickname}@{domain}" if group.unified else None
    known = {
        "id": group.id,
        "createdDateTime": group.created_at,
        "description": group.description,
        "displayName": group.display_name,
        "groupTypes": ["Unified"] if group.unified else [],
        "mail": mail,
        "mailEnabled": group.unified,
        "mailNickname": group.mail_nickname,
        "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "renewedDateTime": group.created_at,
        "securityEnabled": not group.unified,
        "visibility": group.visibility if group.unified else None,
    }
    return {name: known.get(name) for name in GROUP_PROPERTIES}


# -- $select -------------------------------------------------------------------------------------


def selection(catalogs: tuple[Catalog, ...], collection: bool, extra: tuple[str, ...] = ()):
    """The `$select`ed property names (canonical spelling), or None without `$select`."""
    raw = query_param("$select")
    if not raw:
        return None
    names: list[str] = []
    known = {n.lower(): n for c in catalogs for n in (*c.properties, *c.single_only, *extra)}
    single = {n.lower() for c in catalogs for n in c.single_only}
    for word in (w.strip() for w in raw.split(",")):
        if not word:
            continue
        if word.lower() not in known:
            raise GraphHTTPError(
                400,
                "BadRequest",
                f"Parsing OData Select and Expand failed: Could not find a property named "
                f"'{word}' on type '{catalogs[0].odata_type[1:]}'.",
            )
        if collection and word.lower() in single:
            # Only returned for a single user (user-list.md); Graph answers 501 here.
            raise GraphHTTPError(
                501, "NotImplemented", "This operation target is not yet supported."
            )
        names.append(known[word.lower()])
    return names


def shape(body: dict[str, Any], catalog: Catalog, names: list[str] | None, typed: bool = False):
    """The JSON of one object: its `$select`ed or default properties (+ @odata.type if asked)."""
    out: dict[str, Any] = {"@odata.type": catalog.odata_type} if typed else {}
    for name in names if names is not None else catalog.defaults:
        if name in body or name in catalog.properties or name in catalog.single_only:
            out[name] = body.get(name)
    return out


# -- lists ---------------------------------------------------------------------------------------


def list_page(
    entries: list[tuple[Catalog, dict[str, Any]]],
    context: str,
    typed: bool,
    relation: bool = False,
) -> dict[str, Any]:
    """One page of a directory list: $filter, $orderby, $count, $top, $skiptoken and $select.

    `entries` pairs each object's full JSON with its catalog; a list mixing users and groups
    (a directoryObject collection) sets `typed` so that every element names its @odata.type.
    On relationships (members, memberOf, ...) $filter and $orderby are advanced queries.
    """
    catalogs = tuple(dict.fromkeys(c for c, _ in entries)) or (USERS,)
    resume = _skip_state()
    # Clients need not repeat ConsistencyLevel on later pages (paging.md): the token remembers.
    advanced = advanced_query() or bool(resume and resume.get("x"))
    count = (query_param("$count") or "").lower() == "true"
    eventual = request.headers.get("ConsistencyLevel", "").lower() == "eventual"
    if count and not eventual and not advanced:
        raise GraphHTTPError(400, "Request_BadRequest", "$count is not currently supported.")
    if relation and not advanced and (query_param("$filter") or query_param("$orderby")):
        raise unsupported()
    entries = _filtered(entries, catalogs, advanced)
    if query_param("$search"):
        entries = _searched(entries, catalogs, eventual or resume is not None)
    sort_key, descending = _order(catalogs, advanced, bool(query_param("$filter")))
    entries.sort(key=lambda e: sort_key(e[1]), reverse=descending)
    names = selection(catalogs, collection=True)
    size = top()
    start = _resume_at(entries, sort_key, descending, resume)
    chunk = entries[start : start + size]
    body: dict[str, Any] = {"@odata.context": absolute_url(context + _select_suffix(names))}
    if count and resume is None:
        body["@odata.count"] = len(entries)
    if start + size < len(entries):
        body["@odata.nextLink"] = _next_link(list(sort_key(chunk[-1][1])), advanced)
    body["value"] = [shape(b, c, names, typed) for c, b in chunk]
    return body


def _filtered(entries, catalogs: tuple[Catalog, ...], advanced: bool):
    """The entries `$filter` keeps; in a mixed list each type is tested with its own properties,
    and a type lacking a filtered property matches nothing."""
    raw = query_param("$filter")
    if not raw:
        return list(entries)
    tests: dict[Catalog, Predicate] = {}
    failure: GraphHTTPError | None = None
    for catalog in catalogs:
        try:
            tests[catalog] = FilterParser(raw, catalog, advanced).parse()
        except GraphHTTPError as err:
            failure = failure or err
    if not tests and failure:
        raise failure
    return [(c, body) for c, body in entries if c in tests and tests[c](body)]


def _searched(entries, catalogs: tuple[Catalog, ...], eventual: bool):
    raw = query_param("$search") or ""
    tests = {c: search_predicate(raw, c, eventual) for c in catalogs}
    return [(c, body) for c, body in entries if tests[c](body)]


def _order(catalogs: tuple[Catalog, ...], advanced: bool, filtered: bool):
    raw = (query_param("$orderby") or "").strip()
    prop, _, direction = raw.partition(" ")
    if not raw:
        prop = catalogs[0].order_by if len(catalogs) == 1 else "displayName"
    elif (
        prop not in catalogs[0].sortable
        or direction.strip().lower() not in ("", "asc", "desc")
        or (filtered and not advanced)  # $filter with $orderby is an advanced query
    ):
        raise unsupported()

    def key(body: dict[str, Any]) -> tuple[str, str]:
        return ((body.get(prop) or "").casefold(), body.get("id") or "")

    return key, direction.strip().lower() == "desc"


def _skip_state() -> dict[str, Any] | None:
    """The state in this request's `$skiptoken` (None on a first page); 400 if it is not ours."""
    token = query_param("$skiptoken")
    if not token:
        return None
    state = decode_token(token)
    if state is None or not isinstance(state.get("a"), list):
        raise GraphHTTPError(400, "Request_BadRequest", f"Invalid skip token '{token}'.")
    return state


def _resume_at(entries, sort_key, descending: bool, resume: dict[str, Any] | None) -> int:
    """Where the page after the skiptoken's last key starts (keyset paging survives inserts)."""
    if resume is None:
        return 0
    after = tuple(resume["a"])
    for index, (_, body) in enumerate(entries):
        key = sort_key(body)
        if (key < after) if descending else (key > after):
            return index
    return len(entries)


def _select_suffix(names: list[str] | None) -> str:
    return f"({','.join(names)})" if names else ""


_SAFE_IN_LINKS = "$,'()"  # Graph's links keep these readable ($select=a,b; startswith('x'))


def _next_link(last_key: list[str], advanced: bool) -> str:
    """This request's URL with the original options and a new `$skiptoken`, as Graph does."""
    options = [
        f"{name}={quote(value, safe=_SAFE_IN_LINKS)}"
        for name, value in request.args.items(multi=True)
        if name.lower().lstrip("$") != "skiptoken"
    ]
    options.append("$skiptoken=" + encode_token({"v": 1, "a": last_key, "x": advanced}))
    return absolute_url(request.path + "?" + "&".join(options))
