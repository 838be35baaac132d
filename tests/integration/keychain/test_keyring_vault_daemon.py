"""KeyringVault against a real Secret Service (gnome-keyring-daemon), and every way it fails."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from adapters.keyring_vault import NOT_INSTALLED, KeyringVault
from domain.errors import KeychainUnavailable
from tests.keychain_daemon import (
    BUS_VARIABLE,
    KeychainDaemon,
    NoKeychainDaemon,
    bus_without_keychain,
    skip_loudly,
    use_keychain,
    wedged_bus,
)

ROOT = Path(__file__).resolve().parents[3]
SECRET = "bmc_keychain-test-secret-0123456789"


def service() -> str:
    """A service of the case's own: cases share one daemon."""
    return f"basic-memory-cloud-test-{uuid.uuid4().hex}"


def failure(result: object) -> KeychainUnavailable:
    assert isinstance(result, Failure), result
    found = result.failure()
    assert isinstance(found, KeychainUnavailable), found
    return found


def every_call_fails(vault: KeyringVault) -> list[KeychainUnavailable]:
    return [
        failure(vault.read("api-key")),
        failure(vault.write("api-key", SecretStr(SECRET))),
        failure(vault.delete("api-key")),
        failure(vault.describe()),
    ]


def secret_tool(daemon: KeychainDaemon, *args: str) -> subprocess.CompletedProcess[str]:
    """Debian's secret-tool (libsecret), looking at the daemon from outside."""
    return subprocess.run(
        ["secret-tool", *args],
        env={"PATH": os.environ["PATH"], **daemon.env},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != BUS_VARIABLE}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_write_read_delete_round_trip(keychain: KeychainDaemon) -> None:
    vault = KeyringVault(service())
    assert vault.read("api-key") == Success(None)
    assert vault.write("api-key", SecretStr(SECRET)) == Success(None)
    found = vault.read("api-key").unwrap()
    assert found is not None
    assert found.get_secret_value() == SECRET
    assert vault.delete("api-key") == Success(True)
    assert vault.read("api-key") == Success(None)
    assert vault.delete("api-key") == Success(False)
    assert "SecretService" in vault.describe().unwrap()


def test_secrets_read_and_written_are_remembered(keychain: KeychainDaemon) -> None:
    told: list[str] = []
    vault = KeyringVault(service(), remember=told.append)
    vault.write("oauth-session", SecretStr("written-secret"))
    KeyringVault(vault.service, remember=told.append).read("oauth-session")
    vault.read("missing")
    vault.describe()
    assert told == ["written-secret", "written-secret"]


def test_services_do_not_see_each_other(keychain: KeychainDaemon) -> None:
    first, second = KeyringVault(service()), KeyringVault(service())
    first.write("api-key", SecretStr("first-secret"))
    assert second.read("api-key") == Success(None)
    assert second.delete("api-key") == Success(False)
    second.write("api-key", SecretStr("second-secret"))
    assert first.read("api-key").map(lambda s: s and s.get_secret_value()) == Success(
        "first-secret"
    )
    assert first.delete("api-key") == Success(True)
    assert second.read("api-key").map(lambda s: s and s.get_secret_value()) == Success(
        "second-secret"
    )


def test_an_entry_is_a_plain_secret_service_item(
    keychain: KeychainDaemon, pytestconfig: pytest.Config
) -> None:
    """Other tools see what bm wrote (service and username attributes), so a person can find
    and remove it with the desktop's own tools."""
    if not shutil.which("secret-tool"):
        skip_loudly(pytestconfig, "secret-tool not found; apt-get install -y libsecret-tools")
    name = service()
    KeyringVault(name).write("api-key", SecretStr(SECRET))
    looked_up = secret_tool(keychain, "lookup", "service", name, "username", "api-key")
    assert looked_up.returncode == 0, looked_up.stderr
    assert looked_up.stdout == SECRET
    cleared = secret_tool(keychain, "clear", "service", name, "username", "api-key")
    assert cleared.returncode == 0, cleared.stderr
    assert KeyringVault(name).read("api-key") == Success(None)


