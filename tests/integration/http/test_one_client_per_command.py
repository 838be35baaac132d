"""The container gives the sign-in service and the cloud API one HTTP client, so a command that
refreshes a session and then calls the cloud sets up TLS once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from pydantic import SecretStr
from returns.result import Result

from adapters.http_transport import SharedClient
from adapters.httpx_cloud_api import SERVICE as CLOUD
from adapters.httpx_identity_provider import SERVICE as SIGN_IN
from adapters.json_file_token_store import JsonFileTokenStore
from domain.errors import ServiceUnreachable
from domain.session import EXPIRY_LEEWAY_SECONDS, TokenResponse, session_from_response
from emulator import CloudEmulator, EmulatorSettings
from entrypoints.container import build_container


class CountingSharedClient(SharedClient):
    """The real shared client, noting which services asked for it."""

    def __init__(self) -> None:
        super().__init__(2.0)
        self.asked: list[str] = []

    def get(self, service: str) -> Result[httpx.Client, ServiceUnreachable]:
        self.asked.append(service)
        return super().get(service)


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    # Tokens that live less than the expiry leeway: the stored session needs a refresh.
    with CloudEmulator(EmulatorSettings(token_ttl=EXPIRY_LEEWAY_SECONDS / 2)) as running:
        yield running


def test_a_refresh_and_a_cloud_call_share_one_client(
    emulator: CloudEmulator, tmp_path: Path
) -> None:
    issued = emulator.issue_session("alice@example.com")
    expiring = session_from_response(
        TokenResponse(
            access_token=SecretStr(str(issued["access_token"])),
            refresh_token=SecretStr(str(issued["refresh_token"])),
            expires_in=int(str(issued["expires_in"])),
        ),
        int(time.time()),
    )
    assert not expiring.is_valid(time.time())
    JsonFileTokenStore(tmp_path / ".cloud_tokens.json").save(expiring).unwrap()
    container = build_container(
        {
            "BASIC_MEMORY_CONFIG_DIR": str(tmp_path),
            "HOME": str(tmp_path),
            "BASIC_MEMORY_CLOUD_HOST": emulator.base_url,
            "BASIC_MEMORY_CLOUD_DOMAIN": emulator.base_url,
        }
    )
    shared = CountingSharedClient()
    container.http_client.override(providers.Object(shared))

    report = container.status().execute()

    assert emulator.refresh_count() == 1  # the session was refreshed by the sign-in service
    assert report.cloud is not None
    assert report.cloud.result.unwrap().latency_ms >= 0  # and the cloud answered
    assert set(shared.asked) == {SIGN_IN, CLOUD}
    shared.close()
