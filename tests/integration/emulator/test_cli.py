"""The `bm-emulator` command (`python -m emulator[.cli]`) as a real subprocess."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.integration.emulator.emulator_driver import http_client

REPO = Path(__file__).resolve().parents[3]


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str, float]]:
    """Start the emulator; yield the process, its first stdout line and the time to get it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=10), "no output within 10 s"
        line = process.stdout.readline().strip()
        yield process, line, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=5)


@pytest.mark.parametrize("module", ["emulator.cli", "emulator"])
def test_prints_its_url_first_serves_and_stops_on_sigterm(module: str) -> None:
    with running("-m", module, "--port", "0", "--interval", "0.1", "--no-subscription") as (
        process,
        url,
        elapsed,
    ):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        assert elapsed < 5
        with http_client(url) as client:
            assert client.get("/").json()["cloud_host"] == url
            code = client.post(
                "/oauth2/device_authorization",
                data={"client_id": "client_01K6KWQPW6J1M8VV7R3TZP5A6M"},
            ).json()
            assert code["interval"] == 0.1
            token = client.post("/_emulator/issue_session", json={"email": "alice@example.com"})
            health = client.get(
                "/proxy/health",
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
        assert health.status_code == 403  # --no-subscription
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.read() == ""  # the URL is the only thing on stdout
        stderr = process.stderr.read()
    assert "Traceback" not in stderr
    assert "/device" in stderr


def test_ctrl_c_stops_it_cleanly() -> None:
    with running("-m", "emulator", "--auto-approve-after", "0") as (process, url, _):
        with http_client(url) as client:
            assert client.get("/").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


def test_refuses_a_non_loopback_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--host", "0.0.0.0"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback only" in result.stderr
    assert result.stdout == ""


def test_refuses_negative_durations() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--interval", "-1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 2
    assert "non-negative" in result.stderr


def test_starts_in_process_well_under_a_second() -> None:
    started = time.perf_counter()
    with CloudEmulator(EmulatorSettings()) as emulator:
        elapsed = time.perf_counter() - started
        with http_client(emulator.base_url) as client:
            assert client.get("/").status_code == 200
    assert elapsed < 0.5


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with CloudEmulator() as emulator:
        result = subprocess.run(
            [sys.executable, "-m", "emulator", "--port", str(emulator.port)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.startswith("bm-emulator: cannot listen on 127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_verbose_logs_requests_without_query_strings() -> None:
    with running("-m", "emulator", "--verbose") as (process, url, _):
        with http_client(url) as client:
            client.get("/device", params={"user_code": "BCDF-GHJK"})
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=5)
        assert process.stderr is not None
        stderr = process.stderr.read()
    assert '"GET /device" 404' in stderr
    assert "BCDF" not in stderr
