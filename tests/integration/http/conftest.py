"""Fixtures for the httpx adapter tests: a scripted loopback server and a refused port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from adapters.http_transport import build_client
from tests.integration.http.scripted_server import ScriptedServer, running_server


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with running_server() as scripted:
        yield scripted


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens, so connecting is refused."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def shared_client() -> Iterator[httpx.Client]:
    """One client for the whole run: building one loads the CA bundle, about 40 ms each.

    The scripted server answers in HTTP/1.0 and closes every connection, so nothing pooled
    survives from one test's server to the next.
    """
    with build_client(2.0) as client:
        yield client
