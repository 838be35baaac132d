"""MoveCredentials: both secrets move, each reported as it goes, the override named."""

from __future__ import annotations

from pydantic import SecretStr
from returns.result import Failure

from application.move_credentials import MoveCredentials
from domain.config import AppConfig
from domain.credential_store import CredentialStore, Moved
from domain.errors import KeychainUnavailable
from domain.session import TokenSet
from tests.fakes import InMemoryConfigStore, InMemoryTokenStore

KEY = "bmc_abcdefgh12345678"


def _stores() -> tuple[InMemoryTokenStore, InMemoryConfigStore]:
    tokens = InMemoryTokenStore(TokenSet(access_token=SecretStr("a"), expires_at=1))
    return tokens, InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(KEY)))


def test_both_secrets_move_and_each_is_reported() -> None:
    tokens, config = _stores()
    heard: list[tuple[str, Moved]] = []

    done = MoveCredentials(tokens, config, {}).execute(
        CredentialStore.KEYRING, lambda name, moved: heard.append((name, moved))
    )

    assert done.unwrap().overridden_by is None
    assert heard == [("OAuth session", Moved.MOVED), ("API key", Moved.MOVED)]
    assert tokens.place is CredentialStore.KEYRING
    assert config.key_place is CredentialStore.KEYRING
    assert config.config.credential_store == "keyring"


def test_a_failure_after_the_session_moved_still_reported_the_session() -> None:
    tokens, config = _stores()
    config.broken = KeychainUnavailable("the keychain is locked")
    heard: list[tuple[str, Moved]] = []

    result = MoveCredentials(tokens, config, {}).execute(
        CredentialStore.KEYRING, lambda name, moved: heard.append((name, moved))
    )

    assert result == Failure(KeychainUnavailable("the keychain is locked"))
    assert heard == [("OAuth session", Moved.MOVED)]
    assert config.key_place is CredentialStore.FILE


def test_a_session_that_cannot_move_leaves_the_choice_as_it_was() -> None:
    tokens, config = _stores()
    tokens.unwritable = KeychainUnavailable("the keychain is locked")
    heard: list[tuple[str, Moved]] = []

    result = MoveCredentials(tokens, config, {}).execute(
        CredentialStore.KEYRING, lambda name, moved: heard.append((name, moved))
    )

    assert result == Failure(KeychainUnavailable("the keychain is locked"))
    assert heard == []
    assert tokens.place is CredentialStore.FILE
    assert config.config.credential_store is None
    assert config.key_place is CredentialStore.FILE


def test_an_environment_that_chooses_another_store_is_named() -> None:
    tokens, config = _stores()
    for value in ("file", "nonsense"):
        env = {"BASIC_MEMORY_CREDENTIAL_STORE": value}
        done = MoveCredentials(tokens, config, env).execute(
            CredentialStore.KEYRING, lambda _name, _moved: None
        )
        assert done.unwrap().overridden_by == "BASIC_MEMORY_CREDENTIAL_STORE"
    same = MoveCredentials(tokens, config, {"BASIC_MEMORY_CREDENTIAL_STORE": "keyring"})
    assert same.execute(CredentialStore.KEYRING, lambda _n, _m: None).unwrap().overridden_by is None
