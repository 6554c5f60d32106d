"""Plaza inside the emulator's Teams host and SharePoint page, in Chromium with third-party
cookies blocked (`--test-third-party-cookie-phaseout`; the first test proves the switch works).

Sites: the hosts are the emulator at https://127.0.0.1:PORT, Plaza is http://localhost:PORT,
so every Plaza request from a frame is cross-site. The Teams package is the real build of
`plaza manifests build` (plaza/manifests), loaded by the host from disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, FrameLocator, Page, expect

from connector.emulator.teams_host import SPFX_CLIENT_ID
from plaza.manifests import teams
from plaza.manifests.inputs import BuildInputs
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    SharedChromium,
    start_live_site,
)

BLOCK_THIRD_PARTY_COOKIES = "--test-third-party-cookie-phaseout"


@pytest.fixture(scope="module")
def blocked(chromium: Browser) -> Iterator[Browser]:
    """A second Chromium of the same driver, blocking third-party cookies."""
    browser = SharedChromium.playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, BLOCK_THIRD_PARTY_COOKIES]
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def host(plaza_env: Any) -> str:
    return f"https://127.0.0.1:{plaza_env.handle.port}"


@pytest.fixture(scope="module")
def site(plaza_env: Any, host: str, tmp_path_factory: pytest.TempPathFactory):
    made = start_live_site(
        plaza_env, tmp_path_factory.mktemp("teams-site"), embed_ancestors=host,
        api_clients=SPFX_CLIENT_ID,
    )  # fmt: skip
    yield made
    made.stop()


@pytest.fixture(scope="module")
def package(site: Any, plaza_env: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    info = plaza_env.info
    inputs = BuildInputs(site.url, info["client_id"], info["tenant_id"], info["authority"])
    path = tmp_path_factory.mktemp("teams-package") / "plaza-teams.zip"
    path.write_bytes(teams.package(teams.manifest(inputs)))
    return path


def open_page(browser: Browser) -> Page:
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def sign_in_to_host(page: Page, url: str, upn: str, password: str) -> None:
    page.goto(url)
    form = page.locator("form.host-signin")
    form.locator("input[name=login]").fill(upn)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("form.host-signin")).to_have_count(0)


def tab(page: Page) -> FrameLocator:
    return page.frame_locator("#tab")


def frame_of(page: Page, path: str) -> Frame:
    return next(f for f in page.frames if path in f.url)


def test_a_framed_site_gets_no_cookie_of_its_own(
    blocked: Browser, host: str, plaza_env: Any, people
) -> None:
    """The cookie exists and goes with a first-party request; framed under another site, not.
    (Chromium 156 headless already withholds it without the switch; the switch keeps it so.)"""
    port = plaza_env.handle.port
    framed_site = f"https://localhost:{port}"
    page = open_page(blocked)
    page.context.add_cookies(
        [{"name": "probe", "value": "1", "domain": "localhost", "path": "/",
          "secure": True, "sameSite": "None"}]
    )  # fmt: skip
    with page.expect_request(lambda r: r.url.startswith(framed_site)) as first_party:
        page.goto(f"{framed_site}/_emulator/teams/host.js")
    url = f"{host}/_emulator/sharepoint/library?plaza={framed_site}&drive=x&item=y"
    with page.expect_request(lambda r: "/embed/documents/" in r.url) as framed:
        sign_in_to_host(page, url, people["reader"], plaza_env.info["password"])
    sent = [first_party.value.all_headers().get("cookie"), framed.value.all_headers().get("cookie")]
    assert sent == ["probe=1", None]
    page.context.close()


def test_a_pinned_library_signs_in_silently_and_discusses_in_the_tab(
    blocked: Browser, site: Any, host: str, package: Path, plaza_env: Any, people, document
) -> None:
    page = open_page(blocked)
    url = f"{host}/_emulator/teams/?package={package}&tab=configurable"
    sign_in_to_host(page, url, people["author"], plaza_env.info["password"])
    picker = tab(page).locator("#pin-target")
    picker.select_option(f"library:{document[0]}")
    page.locator("#save").click()
    expect(page.locator("body")).to_have_attribute(
        "data-saved-url", f"{site.url}/teams/tab/pin?target=library%3A{document[0]}"
    )
    api = site.api(people["author"])
    root = api.get(f"{site.url}/api/v1/drives/{document[0]}/items/root/children").json()
    listed = tab(page).locator(".embedded-list li button")
    expect(listed).to_have_text([row["name"] for row in root["value"]])
    path = api.get(f"{site.url}/api/v1/documents/{document[0]}/{document[1]}").json()["path"]
    title = plaza_env.tenant.item(*document).name
    for name in [part for part in (path or "").split("/") if part and part != title] + [title]:
        tab(page).get_by_role("button", name=name, exact=True).click()
    expect(tab(page).locator("h1")).to_have_text(title)
    tab(page).locator("#comment-new").fill("Said in Teams")
    tab(page).get_by_role("button", name="Comment", exact=True).click()
    expect(tab(page).locator(".comment .body")).to_have_text(["Said in Teams"])
    comments = api.get(f"{site.url}/api/v1/documents/{document[0]}/{document[1]}/comments")
    assert [c["body"] for c in comments.json()["comments"]] == ["Said in Teams"]
    assert page.context.cookies(site.url) == []  # Plaza never set a cookie here

    room = api.post(f"{site.url}/api/v1/rooms", json={"kind": "channel", "name": "teams-pin"})
    assert room.status_code == 201, room.text
    page.goto(url)
    tab(page).locator("#pin-target").select_option(f"channel:{room.json()['id']}")
    page.locator("#save").click()
    expect(tab(page).locator("h1")).to_have_text("teams-pin")
    tab(page).locator("#message-new").fill("Hello from the channel tab")
    tab(page).get_by_role("button", name="Send", exact=True).click()
    expect(tab(page).locator(".comment .body")).to_have_text(["Hello from the channel tab"])
    page.context.close()


def test_consent_is_asked_in_teams_auth_window_then_sign_in_succeeds(
    blocked: Browser, site: Any, host: str, package: Path, plaza_env: Any, people
) -> None:
    page = open_page(blocked)
    reader = people["reader"]
    plaza_env.control("POST", "/consent", {"user": reader, "state": "revoked"})
    try:
        url = f"{host}/_emulator/teams/?package={package}&tab=plaza-home&theme=dark"
        sign_in_to_host(page, url, reader, plaza_env.info["password"])
        expect(tab(page).locator("html")).to_have_attribute("data-theme", "dark")
        button = tab(page).get_by_role("button", name="Give permission")
        with page.context.expect_page() as opened:
            button.click()
        popup = opened.value
        form = popup.locator("form.credentials")
        form.locator("input[name=login]").fill(reader)
        form.locator("input[name=password]").fill(plaza_env.info["password"])
        form.locator("button[type=submit]").click()
        popup.wait_for_event("close")
        expect(tab(page).locator("h1")).to_have_text("Plaza")
        page.locator("#theme").select_option("contrast")
        expect(tab(page).locator("html")).to_have_attribute("data-theme", "contrast")
        assert "auth:authentication.authenticate.success" in page.evaluate("window.hostLog")
    finally:
        plaza_env.control("POST", "/consent", {"user": reader, "state": "granted"})
    page.context.close()


def test_the_sharepoint_panel_works_for_readers_and_is_404_for_others(
    blocked: Browser, site: Any, host: str, plaza_env: Any, people, document
) -> None:
    query = f"plaza={site.url}&drive={document[0]}&item={document[1]}"
    url = f"{host}/_emulator/sharepoint/library?{query}"
    page = open_page(blocked)
    sign_in_to_host(page, url, people["reader"], plaza_env.info["password"])
    panel = page.frame_locator("#panel")
    expect(panel.locator("h1")).to_have_text(plaza_env.tenant.item(*document).name)
    panel.locator("#new-tag").fill("panel-tag")
    panel.get_by_role("button", name="Add", exact=True).click()
    expect(panel.locator(".embedded-tags li")).to_contain_text(["panel-tag"])
    panel.locator("button.like").click()
    expect(panel.locator("button.like")).to_have_attribute("aria-pressed", "true")
    panel.locator("#comment-new").fill("From the panel")
    panel.get_by_role("button", name="Comment", exact=True).click()
    thread = panel.locator("li.comment", has_text="From the panel")
    thread.locator("textarea").fill("A reply in the panel")
    thread.get_by_role("button", name="Reply").click()
    expect(
        panel.locator("li.comment", has_text="From the panel").locator(".replies .body")
    ).to_have_text(["A reply in the panel"])
    width = frame_of(page, "/embed/documents/").evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert width[0] <= width[1] == 400
    page.context.close()

    outsider = open_page(blocked)
    statuses: list[int] = []
    outsider.on(
        "response", lambda r: statuses.append(r.status) if "/api/v1/documents/" in r.url else None
    )
    sign_in_to_host(outsider, url, people["outsider"], plaza_env.info["password"])
    expect(outsider.frame_locator("#panel").get_by_role("alert")).to_have_text("Not found.")
    assert statuses and set(statuses) == {404}
    outsider.context.close()


def test_a_frame_from_an_unlisted_origin_is_refused(
    blocked: Browser, site: Any, plaza_env: Any, people, document
) -> None:
    unlisted = f"https://localhost:{plaza_env.handle.port}"  # the emulator's other name
    query = f"plaza={site.url}&drive={document[0]}&item={document[1]}"
    url = f"{unlisted}/_emulator/sharepoint/library?{query}"
    page = open_page(blocked)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    sign_in_to_host(page, url, people["reader"], plaza_env.info["password"])
    page.wait_for_timeout(500)
    assert any("frame-ancestors" in text for text in messages), messages
    assert page.frame_locator("#panel").locator("#embedded").count() == 0
    page.context.close()
