"""One `cloud_auth()` used as library users do: shared by threads, and behind redirects.

Each probe returns figures; the tests in test_shared_auth.py and the reliability report
assert on them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from adapters.json_file_token_store import JsonFileTokenStore
from domain.session import TokenResponse, session_from_response
from emulator import CloudEmulator
from entrypoints.library import CloudAuthError, cloud_auth
from tests.reliability.harness import Canned, ScriptedServer

EMAIL = "alice@example.com"
TOKEN_PATH = "/oauth2/token"


def environment(folder: Path, emulator: CloudEmulator, **extra: str) -> dict[str, str]:
    return {
        "BASIC_MEMORY_CONFIG_DIR": str(folder),
        "BASIC_MEMORY_CLOUD_HOST": emulator.base_url,
        "BASIC_MEMORY_CLOUD_DOMAIN": emulator.base_url,
        **extra,
    }


def sign_in(emulator: CloudEmulator, folder: Path) -> str:
    """Store a fresh emulator session in `folder`; returns its access token."""
    issued = emulator.issue_session(EMAIL)
    access = str(issued["access_token"])
    response = TokenResponse(
        access_token=SecretStr(access),
        refresh_token=SecretStr(str(issued["refresh_token"])),
        expires_in=int(str(issued["expires_in"])),
    )
    JsonFileTokenStore(folder / ".cloud_tokens.json").save(
        session_from_response(response, int(time.time()))
    ).unwrap()
    return access


def stored_refresh_token_is_live(emulator: CloudEmulator, folder: Path) -> bool:
    """Whether the refresh token in the file is the one the emulator would accept now (a
    spent one would end the session, so this asks the emulator's state, not its endpoint)."""
    stored = JsonFileTokenStore(folder / ".cloud_tokens.json").load().unwrap()
    if stored is None or stored.refresh_token is None:
        return False
    sessions = [info for info in emulator.sessions() if info.email == EMAIL]
    return (
        bool(sessions)
        and all(info.active for info in sessions)
        and (emulator.state.is_current_refresh_token(stored.refresh_token.get_secret_value()))
    )


@dataclass
class ThreadFigures:
    threads: int
    succeeded: int = 0
    refreshes: int = 0
    live_refresh_token: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.succeeded == self.threads
            and self.refreshes == 1
            and self.live_refresh_token
            and not self.errors
        )

    @property
    def line(self) -> str:
        text = (
            f"one cloud_auth() shared by {self.threads} threads after the cloud refused the "
            f"access token: {self.succeeded}/{self.threads} calls succeeded, refreshes at the "
            f"server = {self.refreshes} (must be 1), stored refresh token live = "
            f"{'yes' if self.live_refresh_token else 'NO'}"
        )
        return text + (f" - PROBLEMS: {self.errors[:2]}" if self.errors else "")


def threads_share_one_auth(
    root: Path,
    emulator: CloudEmulator,
    threads: int = 8,
    stagger: float = 0.15,
    token_delay: float = 1.5,
) -> ThreadFigures:
    """The session's access token still looks valid here but the cloud refuses it; the token
    endpoint answers slowly; `threads` threads share one client and call the cloud."""
    folder = root / "threads"
    folder.mkdir(mode=0o700)
    access = sign_in(emulator, folder)
    emulator.refuse_access_token(access)
    emulator.delay_next(TOKEN_PATH, token_delay, count=threads)
    before = emulator.refresh_count()
    figures = ThreadFigures(threads)
    lock = threading.Lock()

    with httpx.Client(
        base_url=emulator.base_url, auth=cloud_auth(env=environment(folder, emulator))
    ) as client:

        def call() -> None:
            try:
                status = client.get("/proxy/health").status_code
            except (CloudAuthError, httpx.HTTPError) as error:
                with lock:
                    figures.errors.append(f"{type(error).__name__}: {error}")
                return
            with lock:
                if status == 200:
                    figures.succeeded += 1
                else:
                    figures.errors.append(f"HTTP {status}")

        workers = [threading.Thread(target=call) for _ in range(threads)]
        for worker in workers:
            worker.start()
            time.sleep(stagger)
        for worker in workers:
            worker.join(timeout=60)
    emulator.clear_faults()
    figures.refreshes = emulator.refresh_count() - before
    figures.live_refresh_token = stored_refresh_token_is_live(emulator, folder)
    return figures


@dataclass
class RedirectFigures:
    cases: int = 0
    returned_401: int = 0
    refreshes: int = 0
    raised: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returned_401 == self.cases and self.refreshes == 0 and not self.raised

    @property
    def line(self) -> str:
        text = (
            f"401 from another host after a redirect: {self.cases} cases (OAuth session, "
            f"API key), answered the caller with the 401 = {self.returned_401}, refreshes = "
            f"{self.refreshes}, raised = {len(self.raised)}"
        )
        return text + (f" - PROBLEMS: {self.raised[:2]}" if self.raised else "")


def redirect_to_another_origin(root: Path, emulator: CloudEmulator) -> RedirectFigures:
    """The cloud host redirects to another origin that answers 401: that 401 says nothing
    about our credential, so it must neither refresh the session nor report the key."""
    folder = root / "redirect"
    folder.mkdir(mode=0o700)
    sign_in(emulator, folder)
    key = emulator.issue_api_key(EMAIL)
    figures = RedirectFigures()
    before = emulator.refresh_count()
    with ScriptedServer({"/elsewhere": Canned.json(401, {"detail": "who are you"})}) as other:
        hop = Canned(307, b"", headers=(("Location", f"{other.url}/elsewhere"),))
        with ScriptedServer({"/hop": hop}) as cloud:
            for project, extra in ((None, {}), ("research", {"BASIC_MEMORY_CLOUD_API_KEY": key})):
                figures.cases += 1
                env = environment(folder, emulator, **extra)
                try:
                    with httpx.Client(
                        base_url=cloud.url,
                        auth=cloud_auth(project, env),
                        follow_redirects=True,
                    ) as client:
                        response = client.get("/hop")
                except CloudAuthError as error:
                    figures.raised.append(f"CloudAuthError: {error}")
                    continue
                figures.returned_401 += response.status_code == 401
    figures.refreshes = emulator.refresh_count() - before
    return figures
