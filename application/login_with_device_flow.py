"""Sign in: refresh the stored session when possible, else run the OAuth device flow."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.credentials import Credential, CredentialSource
from domain.errors import (
    AccessDenied,
    DeviceCodeExpired,
    LoginTimedOut,
    MalformedResponse,
    ProviderError,
    ServerError,
    ServiceUnreachable,
    SessionExpired,
    SessionNotSaved,
)
from domain.pkce import s256_challenge
from domain.polling import (
    AuthorizationPending,
    PollSchedule,
    SlowDown,
    after,
    start_schedule,
    time_left,
    wait_before_next_poll,
)
from domain.ports import VerificationPrompt
from domain.session import TokenResponse, TokenSet, session_from_response

if TYPE_CHECKING:
    from application.ensure_fresh_session import EnsureFreshSession
    from domain.errors import NoCredential, StorageFailure
    from domain.ports import (
        Browser,
        Clock,
        CloudApi,
        CloudFailure,
        DeviceAuthorization,
        HealthReport,
        IdentityProvider,
        LoginDisplay,
        OAuthCallFailure,
        Sleeper,
        TokenStore,
    )

    LoginFailure = (
        AccessDenied
        | DeviceCodeExpired
        | LoginTimedOut
        | SessionNotSaved
        | NoCredential
        | OAuthCallFailure
        | StorageFailure
    )

# The countdown is redrawn at least this often while waiting between polls.
COUNTDOWN_STEP_SECONDS = 1.0


@dataclass(frozen=True)
class LoginOutcome:
    """A stored session, how it was obtained, and whether the cloud accepted it."""

    session: TokenSet
    refreshed: bool
    verification: Result[HealthReport, CloudFailure]
    polls: int = 0


class LoginWithDeviceFlow:
    """`bm cloud login`.

    Failures (LoginFailure): AccessDenied, DeviceCodeExpired, LoginTimedOut, ProviderError, a
    network failure while starting the flow or refreshing, a storage failure (the token file
    cannot be read or written: found before any code is shown), NoCredential("not_logged_in")
    (the stored session was removed while it was being refreshed), or SessionNotSaved
    (writing failed after the approval; the new session is then revoked on the server). A
    subscription problem is not a failure of the login: the session is saved and
    `verification` carries the problem.
    Nothing is saved unless the flow succeeds.
    """

    def __init__(
        self,
        identity: IdentityProvider,
        tokens: TokenStore,
        cloud: CloudApi,
        clock: Clock,
        sleeper: Sleeper,
        browser: Browser,
        display: LoginDisplay,
        fresh_session: EnsureFreshSession,
    ) -> None:
        self._identity = identity
        self._tokens = tokens
        self._cloud = cloud
        self._clock = clock
        self._sleeper = sleeper
        self._browser = browser
        self._display = display
        self._fresh_session = fresh_session

    def execute(
        self, open_browser: bool = True, force: bool = False
    ) -> Result[LoginOutcome, LoginFailure]:
        # A damaged token file would refuse the new session only after the person approved
        # it, leaving a live session behind: find out before starting.
        stored = self._tokens.load()
        if isinstance(stored, Failure):
            return Failure(stored.failure())
        # Likewise a folder that cannot take the file (read-only, full): a refresh would spend
        # the single-use refresh token, a device flow would ask the person for nothing.
        writable = self._tokens.check_writable()
        if isinstance(writable, Failure):
            return Failure(writable.failure())
        if not force:
            refreshed = self._refresh_existing()
            if refreshed is not None:
                return refreshed
        return self._device_flow(open_browser)

    def _refresh_existing(self) -> Result[LoginOutcome, LoginFailure] | None:
        """Refresh a stored session; None means there is nothing to refresh, so sign in anew."""
        loaded = self._tokens.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        session = loaded.unwrap()
        if session is None or not session.can_refresh:
            return None
        fresh = self._fresh_session.execute(replace=session.access_token)
        if isinstance(fresh, Success):
            return Success(self._verified(fresh.unwrap(), refreshed=True, polls=0))
        match fresh.failure():
            case SessionExpired() | ProviderError():
                return None
            case other:
                return Failure(other)

    def _device_flow(self, open_browser: bool) -> Result[LoginOutcome, LoginFailure]:
        verifier = secrets.token_urlsafe(48)
        started = self._identity.start_device_authorization(s256_challenge(verifier))
        if isinstance(started, Failure):
            return Failure(started.failure())
        authorization = started.unwrap()
        started_at = self._clock.monotonic()
        schedule = start_schedule(started_at, authorization.expires_in, authorization.interval)
        flow_seconds = round(schedule.deadline - started_at)
        self._display.show_code(
            VerificationPrompt(
                user_code=authorization.user_code,
                verification_uri=authorization.verification_uri,
                verification_uri_complete=authorization.verification_uri_complete,
                expires_in=flow_seconds,
                interval=math.ceil(schedule.interval),
            )
        )
        self._offer_browser(authorization, open_browser)
        polls = 0
        while True:
            wait = wait_before_next_poll(schedule, self._clock.monotonic())
            if wait is None:
                self._display.finish()
                return Failure(LoginTimedOut(flow_seconds))
            self._wait(wait, schedule)
            # The poll may not outlive the flow: a server answering slowly (or a byte at a time)
            # would otherwise keep the login going past the deadline the person was shown.
            answer = self._identity.poll_device_token(
                authorization.device_code,
                verifier,
                within=time_left(schedule, self._clock.monotonic()),
            )
            polls += 1
            if isinstance(answer, Success):
                self._display.finish()
                return self._store(answer.unwrap(), polls)
            match answer.failure():
                case AuthorizationPending() | SlowDown() as not_yet:
                    schedule = after(schedule, not_yet)
                case ServiceUnreachable(settings=True) as final:
                    # This machine's settings stopped the call: waiting cannot fix them.
                    self._display.finish()
                    return Failure(final)
                case ServiceUnreachable() | ServerError() as problem:
                    # The network or the server's health: worth waiting out (SPEC §3.3).
                    schedule = after(schedule, problem)
                    self._display.retrying(problem.message, schedule.next_wait)
                case (
                    AccessDenied()
                    | DeviceCodeExpired()
                    | ProviderError()
                    | MalformedResponse() as final
                ):
                    # An answer that breaks the protocol will not mend by polling again.
                    self._display.finish()
                    return Failure(final)

    def _offer_browser(self, authorization: DeviceAuthorization, open_browser: bool) -> None:
        url = authorization.url_to_open
        if not open_browser:
            self._display.browser_unavailable(url, "--no-browser was given")
            return
        opened = self._browser.open(url)
        if isinstance(opened, Failure):
            self._display.browser_unavailable(url, opened.failure().reason)
        else:
            self._display.browser_opened(url)

    def _wait(self, seconds: float, schedule: PollSchedule) -> None:
        """Sleep in short steps so the countdown stays live."""
        end = self._clock.monotonic() + seconds
        while (remaining := end - self._clock.monotonic()) > 0:
            self._display.countdown(time_left(schedule, self._clock.monotonic()))
            self._sleeper.sleep(min(COUNTDOWN_STEP_SECONDS, remaining))

    def _store(self, response: TokenResponse, polls: int) -> Result[LoginOutcome, LoginFailure]:
        session = session_from_response(response, int(self._clock.now()))
        saved = self._tokens.save(session)
        if isinstance(saved, Failure):
            return Failure(self._abandoned(session, saved.failure().message))
        return Success(self._verified(session, refreshed=False, polls=polls))

    def _abandoned(self, session: TokenSet, problem: str) -> SessionNotSaved:
        """A session nobody holds must not stay open on the server: revoke it, say whether."""
        if session.refresh_token is None or not session.can_refresh:
            return SessionNotSaved(
                problem, revoked=False, revoke_problem="the server gave no refresh token to revoke"
            )
        revoked = self._identity.revoke(session.refresh_token)
        if isinstance(revoked, Failure):
            return SessionNotSaved(problem, revoked=False, revoke_problem=revoked.failure().message)
        return SessionNotSaved(problem, revoked=True)

    def _verified(self, session: TokenSet, refreshed: bool, polls: int) -> LoginOutcome:
        credential = Credential(CredentialSource.OAUTH_SESSION, session.access_token)
        return LoginOutcome(
            session=session,
            refreshed=refreshed,
            verification=self._cloud.check_health(credential),
            polls=polls,
        )
