"""`cloud_auth()` with `httpx.AsyncClient`: one refresh for many tasks, and a loop that never
waits on files, locks or the refresh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.reliability import async_auth

pytestmark = pytest.mark.reliability


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


def test_concurrent_tasks_on_an_expired_session_refresh_once_without_stalling_the_loop(
    tmp_path: Path, emulator: CloudEmulator
) -> None:
    figures = async_auth.concurrent_tasks(tmp_path, emulator)
    assert figures.errors == []
    assert figures.succeeded == figures.tasks == 8
    assert figures.refreshes == 1
    assert figures.worst_stall_ms <= 100, figures.line
    assert figures.ticks > 50  # the ticker really ran through the second-long refresh


def test_another_process_holding_the_token_lock_does_not_stall_the_loop(
    tmp_path: Path, emulator: CloudEmulator
) -> None:
    figures = async_auth.concurrent_tasks(tmp_path, emulator, hold_lock=2.0)
    assert figures.errors == []
    assert figures.succeeded == figures.tasks
    assert figures.refreshes == 1
    assert figures.seconds >= 2.0  # they did wait for the holder
    assert figures.worst_stall_ms <= 100, figures.line


def test_an_async_refresh_from_a_trickling_server_ends_at_its_deadline(
    emulator: CloudEmulator,
) -> None:
    import asyncio
    import time

    from pydantic import SecretStr

    from adapters.httpx_identity_provider import HttpxAsyncIdentityProvider
    from domain.endpoints import CloudEndpoints
    from domain.errors import ServiceUnreachable
    from emulator import DEFAULT_CLIENT_ID

    issued = emulator.issue_session("alice@example.com")
    emulator.trickle_next("/oauth2/token", 0.5, count=1)
    provider = HttpxAsyncIdentityProvider(
        CloudEndpoints(
            cloud_host=emulator.base_url,
            cloud_domain=emulator.base_url,
            client_id=DEFAULT_CLIENT_ID,
        ),
        deadline=2.0,
    )
    began = time.monotonic()
    answer = asyncio.run(provider.refresh(SecretStr(str(issued["refresh_token"]))))
    took = time.monotonic() - began
    assert isinstance(answer.failure(), ServiceUnreachable)
    assert "no complete answer within 2 s" in answer.failure().message
    assert took < 4.0
