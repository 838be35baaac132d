"""Give callers a usable OAuth session, refreshing it once, for all processes, when needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.errors import NoCredential, SessionExpired
from domain.session import TokenResponse, TokenSet, session_from_response

if TYPE_CHECKING:
    from pydantic import SecretStr

    from domain.errors import StorageFailure
    from domain.ports import (
        AsyncIdentityProvider,
        AsyncTokenStore,
        Clock,
        IdentityProvider,
        RefreshFailure,
        TokenStore,
    )

    FreshSessionFailure = NoCredential | RefreshFailure | StorageFailure


class EnsureFreshSession:
    """Return a session valid for at least the leeway, refreshing it under the file lock.

    Failures (FreshSessionFailure): NoCredential("not_logged_in") (no session),
    SessionExpired (no refresh token, or the provider answered invalid_grant), ProviderError
    or a network failure (the stored session is kept), or a storage failure. Refresh tokens
    rotate, so the new pair is written before it is handed out.
    """

    def __init__(self, tokens: TokenStore, identity: IdentityProvider, clock: Clock) -> None:
        self._tokens = tokens
        self._identity = identity
        self._clock = clock

    def execute(self, replace: SecretStr | None = None) -> Result[TokenSet, FreshSessionFailure]:
        """`replace` names an access token known to be unusable (say, rejected with a 401):
        a session still holding it is refreshed even if its expiry looks fine."""
        loaded = self._tokens.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        ready = _ready_or_due(loaded.unwrap(), self._clock.now(), replace)
        if ready is not None:
            return ready

        def refresh_unless_done(
            current: TokenSet | None,
        ) -> Result[tuple[TokenSet, None], NoCredential | RefreshFailure]:
            # Re-read under the lock: another process may have refreshed meanwhile, and
            # a refresh token is single-use, so refreshing again would end the session.
            ready = _ready_or_due(current, self._clock.now(), replace)
            if ready is None and current is not None and current.refresh_token is not None:
                answer = self._identity.refresh(current.refresh_token)
                ready = _refreshed(answer, current, self._clock.now())
            if ready is None:  # a refresh was due, yet there is no refresh token
                ready = Failure(SessionExpired())
            return ready.map(lambda session: (session, None))

        return self._tokens.update(refresh_unless_done).map(lambda answer: answer[0])


class EnsureFreshSessionAsync:
    """`EnsureFreshSession` for a caller on an event loop, with the same rules and answers.

    The file and its lock are reached through an `AsyncTokenStore` (the loop never waits on
    them) and the refresh through an `AsyncIdentityProvider`. Tasks of one process that all
    find the session due wait for each other on the file's lock, so the first refreshes and
    the others find its result, as separate processes do.
    """

    def __init__(
        self, tokens: AsyncTokenStore, identity: AsyncIdentityProvider, clock: Clock
    ) -> None:
        self._tokens = tokens
        self._identity = identity
        self._clock = clock

    async def execute(
        self, replace: SecretStr | None = None
    ) -> Result[TokenSet, FreshSessionFailure]:
        loaded = await self._tokens.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        ready = _ready_or_due(loaded.unwrap(), self._clock.now(), replace)
        if ready is not None:
            return ready

        async def refresh_unless_done(
            current: TokenSet | None,
        ) -> Result[TokenSet, NoCredential | RefreshFailure]:
            ready = _ready_or_due(current, self._clock.now(), replace)
            if ready is None and current is not None and current.refresh_token is not None:
                answer = await self._identity.refresh(current.refresh_token)
                ready = _refreshed(answer, current, self._clock.now())
            if ready is None:  # a refresh was due, yet there is no refresh token
                ready = Failure(SessionExpired())
            return ready

        return await self._tokens.update(refresh_unless_done)


def _ready_or_due(
    session: TokenSet | None, now: float, replace: SecretStr | None
) -> Result[TokenSet, NoCredential | RefreshFailure] | None:
    """The session as it is, or why it cannot be had; None when a refresh is due.

    Due: expired (or within the leeway), or still holding `replace`, an access token the
    cloud has just refused.
    """
    if session is None:
        return Failure(NoCredential("not_logged_in"))
    refused = replace is not None and (
        session.access_token.get_secret_value() == replace.get_secret_value()
    )
    if session.is_valid(now) and not refused:
        return Success(session)
    if not session.can_refresh:
        return Failure(SessionExpired())
    return None


def _refreshed(
    answer: Result[TokenResponse, RefreshFailure], current: TokenSet, now: float
) -> Result[TokenSet, NoCredential | RefreshFailure]:
    if isinstance(answer, Failure):
        return Failure(answer.failure())
    return Success(session_from_response(answer.unwrap(), int(now), current))
