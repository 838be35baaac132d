"""The library API (`cloud_auth`, `route_for`) over real files against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from adapters.json_file_token_store import JsonFileTokenStore
from domain.errors import CredentialRejected, NoCredential, SessionExpired
from domain.routing import Route
from domain.session import TokenResponse, session_from_response
from emulator import CloudEmulator, EmulatorSettings
from entrypoints.library import CloudAuthError, cloud_auth, cloud_host, route_for


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(token_ttl=600.0)) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, emulator: CloudEmulator) -> dict[str, str]:
    return {
        "BASIC_MEMORY_CONFIG_DIR": str(tmp_path),
        "BASIC_MEMORY_CLOUD_HOST": emulator.base_url,
        "BASIC_MEMORY_CLOUD_DOMAIN": emulator.base_url,
    }


def _sign_in(emulator: CloudEmulator, folder: Path) -> None:
    issued = emulator.issue_session("alice@example.com")
    response = TokenResponse(
        access_token=SecretStr(str(issued["access_token"])),
        refresh_token=SecretStr(str(issued["refresh_token"])),
        expires_in=int(str(issued["expires_in"])),
    )
    now = int(time.time())
    JsonFileTokenStore(folder / ".cloud_tokens.json").save(
        session_from_response(response, now)
    ).unwrap()


def test_an_api_key_authorises_project_requests(
    emulator: CloudEmulator, env: dict[str, str]
) -> None:
    key = emulator.issue_api_key("alice@example.com")
    with httpx.Client(
        base_url=cloud_host(env),
        auth=cloud_auth("research", {**env, "BASIC_MEMORY_CLOUD_API_KEY": key}),
    ) as client:
        assert client.get("/proxy/health").status_code == 200


def test_a_401_refreshes_the_oauth_session_once_and_retries(
    emulator: CloudEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    _sign_in(emulator, tmp_path)
    before = json.loads((tmp_path / ".cloud_tokens.json").read_text())
    emulator.expire_sessions(email="alice@example.com")  # the server refuses the access token now
    with httpx.Client(base_url=emulator.base_url, auth=cloud_auth(env=env)) as client:
        response = client.get("/proxy/health")
    assert response.status_code == 200
    assert emulator.refresh_count() == 1
    after = json.loads((tmp_path / ".cloud_tokens.json").read_text())
    assert after["refresh_token"] != before["refresh_token"]
    statuses = [e.status for e in emulator.request_log() if e.path == "/proxy/health"]
    assert statuses == [401, 200]


def test_a_rejected_api_key_is_reported_clearly(
    emulator: CloudEmulator, env: dict[str, str]
) -> None:
    key = "bmc_revokedrevoked12345678"
    auth = cloud_auth("research", {**env, "BASIC_MEMORY_CLOUD_API_KEY": key})
    with (
        httpx.Client(base_url=emulator.base_url, auth=auth) as client,
        pytest.raises(CloudAuthError) as raised,
    ):
        client.get("/proxy/health")
    assert isinstance(raised.value.failure, CredentialRejected)
    assert "BASIC_MEMORY_CLOUD_API_KEY" in str(raised.value)
    assert key not in str(raised.value)
    assert key not in repr(raised.value)


def test_without_any_credential_the_error_says_what_to_do(
    emulator: CloudEmulator, env: dict[str, str]
) -> None:
    with (
        httpx.Client(base_url=emulator.base_url, auth=cloud_auth(env=env)) as client,
        pytest.raises(CloudAuthError) as raised,
    ):
        client.get("/proxy/health")
    assert isinstance(raised.value.failure, NoCredential)
    assert "bm cloud login" in str(raised.value)
    assert emulator.request_log() == []


def test_a_revoked_session_ends_with_session_expired(
    emulator: CloudEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    _sign_in(emulator, tmp_path)
    stored = json.loads((tmp_path / ".cloud_tokens.json").read_text())
    httpx.post(
        f"{emulator.base_url}/oauth2/revoke",
        data={
            "token": stored["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": "client_01K6KWQPW6J1M8VV7R3TZP5A6M",
        },
    )
    with (
        httpx.Client(base_url=emulator.base_url, auth=cloud_auth(env=env)) as client,
        pytest.raises(CloudAuthError) as raised,
    ):
        client.get("/proxy/health")
    assert isinstance(raised.value.failure, SessionExpired)


def test_route_for_follows_the_routing_variables(
    emulator: CloudEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    key = emulator.issue_api_key("alice@example.com")
    (tmp_path / "config.yaml").write_text(
        f"cloud_api_key: {key}\nprojects:\n  research: {{path: /r, mode: cloud}}\n"
    )
    cloud = route_for("research", env)
    assert cloud.route is Route.CLOUD
    assert cloud.credential is not None
    assert key not in repr(cloud)
    local = route_for("research", {**env, "BASIC_MEMORY_FORCE_LOCAL": "1"})
    assert local.route is Route.LOCAL
    assert local.reason == "BASIC_MEMORY_FORCE_LOCAL is on"


_REFRESH_THREE_TIMES = """
import gc, json, sys, warnings
import httpx
from entrypoints.library import cloud_auth
env = json.loads(sys.argv[1])
warnings.simplefilter("always", ResourceWarning)
with warnings.catch_warnings(record=True) as caught:
    for _ in range(3):
        auth = cloud_auth(env=env)
        auth._supplier(None)  # noqa: SLF001 - one supply, as a request would; refreshes
        del auth
    gc.collect()
print(json.dumps([str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]))
"""


def test_refreshes_through_the_library_leave_no_connection_open(
    emulator: CloudEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    """An auth object may live long; each supply closes what its refresh opened."""
    _sign_in(emulator, tmp_path)
    stored = json.loads((tmp_path / ".cloud_tokens.json").read_text())
    stored["expires_at"] = int(time.time()) - 5
    (tmp_path / ".cloud_tokens.json").write_text(json.dumps(stored))
    emulator.set_token_ttl(30.0)  # shorter than the leeway: every supply refreshes
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _REFRESH_THREE_TIMES, json.dumps(env)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert emulator.refresh_count() == 3
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
