"""LoginWithDeviceFlow with fakes: the whole ten-minute flow runs in milliseconds."""

from __future__ import annotations

import itertools

import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from application.ensure_fresh_session import EnsureFreshSession
from application.login_with_device_flow import LoginWithDeviceFlow
from domain.errors import (
    AccessDenied,
    DeviceCodeExpired,
    FileAccessError,
    LoginTimedOut,
    MalformedResponse,
    ProviderError,
    ServerError,
    ServiceUnreachable,
    SessionExpired,
    SessionNotSaved,
    SubscriptionRequired,
)
from domain.pkce import s256_challenge
from domain.polling import AuthorizationPending, SlowDown
from domain.ports import PollFailure, VerificationPrompt
from domain.session import TokenResponse, TokenSet
from tests.fakes import (
    FakeBrowser,
    FakeClock,
    FakeCloudApi,
    FakeIdentityProvider,
    FakeSleeper,
    InMemoryTokenStore,
    RecordingLoginDisplay,
    device_authorization,
    token_response,
)

PENDING: Result[TokenResponse, PollFailure] = Failure(AuthorizationPending())
SLOW: Result[TokenResponse, PollFailure] = Failure(SlowDown())
DOWN: Result[TokenResponse, PollFailure] = Failure(
    ServiceUnreachable("the sign-in service", "refused")
)
OK: Result[TokenResponse, PollFailure] = Success(token_response())


class World:
    def __init__(self, tokens: TokenSet | None = None, browser_works: bool = True) -> None:
        self.clock = FakeClock()
        self.sleeper = FakeSleeper(self.clock)
        self.identity = FakeIdentityProvider(self.clock)
        self.tokens = InMemoryTokenStore(tokens)
        self.cloud = FakeCloudApi(accepted={"access-1", "access-2"})
        self.browser = FakeBrowser(works=browser_works)
        self.display = RecordingLoginDisplay()
        self.login = LoginWithDeviceFlow(
            self.identity,
            self.tokens,
            self.cloud,
            self.clock,
            self.sleeper,
            self.browser,
            self.display,
            EnsureFreshSession(self.tokens, self.identity, self.clock),
        )

    def poll_offsets(self) -> list[float]:
        start = 1000.0
        return [round(t - start, 3) for t in self.identity.poll_times]


def test_success_after_pending_polls_once_per_interval_and_saves() -> None:
    world = World()
    world.identity.polls = [PENDING, PENDING, OK]
    result = world.login.execute()
    outcome = result.unwrap()
    assert world.poll_offsets() == [5.0, 10.0, 15.0]
    assert outcome.polls == 3
    assert not outcome.refreshed
    assert isinstance(outcome.verification, Success)
    assert world.tokens.tokens is not None
    assert world.tokens.tokens.access_token.get_secret_value() == "access-1"
    assert world.tokens.tokens.email == "alice@example.com"


def test_pkce_challenge_matches_the_verifier_sent_when_polling() -> None:
    world = World()
    world.identity.polls = [OK]
    world.login.execute().unwrap()
    assert world.identity.challenges == [s256_challenge(world.identity.verifiers[0])]
    assert len(world.identity.verifiers[0]) >= 43


def test_code_and_url_are_always_shown_and_browser_opens_complete_uri() -> None:
    world = World()
    world.identity.polls = [OK]
    world.login.execute().unwrap()
    assert world.display.events[0] == (
        "code",
        VerificationPrompt(
            user_code="BCDF-GHJK",
            verification_uri="https://auth.example.com/device",
            verification_uri_complete="https://auth.example.com/device?user_code=BCDF-GHJK",
            expires_in=600,
            interval=5,
        ),
    )
    assert world.browser.opened == ["https://auth.example.com/device?user_code=BCDF-GHJK"]
    assert "browser" in world.display.kinds()


def test_browser_falls_back_to_verification_uri_without_complete_uri() -> None:
    world = World()
    world.identity.start = Success(device_authorization(complete=False))
    world.identity.polls = [OK]
    world.login.execute().unwrap()
    assert world.browser.opened == ["https://auth.example.com/device"]


@pytest.mark.parametrize(
    ("open_browser", "works", "reason"),
    [(False, True, "--no-browser was given"), (True, False, "no display")],
    ids=["no-browser-flag", "browser-unavailable"],
)
def test_without_a_browser_the_user_is_told_to_open_the_url(
    open_browser: bool, works: bool, reason: str
) -> None:
    world = World(browser_works=works)
    world.identity.polls = [OK]
    world.login.execute(open_browser=open_browser).unwrap()
    assert world.browser.opened == []
    assert ("no-browser", ("https://auth.example.com/device?user_code=BCDF-GHJK", reason)) in (
        world.display.events
    )


def test_slow_down_adds_five_seconds_for_the_rest_of_the_flow() -> None:
    world = World()
    world.identity.polls = [PENDING, SLOW, PENDING, SLOW, PENDING, OK]
    world.login.execute().unwrap()
    gaps = _gaps(world.poll_offsets())
    assert gaps == [5.0, 5.0, 10.0, 10.0, 15.0, 15.0]


