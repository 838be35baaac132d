"""`bm cloud token`: the current OAuth access token for scripts, and nothing else secret."""

from __future__ import annotations

import ast
import json
import os
import pty
import subprocess
import time
from pathlib import Path

import httpx

from emulator import CloudEmulator
from tests.e2e.conftest import BmRunner, installed_command
from tests.e2e.test_login_flow import cloud_env, emulator, login

__all__ = ["cloud_env", "emulator"]  # fixtures shared with the login tests

TOKENS = ".cloud_tokens.json"
ROOT = Path(__file__).resolve().parents[2]
KEY = "bmc_abcdefgh12345678"


def stored(tmp_path: Path) -> dict[str, object]:
    document = json.loads((tmp_path / "data" / TOKENS).read_text())
    assert isinstance(document, dict)
    return document


def test_prints_the_access_token_alone(
    bm: BmRunner, emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    run = bm("cloud", "token", env=cloud_env)
    assert run.code == 0, run.stderr
    assert (run.stdout == f"{stored(tmp_path)['access_token']}\n") is True
    assert run.stderr == ""  # not a terminal: no note
    health = httpx.get(
        f"{emulator.base_url}/proxy/health",
        headers={"Authorization": f"Bearer {run.stdout.strip()}"},
    )
    assert health.status_code == 200


def test_json_has_the_four_keys_and_no_refresh_token(
    bm: BmRunner, emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    run = bm("cloud", "token", "--json", env=cloud_env)
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    tokens = stored(tmp_path)
    assert set(document) == {"access_token", "token_type", "expires_at", "email"}
    assert (document["access_token"] == tokens["access_token"]) is True
    assert (document["token_type"], document["expires_at"], document["email"]) == (
        "Bearer",
        tokens["expires_at"],
        "alice@example.com",
    )
    assert (str(tokens["refresh_token"]) in run.stdout + run.stderr) is False


def test_a_token_about_to_expire_is_refreshed_first(
    bm: BmRunner, emulator: CloudEmulator, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    path = tmp_path / "data" / TOKENS
    old = stored(tmp_path)
    path.write_text(json.dumps({**old, "expires_at": int(time.time()) + 30}))
    run = bm("cloud", "token", env=cloud_env)
    assert run.code == 0, run.stderr
    assert emulator.refresh_count() == 1
    new = stored(tmp_path)
    assert (new["access_token"] != old["access_token"]) is True
    assert (run.stdout == f"{new['access_token']}\n") is True
    assert (str(new["refresh_token"]) in run.stdout) is False


def test_not_logged_in_gives_the_usual_advice(bm: BmRunner, cloud_env: dict[str, str]) -> None:
    run = bm("cloud", "token", env=cloud_env)
    assert (run.code, run.stdout) == (1, "")
    assert run.stderr == "Error: Not logged in to Basic Memory Cloud. Run `bm cloud login`.\n"


def test_an_api_key_alone_is_pointed_at_not_printed(
    bm: BmRunner, cloud_env: dict[str, str], tmp_path: Path
) -> None:
    from_env = bm("cloud", "token", env={**cloud_env, "BASIC_MEMORY_CLOUD_API_KEY": KEY})
    assert (from_env.code, from_env.stdout) == (1, "")
    assert from_env.stderr.count("\n") == 1
    assert "prints only OAuth tokens" in from_env.stderr
    assert "BASIC_MEMORY_CLOUD_API_KEY" in from_env.stderr
    assert KEY not in from_env.stderr
    assert bm("cloud", "api-key", "save", "-", input=KEY, env=cloud_env).code == 0
    from_config = bm("cloud", "token", env=cloud_env)
    assert (from_config.code, from_config.stdout) == (1, "")
    assert str(tmp_path / "data" / "config.yaml") in from_config.stderr
    assert KEY not in from_config.stderr


def test_on_a_terminal_a_note_says_it_is_a_secret(
    emulator: CloudEmulator, cloud_env: dict[str, str]
) -> None:
    assert login(emulator, cloud_env)[0] == 0
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [installed_command("bm"), "cloud", "token"],
            env=cloud_env,
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert done.stderr.count("\n") == 1
    assert "secret" in done.stderr


def test_only_the_token_command_prints_a_secret_on_purpose() -> None:
    """The unscrubbed print has one caller; a second one is a leak waiting to happen."""
    callers = []
    for folder in ("domain", "application", "adapters", "entrypoints"):
        for source in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(source.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    calls = [
                        call
                        for call in ast.walk(node)
                        if isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Name)
                        and call.func.id == "print_secret_on_purpose"
                    ]
                    if calls:
                        callers.append(f"{source.relative_to(ROOT)}:{node.name}")
    assert callers == ["entrypoints/cloud_commands.py:token"]
