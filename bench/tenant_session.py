"""Sessions against the tenant emulator and Plaza for the benchmarks: tokens from the
emulator's token endpoint, and a browser-like sign-in through its sign-in page."""

from __future__ import annotations

import html
import re

import requests

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CREDENTIALS_FORM = re.compile(r'<form method="post" action="([^"]+)" class="credentials">')


def emulator_session(info: dict) -> requests.Session:
    session = requests.Session()
    session.verify, session.trust_env = info["ca_file"], False
    return session


def token(info: dict, scope: str, upn: str | None = None) -> str:
    """An access token from the emulator: ROPC for `upn`, else client credentials."""
    form = {"client_id": info["client_id"], "client_secret": info["client_secret"],
            "grant_type": "client_credentials", "scope": scope}  # fmt: skip
    if upn:
        form.update(grant_type="password", username=upn, password=info["password"])
    with emulator_session(info) as session:
        answer = session.post(info["token_endpoint"], data=form, timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


def sign_in(base_url: str, info: dict, upn: str) -> requests.Session:
    """A browser-like session signed in through the emulator's sign-in page."""
    web = requests.Session()
    web.trust_env = False
    start = web.get(base_url + "/signin", allow_redirects=False, timeout=30)
    with emulator_session(info) as entra:
        page = entra.get(start.headers["Location"], timeout=30)
        action = html.unescape(CREDENTIALS_FORM.search(page.text).group(1))
        origin = info["authority"].rsplit("/", 1)[0]
        posted = entra.post(origin + action, allow_redirects=False, timeout=30,
                            data={"login": upn, "password": info["password"]})  # fmt: skip
    back = web.get(posted.headers["Location"], allow_redirects=False, timeout=30)
    if back.status_code != 302:
        raise SystemExit(f"sign-in failed: {back.status_code} {back.text[:200]}")
    return web
