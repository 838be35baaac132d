"""The real local cloud emulator for the contract suites: the one place they import it from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from domain.endpoints import CloudEndpoints
from emulator import DEFAULT_CLIENT_ID, CloudEmulator, EmulatorSettings
from tests.fakes import FakeClock

__all__ = ["CloudEmulator", "endpoints", "running_emulator"]


@contextmanager
def running_emulator(clock: FakeClock) -> Iterator[CloudEmulator]:
    """An emulator on 127.0.0.1:0 with AuthKit's timings (5 s interval, five-minute codes and
    tokens), all read from `clock`: a case moves the clock instead of sleeping."""
    with CloudEmulator(EmulatorSettings(), monotonic=clock.monotonic, wall=clock.now) as emulator:
        yield emulator


def endpoints(emulator: CloudEmulator) -> CloudEndpoints:
    """The emulator is the cloud host and the sign-in domain at once."""
    return CloudEndpoints(emulator.base_url, emulator.base_url, DEFAULT_CLIENT_ID)
