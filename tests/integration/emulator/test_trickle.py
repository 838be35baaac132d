"""The emulator's trickle fault: headers at once, then the body one byte every N seconds."""

from __future__ import annotations

import time

import httpx
import pytest

from emulator import CloudEmulator
from emulator.state import Fault, FaultKind

EVERY = 0.02


def _slowly(client: httpx.Client, path: str) -> tuple[httpx.Response, bytes, float, float]:
    """The response, its body, when the headers came and when the body was complete."""
    began = time.monotonic()
    with client.stream("GET", path) as response:
        headers_at = time.monotonic() - began
        body = b"".join(response.iter_bytes())
    return response, body, headers_at, time.monotonic() - began


def test_trickle_next_sends_the_real_answer_one_byte_at_a_time(
    client: httpx.Client, emulator: CloudEmulator
) -> None:
    expected = client.get("/proxy/health")
    emulator.trickle_next("/proxy/health", every_seconds=EVERY)

    response, body, headers_at, complete_at = _slowly(client, "/proxy/health")

    assert (response.status_code, body) == (expected.status_code, expected.content)
    # Every byte waited its turn after the headers (the first arrive without waiting).
    assert complete_at - headers_at >= len(body) * EVERY * 0.9
    assert [entry.fault for entry in emulator.request_log()] == [None, "trickle"]
    # Only the next request was slowed.
    assert _slowly(client, "/proxy/health")[1] == expected.content


def test_trickle_over_the_control_api(client: httpx.Client, emulator: CloudEmulator) -> None:
    answer = client.post(
        "/_emulator/faults",
        json={"path": "/proxy/health", "kind": "trickle", "seconds": EVERY, "count": 2},
    )
    assert answer.status_code == 200
    faults = [_slowly(client, "/proxy/health")[3] for _ in range(3)]
    body_size = len(client.get("/proxy/health").content)
    assert min(faults[:2]) >= body_size * EVERY * 0.9
    assert [entry.fault for entry in emulator.request_log()][:3] == ["trickle", "trickle", None]


@pytest.mark.parametrize("seconds", [0, -1])
def test_a_trickle_needs_a_pause_between_bytes(client: httpx.Client, seconds: float) -> None:
    answer = client.post(
        "/_emulator/faults", json={"path": "/proxy/health", "kind": "trickle", "seconds": seconds}
    )
    assert answer.status_code == 400
    with pytest.raises(ValueError, match="seconds"):
        Fault("/proxy/health", FaultKind.TRICKLE, seconds=seconds)


def test_stopping_the_emulator_ends_a_trickle(emulator: CloudEmulator) -> None:
    emulator.trickle_next("/proxy/health", every_seconds=60)
    with (
        httpx.Client(base_url=emulator.base_url, timeout=30) as client,
        client.stream("GET", "/proxy/health") as response,
    ):
        assert response.status_code == 401
        began = time.monotonic()
        emulator.stop()
        with pytest.raises(httpx.TransportError):
            response.read()
    assert time.monotonic() - began < 10  # not the 60 s the next byte would have taken
