"""Fixtures for the emulator tests: running emulators on 127.0.0.1:0, clients, a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.fakes import FakeClock
from tests.integration.emulator.emulator_driver import FAST, DeviceFlow, http_client


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., CloudEmulator]]:
    """Start an emulator with the given settings (and clock); stopped after the test."""
    started: list[CloudEmulator] = []

    def start(settings: EmulatorSettings = FAST, clock: FakeClock | None = None) -> CloudEmulator:
        if clock is None:
            emulator = CloudEmulator(settings)
        else:
            emulator = CloudEmulator(settings, monotonic=clock.monotonic, wall=clock.now)
        started.append(emulator.start())
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start_emulator: Callable[..., CloudEmulator]) -> CloudEmulator:
    return start_emulator()


@pytest.fixture
def client(emulator: CloudEmulator) -> Iterator[httpx.Client]:
    with http_client(emulator.base_url) as client:
        yield client


@pytest.fixture
def flow(client: httpx.Client, emulator: CloudEmulator) -> DeviceFlow:
    return DeviceFlow(client, emulator)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
