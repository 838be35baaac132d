"""Give callers a usable OAuth session, refreshing it once, for all processes, when needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.errors import NoCredential, SessionExpired
from domain.session import TokenSet, session_from_response

if TYPE_CHECKING:
    from pydantic import SecretStr

    from domain.errors import StorageFailure
    from domain.ports import Clock, IdentityProvider, RefreshFailure, TokenStore

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
        session = loaded.unwrap()
        if session is None:
            return Failure(NoCredential("not_logged_in"))
        if not self._needs_refresh(session, replace):
            return Success(session)
        if not session.can_refresh:
            return Failure(SessionExpired())

        def refresh_unless_done(
            current: TokenSet | None,
        ) -> Result[tuple[TokenSet, None], NoCredential | RefreshFailure]:
            # Re-read under the lock: another process may have refreshed meanwhile, and
            # a refresh token is single-use, so refreshing again would end the session.
            if current is None:
                return Failure(NoCredential("not_logged_in"))
            if not self._needs_refresh(current, replace):
                return Success((current, None))
            return self._refresh(current).map(lambda refreshed: (refreshed, None))

        return self._tokens.update(refresh_unless_done).map(lambda answer: answer[0])

    def _needs_refresh(self, session: TokenSet, replace: SecretStr | None) -> bool:
        if not session.is_valid(self._clock.now()):
            return True
        return replace is not None and (
            session.access_token.get_secret_value() == replace.get_secret_value()
        )

    def _refresh(self, current: TokenSet) -> Result[TokenSet, RefreshFailure]:
        if current.refresh_token is None or not current.can_refresh:
            return Failure(SessionExpired())
        answer = self._identity.refresh(current.refresh_token)
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        return Success(session_from_response(answer.unwrap(), int(self._clock.now()), current))
