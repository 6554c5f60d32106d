"""Plaza's connector: the only part of Plaza that talks to Microsoft 365.

Layers, each in its own module:

- settings   ConnectorSettings from PLAZA_* variables (+ optional TOML), validated at once
- auth       TokenProvider: one long-lived MSAL confidential client (secret, PEM or PFX
             certificate), tokens for Graph and for SharePoint
- session    the one HTTP choke point: new_session() makes every session, retry_wait() is
             the one retry decision (Retry-After, backoff), Transport sends with a pause
             shared by all threads, a budget and HttpStats
- http       GraphHttp: Graph over a Transport: 401 refresh, paging, $batch,
             errors -> connector.errors
- graph      GraphSource: sites, drives, drive delta, permissions, users, groups, manager,
             photo, all as frozen dataclasses from connector.models
- sharepoint SharePointComments: comments and likes over SharePoint REST (office365, sending
             through a Transport)
- delegated  item_reachable(): Graph with a person's own token, for live access checks
- check      `plaza connector check`: what works and what an admin must grant

Glossary: a *delta round* enumerates changes until a page carries a deltaLink; the
*deltaLink* is the opaque cursor for the next round; a *nextLink* continues the current one.
Raw JSON and vendor objects (requests, MSAL, office365) never leave this package; callers get
dataclasses and `connector.errors.ConnectorError` subclasses. connector/emulator is a test
double of Microsoft 365 and is never imported by these modules.
"""
