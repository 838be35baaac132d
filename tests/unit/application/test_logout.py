"""Logout: best-effort revocation, local removal always, the API key kept unless --all."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from returns.result import Failure

from application.logout import Logout, Revocation
from domain.config import AppConfig
from domain.credentials import CredentialSource
from domain.errors import CorruptFile, ServiceUnreachable
from domain.session import TokenSet
from tests.fakes import FakeClock, FakeIdentityProvider, InMemoryConfigStore, InMemoryTokenStore

SESSION = TokenSet(
    access_token=SecretStr("access-0"),
    refresh_token=SecretStr("refresh-0"),
    expires_at=2_000_000_000,
)
KEY = SecretStr("bmc_abcdefgh12345678")


def _logout(
    tokens: TokenSet | None, key: SecretStr | None = None, env: dict[str, str] | None = None
) -> tuple[Logout, InMemoryTokenStore, InMemoryConfigStore, FakeIdentityProvider]:
    store = InMemoryTokenStore(tokens)
    config = InMemoryConfigStore(AppConfig(cloud_api_key=key))
    identity = FakeIdentityProvider(FakeClock())
    return Logout(store, config, identity, env or {}), store, config, identity


def test_revokes_the_refresh_token_and_removes_the_session() -> None:
    logout, store, _, identity = _logout(SESSION)
    outcome = logout.execute().unwrap()
    assert identity.revoked == ["refresh-0"]
    assert outcome.revocation is Revocation.REVOKED
    assert outcome.session_removed
    assert store.tokens is None


def test_a_failed_revocation_still_removes_the_local_session() -> None:
    logout, store, _, identity = _logout(SESSION)
    identity.revoke_result = Failure(ServiceUnreachable("the sign-in service", "refused"))
    outcome = logout.execute().unwrap()
    assert outcome.revocation is Revocation.FAILED
    assert outcome.revocation_problem is not None
    assert "refused" in outcome.revocation_problem
    assert store.tokens is None


def test_not_logged_in_is_fine() -> None:
    logout, _, _, identity = _logout(None)
    outcome = logout.execute().unwrap()
    assert not outcome.session_removed
    assert outcome.revocation is Revocation.NOT_NEEDED
    assert identity.revoked == []


def test_a_damaged_token_file_is_removed_and_said() -> None:
    logout, store, _, _ = _logout(None)
    store.broken = CorruptFile("/x/.cloud_tokens.json", "not valid JSON")
    outcome = logout.execute().unwrap()
    assert outcome.damaged_file_removed == "not valid JSON"
    assert store.load().unwrap() is None


ENV_KEY = {"BASIC_MEMORY_CLOUD_API_KEY": "bmc_envenvenv1234"}


@pytest.mark.parametrize(
    ("key", "env", "remaining"),
    [
        (KEY, {}, (CredentialSource.CONFIG_API_KEY,)),
        (None, ENV_KEY, (CredentialSource.ENV_API_KEY,)),
        (KEY, ENV_KEY, (CredentialSource.ENV_API_KEY, CredentialSource.CONFIG_API_KEY)),
        (None, {}, ()),
    ],
    ids=["config-key", "env-key", "both", "no-key"],
)
def test_the_api_keys_that_remain_are_reported(
    key: SecretStr | None, env: dict[str, str], remaining: tuple[CredentialSource, ...]
) -> None:
    logout, _, config, _ = _logout(SESSION, key, env)
    outcome = logout.execute().unwrap()
    assert outcome.keys_remaining == remaining
    assert config.config.cloud_api_key == key


def test_all_with_an_environment_key_removes_the_saved_key_and_names_the_variable() -> None:
    logout, _, config, _ = _logout(SESSION, KEY, ENV_KEY)
    outcome = logout.execute(remove_api_key=True).unwrap()
    assert outcome.key_removed
    assert outcome.keys_remaining == (CredentialSource.ENV_API_KEY,)
    assert config.config.cloud_api_key is None


def test_all_also_removes_the_stored_key() -> None:
    logout, _, config, _ = _logout(SESSION, KEY)
    outcome = logout.execute(remove_api_key=True).unwrap()
    assert outcome.key_removed
    assert outcome.keys_remaining == ()
    assert config.config.cloud_api_key is None
