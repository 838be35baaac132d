"""`cloud_auth(project=...)` with `httpx.AsyncClient` sends the project's workspace, and a
workspace the cloud refuses raises a CloudAuthError naming it (as the sync flow does)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator import CloudEmulator, EmulatorSettings
from entrypoints.library import CloudAuthError, cloud_auth
from tests.reliability.shared_auth import EMAIL, environment, sign_in


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(token_ttl=600.0)) as running:
        yield running


def _pinned(folder: Path, workspace: str) -> None:
    (folder / "config.yaml").write_text(
        f"projects:\n  research:\n    path: {folder}\n    mode: cloud\n    workspace: {workspace}\n"
    )
    (folder / "config.yaml").chmod(0o600)


async def _health(base_url: str, env: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=base_url, auth=cloud_auth("research", env)) as client:
        return (await client.get("/proxy/health")).status_code


def test_the_async_flow_sends_the_projects_workspace(
    tmp_path: Path, emulator: CloudEmulator
) -> None:
    acme = emulator.add_workspace(EMAIL, "Acme", slug="acme")
    sign_in(emulator, tmp_path)
    _pinned(tmp_path, acme)

    assert asyncio.run(_health(emulator.base_url, environment(tmp_path, emulator))) == 200
    assert emulator.request_log()[-1].workspace == acme


def test_the_async_flow_names_a_refused_workspace(tmp_path: Path, emulator: CloudEmulator) -> None:
    sign_in(emulator, tmp_path)
    _pinned(tmp_path, "ws-x")

    with pytest.raises(CloudAuthError) as raised:
        asyncio.run(_health(emulator.base_url, environment(tmp_path, emulator)))
    assert "ws-x" in str(raised.value)
    assert "bm cloud workspace list" in str(raised.value)
    assert emulator.request_log()[-1].workspace == "ws-x"
