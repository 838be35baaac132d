"""KeyringVault with scripted keyring backends: how each failure is told, the timeout, the
per-process choice. No keychain needed (tests/integration/keychain has the real one)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.compat import properties
from keyring.errors import (
    InitError,
    KeyringError,
    KeyringLocked,
    NoKeyringError,
    PasswordDeleteError,
    PasswordSetError,
)
from pydantic import SecretStr
from returns.result import Failure, Success

from adapters.keyring_vault import (
    LOCKED,
    NOT_INSTALLED,
    KeyringVault,
    forget_keychain_choice,
)
from domain.errors import KeychainUnavailable

SERVICE = "basic-memory-cloud-unit"
SECRET = "bmc_unit-secret-9876543210"


class ScriptedKeychain(KeyringBackend):
    """A keychain in a dict, whose calls can be made to raise or to wait for a gate."""

    @properties.classproperty
    def priority(cls) -> float:
        # Never viable: keyring's own choice must not pick a test class up.
        raise RuntimeError("a test keychain")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.error: Exception | None = None
        # Raised once, by the next call only.
        self.error_once: Exception | None = None
        self.gate: threading.Event | None = None
        self.calls: list[str] = []

    def _enter(self, call: str) -> None:
        self.calls.append(call)
        if self.gate is not None:
            self.gate.wait(30)
        once, self.error_once = self.error_once, None
        if once is not None:
            raise once
        if self.error is not None:
            raise self.error

    def get_password(self, service: str, username: str) -> str | None:
        self._enter("get")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._enter("set")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._enter("delete")
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("No such password!")


class RefusingKeychain(ScriptedKeychain):
    """Like macOS's backend: a refused delete is a PasswordDeleteError too."""

    def delete_password(self, service: str, username: str) -> None:
        self._enter("delete")
        raise PasswordDeleteError(f"Can't delete password in keychain: {username} {SECRET}")


def failures(vault: KeyringVault) -> list[KeychainUnavailable]:
    results = [
        vault.read("api-key"),
        vault.write("api-key", SecretStr(SECRET)),
        vault.delete("api-key"),
        vault.describe(),
    ]
    assert all(isinstance(result, Failure) for result in results), results
    return [result.failure() for result in results]


def assert_nothing_quoted(problems: list[KeychainUnavailable]) -> None:
    for problem in problems:
        assert SECRET not in problem.message
        assert "api-key" not in problem.message
        assert SERVICE not in problem.message


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (KeyringLocked(f"Failed to unlock the collection {SECRET}"), LOCKED.problem),
        (
            InitError(f"Failed to create the collection: {SECRET}."),
            "the keychain could not be opened (InitError)",
        ),
        (PasswordSetError(SECRET), "the keychain failed (PasswordSetError)"),
        (KeyringError(SECRET), "the keychain failed (KeyringError)"),
        (ConnectionRefusedError(111, SECRET), "the keychain failed (ConnectionRefusedError)"),
        (RuntimeError(SECRET), "the keychain failed (RuntimeError)"),
    ],
)
def test_each_failure_is_told_without_quoting_it(error: Exception, problem: str) -> None:
    keychain = ScriptedKeychain()
    keychain.error = error
    problems = failures(KeyringVault(SERVICE, backend=keychain))
    assert {p.problem for p in problems} == {problem}
    assert_nothing_quoted(problems)
    assert problems[0].message.startswith(f"Cannot use the system keychain ({problem}); ")


def test_no_keyring_error_is_no_keychain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nowhere")
    keychain = ScriptedKeychain()
    keychain.error = NoKeyringError(SECRET)
    problems = failures(KeyringVault(SERVICE, backend=keychain))
    assert {p.problem for p in problems} == {
        "no system keychain was found: no Secret Service on the D-Bus session bus"
    }
    assert_nothing_quoted(problems)


def test_secretstorage_errors_are_named_by_class() -> None:
    exceptions = pytest.importorskip("secretstorage.exceptions")
    keychain = ScriptedKeychain()
    vault = KeyringVault(SERVICE, backend=keychain)
    keychain.error = exceptions.LockedException(SECRET)
    assert {p.problem for p in failures(vault)} == {LOCKED.problem}
    keychain.error = exceptions.SecretServiceNotAvailableException(SECRET)
    problems = failures(vault)
    assert {p.problem for p in problems} == {
        "the keychain failed (SecretServiceNotAvailableException)"
    }
    assert_nothing_quoted(problems)


def test_an_entry_deleted_by_another_process_mid_call_is_gone() -> None:
    """secretstorage finds an entry, then cannot read it: another process deleted it."""
    exceptions = pytest.importorskip("secretstorage.exceptions")
    keychain = ScriptedKeychain()
    vault = KeyringVault(SERVICE, backend=keychain)
    keychain.entries[(SERVICE, "api-key")] = SECRET
    keychain.error_once = exceptions.ItemNotFoundException("Item does not exist!")
    assert vault.read("api-key") == Success(None)
    keychain.error_once = exceptions.ItemNotFoundException("Item does not exist!")
    assert vault.delete("api-key") == Success(False)
    # A write is done again: it is right whether or not the first one took.
    keychain.error_once = exceptions.ItemNotFoundException("Item does not exist!")
    assert vault.write("oauth-session", SecretStr(SECRET)) == Success(None)
    assert keychain.entries[(SERVICE, "oauth-session")] == SECRET


