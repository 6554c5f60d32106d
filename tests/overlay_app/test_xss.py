"""Cross-site scripting: the payloads in xss_payloads.txt through every text field people
write, rendered by real headless Chromium, and nothing runs.

Fields: comment bodies (new, replies, edits; on the document page, in search snippets, on
profiles), mention labels (in notification excerpts, and in the refusal when the person is
unknown, both as the script shows it and as a flashed message), tags, search queries, people
queries and display names (synced from Entra, where an administrator can set anything).

Two detectors on every page (tests/browser/conftest.py's ScriptWatch and DOM_RISKS below):
script that ran (a payload calling plazaXss(), a dialog, a CSP violation report), and markup
that could run script even if the policy or a user's gesture never triggered it (event
handler attributes, javascript: URLs, script, frames, objects, styles, autofocus).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (  # noqa: F401 (fixtures used by name)
    LiveSite,
    browser_as,
    chromium,
    start_live_site,
)
from tests.overlay_app.plaza_env import SECRET_KEY, PlazaEnv, start_plaza_env

PAYLOADS_FILE = Path(__file__).with_name("xss_payloads.txt")
UNKNOWN_PERSON = "00000000-0000-0000-0000-000000000000"
NOT_IN_DIRECTORY = "{label} is not in the directory, so they cannot be mentioned"
# Sends the new-comment form (plaza.js posts it to the API) once per body and waits for the
# refusal it shows; returns the cases where the text shown was not the one expected.
SUBMIT_EACH = """async (cases) => {
  const form = document.querySelector("form:has(#new-comment)");
  const field = form.querySelector("textarea"), shown = form.querySelector(".form-error");
  const wrong = [];
  for (const [body, expected] of cases) {
    shown.textContent = "";
    field.value = body;
    form.requestSubmit();
    const deadline = Date.now() + 10000;
    while (shown.textContent === "" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (shown.textContent !== expected) wrong.push([expected, shown.textContent]);
  }
  return wrong;
}"""

# Markup in a rendered page that could run script: the page's own script (ours, with a nonce,
# from /static/) and stylesheet are the only ones allowed.
DOM_RISKS = """() => {
  const found = [];
  const risky = /^[\\s\\x00-\\x1f]*(javascript|vbscript|data)[\\s\\x00-\\x1f]*:/i;
  const urlAttributes = ["href", "src", "action", "formaction", "data", "srcdoc",
    "xlink:href", "poster", "background", "dynsrc", "lowsrc", "ping", "codebase", "to"];
  const banned = ["iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal",
    "svg", "math", "template", "style", "marquee", "isindex", "xss", "video", "audio"];
  for (const element of document.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") || name === "style" || name === "autofocus"
          || (urlAttributes.includes(name) && risky.test(attribute.value))) {
        found.push(`${tag}[${name}=${attribute.value}]`);
      }
    }
    const src = element.getAttribute("src") || "", href = element.getAttribute("href") || "";
    if (tag === "script" && !(element.nonce && src.startsWith("/static/"))) found.push("script");
    if (tag === "link" && !href.startsWith("/static/")) found.push(`link ${href}`);
    if (tag === "meta" && element.hasAttribute("http-equiv")) found.push("meta http-equiv");
    if (tag === "form" && !(element.getAttribute("action") || "").startsWith("/")) {
      found.push("form " + element.getAttribute("action"));
    }
    if (banned.includes(tag)) found.push(tag);
  }
  return found;
}"""


def load_payloads() -> list[str]:
    lines = PAYLOADS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.replace("\\n", "\n") for line in lines if line and not line.startswith("# ")]


PAYLOADS = load_payloads()


def label_of(payload: str) -> str:
    """The payload as a mention label: one line, no square brackets, at most 200 characters."""
    return payload.replace("[", "(").replace("]", ")").replace("\n", " ")[:200]


# Loads pages side by side in iframes of one Plaza page (same origin, so frame-ancestors 'self'
# admits them): each is a full document load with the page-level hooks, several at a time.
LOAD_IN_FRAMES = """async (urls) => {
  document.body.textContent = "";
  await Promise.all(urls.map((url) => new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.addEventListener("load", resolve, {once: true});
    frame.src = url;
    document.body.appendChild(frame);
  })));
}"""
FRAMES_AT_ONCE = 8
# Why some of these run on SQLite only: what they show is stored text rendered by the
# templates, the same whatever engine kept it. Search pages (snippets are the engine's own
# highlighting) run on both.
RENDERED_ALIKE = "stored text rendered by the templates; no engine-made markup on the page"
SECRET_ON_PAGE = "(secret) => document.documentElement.outerHTML.includes(secret)"


class Audit:
    """Pages rendered and what was found on them."""

    def __init__(self, site: LiveSite, page: Page, watch) -> None:
        self.site, self.page, self.watch = site, page, watch
        self.problems: list[str] = []
        self.pages = 0

    def check(self, url: str | None = None) -> None:
        """The page at `url` (or the page as it is now), loaded like a person would."""
        if url is not None:
            self.page.goto(self.site.url + url, wait_until="load")
        self._inspect(self.page.main_frame)

    def check_all(self, urls: list[str]) -> None:
        """Many pages, FRAMES_AT_ONCE at a time, each in an iframe of a harmless page."""
        self.page.goto(self.site.url + "/signout")
        for start in range(0, len(urls), FRAMES_AT_ONCE):
            self.page.evaluate(LOAD_IN_FRAMES, urls[start : start + FRAMES_AT_ONCE])
            for frame in self.page.main_frame.child_frames:
                self._inspect(frame)

    def _inspect(self, frame) -> None:
        self.pages += 1
        risks = frame.evaluate(DOM_RISKS)
        if risks:
            self.problems.append(f"{frame.url}: {risks[:5]}")
        if frame.evaluate(SECRET_ON_PAGE, SECRET_KEY):
            self.problems.append(f"{frame.url}: the secret key is on the page")
        self.problems += self.watch.fired
        self.watch.fired.clear()


def test_there_are_at_least_a_hundred_payloads() -> None:
    assert len(PAYLOADS) >= 100
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.fixture(scope="module")
def site(plaza_env: PlazaEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    live = start_live_site(plaza_env, tmp_path_factory.mktemp("xss-site"))
    # Cached static files: hundreds of page loads need not each revalidate the stylesheet.
    live.app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    yield live
    live.stop()


@pytest.fixture(scope="module")
def cast(plaza_env: PlazaEnv, people: dict[str, str], document: tuple[str, str]) -> dict:
    tenant = plaza_env.tenant
    return {
        "reader_oid": tenant.user(people["reader"]).id,
        "author_oid": tenant.user(people["author"]).id,
        "path": f"/documents/{document[0]}/{document[1]}",
        "api": f"/api/v1/documents/{document[0]}/{document[1]}",
    }


@pytest.fixture
def audit_as(site: LiveSite, browser_as):  # noqa: F811
    """`audit_as(upn)`: an Audit in a new browser context signed in as `upn`."""

    def open_audit(upn: str, on: LiveSite | None = None) -> Audit:
        where = on or site
        page, watch = browser_as(where, upn)
        return Audit(where, page, watch)

    return open_audit


def test_the_detectors_see_script_that_runs(site: LiveSite, audit_as, people) -> None:
    """The control: a page (not Plaza's) with live payloads is caught by every detector."""
    audit = audit_as(people["reader"])
    raw = "<p>x</p>" + "".join(PAYLOADS[:12])
    audit.page.route(
        site.url + "/control-unsafe",
        lambda route: route.fulfill(body=raw, content_type="text/html"),
    )
    audit.page.route(
        site.url + "/control-csp",
        lambda route: route.fulfill(
            body=PAYLOADS[0], content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'none'"},
        ),
    )  # fmt: skip
    audit.check("/control-unsafe")
    audit.page.wait_for_timeout(200)  # image errors fire after load on some pages
    audit.check()
    audit.check("/control-csp")
    found = " ".join(audit.problems)
    for sign in ("plazaXss(1)", "plazaXss(8)", "alert('5')", "script[src=", "csp script-src"):
        assert sign in found


def post_comments(site: LiveSite, upn: str, api: str, bodies: list[str]) -> list[Any]:
    """Each body as a comment (every third a reply to the one before); the responses."""
    writer = site.api(upn)
    answers: list[Any] = []
    parent = None
    for n, body in enumerate(bodies):
        payload = {"body": body, "parent_id": parent if n % 3 == 2 else None}
        answer = writer.post(site.url + api + "/comments", json=payload)
        answers.append(answer)
        if answer.status_code == 201:
            parent = answer.json()["id"]
    return answers


def test_comments_replies_and_edits(site, audit_as, people, cast) -> None:
    bodies = [f"{payload} xsscanary{n}" for n, payload in enumerate(PAYLOADS)]
    answers = post_comments(site, people["author"], cast["api"], bodies)
    expected = [400 if "](not-a-person)" in p else 201 for p in PAYLOADS]
    assert [a.status_code for a in answers] == expected
    author, reader = audit_as(people["author"]), audit_as(people["reader"])
    author.check(cast["path"])
    expect(author.page.locator("#discussion h2")).to_contain_text(f"{expected.count(201)} comments")
    reader.check(cast["path"])
    author.check(f"/people/{cast['author_oid']}")
    # search snippets mark the match inside each comment's text
    reader.check_all(
        [f"/search?q=xsscanary{n}" for n in range(len(PAYLOADS)) if expected[n] == 201]
    )
    writer = site.api(people["author"])
    for n, answer in enumerate(answers):
        if answer.status_code == 201:
            edit = {"body": f"{PAYLOADS[(n + 7) % len(PAYLOADS)]} edited{n}"}
            url = f"{site.url}/api/v1/comments/{answer.json()['id']}"
            assert writer.patch(url, json=edit).status_code in (200, 400)
    author.check(cast["path"])  # the author's edit forms hold each raw body
    reader.check(cast["path"])
    assert author.problems + reader.problems == []
    assert author.pages + reader.pages == 5 + expected.count(201)


@pytest.mark.same_on_every_backend(reason=RENDERED_ALIKE)
def test_mention_labels_in_notifications(site, audit_as, people, cast) -> None:
    bodies = [f"@[{label_of(p)}]({cast['reader_oid']}) note{n}" for n, p in enumerate(PAYLOADS)]
    answers = post_comments(site, people["author"], cast["api"], bodies)
    assert [a.status_code for a in answers] == [201] * len(PAYLOADS)
    reader = audit_as(people["reader"])
    reader.check("/notifications")
    assert reader.page.locator("li.notification").count() >= len(PAYLOADS)
    reader.check(cast["path"])
    assert reader.problems == []


@pytest.mark.same_on_every_backend(reason=RENDERED_ALIKE)
def test_refused_mentions_show_the_label_as_text(site, audit_as, people, cast) -> None:
    author = audit_as(people["author"])
    page = author.page
    page.goto(site.url + cast["path"])
    form = page.locator("form:has(#new-comment)")
    shown = form.locator(".form-error")
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    # with script: each refusal from the API, shown by plaza.js as the form's text
    cases = [
        (
            f"@[{label_of(p)}]({UNKNOWN_PERSON}) please look",
            NOT_IN_DIRECTORY.format(label=label_of(p)),
        )
        for p in PAYLOADS
    ]
    assert page.evaluate(SUBMIT_EACH, cases) == []
    assert shown.is_visible()
    author.check()
    for payload in PAYLOADS:  # without script: the form posts, the refusal is flashed
        fields = {"csrf_token": csrf, "body": f"@[{label_of(payload)}]({UNKNOWN_PERSON}) hi"}
        url = site.url + cast["path"] + "/comments"
        assert page.request.post(url, form=fields, max_redirects=0).status == 303
    author.check(cast["path"])
    expect(page.locator("p.flash.error")).to_have_count(len(PAYLOADS))
    assert author.problems == []


def test_tags_and_queries(site, audit_as, people, cast) -> None:
    writer = site.api(people["author"])
    refused = [
        writer.post(site.url + cast["api"] + "/tags", json={"tag": payload}) for payload in PAYLOADS
    ]
    assert {answer.status_code for answer in refused} == {400}
    reader = audit_as(people["reader"])
    urls = []
    for payload in PAYLOADS:
        quoted = quote(payload, safe="")
        urls += [f"/search?q={quoted}", f"/people?q={quoted}", f"/search?tag={quoted}"]
        urls += [f"/tags/{quoted}"]
    reader.check_all(urls)
    reader.check(cast["path"])
    assert reader.problems == []
    assert reader.pages == 4 * len(PAYLOADS) + 1


# -- display names, synced from Entra ---------------------------------------------------------


@pytest.fixture
def named_env(emulator_state: Path, tmp_path: Path) -> Iterator[PlazaEnv]:
    """A fresh tenant where many people's display names are payloads, synced."""
    env = start_plaza_env(emulator_state, tmp_path / "named")
    users = [u for u in env.tenant.users.values() if u.account_enabled and not u.deleted]
    for user, payload in zip(users, PAYLOADS, strict=False):
        env.control("PATCH", f"/users/{user.id}", {"display_name": label_of(payload)})
    env.sync(env.data_dir, people=True, documents=False)
    yield env
    env.handle.stop()


@pytest.mark.same_on_every_backend(reason=RENDERED_ALIKE)
def test_display_names(named_env: PlazaEnv, audit_as, tmp_path: Path) -> None:
    site = start_live_site(named_env, tmp_path / "named-site")
    try:
        author, reader = named_env.people["author"], named_env.people["reader"]
        reader_oid = named_env.tenant.user(reader).id
        path = f"/documents/{named_env.document[0]}/{named_env.document[1]}"
        first = post_comments(site, author, "/api/v1" + path, [f"@[x]({reader_oid}) hello"])[0]
        assert first.status_code == 201
        liker = site.api(reader)
        assert liker.put(f"{site.url}/api/v1/comments/{first.json()['id']}/like").ok
        assert liker.put(f"{site.url}/api/v1{path}/like").ok
        seen_by_reader = audit_as(reader, site)
        seen_by_reader.check(path)
        seen_by_reader.page.locator("#new-comment").click()
        seen_by_reader.page.keyboard.type("@")
        expect(seen_by_reader.page.locator(".mention-suggestions li").first).to_be_visible()
        seen_by_reader.check()
        people_pages = [f"/people/{user.id}" for user in named_env.tenant.users.values()]
        seen_by_reader.check_all(["/", "/notifications", "/people", *people_pages])
        seen_by_author = audit_as(author, site)
        seen_by_author.check("/notifications")
        assert seen_by_reader.problems + seen_by_author.problems == []
    finally:
        site.stop()
