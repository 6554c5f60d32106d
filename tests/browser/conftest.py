"""Plaza served for real on loopback and driven by Debian's headless Chromium (Playwright).

- The synced tenant comes from tests/overlay_app/conftest.py (`plaza_env`, `people`,
  `document`): that module is imported here, not copied.
- `LiveSite`: create_app on a copy of the synced index, served by werkzeug's threaded server
  at http://localhost:PORT, so sign-in's redirect URI, cookies and CSP are the real ones.
  `live_site` is one per test module; `start_live_site(env, tmp)` makes more.
- `chromium` (session): /usr/bin/chromium with the flags a closed network needs. `browser_as`
  opens a new context (its own cookies) signed in as a person through the emulator's page.
- `cast` (per module): the people and the document as the pages show them.
- `ScriptWatch`: records any script that a test did not write (a call to `plazaXss()`, a
  dialog, a CSP violation); tests assert it stays empty.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wsgi import FileWrapper

from overlay_app import create_app
from tests.postgres import backend_is_postgres, index_at

CHROMIUM = "/usr/bin/chromium"
# The machine's network is closed: no QUIC, no component or safe-browsing downloads, no sync.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def load_test_module(name: str, path: Path) -> ModuleType:
    """A tests/ module by file (tests/ is not a package); the one pytest loaded if it did."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


overlay = load_test_module(
    "tests.overlay_app.conftest", Path(__file__).parents[1] / "overlay_app" / "conftest.py"
)
plaza_env = overlay.plaza_env
people = overlay.people
document = overlay.document


@pytest.fixture(scope="module")
def cast(plaza_env: Any, people: dict[str, str], document: tuple[str, str]) -> dict[str, Any]:
    """The people and the document as pages show them: display names, oids, title, path."""
    tenant = plaza_env.tenant
    found = {role: tenant.user(upn) for role, upn in people.items()}
    return {
        "title": tenant.item(*document).name,
        "name": {role: user.display_name for role, user in found.items()},
        "oid": {role: user.id for role, user in found.items()},
        "path": f"/documents/{document[0]}/{document[1]}",
    }


# -- the site ------------------------------------------------------------------------------


class LiveSite:
    """Plaza's create_app served over HTTP on loopback, in a thread of this process."""

    def __init__(self, env: Any, data_dir: Path, **settings: Any) -> None:
        self.env = env
        # Bound first so the public URL (and with it the redirect URI) names the real port.
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://localhost:{self._server.server_port}"
        env.copy_index(data_dir)
        if backend_is_postgres():  # both stores in the copy of the synced index's database
            settings.setdefault("database_url", index_at(data_dir / "index.db"))
        settings.setdefault("writes_per_minute", 10_000)  # tests write faster than people
        settings.setdefault("extra", {"testing": True})
        self.app: Flask = create_app(env.settings(data_dir, public_url=self.url, **settings))
        self.app.extensions["plaza.test_env"] = env
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _dispatch(self, environ: dict[str, Any], start_response: Callable) -> Any:
        status: list[str] = []

        def starting(code: str, headers: list, *rest: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *rest)

        body = self.app(environ, starting)
        bodiless = status and status[0].startswith("304")
        if not (isinstance(body, FileWrapper) or bodiless):
            return body
        # Werkzeug's dev server skips close() when the browser drops the connection while it
        # drains the request, leaving a static file open (an unraisable ResourceWarning); a
        # static file read whole here (or a 304's, which is empty) is closed whatever the
        # browser does.
        try:
            return [b"".join(body)]
        finally:
            body.close()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        pump = self.app.extensions.get("plaza.pump")
        if pump is not None:  # its thread would outlive the site, holding the stores open
            pump.stop()

    def api(self, upn: str) -> requests.Session:
        """A requests session calling this site's API with `upn`'s real bearer token."""
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = "Bearer " + self.env.handle.token("api", user=upn)
        return session

    def resync(self, people: bool = True, documents: bool = True) -> None:
        self.env.sync(self.app.extensions["plaza.settings"].data_dir, people, documents)


