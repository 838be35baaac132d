"""`bm cloud login --json` read line by line from the installed `bm`, as an agent relays it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.e2e.conftest import installed_command
from tests.integration.http.scripted_server import Answer, running_server

TOKENS = ".cloud_tokens.json"
VERIFICATION_KEYS = {
    "event",
    "verification_uri",
    "verification_uri_complete",
    "user_code",
    "expires_in",
    "interval",
}


@dataclass
class JsonLogin:
    """One `bm cloud login --json` process; `events` are its stdout lines, each parsed."""

    process: subprocess.Popen[str]

    def next_event(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.endswith("\n"), f"stdout ended without a full line: {line!r}"
        event = json.loads(line)
        assert isinstance(event, dict)
        return event

    def finish(self) -> tuple[int, list[dict[str, Any]], str]:
        """Exit code, the remaining events (every line must be JSON), stderr."""
        stdout, stderr = self.process.communicate(timeout=30)
        events = [json.loads(line) for line in stdout.splitlines()]
        assert stdout == "".join(json.dumps(event) + "\n" for event in events)
        return self.process.returncode, events, stderr


@pytest.fixture
def start(clean_env: dict[str, str]) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def run(emulator_url: str, *args: str) -> JsonLogin:
        env = dict(clean_env)
        env.update(BASIC_MEMORY_CLOUD_HOST=emulator_url, BASIC_MEMORY_CLOUD_DOMAIN=emulator_url)
        process = subprocess.Popen(
            [installed_command("bm"), "cloud", "login", "--json", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return JsonLogin(process)

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def assert_verification(event: dict[str, Any], emulator: CloudEmulator) -> str:
    assert set(event) == VERIFICATION_KEYS
    assert event["event"] == "verification"
    assert event["verification_uri"] == f"{emulator.base_url}/device"
    user_code = event["user_code"]
    assert event["verification_uri_complete"] == f"{emulator.base_url}/device?user_code={user_code}"
    assert isinstance(event["expires_in"], int)
    assert isinstance(event["interval"], int)
    return str(user_code)


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


def test_approved_login_relays_the_code_then_logged_in(
    start: Any, emulator: CloudEmulator, tmp_path: Path
) -> None:
    login = start(emulator.base_url)
    # The event arrives while bm waits: it is written and flushed before any approval.
    user_code = assert_verification(login.next_event(), emulator)
    assert user_code == emulator.device_codes()[-1].user_code
    assert login.process.poll() is None
    emulator.approve(user_code)
    code, events, stderr = login.finish()
    assert code == 0, stderr
    assert events == [
        {"event": "logged_in", "email": "alice@example.com", "subscription": "active"}
    ]
    stored = json.loads((tmp_path / "data" / TOKENS).read_text())
    for secret in (stored["access_token"], stored["refresh_token"]):
        assert (secret in stderr) is False


def test_refresh_instead_of_a_device_flow_is_logged_in_alone(
    start: Any, emulator: CloudEmulator
) -> None:
    first = start(emulator.base_url)
    emulator.approve(assert_verification(first.next_event(), emulator))
    assert first.finish()[0] == 0
    code, events, stderr = start(emulator.base_url).finish()
    assert code == 0, stderr
    assert events == [
        {"event": "logged_in", "email": "alice@example.com", "subscription": "active"}
    ]
    assert "Refreshed the stored session" in stderr


def test_denied_is_one_error_event_and_exit_1(
    start: Any, emulator: CloudEmulator, tmp_path: Path
) -> None:
    login = start(emulator.base_url)
    emulator.deny(assert_verification(login.next_event(), emulator))
    code, events, _ = login.finish()
    assert code == 1
    assert [(e["event"], e["reason"]) for e in events] == [("error", "denied")]
    assert "denied" in events[0]["message"]
    assert not (tmp_path / "data" / TOKENS).exists()


def test_a_code_that_outlives_the_wait_is_a_timeout_event_and_exit_1(
    start: Any, tmp_path: Path
) -> None:
    with CloudEmulator(EmulatorSettings(interval=1.0, code_ttl=2.0)) as short:
        login = start(short.base_url)
        event = login.next_event()
        assert_verification(event, short)
        assert event["expires_in"] == 2
        code, events, _ = login.finish()
    assert code == 1
    # bm's deadline is the code's life, counted from the answer: bm gives up first.
    assert [(e["event"], e["reason"]) for e in events] == [("error", "timeout")]
    assert not (tmp_path / "data" / TOKENS).exists()


def test_a_code_the_service_calls_expired_is_an_expired_event_and_exit_1(
    start: Any, tmp_path: Path
) -> None:
    # The emulator's codes end with bm's own deadline; a scripted service says
    # `expired_token` while bm would still wait, as a provider that shortens a code may.
    with running_server() as service:
        service.script(
            "/oauth2/device_authorization",
            Answer(
                200,
                {
                    "device_code": "scripted-device-code-0123456789",
                    "user_code": "WDJB-MJHT",
                    "verification_uri": f"{service.base_url}/device",
                    "expires_in": 600,
                    "interval": 1,
                },
            ),
        )
        service.script("/oauth2/token", Answer(400, {"error": "expired_token"}))
        login = start(service.base_url)
        event = login.next_event()
        assert event["verification_uri_complete"] is None
        assert (event["user_code"], event["expires_in"], event["interval"]) == ("WDJB-MJHT", 600, 1)
        code, events, stderr = login.finish()
    assert code == 1
    assert [(e["event"], e["reason"]) for e in events] == [("error", "expired")]
    assert "scripted-device-code" not in stderr
    assert not (tmp_path / "data" / TOKENS).exists()


def test_subscription_required_is_logged_in_with_exit_1(
    start: Any, emulator: CloudEmulator
) -> None:
    login = start(emulator.base_url)
    user_code = assert_verification(login.next_event(), emulator)
    emulator.approve(user_code, email="bob@example.com")
    code, events, stderr = login.finish()
    assert code == 1
    assert events == [
        {"event": "logged_in", "email": "bob@example.com", "subscription": "required"}
    ]
    assert "Active subscription required" in stderr


def test_an_unreachable_sign_in_service_is_a_network_error_and_exit_3(start: Any) -> None:
    with CloudEmulator(EmulatorSettings()) as doomed:
        closed = doomed.base_url
    code, events, stderr = start(closed).finish()
    assert code == 3, stderr
    assert [(e["event"], e["reason"]) for e in events] == [("error", "network")]
    assert "Cannot reach" in events[0]["message"]


def test_a_failure_before_the_flow_is_an_error_event_too(start: Any) -> None:
    code, events, _ = start("http://cloud.example.com").finish()
    assert code == 1
    assert [(e["event"], e["reason"]) for e in events] == [("error", "settings")]
