"""LoginWithDeviceFlow gives each poll only the flow's time left, so no poll outlives the flow."""

from __future__ import annotations

from returns.result import Failure, Success

from application.ensure_fresh_session import EnsureFreshSession
from application.login_with_device_flow import LoginWithDeviceFlow
from domain.errors import LoginTimedOut, ServiceUnreachable
from domain.polling import AuthorizationPending
from tests.fakes import (
    FakeBrowser,
    FakeClock,
    FakeCloudApi,
    FakeIdentityProvider,
    FakeSleeper,
    InMemoryTokenStore,
    RecordingLoginDisplay,
    device_authorization,
)


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
