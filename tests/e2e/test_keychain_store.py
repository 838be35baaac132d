"""The installed `bm` with `credential_store: keyring`, against Debian's real
gnome-keyring-daemon on a D-Bus session bus of its own (tests/keychain_daemon.py).

Entries are read back with the keyring library in a separate Python process, not with our
adapter, so a mistake in the adapter cannot hide itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import CloudEmulator, EmulatorSettings
from tests.e2e.conftest import BmRunner
from tests.e2e.test_login_flow import login
from tests.keychain_daemon import KeychainDaemon

KEY = "bmc_abcdefgh12345678"
TOKENS = ".cloud_tokens.json"
KEYRING_CHOSEN = {"BASIC_MEMORY_CREDENTIAL_STORE": "keyring"}


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as running:
        yield running


@pytest.fixture
def env(
    clean_env: dict[str, str], emulator: CloudEmulator, keychain_daemon: KeychainDaemon
) -> dict[str, str]:
    clean_env.update(
        BASIC_MEMORY_CLOUD_HOST=emulator.base_url,
        BASIC_MEMORY_CLOUD_DOMAIN=emulator.base_url,
        **keychain_daemon.env,
    )
    return clean_env


def _service(tmp_path: Path) -> str:
    return f"basic-memory-cloud:{tmp_path / 'data'}"


def keychain_entry(env: dict[str, str], service: str, name: str) -> str | None:
    """What the keychain holds, read by the keyring library in a process of its own."""
    script = (
        "import json, sys, keyring; "
        "print(json.dumps(keyring.get_password(sys.argv[1], sys.argv[2])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, service, name],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    found: str | None = json.loads(done.stdout)
    return found


def test_a_session_signed_in_with_the_keychain_store_is_only_in_the_keychain(
    bm: BmRunner, emulator: CloudEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    env.update(KEYRING_CHOSEN)
    code, _stdout, stderr = login(emulator, env)
    assert code == 0, stderr

    stub = (tmp_path / "data" / TOKENS).read_text()
    entry = keychain_entry(env, _service(tmp_path), "oauth-session")
    assert entry is not None
    session = json.loads(entry)
    assert session["access_token"] not in stub
    assert session["refresh_token"] not in stub
    assert json.loads(stub)["credential_store"] == "keyring"
    assert json.loads(stub)["email"] == "alice@example.com"

    token = bm("cloud", "token", env=env)
    assert token.code == 0, token.output
    assert token.stdout.strip() == session["access_token"]
    status = bm("cloud", "status", env=env)
    assert status.code == 0, status.output
    assert "Secrets:   system keychain (" in status.stdout
    assert "chosen by BASIC_MEMORY_CREDENTIAL_STORE" in status.stdout
    assert session["access_token"] not in status.output

    logout = bm("cloud", "logout", env=env)
    assert logout.code == 0, logout.output
    assert keychain_entry(env, _service(tmp_path), "oauth-session") is None
    assert not (tmp_path / "data" / TOKENS).exists()


def test_an_api_key_saved_with_the_keychain_store_leaves_config_yaml_without_secrets(
    bm: BmRunner, env: dict[str, str], tmp_path: Path
) -> None:
    env.update(KEYRING_CHOSEN)
    saved = bm("cloud", "api-key", "save", "-", input=KEY + "\n", env=env)
    assert saved.code == 0, saved.output

    config = (tmp_path / "data" / "config.yaml").read_text()
    assert KEY not in config
    assert "cloud_api_key_in: keyring" in config
    assert keychain_entry(env, _service(tmp_path), "api-key") == KEY
    status = bm("cloud", "status", "--offline", env=env)
    assert "bmc_…5678 from config.yaml (kept in the system keychain)" in status.stdout

    removed = bm("cloud", "api-key", "remove", env=env)
    assert removed.code == 0, removed.output
    assert keychain_entry(env, _service(tmp_path), "api-key") is None
    assert "cloud_api_key" not in (tmp_path / "data" / "config.yaml").read_text()


def test_credentials_move_to_the_keychain_and_back(
    bm: BmRunner, emulator: CloudEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    assert login(emulator, env)[0] == 0
    assert bm("cloud", "api-key", "save", "-", input=KEY + "\n", env=env).code == 0
    data = tmp_path / "data"
    session = json.loads((data / TOKENS).read_text())

    there = bm("cloud", "credentials", "move", "--to", "keyring", env=env)
    assert there.code == 0, there.output
    assert "API key: moved to the system keychain." in there.stdout
    assert "OAuth session: moved to the system keychain." in there.stdout
    assert KEY not in (data / "config.yaml").read_text()
    assert session["refresh_token"] not in (data / TOKENS).read_text()
    assert "credential_store: keyring" in (data / "config.yaml").read_text()
    entry = keychain_entry(env, _service(tmp_path), "oauth-session")
    assert entry is not None
    assert json.loads(entry)["refresh_token"] == session["refresh_token"]
    assert bm("cloud", "status", env=env).code == 0

    again = bm("cloud", "credentials", "move", "--to", "keyring", env=env)
    assert "API key: already in the system keychain." in again.stdout

    back = bm("cloud", "credentials", "move", "--to", "file", env=env)
    assert back.code == 0, back.output
    assert "OAuth session: moved to the data folder's files (mode 0600)." in back.stdout
    assert json.loads((data / TOKENS).read_text())["refresh_token"] == session["refresh_token"]
    assert KEY in (data / "config.yaml").read_text()
    assert keychain_entry(env, _service(tmp_path), "oauth-session") is None
    assert keychain_entry(env, _service(tmp_path), "api-key") is None
    for text in (there.output, again.output, back.output):
        assert KEY not in text
        assert session["refresh_token"] not in text


def test_a_locked_keychain_stops_every_command_that_needs_it_at_once(
    bm: BmRunner,
    emulator: CloudEmulator,
    env: dict[str, str],
    spare_keychain: KeychainDaemon,
    tmp_path: Path,
) -> None:
    env.update(spare_keychain.env)
    assert login(emulator, env)[0] == 0
    assert bm("cloud", "api-key", "save", "-", input=KEY + "\n", env=env).code == 0
    assert bm("cloud", "credentials", "move", "--to", "keyring", env=env).code == 0
    stub = (tmp_path / "data" / TOKENS).read_bytes()
    config = (tmp_path / "data" / "config.yaml").read_bytes()
    spare_keychain.lock()

    for args in (("cloud", "token"), ("cloud", "logout"), ("cloud", "api-key", "remove")):
        began = time.monotonic()
        run = bm(*args, env=env)
        took = time.monotonic() - began
        assert run.code == 1, run.output
        assert "Cannot use the system keychain (" in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "Traceback" not in run.output
        assert took < 8, f"{args} took {took:.1f}s"
    assert (tmp_path / "data" / TOKENS).read_bytes() == stub
    assert (tmp_path / "data" / "config.yaml").read_bytes() == config


def test_a_keychain_that_never_answers_fails_within_its_deadline(
    bm: BmRunner, env: dict[str, str], spare_keychain: KeychainDaemon, tmp_path: Path
) -> None:
    env.update(spare_keychain.env, **KEYRING_CHOSEN)
    with spare_keychain.frozen():
        began = time.monotonic()
        run = bm("cloud", "api-key", "save", "-", input=KEY + "\n", env=env, timeout=30)
        took = time.monotonic() - began
    assert run.code == 1, run.output
    assert "did not answer within 3 seconds" in run.stderr
    assert took < 8, f"took {took:.1f}s"
    assert (
        KEY not in (tmp_path / "data" / "config.yaml").read_text("utf-8", "replace")
        if (tmp_path / "data" / "config.yaml").exists()
        else True
    )


def test_no_keychain_on_the_bus_fails_closed_and_writes_no_file_instead(
    bm: BmRunner, clean_env: dict[str, str], tmp_path: Path
) -> None:
    clean_env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    run = bm("cloud", "api-key", "save", "-", input=KEY + "\n", env=KEYRING_CHOSEN)
    assert run.code == 1, run.output
    assert "no system keychain was found" in run.stderr
    config = tmp_path / "data" / "config.yaml"
    assert not config.exists() or KEY not in config.read_text()


def test_the_keyring_library_missing_is_named_with_the_way_to_install_it(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    """As if installed without the extra: the import of keyring fails."""
    script = (
        "import sys; sys.modules['keyring'] = None; "
        "sys.argv = ['bm', 'cloud', 'api-key', 'save', '-']; "
        "from entrypoints.main import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=KEY + "\n",
        env={**clean_env, **KEYRING_CHOSEN},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "the keyring library is not installed" in done.stderr
    assert "basic-memory-cloud-auth[keyring]" in done.stderr
    config = tmp_path / "data" / "config.yaml"
    assert not config.exists() or KEY not in config.read_text()
