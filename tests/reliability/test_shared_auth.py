"""A shared `cloud_auth()` under threads, and a 401 from another origin after a redirect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.reliability import shared_auth

pytestmark = pytest.mark.reliability


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


def test_threads_sharing_one_auth_refresh_once_and_all_succeed(
    tmp_path: Path, emulator: CloudEmulator
) -> None:
    figures = shared_auth.threads_share_one_auth(tmp_path, emulator)
    assert figures.errors == []
    assert figures.succeeded == figures.threads
    assert figures.refreshes == 1
    assert figures.live_refresh_token


def test_a_401_from_another_origin_neither_refreshes_nor_rejects_the_key(
    tmp_path: Path, emulator: CloudEmulator
) -> None:
    figures = shared_auth.redirect_to_another_origin(tmp_path, emulator)
    assert figures.raised == []
    assert figures.returned_401 == figures.cases == 2
    assert figures.refreshes == 0


def test_closing_the_shared_client_in_one_thread_leaves_another_threads_client_open() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from adapters.http_transport import SharedClient

    shared = SharedClient()
    mine = shared.get("the cloud API").unwrap()
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(lambda: shared.get("the cloud API").unwrap()).result()
        pool.submit(shared.close).result()
    assert theirs is not mine
    assert theirs.is_closed
    assert not mine.is_closed
    shared.close()
    assert mine.is_closed
