"""The customer web app in a real headless Chromium against the real system.

The launcher starts the five processes with the built app (``ROUTER_WEB_APP_DIR``), exactly as
``setrum dev`` does; Playwright drives Debian's chromium. Every page a test visits can be
screenshotted at 360 px and 1280 px into ``test-artifacts/web/`` and checked with axe-core.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from setrum import webapp
from setrum.launcher import System, SystemPorts
from tests.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.conftest import Api

ARTIFACTS = webapp.REPO_ROOT / "test-artifacts" / "web"
AXE = webapp.WEB_DIR / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (360, 1280)
PASSWORD = "Token-listrik-2026"

SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { token expiresAt customer { name } } }"
TOP_UP = "mutation($a: Decimal!, $r: String!) { topUpWallet(amount: $a, paymentReference: $r) { balance } }"
SAVE_METER = "mutation($n: String!, $a: String) { saveMeter(number: $n, alias: $a) { alias } }"
PURCHASES = "{ me { purchases(first: 50) { nodes { id status token totalPaid clientReference } } } }"
WALLET = "{ wallet { balance } }"


def _skip_reason() -> str | None:
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install chromium)"
    if shutil.which("npm") is None:
        return "npm is not installed (apt-get install nodejs npm)"
    return None


@pytest.fixture(scope="session")
def web_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    dist = webapp.ensure_built()
    data_dir = tmp_path_factory.mktemp("web-system")
    # Every journey signs up from 127.0.0.1; the per-IP limits are tested on their own routers (tests/security).
    system = System(
        data_dir,
        ports=SystemPorts.free(),
        log_dir=data_dir / "logs",
        web_app_dir=dist,
        extra_env={"ROUTER_RATE_LIMITS__ENABLED": "false"},
    )
    system.start(timeout_s=90)
    try:
        yield system
    finally:
        system.stop()


@pytest.fixture(scope="session")
def web_api(web_system: System) -> Iterator[Api]:
    client = Api(web_system)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def browser(web_system: System) -> Iterator[Any]:
    # Module scope: Playwright's sync API runs an event loop of its own, which must be gone before
    # any later asyncio test (or another module's sync_playwright) starts.
    playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


class AppPage:
    """A browser tab on the app, with the checks every visited page gets."""

    def __init__(self, page: Any, system: System) -> None:
        self.page = page
        self.system = system
        self.base = f"http://127.0.0.1:{system.ports.router}"
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", self._console)
        page.route("**/*", self._only_our_origin)

    def _console(self, message: Any) -> None:
        # A GraphQL error answered with a 4xx status is logged by the browser as a failed load; the
        # app shows it to the customer, which is what the tests check.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def _only_our_origin(self, route: Any, request: Any) -> None:
        if request.url.startswith(self.base + "/") or request.url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(request.url)
            route.abort()

    def goto(self, fragment: str = "") -> None:
        self.page.goto(f"{self.base}/app/{fragment}")

    def sign_in_session(self, token: str, expires_at: str, name: str) -> None:
        """Put a session in localStorage, as signing in does (for tests that start signed in)."""
        self.goto()
        self.page.evaluate(
            "s => localStorage.setItem('setrum.session', JSON.stringify(s))",
            {"token": token, "expiresAt": expires_at, "name": name},
        )
        self.page.reload()  # the app reads the session when it starts

    def check(self, name: str) -> None:
        """Screenshots at 360 and 1280 px, and no serious or critical axe-core violation."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 800})
            self.page.wait_for_timeout(50)
            overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name}: the page is {overflow}px wider than a {width}px screen"
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        self.page.set_viewport_size(size)
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = self.page.evaluate(
            """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
                 .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))"""
        )
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name}: accessibility violations {bad}"

    def alert_text(self) -> str:
        alert = self.page.locator("[role=alert]").first
        alert.wait_for(timeout=20_000)
        return str(alert.inner_text())


@pytest.fixture
def app(browser: Any, web_system: System, request: pytest.FixtureRequest) -> Iterator[AppPage]:
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="id-ID", timezone_id="Asia/Jakarta")
    context.set_default_timeout(20_000)
    page = AppPage(context.new_page(), web_system)
    try:
        yield page
    finally:
        # The last state of every test's page, to see what a failed test saw.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / f"last-{request.node.name}.png"), full_page=True)
        context.close()
    assert page.outside == [], "the app asked another origin"
    assert page.errors == [], "errors in the browser console"


def new_customer(api: Api, *, balance: int = 0, meters: tuple[str, ...] = ()) -> dict[str, str]:
    """A fresh customer through the public API (sign up, top up, saved meters)."""
    email = f"web-{uuid.uuid4().hex[:10]}@example.id"
    auth = api.data(SIGN_UP, {"input": {"name": "Pelanggan Uji", "email": email, "password": PASSWORD}})["signUp"]
    token = auth["token"]
    if balance:
        api.data(TOP_UP, {"a": str(balance), "r": f"pay-{uuid.uuid4().hex}"}, token)
    for number in meters:
        api.data(SAVE_METER, {"n": number, "a": None}, token)
    return {"email": email, "token": token, "expiresAt": auth["expiresAt"], "name": auth["customer"]["name"]}


def rupiah_digits(text: str) -> str:
    """'Rp 102.500' -> '102500' (id-ID: '.' groups thousands, ',' starts the cents)."""
    return re.sub(r"[^\d,]", "", text).split(",")[0]