def start_live_site(env: Any, data_dir: Path, **settings: Any) -> LiveSite:
    return LiveSite(env, data_dir, **settings)


@pytest.fixture(scope="module")
def live_site(plaza_env: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    site = start_live_site(plaza_env, tmp_path_factory.mktemp("live-site"))
    yield site
    site.stop()


# -- the browser -----------------------------------------------------------------------------


class SharedChromium:
    """One Playwright driver and one Chromium for the whole test process.

    Playwright's sync API runs one driver per thread, and the `chromium` fixture has more than
    one definition (test modules outside tests/browser import it), so each definition takes a
    share and the last one to finish closes the browser."""

    playwright: Any = None
    browser: Browser | None = None
    holders = 0

    @classmethod
    def acquire(cls) -> Browser:
        if cls.browser is None:
            cls.playwright = sync_playwright().start()
            cls.browser = cls.playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
        cls.holders += 1
        return cls.browser

    @classmethod
    def release(cls) -> None:
        cls.holders -= 1
        if cls.holders == 0 and cls.browser is not None:
            cls.browser.close()
            cls.playwright.stop()
            cls.browser = cls.playwright = None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    browser = SharedChromium.acquire()
    yield browser
    SharedChromium.release()


class ScriptWatch:
    """What ran that no test wrote: payload calls, dialogs, CSP violations (page-level hooks).

    `plazaXss(marker)` is exposed to every page before any of its scripts run; payloads call
    it, `alert()` or `confirm()` (dialogs are recorded and dismissed), and a CSP report means
    markup with script got into a page even if the policy then stopped it.
    """

    HOOKS = """
        document.addEventListener("securitypolicyviolation", (event) => {
            window.plazaXss("csp " + event.violatedDirective + " " + event.blockedURI
                            + " at " + location.pathname);
        });
    """

    def __init__(self, context: BrowserContext) -> None:
        self.fired: list[str] = []
        context.expose_binding("plazaXss", self._record)
        context.add_init_script(self.HOOKS)
        context.on("page", self.watch_page)
        for page in context.pages:
            self.watch_page(page)

    def _record(self, source: dict[str, Any], marker: Any = None) -> None:
        frame = source.get("frame")
        where = frame.url if frame is not None else "?"
        self.fired.append(f"plazaXss({marker!r}) on {where}")

    def watch_page(self, page: Page) -> None:
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.fired.append(f"{dialog.type}({dialog.message!r}) on {dialog.page.url}")
        dialog.dismiss()


def sign_in_page(page: Page, site: LiveSite, upn: str, next_url: str = "/") -> None:
    """Signs in through Plaza's /signin and the emulator's own sign-in page, like a person."""
    page.goto(f"{site.url}/signin?next={next_url}")
    form = page.locator("form.credentials")
    form.locator("input[name=login]").fill(upn)
    form.locator("input[name=password]").fill(site.env.info["password"])
    with page.expect_navigation(url=lambda url: url.startswith(site.url + next_url)):
        form.locator("button[type=submit]").click()


@pytest.fixture
def browser_as(chromium: Browser) -> Iterator[Callable[..., tuple[Page, ScriptWatch]]]:
    """`browser_as(site, upn)` -> (page, watch): a fresh context signed in as `upn`."""
    contexts: list[BrowserContext] = []

    def open_as(
        site: LiveSite, upn: str | None, service_workers: str = "block"
    ) -> tuple[Page, ScriptWatch]:
        # The emulator's certificate comes from its own test CA. Plaza's service worker is
        # kept out unless a test is about it: Playwright's page.route cannot see requests
        # that a service worker answers.
        context = chromium.new_context(ignore_https_errors=True, service_workers=service_workers)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        watch = ScriptWatch(context)
        page = context.new_page()
        if upn is not None:
            sign_in_page(page, site, upn)
        return page, watch

    yield open_as
    for context in contexts:
        context.close()
