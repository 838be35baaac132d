"""Headless Chromium (Debian's, driven by Playwright) and a `bm cloud login` run to pair with it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import installed_command

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
# `bm` runs `$BROWSER URL`; this script only writes the URL down (see the script itself).
URL_RECORDER = HERE / "record-opened-url"
OPENED_URLS_VARIABLE = "BM_E2E_OPENED_URLS"

CHROMIUM = "/usr/bin/chromium"
# This machine has no network: without these Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1024, "height": 720}

_CODE_SHOWN = re.compile(
    r"To sign in, open (?P<uri>\S+) and confirm this code:\n\n {4}(?P<code>\S+)\n"
)


class NoBrowser(Exception):
    """Chromium or its Python driver is missing here, or would not start; says which and how."""


def skip_loudly(config: pytest.Config, reason: str) -> None:
    """Skip, and say so where nobody can miss it: a skipped browser test proves nothing."""
    message = f"browser tests SKIPPED, nothing was checked in a real browser: {reason}"
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\nWARNING: {message}", file=sys.stderr, flush=True)
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def chromium_executable() -> str:
    """Debian's Chromium, wherever it is on the PATH if not at /usr/bin/chromium."""
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        raise NoBrowser(f"no Chromium at {CHROMIUM}; install it: apt-get install -y chromium")
    return found


@contextmanager
def chromium(profile: Path) -> Iterator[BrowserContext]:
    """Headless Chromium with a fresh profile in `profile`; NoBrowser if it cannot start."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise NoBrowser(
            "the Python package playwright is missing; install the dev extra: pip install -e '.[dev]'"
        ) from None
    executable = chromium_executable()
    with ExitStack() as stack:
        try:
            playwright = stack.enter_context(sync_playwright())
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=executable,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=VIEWPORT,  # type: ignore[arg-type]
            )
        except Exception as error:  # Playwright's driver or the browser would not start
            detail = " ".join(str(error).split())[:400] or type(error).__name__
            raise NoBrowser(f"{executable} did not start under Playwright: {detail}") from None
        stack.callback(context.close)
        yield context


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as tests/e2e/artifacts/NAME.png for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def background_colour(page: Page, selector: str) -> str:
    """The computed background colour of the first element matching `selector`."""
    return str(page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor"))


def browser_env(env: dict[str, str], opened_urls: Path) -> dict[str, str]:
    """`env` with BROWSER set to the recorder, which writes each URL it gets to `opened_urls`."""
    if not os.access(URL_RECORDER, os.X_OK):
        pytest.fail(f"{URL_RECORDER} must be executable (chmod 755; git keeps the mode)")
    return {**env, "BROWSER": str(URL_RECORDER), OPENED_URLS_VARIABLE: str(opened_urls)}


def wait_until(what: str, check: Callable[[], object], timeout: float = 15) -> None:
    """Poll `check()` until it returns something truthy, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def opened_urls(path: Path) -> list[str]:
    """The URLs the recorder wrote down so far (whole lines only)."""
    if not path.exists():
        return []
    text = path.read_text()
    return text[: text.rfind("\n") + 1].splitlines()


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str


class LoginRun:
    """`bm cloud login ARGS` running in the background, its output going to files."""

    def __init__(self, env: dict[str, str], workdir: Path, *args: str) -> None:
        self._stdout = workdir / "login.stdout"
        self._stderr = workdir / "login.stderr"
        with self._stdout.open("w") as out, self._stderr.open("w") as err:
            self.process = subprocess.Popen(
                [installed_command("bm"), "cloud", "login", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def stderr(self) -> str:
        return self._stderr.read_text()

    def shown_code(self, timeout: float = 15) -> tuple[str, str]:
        """The user code and verification URI the terminal showed, once they are shown."""
        wait_until("bm to show the code", lambda: _CODE_SHOWN.search(self.stderr()), timeout)
        match = _CODE_SHOWN.search(self.stderr())
        assert match is not None
        return match["code"], match["uri"]

    def finish(self, timeout: float = 30) -> Finished:
        """Wait for the command to end; kill it if it does not."""
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            self.stop()
        return Finished(code, self._stdout.read_text(), self.stderr())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def keep_terminal_output(name: str, finished: Finished) -> None:
    """Save what bm printed beside the screenshots (it holds no secret: SPEC §7)."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}-terminal.txt").write_text(
        f"exit code {finished.code}\n--- stdout\n{finished.stdout}--- stderr\n{finished.stderr}"
    )
