"""The installed `bm` signing in against the emulator, approved through its control API."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.e2e.conftest import BmRunner, installed_command

TOKENS = ".cloud_tokens.json"


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


@pytest.fixture
def cloud_env(clean_env: dict[str, str], emulator: CloudEmulator) -> dict[str, str]:
    clean_env.update(
        BASIC_MEMORY_CLOUD_HOST=emulator.base_url, BASIC_MEMORY_CLOUD_DOMAIN=emulator.base_url
    )
    return clean_env


def start_login(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [installed_command("bm"), "cloud", "login", "--no-browser", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_code(emulator: CloudEmulator, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = emulator.device_codes()
        if codes:
            return codes[-1].user_code
        time.sleep(0.02)
    raise AssertionError("bm never asked for a device code")


def login(
    emulator: CloudEmulator, env: dict[str, str], email: str | None = None
) -> tuple[int, str, str]:
    process = start_login(env)
    emulator.approve(wait_for_code(emulator), email=email)
    stdout, stderr = process.communicate(timeout=30)
    return process.returncode, stdout, stderr


def test_login_approved_prints_the_code_saves_tokens_and_verifies(
    emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    process = start_login(cloud_env)
    code = wait_for_code(emulator)
    emulator.approve(code)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Logged in as alice@example.com" in stdout
    assert code in stderr
    assert f"{emulator.base_url}/device" in stderr
    assert "Traceback" not in stderr
    tokens = tmp_path / "data" / TOKENS
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    stored = json.loads(tokens.read_text())
    assert stored["access_token"] not in stdout + stderr
    assert stored["refresh_token"] not in stdout + stderr


def test_status_logout_cycle(
    bm: BmRunner, emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    status = bm("cloud", "status", "--json", env=cloud_env)
    assert status.code == 0, status.output
    report = json.loads(status.stdout)
    assert report["session"]["email"] == "alice@example.com"
    assert report["cloud"]["subscription"] == "active"
    stored = json.loads((tmp_path / "data" / TOKENS).read_text())
    logout = bm("cloud", "logout", env=cloud_env)
    assert logout.code == 0
    assert "revoked on the server" in logout.stdout
    assert not (tmp_path / "data" / TOKENS).exists()
    health = httpx.get(
        f"{emulator.base_url}/proxy/health",
        headers={"Authorization": f"Bearer {stored['access_token']}"},
    )
    assert health.status_code == 401
    assert bm("cloud", "status", "--offline", env=cloud_env).code == 1


def test_denied_exits_1_and_saves_nothing(
    emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    process = start_login(cloud_env)
    emulator.deny(wait_for_code(emulator))
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "denied" in stderr
    assert not (tmp_path / "data" / TOKENS).exists()


def test_subscription_missing_gives_the_documented_advice(
    emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    code, _stdout, stderr = login(emulator, cloud_env, email="bob@example.com")
    assert code == 1
    assert "Active subscription required" in stderr
    assert f"{emulator.base_url}/subscribe" in stderr
    assert "wait a few minutes and run `bm cloud login` again" in stderr
    assert (tmp_path / "data" / TOKENS).exists()


def test_ctrl_c_cancels_with_130_and_saves_nothing(
    emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    process = start_login(cloud_env)
    wait_for_code(emulator)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "cancelled" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "data" / TOKENS).exists()


def test_second_login_refreshes_silently(
    bm: BmRunner, emulator: CloudEmulator, cloud_env: dict[str, str]
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    again = bm("cloud", "login", "--no-browser", env=cloud_env)
    assert again.code == 0, again.output
    assert "Refreshed the stored session" in again.stderr
    assert emulator.refresh_count() == 1
    assert len(emulator.device_codes()) == 1


def test_refresh_single_flight_across_processes(
    emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    tokens = tmp_path / "data" / TOKENS
    stored = json.loads(tokens.read_text())
    stored["expires_at"] = int(time.time()) - 5  # expired locally: every process wants a refresh
    tokens.write_text(json.dumps(stored))
    processes = [
        subprocess.Popen(
            [installed_command("bm"), "cloud", "status", "--json"],
            env=cloud_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [(p.wait(timeout=60), p.stdout.read() if p.stdout else "") for p in processes]
    assert [code for code, _ in results] == [0] * 8
    assert emulator.refresh_count() == 1
    for _, stdout in results:
        assert json.loads(stdout)["session"]["state"] == "valid"


def test_api_key_create_then_accepted_by_the_cloud(
    bm: BmRunner, emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    created = bm("cloud", "api-key", "create", "desktop-work", env=cloud_env)
    assert created.code == 0, created.output
    assert "bmc_…" in created.stdout
    config = (tmp_path / "data" / "config.yaml").read_text()
    key = config.split("cloud_api_key:")[1].split()[0]
    assert key not in created.output
    health = httpx.get(
        f"{emulator.base_url}/proxy/health", headers={"Authorization": f"Bearer {key}"}
    )
    assert health.status_code == 200
    # the key now routes projects, and survives logout
    bm("project", "add", "research", str(tmp_path), env=cloud_env)
    assert (
        "API key from config.yaml" in bm("project", "set-cloud", "research", env=cloud_env).stdout
    )
    logout = bm("cloud", "logout", env=cloud_env)
    assert "remains available" in logout.stdout
    status = bm("cloud", "status", "--json", env=cloud_env)
    assert status.code == 0, status.output
    assert json.loads(status.stdout)["credential"] == "config.yaml"


def test_verify_refuses_a_key_the_cloud_rejects(
    bm: BmRunner, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    run = bm(
        "cloud", "api-key", "save", "-", "--verify", input="bmc_unknownkey12345678", env=cloud_env
    )
    assert run.code == 1
    assert "rejected" in run.stderr
    assert not (tmp_path / "data" / "config.yaml").exists()


def test_cloud_down_gives_exit_3(bm: BmRunner, clean_env: dict[str, str]) -> None:
    with CloudEmulator(EmulatorSettings()) as doomed:
        url = doomed.base_url
    run = bm(
        "cloud",
        "status",
        input="",
        env={
            "BASIC_MEMORY_CLOUD_HOST": url,
            "BASIC_MEMORY_CLOUD_DOMAIN": url,
            "BASIC_MEMORY_CLOUD_API_KEY": "bmc_abcdefgh12345678",
        },
    )
    assert run.code == 3, run.output
    assert "Cannot reach" in run.stdout + run.stderr
    assert os.environ.get("BASIC_MEMORY_CLOUD_API_KEY", "") not in ("bmc_abcdefgh12345678",)


def test_ctrl_c_during_the_subscription_check_says_the_session_was_saved(
    emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    emulator.delay_next("/proxy/health", seconds=5, count=1)
    process = start_login(cloud_env)
    emulator.approve(wait_for_code(emulator))
    tokens = tmp_path / "data" / TOKENS
    deadline = time.monotonic() + 15
    while not tokens.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the command is now waiting on the delayed health check
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "the session was saved" in stderr
    assert "nothing was saved" not in stderr
    assert tokens.exists()
