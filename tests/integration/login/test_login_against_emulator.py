"""The login, refresh and logout use cases with the real adapters against the emulator."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from adapters.httpx_cloud_api import HttpxCloudApi
from adapters.httpx_identity_provider import HttpxIdentityProvider
from adapters.json_file_token_store import JsonFileTokenStore
from adapters.system_clock import SystemClock, SystemSleeper
from adapters.yaml_config_store import YamlConfigStore
from application.ensure_fresh_session import EnsureFreshSession
from application.login_with_device_flow import LoginWithDeviceFlow
from application.logout import Logout, Revocation
from domain.credentials import Credential, CredentialSource
from domain.endpoints import CloudEndpoints
from domain.errors import (
    AccessDenied,
    CredentialRejected,
    DeviceCodeExpired,
    FileAccessError,
    LoginTimedOut,
    SessionExpired,
    SessionNotSaved,
    SubscriptionRequired,
)
from emulator import CloudEmulator, EmulatorSettings
from tests.fakes import FakeBrowser, RecordingLoginDisplay


class Approver:
    """Approves (or denies) the first code the emulator issues, from another thread."""

    def __init__(
        self, emulator: CloudEmulator, after: float, deny: bool = False, email: str | None = None
    ) -> None:
        self.emulator = emulator
        self.after = after
        self.deny = deny
        self.email = email
        self.decided_at: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            codes = self.emulator.device_codes()
            if codes:
                time.sleep(self.after)
                if self.deny:
                    self.emulator.deny(codes[0].user_code)
                else:
                    self.emulator.approve(codes[0].user_code, email=self.email)
                self.decided_at = time.monotonic()
                return
            time.sleep(0.01)


@dataclass
class Rig:
    emulator: CloudEmulator
    tokens: JsonFileTokenStore
    config: YamlConfigStore
    identity: HttpxIdentityProvider
    cloud: HttpxCloudApi
    display: RecordingLoginDisplay
    clock: SystemClock

    def login(self) -> LoginWithDeviceFlow:
        fresh = EnsureFreshSession(self.tokens, self.identity, self.clock)
        return LoginWithDeviceFlow(
            self.identity,
            self.tokens,
            self.cloud,
            self.clock,
            SystemSleeper(),
            FakeBrowser(),
            self.display,
            fresh,
        )


def _rig(tmp_path: Path, **settings: object) -> Iterator[Rig]:
    with CloudEmulator(EmulatorSettings(**settings)) as emulator:  # type: ignore[arg-type]
        clock = SystemClock()
        endpoints = CloudEndpoints(
            emulator.base_url, emulator.base_url, "client_01K6KWQPW6J1M8VV7R3TZP5A6M"
        )
        yield Rig(
            emulator,
            JsonFileTokenStore(tmp_path / ".cloud_tokens.json"),
            YamlConfigStore(tmp_path / "config.yaml"),
            HttpxIdentityProvider(endpoints),
            HttpxCloudApi(emulator.base_url, clock),
            RecordingLoginDisplay(),
            clock,
        )


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield from _rig(tmp_path, interval=1.0, token_ttl=600.0)


def test_pending_then_approve_logs_in_and_verifies_the_subscription(rig: Rig) -> None:
    approver = Approver(rig.emulator, after=1.5)
    outcome = rig.login().execute().unwrap()
    assert outcome.session.email == "alice@example.com"
    assert isinstance(outcome.verification, Success)
    assert approver.decided_at is not None
    log = [e for e in rig.emulator.request_log() if e.path == "/oauth2/token"]
    assert [e.error for e in log][:-1] == ["authorization_pending"] * (len(log) - 1)
    assert log[-1].status == 200
    assert rig.tokens.load().unwrap() == outcome.session


def test_denied_saves_nothing(rig: Rig) -> None:
    Approver(rig.emulator, after=0.2, deny=True)
    assert rig.login().execute().failure() == AccessDenied()
    assert rig.tokens.load().unwrap() is None


def test_an_expiring_code_ends_the_flow(tmp_path: Path) -> None:
    for rig in _rig(tmp_path, interval=1.0, code_ttl=2.0):
        failure = rig.login().execute().failure()
        assert isinstance(failure, LoginTimedOut | DeviceCodeExpired)
        assert rig.tokens.load().unwrap() is None


def _login_saving_to(rig: Rig, tokens: JsonFileTokenStore) -> LoginWithDeviceFlow:
    return LoginWithDeviceFlow(
        rig.identity,
        tokens,
        rig.cloud,
        rig.clock,
        SystemSleeper(),
        FakeBrowser(),
        rig.display,
        EnsureFreshSession(tokens, rig.identity, rig.clock),
    )


@contextmanager
def _unwritable(folder: Path, how: str) -> Iterator[None]:
    """A folder whose files can be read but where no new file can be made, even by root
    (who ignores chmod): an immutable folder, or the lock's name taken by a folder."""
    if how == "lock name taken":
        (folder / ".cloud_tokens.json.lock").mkdir()
        yield
        return
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("this file system or container does not allow chattr +i")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.parametrize("how", ["immutable folder", "lock name taken"])
def test_a_folder_that_cannot_take_the_token_file_fails_before_any_code(
    rig: Rig, tmp_path: Path, how: str
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    tokens = JsonFileTokenStore(folder / ".cloud_tokens.json", lock_timeout=1.0)
    # Readable, so that only a write check can tell.
    assert tokens.load() == Success(None)

    with _unwritable(folder, how):
        failure = _login_saving_to(rig, tokens).execute().failure()

    assert isinstance(failure, FileAccessError)
    assert rig.emulator.device_codes() == []
    assert rig.display.events == []


def test_a_session_that_cannot_be_saved_after_approval_is_revoked_at_the_emulator(
    rig: Rig, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    tokens = JsonFileTokenStore(folder / ".cloud_tokens.json")

    class ApproveThenBreakTheFolder(Approver):
        def _run(self) -> None:
            super()._run()
            # Between the approval and the next poll: the save that follows must fail.
            folder.rename(tmp_path / "data.moved")
            folder.write_bytes(b"")

    approver = ApproveThenBreakTheFolder(rig.emulator, after=0.1)
    failure = _login_saving_to(rig, tokens).execute().failure()

    assert approver.decided_at is not None
    assert isinstance(failure, SessionNotSaved)
    assert failure.revoked
    sessions = rig.emulator.sessions()
    assert len(sessions) == 1
    assert not sessions[0].active
    assert [e.status for e in rig.emulator.request_log() if e.path == "/oauth2/revoke"] == [200]


def test_server_errors_while_polling_are_ridden_out(rig: Rig) -> None:
    rig.emulator.fail_next("/oauth2/token", status=503, count=2)
    Approver(rig.emulator, after=0.1)
    outcome = rig.login().execute().unwrap()
    statuses = [e.status for e in rig.emulator.request_log() if e.path == "/oauth2/token"]
    assert statuses[:2] == [503, 503]
    assert statuses[-1] == 200
    assert outcome.polls == len(statuses)
    assert "retry" in rig.display.kinds()


def test_subscription_missing_is_reported_with_the_session_saved(rig: Rig) -> None:
    Approver(rig.emulator, after=0.1, email="bob@example.com")
    outcome = rig.login().execute().unwrap()
    failure = outcome.verification.failure()
    assert isinstance(failure, SubscriptionRequired)
    assert failure.subscribe_url.startswith(rig.emulator.base_url)
    assert rig.tokens.load().unwrap() is not None


def test_slow_down_adds_five_seconds_measured_in_the_request_log(rig: Rig) -> None:
    """A client that polls too early is told to slow down; ours then waits interval + 5 s.

    The early poll is provoked by a sleeper that skips one wait while the clock pretends it
    passed (as after a suspended laptop resumes)."""

    class SkewedClock(SystemClock):
        offset = 0.0

        def monotonic(self) -> float:
            return super().monotonic() + self.offset

    class SkippingSleeper(SystemSleeper):
        """Skips the wait before the second poll while the clock claims it passed."""

        naps = 0

        def __init__(self, clock: SkewedClock) -> None:
            self.clock = clock

        def sleep(self, seconds: float) -> None:
            self.naps += 1
            if self.naps == 2:
                self.clock.offset += seconds
            else:
                super().sleep(seconds)

    clock = SkewedClock()
    fresh = EnsureFreshSession(rig.tokens, rig.identity, clock)
    login = LoginWithDeviceFlow(
        rig.identity,
        rig.tokens,
        rig.cloud,
        clock,
        SkippingSleeper(clock),
        FakeBrowser(),
        rig.display,
        fresh,
    )
    Approver(rig.emulator, after=2.0)
    login.execute().unwrap()
    polls = [e for e in rig.emulator.request_log() if e.path == "/oauth2/token"]
    assert [e.error for e in polls[:2]] == ["authorization_pending", "slow_down"]
    gap = polls[2].monotonic - polls[1].monotonic
    assert 5.5 <= gap < 7.5, gap  # the interval grew from 1 s to 6 s
    assert all(e.error != "slow_down" for e in polls[2:])


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(tmp_path: Path) -> None:
    for rig in _rig(tmp_path, interval=1.0, token_ttl=30.0):
        Approver(rig.emulator, after=0.1)
        first = rig.login().execute().unwrap().session
        fresh = EnsureFreshSession(rig.tokens, rig.identity, rig.clock)
        second = fresh.execute().unwrap()  # 30 s tokens are always inside the 60 s leeway
        assert second.refresh_token != first.refresh_token
        assert rig.emulator.refresh_count() == 1
        assert first.refresh_token is not None
        reused = rig.identity.refresh(first.refresh_token)
        assert reused.failure() == SessionExpired()
        health = rig.cloud.check_health(
            Credential(CredentialSource.OAUTH_SESSION, second.access_token)
        )
        assert isinstance(health.failure(), CredentialRejected)  # the whole family was revoked


def test_logout_revokes_on_the_server(rig: Rig) -> None:
    Approver(rig.emulator, after=0.1)
    session = rig.login().execute().unwrap().session
    outcome = Logout(rig.tokens, rig.config, rig.identity, {}).execute().unwrap()
    assert outcome.revocation is Revocation.REVOKED
    assert rig.tokens.load().unwrap() is None
    assert session.refresh_token is not None
    assert isinstance(rig.identity.refresh(session.refresh_token), Failure)


def test_logout_with_the_server_down_still_removes_the_session(rig: Rig) -> None:
    Approver(rig.emulator, after=0.1)
    rig.login().execute().unwrap()
    rig.emulator.fail_next("/oauth2/revoke", status=500, count=1)
    outcome = Logout(rig.tokens, rig.config, rig.identity, {}).execute().unwrap()
    assert outcome.revocation is Revocation.FAILED
    assert rig.tokens.load().unwrap() is None


def test_poll_efficiency_is_at_most_one_more_than_the_minimum(rig: Rig) -> None:
    approver = Approver(rig.emulator, after=2.5)
    started = time.monotonic()
    outcome = rig.login().execute().unwrap()
    finished = time.monotonic()
    assert approver.decided_at is not None
    minimum = int((approver.decided_at - started) // 1.0) + 1  # first poll after the approval
    assert outcome.polls <= minimum + 1
    polls = [e for e in rig.emulator.request_log() if e.path == "/oauth2/token"]
    assert polls[0].monotonic - started >= 0.9  # no poll before one interval
    assert finished - approver.decided_at < 1.0 + 0.5  # next poll (<= 1 interval) + exit


def test_tokens_expiring_in_the_file_are_refreshed_once_by_the_fresh_session(
    tmp_path: Path,
) -> None:
    for rig in _rig(tmp_path, interval=1.0, token_ttl=30.0):
        Approver(rig.emulator, after=0.1)
        rig.login().execute().unwrap()
        fresh = EnsureFreshSession(rig.tokens, rig.identity, rig.clock)
        sessions = [fresh.execute() for _ in range(3)]
        assert all(isinstance(s, Success) for s in sessions)
        # 30 s tokens never leave the leeway, so each call refreshes: this proves rotation
        # persisted every time (a stale refresh token would have been invalid_grant).
        assert rig.emulator.refresh_count() == 3
        assert SecretStr("x") != sessions[-1].unwrap().access_token
