"""The installed `bm` against an independently written OpenID Connect provider (node-oidc-provider).

The provider issues opaque access tokens and puts the account in the id_token, sends no `user`
object and no polling interval, ignores PKCE on the device flow (RFC 8628 does not define it),
rotates refresh tokens and ends the whole grant when a used one comes back. Sign-in is approved
on the provider's own HTML pages, without JavaScript, as a person would.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import BM, OidcServer, StubCloud
from tests.interop.form_browser import FormBrowser, Page

pytestmark = pytest.mark.interop

TOKENS = ".cloud_tokens.json"
# The provider sends no `interval`, so bm waits RFC 8628's default 5 s before each poll.
LOGIN_TIMEOUT = 60
CODE_PROMPT = re.compile(r"open (\S+) and confirm this code:\s+(\S+)")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def bm(env: dict[str, str], *args: str) -> Run:
    done = subprocess.run(
        [BM, *args],
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=LOGIN_TIMEOUT,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


class PendingLogin:
    """`bm cloud login --no-browser` running, its stderr read line by line as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [BM, "cloud", "login", "--no-browser"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr: list[str] = []
        self._prompt = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)
            if CODE_PROMPT.search("".join(self._stderr)):
                self._prompt.set()

    def code_and_url(self) -> tuple[str, str]:
        """The verification URL and user code bm showed, as a person reads them off the terminal."""
        assert self._prompt.wait(30), f"bm showed no code: {''.join(self._stderr)}"
        found = CODE_PROMPT.search("".join(self._stderr))
        assert found is not None
        return found.group(1), found.group(2)

    def finish(self) -> Run:
        # Not communicate(): it would read stderr too, racing the reader thread for its lines.
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()
        code = self.process.wait(timeout=LOGIN_TIMEOUT)
        self._reader.join(10)
        return Run(code, stdout, "".join(self._stderr))

    def stop(self) -> None:
        """A failed test must not leave bm polling the provider for ten minutes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def start_login() -> Iterator[Callable[[dict[str, str]], PendingLogin]]:
    started: list[PendingLogin] = []

    def start(env: dict[str, str]) -> PendingLogin:
        started.append(PendingLogin(env))
        return started[-1]

    yield start
    for pending in started:
        pending.stop()


def confirm_code(browser: FormBrowser, url: str, user_code: str) -> Page:
    """Type the code on the verification page; the provider answers with its confirmation page."""
    page = browser.open(url)
    assert page.status == 200, page.title
    page = browser.submit(page.form_with("user_code"), "Continue", user_code=user_code)
    assert user_code in page.html, "the confirmation page must show the code to compare"
    return page


def approve(url: str, user_code: str, login: str) -> None:
    with FormBrowser() as browser:
        page = confirm_code(browser, url, user_code)
        page = browser.submit(page.form_with("confirm"), "Continue")
        page = browser.submit(page.form_with("login"), "Sign-in", login=login, password="any")
        consent = page.form_with("prompt")
        assert consent.fields["prompt"] == "consent", page.title
        page = browser.submit(consent, "Continue")
        assert page.title == "Sign-in Success", page.title


def deny_at_code_confirmation(url: str, user_code: str) -> None:
    with FormBrowser() as browser:
        page = confirm_code(browser, url, user_code)
        page = browser.submit(page.form_with("confirm"), "[ Abort ]")
        assert "interrupted" in page.html, page.title


def cancel_at_sign_in(url: str, user_code: str) -> None:
    with FormBrowser() as browser:
        page = confirm_code(browser, url, user_code)
        page = browser.submit(page.form_with("confirm"), "Continue")
        assert "login" in page.form_with("login").fields
        page = browser.open(page.links["[ Cancel ]"])
        assert page.status == 200, page.title


@pytest.fixture
def login(
    start_login: Callable[[dict[str, str]], PendingLogin],
) -> Callable[[dict[str, str], str], Run]:
    """Sign bm in, approving as `account` on the provider's pages."""

    def sign_in(env: dict[str, str], account: str) -> Run:
        pending = start_login(env)
        url, user_code = pending.code_and_url()
        approve(url, user_code, account)
        return pending.finish()

    return sign_in


