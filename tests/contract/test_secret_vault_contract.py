"""SecretVault contract: the in-memory fake and KeyringVault on a real Secret Service
(gnome-keyring-daemon, see tests/keychain_daemon.py) behave the same."""

from __future__ import annotations

import json
import os
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from adapters.keyring_vault import KeyringVault, forget_keychain_choice
from domain.errors import KeychainUnavailable
from domain.ports import SecretVault
from tests.fakes import InMemoryVault
from tests.keychain_daemon import BUS_VARIABLE, KeychainDaemon, use_keychain


@dataclass
class Harness:
    vault: SecretVault
    # From now on the keychain cannot be used (the fake's `unavailable`, a bus that is gone).
    break_it: Callable[[], None]


def _fake() -> Harness:
    vault = InMemoryVault()

    def break_it() -> None:
        vault.unavailable = KeychainUnavailable("the keychain is locked")

    return Harness(vault, break_it)


@pytest.fixture(params=["in-memory", "keyring"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "in-memory":
        yield _fake()
        return
    daemon: KeychainDaemon = request.getfixturevalue("keychain")
    # A service of the case's own: the daemon is shared.
    vault = KeyringVault(f"basic-memory-cloud-contract-{uuid.uuid4().hex}")
    with use_keychain(daemon.env):

        def break_it() -> None:
            # A bus that is gone; use_keychain puts the daemon's address back afterwards.
            os.environ[BUS_VARIABLE] = f"unix:path={tmp_path / 'gone'}"
            forget_keychain_choice()

        yield Harness(vault, break_it)


def text(result: object) -> str | None:
    assert isinstance(result, Success), result
    found = result.unwrap()
    return found.get_secret_value() if isinstance(found, SecretStr) else found


def test_a_missing_entry_reads_as_none(harness: Harness) -> None:
    assert harness.vault.read("oauth-session") == Success(None)


def test_write_then_read(harness: Harness) -> None:
    assert harness.vault.write("api-key", SecretStr("bmc_contract-secret-1")) == Success(None)
    assert text(harness.vault.read("api-key")) == "bmc_contract-secret-1"


def test_a_write_replaces_the_entry(harness: Harness) -> None:
    harness.vault.write("api-key", SecretStr("bmc_first-secret-1"))
    harness.vault.write("api-key", SecretStr("bmc_second-secret-2"))
    assert text(harness.vault.read("api-key")) == "bmc_second-secret-2"
    assert harness.vault.delete("api-key") == Success(True)
    assert harness.vault.read("api-key") == Success(None), "one entry, not two"


def test_delete_says_whether_there_was_an_entry(harness: Harness) -> None:
    harness.vault.write("oauth-session", SecretStr("{}"))
    assert harness.vault.delete("oauth-session") == Success(True)
    assert harness.vault.read("oauth-session") == Success(None)
    assert harness.vault.delete("oauth-session") == Success(False)


def test_names_are_independent(harness: Harness) -> None:
    harness.vault.write("oauth-session", SecretStr("session-secret"))
    harness.vault.write("api-key", SecretStr("bmc_key-secret-12"))
    assert harness.vault.delete("oauth-session") == Success(True)
    assert text(harness.vault.read("api-key")) == "bmc_key-secret-12"
    assert harness.vault.read("oauth-session") == Success(None)


def test_a_long_json_document_round_trips(harness: Harness) -> None:
    session = {
        "access_token": "a" * 2000,
        "refresh_token": "r" * 1500,
        "expires_at": 1_800_003_600,
        "email": "alice@example.com",
        "padding": "p" * (4096 - 3600),
    }
    document = json.dumps(session, indent=1)
    assert len(document) >= 4096
    harness.vault.write("oauth-session", SecretStr(document))
    assert text(harness.vault.read("oauth-session")) == document


@pytest.mark.parametrize(
    "secret",
    [string.printable, " leading and trailing spaces ", 'quotes " and \\ backslashes', ""],
)
def test_ascii_secrets_round_trip_exactly(harness: Harness, secret: str) -> None:
    harness.vault.write("api-key", SecretStr(secret))
    assert text(harness.vault.read("api-key")) == secret


def test_describe_names_the_keychain(harness: Harness) -> None:
    described = harness.vault.describe()
    assert isinstance(described, Success), described
    assert described.unwrap().strip()


def test_an_unusable_keychain_fails_every_call(harness: Harness) -> None:
    harness.vault.write("api-key", SecretStr("bmc_kept-secret-123"))
    harness.break_it()
    results = [
        harness.vault.read("api-key"),
        harness.vault.write("api-key", SecretStr("bmc_new-secret-456")),
        harness.vault.delete("api-key"),
        harness.vault.describe(),
    ]
    for result in results:
        assert isinstance(result, Failure), result
        problem = result.failure()
        assert isinstance(problem, KeychainUnavailable)
        assert "bmc_" not in problem.message