def test_delete_tells_removed_from_absent_from_refused() -> None:
    keychain = ScriptedKeychain()
    vault = KeyringVault(SERVICE, backend=keychain)
    keychain.entries[(SERVICE, "api-key")] = SECRET
    assert vault.delete("api-key") == Success(True)
    assert vault.delete("api-key") == Success(False)

    refusing = RefusingKeychain()
    refusing.entries[(SERVICE, "api-key")] = SECRET
    refused = KeyringVault(SERVICE, backend=refusing).delete("api-key")
    assert refused == Failure(KeychainUnavailable("the keychain failed (PasswordDeleteError)"))
    assert refusing.entries, "the entry is still there: the delete was refused"
    assert KeyringVault(SERVICE, backend=RefusingKeychain()).delete("api-key") == Success(False)


def test_a_keychain_that_does_not_answer_fails_at_the_timeout() -> None:
    keychain = ScriptedKeychain()
    keychain.gate = threading.Event()
    vault = KeyringVault(SERVICE, timeout=0.2, backend=keychain)
    try:
        started = time.monotonic()
        problems = failures(vault)
        elapsed = time.monotonic() - started
    finally:
        keychain.gate.set()
    assert 0.8 <= elapsed < 2.0
    assert {p.problem for p in problems} == {"the keychain did not answer within 0.2 seconds"}
    assert "unlock it and retry" in problems[0].remedy


def test_no_keychain_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's answer to "nothing found" is a backend that fails each call; its null
    backend (chosen in keyring's own settings) would keep nothing, silently."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    none = failures(KeyringVault(SERVICE, backend=fail.Keyring()))
    assert {p.problem for p in none} == {
        "no system keychain was found: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    }
    nothing_kept = failures(KeyringVault(SERVICE, backend=null.Keyring()))
    assert {p.problem for p in nothing_kept} == {
        "keyring is configured with its null backend, which keeps nothing"
    }
    monkeypatch.setattr(sys, "platform", "darwin")
    mac = failures(KeyringVault(SERVICE, backend=fail.Keyring()))[0]
    assert mac.problem == "no system keychain was found"
    assert "bm cloud credentials move --to file" in mac.remedy


def test_secrets_read_or_written_are_remembered() -> None:
    told: list[str] = []
    keychain = ScriptedKeychain()
    vault = KeyringVault(SERVICE, remember=told.append, backend=keychain)
    vault.write("api-key", SecretStr("written"))
    keychain.entries[(SERVICE, "oauth-session")] = "stored"
    vault.read("oauth-session")
    vault.read("missing")
    vault.describe()
    vault.delete("api-key")
    assert told == ["written", "stored"]
    # A write that fails was still told first: the failure can then not print it.
    keychain.error = PasswordSetError("no")
    vault.write("api-key", SecretStr("refused"))
    assert told[-1] == "refused"


def test_describe_names_the_keychain_after_a_lookup() -> None:
    keychain = ScriptedKeychain()
    assert "ScriptedKeychain" in KeyringVault(SERVICE, backend=keychain).describe().unwrap()
    assert keychain.calls == ["get"]
    assert keychain.entries == {}


@pytest.fixture
def choices(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ScriptedKeychain]]:
    """keyring's own choice, replaced by one that records each time it is made."""
    made: list[ScriptedKeychain] = []

    def choose() -> ScriptedKeychain:
        time.sleep(0.05)  # long enough for threads to overlap
        made.append(ScriptedKeychain())
        return made[-1]

    monkeypatch.setattr(keyring.core, "init_backend", lambda limit=None: None)
    monkeypatch.setattr(keyring, "get_keyring", choose)
    forget_keychain_choice()
    yield made
    forget_keychain_choice()


def test_the_keychain_is_chosen_once_per_process(choices: list[ScriptedKeychain]) -> None:
    vault = KeyringVault(SERVICE)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(vault.read("api-key"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [Success(None)] * 8
    assert KeyringVault("another service").write("api-key", SecretStr(SECRET)) == Success(None)
    assert len(choices) == 1
    assert choices[0].calls == ["get"] * 8 + ["set"]
    forget_keychain_choice()
    KeyringVault(SERVICE).read("api-key")
    assert len(choices) == 2


def test_without_the_keyring_library(
    choices: list[ScriptedKeychain], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as blocked:
        blocked.setitem(sys.modules, "keyring", None)
        problems = failures(KeyringVault(SERVICE))
    assert set(problems) == {NOT_INSTALLED}
    # Not remembered: once it is there (installed meanwhile), it is used.
    assert KeyringVault(SERVICE).read("api-key") == Success(None)
    assert len(choices) == 1


@pytest.fixture
def slow_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """keyring's choice, made to wait until the test sets the event (30 s at most)."""
    gate = threading.Event()

    def choose() -> ScriptedKeychain:
        gate.wait(30)
        return ScriptedKeychain()

    monkeypatch.setattr(keyring.core, "init_backend", lambda limit=None: None)
    monkeypatch.setattr(keyring, "get_keyring", choose)
    forget_keychain_choice()
    yield gate
    gate.set()
    forget_keychain_choice()


def test_choosing_has_a_budget_of_its_own(slow_choice: threading.Event) -> None:
    """A busy machine's slow first call is not a keychain that does not answer: with 16
    processes starting at once on 2 cores, choosing took up to 3.7 s."""
    threading.Timer(0.5, slow_choice.set).start()
    vault = KeyringVault(SERVICE, timeout=0.2, choice_timeout=5.0)
    assert vault.read("api-key") == Success(None)


def test_a_choice_that_hangs_fails_at_its_budget(slow_choice: threading.Event) -> None:
    vault = KeyringVault(SERVICE, timeout=5.0, choice_timeout=0.3)
    started = time.monotonic()
    result = vault.read("api-key")
    elapsed = time.monotonic() - started
    assert result == Failure(
        KeychainUnavailable(
            "the keychain did not answer within 0.3 seconds",
            "if it is asking for a password, unlock it and retry, or keep secrets in files "
            "with `bm cloud credentials move --to file`",
        )
    )
    assert 0.3 <= elapsed < 1.0, "the operation's own timeout is not added"
