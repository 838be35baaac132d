"""The whole sign-in of the installed `bm` in headless Chromium: approve, deny, code typed by hand."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.e2e.browser_support import (
    VIEWPORT,
    LoginRun,
    NoBrowser,
    background_colour,
    browser_env,
    chromium,
    keep_terminal_output,
    opened_urls,
    screenshot,
    skip_loudly,
    wait_until,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TOKENS = ".cloud_tokens.json"
ONE_LINE = """e => { const r = document.createRange(); r.selectNodeContents(e);
    return new Set([...r.getClientRects()].map(rect => rect.top)).size === 1; }"""


@pytest.fixture(scope="module")
def browser(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[BrowserContext]:
    with ExitStack() as stack:
        try:
            context = stack.enter_context(chromium(tmp_path_factory.mktemp("chromium-profile")))
        except NoBrowser as missing:
            skip_loudly(pytestconfig, str(missing))
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    opened = browser.new_page()
    yield opened
    opened.close()
    browser.clear_cookies()


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


@pytest.fixture
def login_env(clean_env: dict[str, str], emulator: CloudEmulator, tmp_path: Path) -> dict[str, str]:
    cloud = {
        **clean_env,
        "BASIC_MEMORY_CLOUD_HOST": emulator.base_url,
        "BASIC_MEMORY_CLOUD_DOMAIN": emulator.base_url,
    }
    return browser_env(cloud, tmp_path / "opened-urls.txt")


StartLogin = Callable[..., LoginRun]


@pytest.fixture
def start_login(login_env: dict[str, str], tmp_path: Path) -> Iterator[StartLogin]:
    """Start `bm cloud login ARGS` in the background; whatever is still running is killed."""
    runs: list[LoginRun] = []

    def start(*args: str) -> LoginRun:
        runs.append(LoginRun(login_env, tmp_path, *args))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


def the_opened_url(tmp_path: Path) -> str:
    recorded = tmp_path / "opened-urls.txt"
    wait_until("bm to open the browser", lambda: opened_urls(recorded))
    urls = opened_urls(recorded)
    assert len(urls) == 1, urls
    return urls[0]


def check_confirmation_page(page: Page, code: str) -> None:
    """The page a person checks: the same code as the terminal, the device, two clear choices."""
    assert page.locator(".code").inner_text() == code
    assert "Basic Memory CLI" in page.locator("h1").inner_text()
    assert "matches the one in your terminal" in page.locator("main").inner_text()
    approve = page.get_by_role("button", name="Approve")
    deny = page.get_by_role("button", name="Deny")
    assert approve.is_visible()
    assert deny.is_visible()
    assert background_colour(page, "button.approve") != background_colour(page, "button.deny")


def test_approve_in_the_browser_the_cli_opened(
    start_login: StartLogin, page: Page, emulator: CloudEmulator, tmp_path: Path
) -> None:
    login = start_login()
    code, verification_uri = login.shown_code()
    url = the_opened_url(tmp_path)
    assert verification_uri == f"{emulator.base_url}/device"
    # The CLI hands the browser verification_uri_complete: the page, with the printed code.
    assert url.startswith(f"{verification_uri}?")
    assert parse_qs(urlsplit(url).query) == {"user_code": [code]}
    # The hook records the URL before bm, once the browser call returns, says so.
    wait_until("bm to say it opened the browser", lambda: "Opened your browser" in login.stderr())

    page.goto(url)
    check_confirmation_page(page, code)
    assert page.get_by_label("Sign in as").input_value() == "alice@example.com"
    screenshot(page, "browser-approve-1-confirm")
    # People often open the link on a phone: nothing may stick out of a narrow screen.
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.eval_on_selector(".code", ONE_LINE), "the code wraps on a narrow screen"
    screenshot(page, "browser-approve-1-confirm-narrow")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Device approved. You can close this tab.").wait_for()
    screenshot(page, "browser-approve-2-approved")

    finished = login.finish()
    keep_terminal_output("browser-approve", finished)
    assert finished.code == 0, finished.stderr
    assert "Logged in as alice@example.com" in finished.stdout
    assert "Traceback" not in finished.stderr
    stored = json.loads((tmp_path / "data" / TOKENS).read_text())
    assert stored["access_token"] not in finished.stdout + finished.stderr
    assert [info.user_code for info in emulator.device_codes()] == [code]


def test_deny_in_the_browser_leaves_the_cli_signed_out(
    start_login: StartLogin, page: Page, tmp_path: Path
) -> None:
    login = start_login()
    code, _ = login.shown_code()

    page.goto(the_opened_url(tmp_path))
    check_confirmation_page(page, code)
    page.get_by_role("button", name="Deny").click()
    page.get_by_text("Request denied.").wait_for()
    screenshot(page, "browser-deny-after")

    finished = login.finish()
    keep_terminal_output("browser-deny", finished)
    assert finished.code == 1, finished.stderr
    assert "denied" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert not (tmp_path / "data" / TOKENS).exists()


def test_code_typed_by_hand_on_the_verification_uri(
    start_login: StartLogin, page: Page, emulator: CloudEmulator, tmp_path: Path
) -> None:
    login = start_login("--no-browser")
    code, verification_uri = login.shown_code()
    assert verification_uri == f"{emulator.base_url}/device"
    assert "user_code" not in verification_uri

    page.goto(verification_uri)
    field = page.get_by_label("Code")
    assert field.evaluate("e => e === document.activeElement"), "the code field has the focus"
    screenshot(page, "browser-manual-1-enter-code")
    field.press_sequentially(code)
    page.get_by_role("button", name="Continue").click()
    page.locator(".code").wait_for()
    check_confirmation_page(page, code)
    screenshot(page, "browser-manual-2-confirm")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Device approved. You can close this tab.").wait_for()

    finished = login.finish()
    keep_terminal_output("browser-manual", finished)
    assert finished.code == 0, finished.stderr
    assert "Logged in as alice@example.com" in finished.stdout
    assert (tmp_path / "data" / TOKENS).exists()
    # --no-browser means no browser: the BROWSER hook was never run.
    assert opened_urls(tmp_path / "opened-urls.txt") == []