def test_transport_errors_back_off_doubling_then_return_to_the_interval() -> None:
    world = World()
    world.identity.polls = [DOWN, DOWN, DOWN, PENDING, OK]
    world.login.execute().unwrap()
    assert _gaps(world.poll_offsets()) == [5.0, 5.0, 10.0, 20.0, 5.0]
    assert world.display.kinds().count("retry") == 3


def test_server_errors_are_retried_not_fatal() -> None:
    world = World()
    world.identity.polls = [Failure(ServerError("the sign-in service", 503)), OK]
    assert isinstance(world.login.execute(), Success)


@pytest.mark.parametrize(
    "final",
    [
        AccessDenied(),
        DeviceCodeExpired(),
        ProviderError("invalid_client", "unknown client"),
        MalformedResponse("the sign-in service", "the answer has no access_token"),
        ServiceUnreachable("the sign-in service", "check SSL_CERT_FILE", settings=True),
    ],
    ids=["denied", "expired", "other-error", "malformed-answer", "unusable-settings"],
)
def test_final_errors_stop_the_flow_and_save_nothing(final: PollFailure) -> None:
    world = World()
    world.identity.polls = [PENDING, Failure(final)]
    result = world.login.execute()
    assert result.failure() == final
    assert world.tokens.tokens is None
    assert world.display.kinds()[-1] == "finish"


def test_always_pending_times_out_at_ten_minutes_with_a_final_poll_at_the_deadline() -> None:
    world = World()
    world.identity.start = Success(device_authorization(expires_in=1800, interval=5))
    world.identity.polls = [PENDING]
    result = world.login.execute()
    assert result.failure() == LoginTimedOut(600)
    assert world.poll_offsets()[-1] == 600.0
    assert len(world.identity.poll_times) == 120
    assert world.tokens.tokens is None


def test_short_lived_code_sets_the_deadline() -> None:
    world = World()
    world.identity.start = Success(device_authorization(expires_in=12, interval=5))
    world.identity.polls = [PENDING]
    result = world.login.execute()
    assert isinstance(result.failure(), LoginTimedOut)
    assert world.poll_offsets() == [5.0, 10.0, 12.0]


def test_countdown_is_shown_at_least_every_second_while_waiting() -> None:
    world = World()
    world.identity.polls = [PENDING, OK]
    world.login.execute().unwrap()
    countdowns = [value for kind, value in world.display.events if kind == "countdown"]
    assert len(countdowns) == 10
    assert countdowns[0] == 600.0
    assert all(a > b for a, b in itertools.pairwise(countdowns))
    assert max(world.sleeper.naps) <= 1.0


def test_subscription_missing_still_saves_the_session() -> None:
    world = World()
    world.identity.polls = [OK]
    world.cloud.health_override = Failure(SubscriptionRequired("https://example.com/subscribe"))
    outcome = world.login.execute().unwrap()
    assert isinstance(outcome.verification.failure(), SubscriptionRequired)
    assert world.tokens.tokens is not None


def test_start_failure_is_reported_without_polling() -> None:
    world = World()
    world.identity.start = Failure(ServiceUnreachable("the sign-in service", "refused"))
    result = world.login.execute()
    assert isinstance(result.failure(), ServiceUnreachable)
    assert world.identity.poll_times == []


def _stored(expires_at: int, refresh: str | None = "refresh-0") -> TokenSet:
    return TokenSet(
        access_token=SecretStr("access-0"),
        refresh_token=SecretStr(refresh) if refresh else None,
        expires_at=expires_at,
        email="alice@example.com",
    )


def test_a_refreshable_session_is_refreshed_instead_of_a_device_flow() -> None:
    world = World()
    world.tokens.tokens = _stored(int(world.clock.now()) + 3600)
    world.identity.refreshes = [Success(token_response("access-2", "refresh-2"))]
    outcome = world.login.execute().unwrap()
    assert outcome.refreshed
    assert world.identity.challenges == []
    assert world.identity.refresh_calls == ["refresh-0"]
    assert world.tokens.tokens is not None
    assert world.tokens.tokens.refresh_token == SecretStr("refresh-2")


def test_force_skips_the_refresh() -> None:
    world = World()
    world.tokens.tokens = _stored(int(world.clock.now()) + 3600)
    world.identity.polls = [OK]
    outcome = world.login.execute(force=True).unwrap()
    assert not outcome.refreshed
    assert world.identity.refresh_calls == []


def test_a_dead_refresh_token_falls_back_to_the_device_flow() -> None:
    world = World()
    world.tokens.tokens = _stored(int(world.clock.now()) - 10)
    world.identity.refreshes = [Failure(SessionExpired())]
    world.identity.polls = [OK]
    outcome = world.login.execute().unwrap()
    assert not outcome.refreshed
    assert world.identity.refresh_calls == ["refresh-0"]


