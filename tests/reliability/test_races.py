"""Many bm processes at once: one refresh for all, no lost update, locks that never block forever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.keychain_daemon import KeychainDaemon
from tests.reliability.probes import RACERS
from tests.reliability.races import (
    config_race,
    dead_lock_holder,
    live_lock_holder,
    refresh_race,
)

pytestmark = pytest.mark.reliability

PROCESSES = RACERS


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


def test_processes_needing_an_expired_session_refresh_it_once(
    emulator: CloudEmulator, tmp_path: Path
) -> None:
    figures = refresh_race(tmp_path, emulator, PROCESSES)

    print(figures.line)
    assert figures.problems == []
    assert figures.refreshes == 1
    assert figures.succeeded == PROCESSES


def test_with_the_keychain_store_processes_still_refresh_once(
    emulator: CloudEmulator, tmp_path: Path, keychain_daemon: KeychainDaemon
) -> None:
    figures = refresh_race(tmp_path, emulator, PROCESSES, keychain_env=keychain_daemon.env)

    print(figures.line)
    assert figures.problems == []
    assert figures.refreshes == 1
    assert figures.succeeded == PROCESSES


def test_processes_changing_the_config_at_once_lose_no_update(tmp_path: Path) -> None:
    figures = config_race(tmp_path, PROCESSES)

    print(figures.line)
    assert figures.problems == []
    assert figures.kept == PROCESSES


def test_a_lock_held_by_a_killed_process_does_not_block_the_next_command(
    tmp_path: Path,
) -> None:
    figures = dead_lock_holder(tmp_path)

    print(figures.line)
    assert figures.problems == []


def test_a_lock_held_by_a_hung_process_fails_the_command_after_the_timeout(
    tmp_path: Path,
) -> None:
    figures = live_lock_holder(tmp_path)

    print(figures.line)
    assert figures.problems == []
    assert figures.code == 1
