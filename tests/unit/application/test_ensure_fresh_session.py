"""EnsureFreshSession: refresh only when needed, once, keeping the session on network errors."""

from __future__ import annotations

from pydantic import SecretStr
from returns.result import Failure, Success

from application.ensure_fresh_session import EnsureFreshSession
from domain.errors import CorruptFile, NoCredential, ServiceUnreachable, SessionExpired
from domain.session import TokenSet
from tests.fakes import FakeClock, FakeIdentityProvider, InMemoryTokenStore, token_response


def _session(clock: FakeClock, expires_in: int, refresh: str | None = "refresh-0") -> TokenSet:
    return TokenSet(
        access_token=SecretStr("access-0"),
        refresh_token=SecretStr(refresh) if refresh else None,
        expires_at=int(clock.now()) + expires_in,
        email="alice@example.com",
        user_id="user_1",
        extra={"workspace": "w1"},
    )


def _use_case(
    tokens: TokenSet | None,
) -> tuple[EnsureFreshSession, InMemoryTokenStore, FakeIdentityProvider, FakeClock]:
    clock = FakeClock()
    store = InMemoryTokenStore(tokens)
    identity = FakeIdentityProvider(clock)
    return EnsureFreshSession(store, identity, clock), store, identity, clock


def test_no_session_is_not_logged_in() -> None:
    use_case, _, identity, _ = _use_case(None)
    assert use_case.execute().failure() == NoCredential("not_logged_in")
    assert identity.refresh_calls == []


def test_a_valid_session_is_returned_without_a_refresh() -> None:
    clock = FakeClock()
    use_case, store, identity, _ = _use_case(_session(clock, 3600))
    assert use_case.execute().unwrap() is store.tokens
    assert identity.refresh_calls == []


def test_a_session_expiring_within_the_leeway_is_refreshed_and_rotated() -> None:
    clock = FakeClock()
    use_case, store, identity, _ = _use_case(_session(clock, 59))
    identity.refreshes = [Success(token_response("access-1", "refresh-1"))]
    fresh = use_case.execute().unwrap()
    assert identity.refresh_calls == ["refresh-0"]
    assert fresh.refresh_token == SecretStr("refresh-1")
    assert store.tokens is fresh
    assert fresh.extra == {"workspace": "w1"}


def test_rotation_keeps_the_old_refresh_token_when_none_is_returned() -> None:
    clock = FakeClock()
    use_case, _store, identity, _ = _use_case(_session(clock, 0))
    identity.refreshes = [Success(token_response("access-1", None))]
    assert use_case.execute().unwrap().refresh_token == SecretStr("refresh-0")


def test_without_a_refresh_token_an_expired_session_is_over() -> None:
    clock = FakeClock()
    use_case, _, identity, _ = _use_case(_session(clock, -5, refresh=None))
    assert use_case.execute().failure() == SessionExpired()
    assert identity.refresh_calls == []


def test_invalid_grant_is_session_expired_and_nothing_is_written() -> None:
    clock = FakeClock()
    use_case, store, identity, _ = _use_case(_session(clock, -5))
    identity.refreshes = [Failure(SessionExpired())]
    before = store.tokens
    assert use_case.execute().failure() == SessionExpired()
    assert store.tokens is before
    assert store.writes == 0


def test_a_network_failure_keeps_the_stored_session() -> None:
    clock = FakeClock()
    use_case, store, identity, _ = _use_case(_session(clock, -5))
    identity.refreshes = [Failure(ServiceUnreachable("the sign-in service", "refused"))]
    before = store.tokens
    assert isinstance(use_case.execute().failure(), ServiceUnreachable)
    assert store.tokens is before


def test_a_rejected_access_token_forces_a_refresh_even_if_not_expired() -> None:
    clock = FakeClock()
    use_case, _, identity, _ = _use_case(_session(clock, 3600))
    identity.refreshes = [Success(token_response("access-1", "refresh-1"))]
    fresh = use_case.execute(replace=SecretStr("access-0")).unwrap()
    assert fresh.access_token == SecretStr("access-1")


def test_a_session_refreshed_by_another_process_is_not_refreshed_again() -> None:
    """The use case saw an expired session, but under the lock the file is already fresh."""
    clock = FakeClock()
    stale = _session(clock, -5)
    fresh_elsewhere = _session(clock, 3600, refresh="refresh-9")

    class RacingStore(InMemoryTokenStore):
        def load(self):  # type: ignore[no-untyped-def]
            loaded = super().load()
            self.tokens = fresh_elsewhere  # the other process wins right after our first read
            return loaded

    store = RacingStore(stale)
    identity = FakeIdentityProvider(clock)
    result = EnsureFreshSession(store, identity, clock).execute()
    assert result.unwrap() is fresh_elsewhere
    assert identity.refresh_calls == []


def test_a_damaged_token_file_is_reported() -> None:
    use_case, store, _, _ = _use_case(None)
    store.broken = CorruptFile("/x/.cloud_tokens.json", "not valid JSON")
    assert use_case.execute().failure() == CorruptFile("/x/.cloud_tokens.json", "not valid JSON")