def test_a_secret_survives_the_process_that_wrote_it(keychain_daemon: KeychainDaemon) -> None:
    name = service()
    write = f"""
from pydantic import SecretStr
from adapters.keyring_vault import KeyringVault
print(KeyringVault({name!r}).write("oauth-session", SecretStr({SECRET!r})))
"""
    # The reader prints a digest: a test's output should not show even a test secret.
    read = f"""
import hashlib
from adapters.keyring_vault import KeyringVault
found = KeyringVault({name!r}).read("oauth-session").unwrap()
print(hashlib.sha256(found.get_secret_value().encode()).hexdigest())
"""
    written = run_python(write, keychain_daemon.env)
    assert written.stdout.strip() == "<Success: None>", written.stderr
    assert keychain_daemon.names(name) == {"oauth-session"}
    assert keychain_daemon.lookup(name, "oauth-session") == SECRET
    assert keychain_daemon.lookup(name, "api-key") is None
    again = run_python(read, keychain_daemon.env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == hashlib.sha256(SECRET.encode()).hexdigest()


def test_a_locked_keychain_fails_closed(spare_keychain: KeychainDaemon) -> None:
    vault = KeyringVault(service())
    with use_keychain(spare_keychain.env):
        vault.write("api-key", SecretStr(SECRET)).unwrap()
        spare_keychain.lock()
        started = time.monotonic()
        problems = every_call_fails(vault)
        elapsed = time.monotonic() - started
    # No prompt can appear (no display): gnome-keyring refuses at once.
    assert elapsed < 3.5
    assert {p.problem for p in problems} == {"the keychain is locked"}
    assert all(SECRET not in p.message and "api-key" not in p.message for p in problems)
    assert problems[0].message.startswith("Cannot use the system keychain (the keychain is locked)")


def test_a_keychain_that_does_not_answer_fails_at_the_timeout(
    spare_keychain: KeychainDaemon,
) -> None:
    vault = KeyringVault(service())
    with use_keychain(spare_keychain.env):
        vault.write("api-key", SecretStr(SECRET)).unwrap()
        with spare_keychain.frozen():
            started = time.monotonic()
            problem = failure(vault.read("api-key"))
            elapsed = time.monotonic() - started
            # Another service: an abandoned write or delete is still done once the daemon
            # thaws, and would race with the read below.
            quick = KeyringVault(service(), timeout=0.5)
            others = [
                failure(quick.write("api-key", SecretStr(SECRET))),
                failure(quick.delete("api-key")),
                failure(quick.describe()),
            ]
        # Thawed, the same vault works again: nothing of the failure was kept.
        assert vault.read("api-key").map(bool) == Success(True)
    assert 3.0 <= elapsed < 4.0
    assert problem.problem == "the keychain did not answer within 3 seconds"
    assert {p.problem for p in others} == {"the keychain did not answer within 0.5 seconds"}
    assert SECRET not in problem.message
    assert "unlock it" in problem.remedy


def test_a_bus_that_never_answers_fails_within_the_choice_budget(tmp_path: Path) -> None:
    """Choosing the keychain talks to the bus; a hung bus gets the choice's own budget."""
    # use_keychain is left last: it waits for the abandoned choice, which ends once leaving
    # wedged_bus has closed the connections.
    address = f"unix:path={tmp_path / 'wedged-bus'}"
    with use_keychain({BUS_VARIABLE: address}), wedged_bus(tmp_path) as listening:
        assert listening == address
        started = time.monotonic()
        problem = failure(KeyringVault(service(), choice_timeout=1.0).read("api-key"))
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 2.0
    assert problem.problem == "the keychain did not answer within 1 second"


def test_reads_racing_writes_and_deletes_never_fail(spare_keychain: KeychainDaemon) -> None:
    """Another process's logout (a delete) between the Secret Service's search and its read
    is an entry that is gone, not a broken keychain.

    A daemon of its own: a loaded machine once kept the shared one stalled under these four
    busy clients, and the clients then slowed every later case. The race is what is checked,
    so an answer later than the deadline (which other cases prove fails closed) is not
    counted, and the clients stop after a bounded time whatever happens."""
    name = service()
    deadline = time.monotonic() + 30
    results: list[object] = []
    late = "the keychain did not answer within 5 seconds"
    stop = threading.Event()
    with use_keychain(spare_keychain.env):
        writer, reader = KeyringVault(name, timeout=5), KeyringVault(name, timeout=5)

        def keep_reading() -> None:
            while not stop.is_set() and time.monotonic() < deadline:
                results.append(reader.read("oauth-session"))
                results.append(reader.delete("oauth-session"))

        readers = [threading.Thread(target=keep_reading, daemon=True) for _ in range(3)]
        for thread in readers:
            thread.start()
        try:
            for round in range(40):
                if time.monotonic() > deadline:
                    break
                results.append(writer.write("oauth-session", SecretStr(f"{SECRET}-{round}")))
                results.append(writer.delete("oauth-session"))
        finally:
            stop.set()
            for thread in readers:
                thread.join(10)
    problems = {result.failure().problem for result in results if isinstance(result, Failure)}
    assert problems - {late} == set()
    assert len(results) > 80


@pytest.fixture
def bare_bus(tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[str]:
    try:
        with bus_without_keychain(tmp_path) as address:
            yield address
    except NoKeychainDaemon as problem:
        skip_loudly(pytestconfig, str(problem))


def test_a_bus_without_a_secret_service(bare_bus: str) -> None:
    with use_keychain({BUS_VARIABLE: bare_bus}):
        problems = every_call_fails(KeyringVault(service()))
    assert {p.problem for p in problems} == {
        "no system keychain was found: no Secret Service on the D-Bus session bus"
    }
    assert "GNOME Keyring" in problems[0].remedy


def test_a_bus_that_is_not_there(tmp_path: Path) -> None:
    with use_keychain({BUS_VARIABLE: f"unix:path={tmp_path / 'no-bus'}"}):
        problems = every_call_fails(KeyringVault(service()))
    assert {p.problem for p in problems} == {
        "no system keychain was found: no Secret Service on the D-Bus session bus"
    }


def test_no_session_bus_at_all() -> None:
    with use_keychain({BUS_VARIABLE: ""}):
        problem = failure(KeyringVault(service()).read("api-key"))
    assert problem.problem == (
        "no system keychain was found: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    )


def test_without_the_keyring_library(keychain_daemon: KeychainDaemon) -> None:
    """A file-store user's install: the extra is missing. keyring is blocked in sys.modules,
    as if not installed; the adapter's module imports without it, and every call says so."""
    code = """
import sys
import threading
sys.modules["keyring"] = None
from pydantic import SecretStr
from adapters.keyring_vault import KeyringVault
vault = KeyringVault("basic-memory-cloud-test")
for result in (vault.read("a"), vault.write("a", SecretStr("s")), vault.delete("a"), vault.describe()):
    print(result.failure().message)
"""
    done = run_python(code, keychain_daemon.env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [NOT_INSTALLED.message] * 4
    assert "pip install 'basic-memory-cloud-auth[keyring]'" in NOT_INSTALLED.message


def test_importing_the_adapter_does_not_import_keyring() -> None:
    code = "import sys, adapters.keyring_vault; print('keyring' in sys.modules)"
    done = run_python(code, {})
    assert done.stdout.strip() == "False", done.stderr
