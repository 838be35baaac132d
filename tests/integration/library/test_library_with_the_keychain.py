"""The library's auth (sync and async) with `credential_store: keyring`, on the real daemon:
a refresh reads the session from the keychain and puts the rotated one back there."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from domain.session import TokenResponse, session_from_response
from emulator import CloudEmulator, EmulatorSettings
from entrypoints.container import build_container
from entrypoints.library import cloud_auth
from tests.keychain_daemon import KeychainDaemon


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(token_ttl=600.0)) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, emulator: CloudEmulator, keychain: KeychainDaemon) -> dict[str, str]:
    return {
        "BASIC_MEMORY_CONFIG_DIR": str(tmp_path),
        "BASIC_MEMORY_CLOUD_HOST": emulator.base_url,
        "BASIC_MEMORY_CLOUD_DOMAIN": emulator.base_url,
        "BASIC_MEMORY_CREDENTIAL_STORE": "keyring",
    }


def _signed_in(emulator: CloudEmulator, env: dict[str, str]) -> str:
    issued = emulator.issue_session("alice@example.com")
    response = TokenResponse(
        access_token=SecretStr(str(issued["access_token"])),
        refresh_token=SecretStr(str(issued["refresh_token"])),
        expires_in=int(str(issued["expires_in"])),
    )
    session = session_from_response(response, int(time.time()))
    build_container(env).tokens().save(session).unwrap()
    return str(issued["refresh_token"])


def _check_rotated_into_the_keychain(
    keychain: KeychainDaemon, tmp_path: Path, old_refresh: str
) -> None:
    entry = keychain.lookup(f"basic-memory-cloud:{tmp_path}", "oauth-session")
    assert entry is not None
    assert json.loads(entry)["refresh_token"] != old_refresh
    stub = (tmp_path / ".cloud_tokens.json").read_text()
    assert json.loads(stub)["credential_store"] == "keyring"
    assert json.loads(entry)["refresh_token"] not in stub


def test_a_refresh_through_cloud_auth_keeps_the_session_in_the_keychain(
    emulator: CloudEmulator, env: dict[str, str], keychain: KeychainDaemon, tmp_path: Path
) -> None:
    old_refresh = _signed_in(emulator, env)
    emulator.expire_sessions(email="alice@example.com")

    with httpx.Client(base_url=emulator.base_url, auth=cloud_auth(env=env)) as client:
        assert client.get("/proxy/health").status_code == 200

    assert emulator.refresh_count() == 1
    _check_rotated_into_the_keychain(keychain, tmp_path, old_refresh)


def test_concurrent_async_requests_refresh_once_with_the_keychain_store(
    emulator: CloudEmulator, env: dict[str, str], keychain: KeychainDaemon, tmp_path: Path
) -> None:
    old_refresh = _signed_in(emulator, env)
    emulator.expire_sessions(email="alice@example.com")

    async def run() -> list[int]:
        async with httpx.AsyncClient(
            base_url=emulator.base_url, auth=cloud_auth(env=env)
        ) as client:
            answers = await asyncio.gather(*(client.get("/proxy/health") for _ in range(6)))
        return [answer.status_code for answer in answers]

    assert asyncio.run(run()) == [200] * 6
    assert emulator.refresh_count() == 1
    _check_rotated_into_the_keychain(keychain, tmp_path, old_refresh)
