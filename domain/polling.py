"""How politely to poll for device-flow approval (RFC 8628 §3.5), as pure arithmetic.

The caller owns the clock and the sleeping; this module only says how long to wait next and
when to give up, so the whole ten-minute flow can be tested in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.errors import ServerError, ServiceUnreachable

DEFAULT_INTERVAL_SECONDS = 5
SLOW_DOWN_STEP_SECONDS = 5
MAX_FLOW_SECONDS = 600
BACKOFF_CAP_SECONDS = 60.0


@dataclass(frozen=True)
class AuthorizationPending:
    """The user has not approved yet: keep polling at the current interval."""


@dataclass(frozen=True)
class SlowDown:
    """The server asked for slower polling: add five seconds for the rest of the flow."""


# A poll that did not finish the flow and allows another; it decides the next wait. A
# network or server failure backs off (the caller ends the flow on a settings failure).
PollOutcome = AuthorizationPending | SlowDown | ServiceUnreachable | ServerError


@dataclass(frozen=True)
class PollSchedule:
    """The flow's timing state: the current interval, any backoff, and the deadline."""

    interval: float
    deadline: float
    backoff: float | None = None

    @property
    def next_wait(self) -> float:
        return self.backoff if self.backoff is not None else self.interval


def start_schedule(now: float, expires_in: float, interval: float | None) -> PollSchedule:
    """First wait is one interval; the deadline is the smaller of the code's life and 10 min.

    >>> start_schedule(100.0, 900, None)
    PollSchedule(interval=5, deadline=700.0, backoff=None)
    >>> start_schedule(0.0, 30, 0).interval
    1
    """
    usable_interval = interval if interval is not None else DEFAULT_INTERVAL_SECONDS
    # A zero or negative interval would turn polling into a busy loop.
    usable_interval = max(usable_interval, 1)
    lifetime = min(max(expires_in, 0), MAX_FLOW_SECONDS)
    return PollSchedule(interval=usable_interval, deadline=now + lifetime)


def after(schedule: PollSchedule, outcome: PollOutcome) -> PollSchedule:
    """The schedule after one poll that did not finish the flow.

    >>> s, down = PollSchedule(interval=5, deadline=600), ServerError("the sign-in service", 503)
    >>> after(s, SlowDown()).next_wait
    10
    >>> after(after(s, down), down).next_wait
    10
    >>> after(after(s, down), AuthorizationPending()).next_wait
    5
    """
    match outcome:
        case AuthorizationPending():
            return replace(schedule, backoff=None)
        case SlowDown():
            return replace(
                schedule, interval=schedule.interval + SLOW_DOWN_STEP_SECONDS, backoff=None
            )
        case ServiceUnreachable() | ServerError():
            doubled = schedule.interval if schedule.backoff is None else schedule.backoff * 2
            return replace(
                schedule, backoff=min(doubled, max(BACKOFF_CAP_SECONDS, schedule.interval))
            )


def time_left(schedule: PollSchedule, now: float) -> float:
    return max(0.0, schedule.deadline - now)


def wait_before_next_poll(schedule: PollSchedule, now: float) -> float | None:
    """How long to sleep before the next poll, or None once the deadline has passed.

    The last wait is cut short so that one final poll happens right at the deadline.

    >>> wait_before_next_poll(PollSchedule(interval=5, deadline=12), 10)
    2
    >>> wait_before_next_poll(PollSchedule(interval=5, deadline=12), 12) is None
    True
    """
    remaining = time_left(schedule, now)
    if remaining <= 0:
        return None
    return min(schedule.next_wait, remaining)
