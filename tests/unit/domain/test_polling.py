"""Device-flow polling arithmetic: interval, slow_down, backoff and deadline (SPEC §3.3)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ServiceUnreachable
from domain.polling import (
    AuthorizationPending,
    PollOutcome,
    PollSchedule,
    SlowDown,
    after,
    start_schedule,
    time_left,
    wait_before_next_poll,
)

PENDING, SLOW_DOWN = AuthorizationPending(), SlowDown()
ERROR = ServiceUnreachable("the sign-in service", "timed out")


# --- start --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expires_in", "interval", "expected_interval", "expected_deadline"),
    [
        pytest.param(100.0, 900, None, 5, 700.0, id="default-interval-5-and-cap"),
        pytest.param(100.0, 300, None, 5, 400.0, id="short-code-life"),
        pytest.param(100.0, 300, 7, 7, 400.0, id="server-interval"),
        pytest.param(100.0, 300, 0, 1, 400.0, id="zero-interval-becomes-1"),
        pytest.param(100.0, 300, -4, 1, 400.0, id="negative-interval-becomes-1"),
        pytest.param(100.0, 300, 1, 1, 400.0, id="interval-1-kept"),
        pytest.param(0.0, 600, 5, 5, 600.0, id="exactly-ten-minutes"),
        pytest.param(0.0, 601, 5, 5, 600.0, id="just-over-ten-minutes-capped"),
        pytest.param(0.0, 86_400, 5, 5, 600.0, id="a-day-capped"),
        pytest.param(50.0, 0, 5, 5, 50.0, id="zero-life-deadline-now"),
        pytest.param(50.0, -30, 5, 5, 50.0, id="negative-life-deadline-now"),
    ],
)
def test_start_schedule(
    now: float,
    expires_in: float,
    interval: float | None,
    expected_interval: float,
    expected_deadline: float,
) -> None:
    schedule = start_schedule(now, expires_in, interval)

    assert schedule.interval == expected_interval
    assert schedule.deadline == expected_deadline
    assert schedule.backoff is None
    # RFC 8628 §3.5 / SPEC §3.3: wait one interval before the first poll.
    assert schedule.next_wait == expected_interval


# --- transitions ------------------------------------------------------------------------------


def run(schedule: PollSchedule, outcomes: Iterable[PollOutcome]) -> list[PollSchedule]:
    states = [schedule]
    for outcome in outcomes:
        states.append(after(states[-1], outcome))
    return states


def waits(interval: float, outcomes: Iterable[PollOutcome]) -> list[float]:
    """The wait after each outcome, starting from a fresh schedule."""
    return [state.next_wait for state in run(PollSchedule(interval, 600.0), outcomes)[1:]]


@pytest.mark.parametrize(
    ("interval", "outcomes", "expected_waits"),
    [
        pytest.param(5, [PENDING] * 3, [5, 5, 5], id="pending-keeps-interval"),
        pytest.param(5, [SLOW_DOWN] * 3, [10, 15, 20], id="slow-down-cumulative"),
        pytest.param(5, [SLOW_DOWN, PENDING, PENDING], [10, 10, 10], id="slow-down-lasts"),
        pytest.param(5, [ERROR] * 7, [5, 10, 20, 40, 60, 60, 60], id="backoff-doubles-to-cap"),
        pytest.param(7, [ERROR] * 6, [7, 14, 28, 56, 60, 60], id="backoff-from-7"),
        pytest.param(45, [ERROR] * 3, [45, 60, 60], id="backoff-from-45"),
        pytest.param(60, [ERROR] * 3, [60, 60, 60], id="interval-at-cap"),
        pytest.param(70, [ERROR] * 3, [70, 70, 70], id="cap-never-below-interval"),
        pytest.param(5, [ERROR, ERROR, ERROR, PENDING], [5, 10, 20, 5], id="pending-ends-backoff"),
        pytest.param(
            5, [ERROR, ERROR, PENDING, ERROR, ERROR], [5, 10, 5, 5, 10], id="backoff-restarts"
        ),
        pytest.param(5, [ERROR, ERROR, SLOW_DOWN], [5, 10, 10], id="slow-down-ends-backoff"),
        pytest.param(
            5, [ERROR, ERROR, ERROR, SLOW_DOWN], [5, 10, 20, 10], id="slow-down-after-long-backoff"
        ),
        pytest.param(5, [SLOW_DOWN, ERROR, ERROR], [10, 10, 20], id="backoff-from-slowed-interval"),
        pytest.param(55, [SLOW_DOWN, ERROR, ERROR], [60, 60, 60], id="slowed-to-cap-backoff-flat"),
        pytest.param(
            60, [SLOW_DOWN, ERROR, ERROR], [65, 65, 65], id="slowed-past-cap-backoff-follows"
        ),
    ],
)
def test_transitions(
    interval: float, outcomes: list[PollOutcome], expected_waits: list[float]
) -> None:
    assert waits(interval, outcomes) == expected_waits


@pytest.mark.parametrize(
    ("outcome", "interval_after", "backoff_after"),
    [
        pytest.param(PENDING, 5, None, id="pending"),
        pytest.param(SLOW_DOWN, 10, None, id="slow-down"),
        pytest.param(ERROR, 5, 40, id="error-doubles-existing-backoff"),
    ],
)
def test_after_from_backoff_state(
    outcome: PollOutcome, interval_after: float, backoff_after: float | None
) -> None:
    schedule = PollSchedule(interval=5, deadline=321.0, backoff=20)

    changed = after(schedule, outcome)

    assert (changed.interval, changed.backoff) == (interval_after, backoff_after)
    assert changed.deadline == 321.0
    assert schedule == PollSchedule(interval=5, deadline=321.0, backoff=20)  # not mutated


# --- waiting and the deadline ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        pytest.param(PollSchedule(5, 100.0), 0.0, 5, id="full-interval"),
        pytest.param(PollSchedule(5, 100.0), 95.0, 5, id="interval-fits-exactly"),
        pytest.param(PollSchedule(5, 100.0), 97.0, 3, id="clipped-to-time-left"),
        pytest.param(PollSchedule(5, 100.0), 99.5, 0.5, id="clipped-fraction"),
        pytest.param(PollSchedule(5, 100.0), 100.0, None, id="at-deadline"),
        pytest.param(PollSchedule(5, 100.0), 250.0, None, id="after-deadline"),
        pytest.param(PollSchedule(5, 100.0, backoff=40), 10.0, 40, id="backoff-used"),
        pytest.param(PollSchedule(5, 100.0, backoff=40), 80.0, 20, id="backoff-clipped"),
    ],
)
def test_wait_before_next_poll(schedule: PollSchedule, now: float, expected: float | None) -> None:
    assert wait_before_next_poll(schedule, now) == expected


@pytest.mark.parametrize(
    ("now", "left"),
    [
        pytest.param(0.0, 100.0, id="start"),
        pytest.param(99.0, 1.0, id="last-second"),
        pytest.param(100.0, 0.0, id="deadline"),
        pytest.param(130.0, 0.0, id="never-negative"),
    ],
)
def test_time_left(now: float, left: float) -> None:
    assert time_left(PollSchedule(5, 100.0), now) == left


# --- whole flows on a fake monotonic clock ------------------------------------------------------


def simulate(
    expires_in: float,
    interval: float | None,
    answer: Callable[[int], PollOutcome | None],
    start: float = 1000.0,
) -> list[float]:
    """Run the loop a use case runs, without sleeping; return the poll times (relative).

    `answer(n)` is the outcome of poll number n (1-based), None meaning success.
    """
    clock = start
    schedule = start_schedule(clock, expires_in, interval)
    polls: list[float] = []
    while (wait := wait_before_next_poll(schedule, clock)) is not None:
        assert wait > 0
        clock += wait
        polls.append(clock - start)
        outcome = answer(len(polls))
        if outcome is None:
            break
        schedule = after(schedule, outcome)
        assert len(polls) < 10_000, "runaway loop"
    return polls


def always(outcome: PollOutcome) -> Callable[[int], PollOutcome | None]:
    return lambda _: outcome


def pending_then_success(pending: int) -> Callable[[int], PollOutcome | None]:
    return lambda n: PENDING if n <= pending else None


def test_ten_minute_flow_always_pending_polls_120_times() -> None:
    # First poll after one interval (t=5), then every 5 s, the last exactly at the deadline.
    polls = simulate(600, 5, always(PENDING))

    assert len(polls) == 120
    assert polls[0] == 5
    assert polls[-1] == 600
    assert polls == [5.0 * n for n in range(1, 121)]


def test_long_code_life_is_capped_at_ten_minutes() -> None:
    polls = simulate(1800, None, always(PENDING))

    assert len(polls) == 120
    assert polls[-1] == 600


@pytest.mark.parametrize(
    ("pending", "expected_polls", "success_at"),
    [
        pytest.param(0, 1, 5, id="approved-before-first-poll"),
        pytest.param(3, 4, 20, id="three-pending"),
        pytest.param(50, 51, 255, id="fifty-pending"),
        pytest.param(119, 120, 600, id="approved-at-the-deadline"),
    ],
)
def test_pending_then_success(pending: int, expected_polls: int, success_at: float) -> None:
    polls = simulate(600, 5, pending_then_success(pending))

    assert len(polls) == expected_polls
    assert polls[-1] == success_at


@pytest.mark.parametrize(
    ("expires_in", "interval", "answer", "expected_polls"),
    [
        pytest.param(12, 5, always(PENDING), [5, 10, 12], id="last-poll-clipped-to-deadline"),
        pytest.param(3, 5, always(PENDING), [3], id="life-shorter-than-interval"),
        pytest.param(0, 5, always(PENDING), [], id="already-expired-no-poll"),
        pytest.param(-10, 5, always(PENDING), [], id="negative-life-no-poll"),
        pytest.param(4, 0, always(PENDING), [1, 2, 3, 4], id="zero-interval-polls-each-second"),
        pytest.param(
            40,
            5,
            lambda n: SLOW_DOWN if n == 1 else PENDING,
            [5, 15, 25, 35, 40],
            id="slow-down-once",
        ),
        pytest.param(
            60,
            5,
            always(SLOW_DOWN),
            [5, 15, 30, 50, 60],
            id="slow-down-every-time",
        ),
        pytest.param(
            600,
            5,
            always(ERROR),
            [5, 10, 20, 40, 80, 140, 200, 260, 320, 380, 440, 500, 560, 600],
            id="network-down-backs-off-until-deadline",
        ),
        pytest.param(
            100,
            5,
            lambda n: ERROR if n <= 3 else PENDING,
            [5, 10, 20, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100],
            id="network-recovers",
        ),
    ],
)
def test_simulated_flows(
    expires_in: float,
    interval: float | None,
    answer: Callable[[int], PollOutcome | None],
    expected_polls: list[float],
) -> None:
    assert simulate(expires_in, interval, answer) == expected_polls


# --- properties -------------------------------------------------------------------------------

intervals = st.none() | st.integers(-10, 120) | st.floats(-5, 120, allow_nan=False)
outcome_lists = st.lists(st.sampled_from([PENDING, SLOW_DOWN, ERROR]), max_size=40)


@settings(max_examples=200)
@given(interval=intervals, outcomes=outcome_lists)
def test_waits_stay_bounded_and_interval_never_shrinks(
    interval: float | None, outcomes: list[PollOutcome]
) -> None:
    states = run(start_schedule(0.0, 600, interval), outcomes)

    for before, now in pairwise(states):
        assert now.interval >= before.interval
        assert now.deadline == before.deadline
    for state in states:
        assert state.next_wait >= 1
        assert state.next_wait <= max(60, state.interval)
        assert state.next_wait >= state.interval


@settings(max_examples=200)
@given(
    interval=st.floats(1, 100, allow_nan=False),
    backoff=st.none() | st.floats(1, 100, allow_nan=False),
    deadline=st.floats(0, 1000, allow_nan=False),
    now=st.floats(-100, 1100, allow_nan=False),
)
def test_wait_is_none_exactly_at_or_after_the_deadline(
    interval: float, backoff: float | None, deadline: float, now: float
) -> None:
    schedule = PollSchedule(interval=interval, deadline=deadline, backoff=backoff)

    wait = wait_before_next_poll(schedule, now)

    if now >= deadline:
        assert wait is None
    else:
        assert wait is not None
        assert 0 < wait <= schedule.next_wait
        assert wait <= deadline - now


@settings(max_examples=100)
@given(expires_in=st.integers(-30, 2000), interval=st.integers(1, 30))
def test_always_pending_poll_count(expires_in: int, interval: int) -> None:
    # Polls at interval, 2·interval, … and one final poll at the deadline if it falls between.
    life = min(max(expires_in, 0), 600)

    polls = simulate(expires_in, interval, always(PENDING), start=0.0)

    assert len(polls) == math.ceil(life / interval)
    if life:
        assert polls[-1] == life
