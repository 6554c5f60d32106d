"""Plaza installs to a phone's home screen and shows an offline page, caching nothing that a
person reads."""

from __future__ import annotations

import requests
from playwright.sync_api import expect


def test_the_manifest_names_the_app_and_its_icons(live_site) -> None:
    answer = requests.get(live_site.url + "/static/manifest.webmanifest", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/manifest+json"
    manifest = answer.json()
    assert (manifest["name"], manifest["start_url"], manifest["display"]) == (
        "Plaza",
        "/",
        "standalone",
    )
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert sizes == {"192x192", "512x512", "any"}
    for icon in manifest["icons"]:
        assert requests.get(live_site.url + icon["src"], timeout=10).status_code == 200


def test_offline_the_installed_app_shows_the_offline_page_and_no_content(
    live_site, browser_as, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    page, watch = browser_as(live_site, people["author"], service_workers="allow")
    page.goto(f"{live_site.url}/documents/{drive_id}/{item_id}")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)") is True
    page.reload()  # now controlled by the worker
    cached = page.evaluate(
        """async () => {
            const names = await caches.keys();
            const urls = [];
            for (const name of names) {
                const cache = await caches.open(name);
                for (const r of await cache.keys()) urls.push(new URL(r.url).pathname);
            }
            return urls.sort();
        }"""
    )
    assert cached == ["/offline", "/static/icons/plaza-192.png", "/static/plaza.css"]

    page.context.set_offline(True)
    try:
        page.goto(f"{live_site.url}/documents/{drive_id}/{item_id}")
        expect(page.locator("h1")).to_have_text("You are offline")
    finally:
        page.context.set_offline(False)
    assert watch.fired == []


def test_the_privacy_statement_the_teams_manifest_names_is_public(live_site) -> None:
    answer = requests.get(live_site.url + "/privacy", timeout=10)
    assert answer.status_code == 200
    assert "<h1>Privacy</h1>" in answer.text
