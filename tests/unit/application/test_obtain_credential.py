"""ObtainCredential: the priority rules, one refresh after a refused OAuth token, no retry for keys."""

from __future__ import annotations

from pydantic import SecretStr
from returns.result import Success

from application.ensure_fresh_session import EnsureFreshSession
from application.obtain_credential import ObtainCredential
from domain.config import AppConfig
from domain.credentials import CredentialSource
from domain.errors import CredentialRejected, NoCredential
from domain.session import TokenSet
from tests.fakes import (
    FakeClock,
    FakeIdentityProvider,
    InMemoryConfigStore,
    InMemoryTokenStore,
    token_response,
)

KEY = "bmc_abcdefgh12345678"


def _obtain(key: str | None, session: bool) -> tuple[ObtainCredential, FakeIdentityProvider]:
    clock = FakeClock()
    tokens = InMemoryTokenStore(
        TokenSet(
            access_token=SecretStr("access-0"),
            refresh_token=SecretStr("refresh-0"),
            expires_at=int(clock.now()) + 3600,
        )
        if session
        else None
    )
    identity = FakeIdentityProvider(clock)
    identity.refreshes = [Success(token_response("access-1", "refresh-1"))]
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(key) if key else None))
    return ObtainCredential(
        config, tokens, clock, {}, EnsureFreshSession(tokens, identity, clock)
    ), identity


def test_projects_get_the_key_and_global_operations_the_session() -> None:
    obtain, _ = _obtain(KEY, session=True)
    assert obtain.execute("research").unwrap().source is CredentialSource.CONFIG_API_KEY
    assert obtain.execute().unwrap().source is CredentialSource.OAUTH_SESSION


def test_a_refused_access_token_is_refreshed_once() -> None:
    obtain, identity = _obtain(None, session=True)
    retried = obtain.execute(rejected=SecretStr("access-0")).unwrap()
    assert retried.secret == SecretStr("access-1")
    assert identity.refresh_calls == ["refresh-0"]


def test_a_refused_api_key_is_reported_not_retried() -> None:
    obtain, identity = _obtain(KEY, session=True)
    assert obtain.execute("research", rejected=SecretStr(KEY)).failure() == CredentialRejected(
        "API key from config.yaml"
    )
    assert identity.refresh_calls == []


def test_nothing_usable() -> None:
    obtain, _ = _obtain(None, session=False)
    assert obtain.execute().failure() == NoCredential("global")
    assert obtain.execute("research").failure() == NoCredential("project", "research")


def test_global_operations_fall_back_to_the_key_when_the_session_is_over() -> None:
    from returns.result import Failure

    from domain.errors import SessionExpired

    obtain, identity = _obtain(KEY, session=True)
    identity.refreshes = [Failure(SessionExpired())]
    fallback = obtain.execute(rejected=SecretStr("access-0")).unwrap()
    assert fallback.source is CredentialSource.CONFIG_API_KEY
