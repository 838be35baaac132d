"""Fixtures for the contract suites."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from adapters.http_transport import build_client


@pytest.fixture(scope="session")
def http_client() -> Iterator[httpx.Client]:
    """One client for every case that talks to an emulator: building one loads the CA bundle
    (40 ms or more). Each emulator closes its connections when it stops, so none is reused."""
    with build_client(5.0) as client:
        yield client