def test_a_network_failure_during_refresh_keeps_the_session() -> None:
    world = World()
    before = _stored(int(world.clock.now()) - 10)
    world.tokens.tokens = before
    world.identity.refreshes = [Failure(ServiceUnreachable("the sign-in service", "timed out"))]
    result = world.login.execute()
    assert isinstance(result.failure(), ServiceUnreachable)
    assert world.tokens.tokens is before


@pytest.mark.parametrize(
    ("expires_in", "seconds", "words"),
    [(5, 5, "after 5 seconds"), (60, 60, "after 1 minute"), (1800, 600, "after 10 minutes")],
)
def test_the_timeout_says_how_long_the_flow_really_waited(
    expires_in: int, seconds: int, words: str
) -> None:
    world = World()
    world.identity.start = Success(device_authorization(expires_in=expires_in, interval=1))
    world.identity.polls = [PENDING]
    failure = world.login.execute().failure()
    assert failure == LoginTimedOut(seconds)
    assert words in failure.message
    assert "minutes" not in failure.message or seconds >= 120


READ_ONLY = FileAccessError("/data/.cloud_tokens.json", "read-only file system")


@pytest.mark.parametrize("force", [False, True])
def test_a_token_file_that_cannot_be_written_stops_login_before_any_code_is_shown(
    force: bool,
) -> None:
    world = World()
    world.tokens.tokens = _stored(int(world.clock.now()) - 10)
    world.tokens.unwritable = READ_ONLY
    world.identity.polls = [OK]
    result = world.login.execute(force=force)
    assert result.failure() == READ_ONLY
    assert world.identity.challenges == []
    assert world.identity.refresh_calls == []
    assert world.display.events == []


def test_a_session_that_cannot_be_saved_after_approval_is_revoked_on_the_server() -> None:
    world = World()
    world.tokens.unwritable = READ_ONLY
    world.tokens.probe_passes = True  # the folder went read-only while the person approved
    world.identity.polls = [PENDING, OK]
    failure = world.login.execute().failure()
    assert failure == SessionNotSaved(READ_ONLY.message, revoked=True)
    assert world.identity.revoked == ["refresh-1"]
    assert world.tokens.tokens is None
    assert "could not save the session" in failure.message
    assert "revoked on the server" in failure.message
    assert world.cloud.health_calls == []


def test_a_failed_revocation_of_the_unsaved_session_is_said() -> None:
    world = World()
    world.tokens.unwritable = READ_ONLY
    world.tokens.probe_passes = True
    world.identity.polls = [OK]
    world.identity.revoke_result = Failure(ServerError("the sign-in service", 503))
    failure = world.login.execute().failure()
    assert isinstance(failure, SessionNotSaved)
    assert not failure.revoked
    assert "could not save the session" in failure.message
    assert "could not be revoked on the server" in failure.message
    assert "HTTP 503" in failure.message
    assert world.identity.revoked == ["refresh-1"]


def test_an_unsaved_session_without_a_refresh_token_says_nothing_could_be_revoked() -> None:
    world = World()
    world.tokens.unwritable = READ_ONLY
    world.tokens.probe_passes = True
    world.identity.polls = [Success(token_response(refresh=None))]
    failure = world.login.execute().failure()
    assert isinstance(failure, SessionNotSaved)
    assert not failure.revoked
    assert world.identity.revoked == []
    assert "no refresh token" in failure.message


def _gaps(offsets: list[float]) -> list[float]:
    points = [0.0, *offsets]
    return [round(b - a, 3) for a, b in itertools.pairwise(points)]


# Each poll is given only the flow's time left, so no poll outlives the flow.


def _login(identity: FakeIdentityProvider, clock: FakeClock) -> LoginWithDeviceFlow:
    tokens = InMemoryTokenStore(None)
    return LoginWithDeviceFlow(
        identity,
        tokens,
        FakeCloudApi(),
        clock,
        FakeSleeper(clock),
        FakeBrowser(works=True),
        RecordingLoginDisplay(),
        EnsureFreshSession(tokens, identity, clock),
    )


def test_each_poll_is_given_the_time_left_before_the_flows_deadline() -> None:
    clock = FakeClock()
    identity = FakeIdentityProvider(
        clock,
        start=Success(device_authorization(expires_in=20, interval=5)),
        polls=[Failure(AuthorizationPending())],
    )

    result = _login(identity, clock).execute(open_browser=False)

    assert result == Failure(LoginTimedOut(20))
    # Polls at 5, 10, 15 and a last one right at the deadline, with nothing left to spend.
    assert identity.poll_limits == [15.0, 10.0, 5.0, 0.0]


def test_a_poll_cut_short_by_the_deadline_ends_the_login() -> None:
    clock = FakeClock()
    identity = FakeIdentityProvider(
        clock,
        start=Success(device_authorization(expires_in=8, interval=5)),
        polls=[Failure(ServiceUnreachable("the sign-in service", "no complete answer within 3 s"))],
    )

    result = _login(identity, clock).execute(open_browser=False)

    assert result == Failure(LoginTimedOut(8))
    assert identity.poll_limits[0] == 3.0