def stored_tokens(env: dict[str, str]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((Path(env["BASIC_MEMORY_CONFIG_DIR"]) / TOKENS).read_text())
    return loaded


def test_login_shows_the_account_from_the_id_token(
    interop_env: dict[str, str], login: Callable[[dict[str, str], str], Run]
) -> None:
    done = login(interop_env, "ada")
    assert done.code == 0, done.stderr
    assert "Logged in as ada@interop.example" in done.stdout
    tokens = stored_tokens(interop_env)
    # The case under test: the access token says nothing, only the id_token names the account.
    assert tokens["access_token"].count(".") != 2, "the provider should issue opaque tokens"
    assert (tokens.get("email"), tokens.get("user_id")) == ("ada@interop.example", "ada")

    status = bm(interop_env, "cloud", "status")
    assert status.code == 0, status.stderr
    assert "ada@interop.example (ada)" in status.stdout
    assert "unknown user" not in status.stdout


def test_an_expired_access_token_is_refreshed_and_the_refresh_token_rotates(
    interop_env: dict[str, str],
    oidc_server: OidcServer,
    stub_cloud: StubCloud,
    login: Callable[[dict[str, str], str], Run],
) -> None:
    assert login(interop_env, "grace").code == 0
    before = stored_tokens(interop_env)

    # The provider's access tokens live 30 s, inside bm's 60 s leeway: status refreshes first.
    status = bm(interop_env, "cloud", "status")
    assert status.code == 0, status.stderr
    after = stored_tokens(interop_env)
    # Booleans, so that a failure report shows no token.
    new_access = after["access_token"] != before["access_token"]
    rotated = after["refresh_token"] != before["refresh_token"]
    cloud_saw_it = stub_cloud.seen_tokens[-1] == after["access_token"]
    assert (new_access, rotated, cloud_saw_it) == (True, True, True)
    assert after.get("email") == "grace@interop.example"
    assert oidc_server.userinfo(after["access_token"]).status_code == 200

    # The used refresh token is refused by the server that issued it...
    reused = oidc_server.token_request(
        grant_type="refresh_token", refresh_token=before["refresh_token"]
    )
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    # ...and its reuse ended the whole grant (reuse detection), which bm reports as such.
    ended = bm(interop_env, "cloud", "status")
    assert ended.code == 1, ended.stderr
    assert "Your session has expired. Run `bm cloud login`." in ended.stdout + ended.stderr


def test_logout_revokes_the_refresh_token_at_the_provider(
    interop_env: dict[str, str],
    oidc_server: OidcServer,
    login: Callable[[dict[str, str], str], Run],
) -> None:
    assert login(interop_env, "lin").code == 0
    refresh_token = stored_tokens(interop_env)["refresh_token"]

    done = bm(interop_env, "cloud", "logout")
    assert done.code == 0, done.stderr
    assert "The session was revoked on the server." in done.stdout + done.stderr
    assert not (Path(interop_env["BASIC_MEMORY_CONFIG_DIR"]) / TOKENS).exists()
    refused = oidc_server.token_request(grant_type="refresh_token", refresh_token=refresh_token)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("deny", [deny_at_code_confirmation, cancel_at_sign_in])
def test_a_denied_sign_in_ends_the_login_with_exit_1(
    interop_env: dict[str, str],
    start_login: Callable[[dict[str, str]], PendingLogin],
    deny: Callable[[str, str], None],
) -> None:
    pending = start_login(interop_env)
    url, user_code = pending.code_and_url()
    deny(url, user_code)
    done = pending.finish()
    assert done.code == 1, done.stderr
    assert "Login was denied in the browser." in done.stderr
    assert not (Path(interop_env["BASIC_MEMORY_CONFIG_DIR"]) / TOKENS).exists()
