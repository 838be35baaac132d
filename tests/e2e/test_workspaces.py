"""Workspaces through the installed `bm` against the emulator: a user with two workspaces
lists them, chooses one, pins a project to the other; each cloud call's X-Workspace-ID is
read back from the emulator's request log; another account never inherits the choice."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import CloudEmulator, EmulatorSettings
from emulator.settings import ALICE_EMAIL, BOB_EMAIL
from emulator.state import personal_tenant_id
from tests.e2e.conftest import BmRunner
from tests.e2e.test_login_flow import start_login, wait_for_code

PROBE = """
import httpx, sys
from entrypoints.library import cloud_auth, cloud_host, route_for
project = sys.argv[1]
route = route_for(project)
print(route.workspace.tenant_id if route.workspace else None, route.workspace.source.value)
with httpx.Client(base_url=cloud_host(), auth=cloud_auth(project=project)) as client:
    print(client.get("/proxy/health").status_code)
"""


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


@pytest.fixture
def cloud_env(clean_env: dict[str, str], emulator: CloudEmulator) -> dict[str, str]:
    clean_env.update(
        BASIC_MEMORY_CLOUD_HOST=emulator.base_url, BASIC_MEMORY_CLOUD_DOMAIN=emulator.base_url
    )
    return clean_env


def _login(emulator: CloudEmulator, env: dict[str, str], email: str) -> str:
    issued = len(emulator.device_codes())
    process = start_login(env, "--force")
    deadline = time.monotonic() + 15
    while len(emulator.device_codes()) == issued and time.monotonic() < deadline:
        time.sleep(0.02)
    emulator.approve(wait_for_code(emulator), email=email)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    return stdout + stderr


def _probe(env: dict[str, str], project: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, project],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def _sent(emulator: CloudEmulator, since: int) -> list[tuple[str, str | None]]:
    return [(entry.path, entry.workspace) for entry in emulator.request_log()[since:]]


def test_two_workspaces_list_use_pin_and_another_account(
    emulator: CloudEmulator, cloud_env: dict[str, str], bm: BmRunner, tmp_path: Path
) -> None:
    acme = emulator.add_workspace(ALICE_EMAIL, "Acme", slug="acme")
    personal = personal_tenant_id(ALICE_EMAIL)

    signed_in = _login(emulator, cloud_env, ALICE_EMAIL)
    assert "2 workspaces and none is chosen" in signed_in
    assert "bm cloud workspace use" in signed_in

    listed = bm("cloud", "workspace", "list", "--json", env=cloud_env)
    assert listed.code == 0, listed.stderr
    view = json.loads(listed.stdout)
    assert {w["slug"] for w in view["workspaces"]} == {"alice", "acme"}
    assert view["account_default"] is None
    assert view["cloud_default"] == personal

    used = bm("cloud", "workspace", "use", "Acme", env=cloud_env)
    assert used.code == 0, used.stderr
    assert acme in used.stdout
    assert bm("cloud", "workspace", "use", "nope", env=cloud_env).code == 2

    for name in ("notes", "pinned"):
        assert bm("project", "add", name, str(tmp_path / name), env=cloud_env).code == 0
    assert bm("project", "set-cloud", "notes", env=cloud_env).code == 0
    pinned = bm("project", "set-cloud", "pinned", "--workspace", "alice", env=cloud_env)
    assert pinned.code == 0, pinned.stderr

    projects = bm("project", "list", "--json", env=cloud_env)
    shown = {p["name"]: p["workspace"] for p in json.loads(projects.stdout)}
    assert shown["notes"]["id"] == acme
    assert shown["notes"]["source"] == "account default"
    assert shown["pinned"]["id"] == personal
    assert shown["pinned"]["source"] == "project setting"

    start = len(emulator.request_log())
    assert _probe(cloud_env, "notes") == [acme, "account", "default", "200"]
    assert _probe(cloud_env, "pinned") == [personal, "project", "setting", "200"]
    assert _sent(emulator, start) == [("/proxy/health", acme), ("/proxy/health", personal)]

    status = bm("cloud", "status", env=cloud_env)
    assert "Acme" in status.stdout
    assert "default chosen for" in status.stdout

    alice_out = bm("cloud", "logout", env=cloud_env)
    assert alice_out.code == 0
    assert f"({acme}) is kept in config.yaml" in alice_out.stdout

    # Another account: the choice stays with alice's account and is not inherited.
    emulator.set_subscription(BOB_EMAIL, True)
    _login(emulator, cloud_env, BOB_EMAIL)
    bob_status = bm("cloud", "status", "--json", env=cloud_env)
    assert json.loads(bob_status.stdout)["workspaces"]["account_default"] is None
    start = len(emulator.request_log())
    tenant, *_ = _probe(cloud_env, "notes")
    assert tenant == personal_tenant_id(BOB_EMAIL)
    assert ("/proxy/health", personal_tenant_id(BOB_EMAIL)) in _sent(emulator, start)
    config = (tmp_path / "data" / "config.yaml").read_text()
    assert acme in config

    logged_out = bm("cloud", "logout", env=cloud_env)
    assert logged_out.code == 0
    assert "default workspace" not in logged_out.stdout  # bob chose none


def test_a_refused_workspace_names_itself_and_the_fix(
    emulator: CloudEmulator, cloud_env: dict[str, str], bm: BmRunner, tmp_path: Path
) -> None:
    _login(emulator, cloud_env, ALICE_EMAIL)
    assert bm("project", "add", "notes", str(tmp_path / "n"), env=cloud_env).code == 0
    assert bm("project", "set-cloud", "notes", env=cloud_env).code == 0
    config = tmp_path / "data" / "config.yaml"
    config.write_text(config.read_text().replace("mode: cloud", "mode: cloud\n    workspace: ws-x"))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "notes"],
        env=cloud_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "CloudAuthError" in done.stderr
    assert "ws-x" in done.stderr
    assert "bm cloud workspace list" in done.stderr
    assert emulator.request_log()[-1].workspace == "ws-x"
