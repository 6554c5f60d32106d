"""The admin console and insights pages in Dutch (Chromium's locale nl-NL, hence its
Accept-Language), whose words run longer than the English: at 390 px and 1280 px, no serious
or critical axe-core violation, and no sideways scrolling on a phone."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from tests.browser.conftest import TIMEOUT_MS, sign_in_page
from tests.browser.test_insights_pages import serious_violations, site  # noqa: F401 (fixture)
from tests.overlay_app.insights_script import as_of

WIDTHS = (390, 1280)
ADMIN_PAGES = {
    "/admin": "Beheerconsole",
    "/admin/jobs": "Synchronisatietaken",
    "/admin/health": "Status",
    "/admin/switches": "Functieschakelaars",
    "/admin/moderation": "Moderatie",
    "/admin/audit": "Auditlogboek",
    "/admin/people": "Gegevensverzoeken",
    "/admin/terms": "Gebruiksvoorwaarden",
}


def check(page: Page, url: str, heading: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        assert page.locator("h1").first.inner_text() == heading, url
        assert page.locator("html").get_attribute("lang") == "nl", url
        assert serious_violations(page) == [], (url, width)
        if width == 390:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (url, overflow)


def test_dutch_admin_and_insights_pages_fit_a_phone_and_pass_axe(
    site,  # noqa: F811
    chromium: Browser,
    people: dict[str, str],
):
    # axe is injected as a script: the page's CSP (nonces) would refuse it
    context = chromium.new_context(ignore_https_errors=True, bypass_csp=True, locale="nl-NL")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in_page(page, site, people["admin"])
        for path, heading in ADMIN_PAGES.items():
            check(page, f"{site.url}{path}", heading)
        library = site.stage["a"][0]
        kpis = f"{site.url}/insights?scope=library:{library}&days=7&asOf={as_of()}"
        check(page, kpis, page_heading(page, kpis))
        check(page, f"{site.url}/insights/network?unit=department&days=90&people=1",
              "Wie met wie praat, per afdeling")  # fmt: skip
        check(page, f"{site.url}/insights/experts?tag=insights-topic", "Wie weet iets over…")
    finally:
        context.close()


def page_heading(page: Page, url: str) -> str:
    """The KPI page's heading names its scope (the library): Dutch words around it."""
    page.goto(url)
    heading = page.locator("h1").first.inner_text()
    assert heading.startswith("Inzichten: "), heading
    return heading
