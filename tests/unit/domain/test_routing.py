"""Routing: strict boolean variables and every row of SPEC §5's routing table."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from returns.pipeline import is_successful

from domain.errors import ConflictingRouting, InvalidBoolean
from domain.routing import (
    EXPLICIT_ROUTING,
    FORCE_CLOUD,
    FORCE_LOCAL,
    ProjectMode,
    Route,
    RoutingFlags,
    decide_route,
    parse_flag,
    parse_routing_flags,
)

CONFLICT = "conflict"
MODES: dict[str, ProjectMode | None] = {
    "mode-local": ProjectMode.LOCAL,
    "mode-cloud": ProjectMode.CLOUD,
    "not-in-config": None,
}

# (FORCE_LOCAL, FORCE_CLOUD, EXPLICIT, project mode) -> route, written out row by row.
ROUTING_TABLE: dict[tuple[bool, bool, bool, str], str] = {
    # on / on / any: conflicting settings
    (True, True, True, "mode-local"): CONFLICT,
    (True, True, True, "mode-cloud"): CONFLICT,
    (True, True, True, "not-in-config"): CONFLICT,
    (True, True, False, "mode-local"): CONFLICT,
    (True, True, False, "mode-cloud"): CONFLICT,
    (True, True, False, "not-in-config"): CONFLICT,
    # on / off / any: local
    (True, False, True, "mode-local"): Route.LOCAL,
    (True, False, True, "mode-cloud"): Route.LOCAL,
    (True, False, True, "not-in-config"): Route.LOCAL,
    (True, False, False, "mode-local"): Route.LOCAL,
    (True, False, False, "mode-cloud"): Route.LOCAL,
    (True, False, False, "not-in-config"): Route.LOCAL,
    # off / on / any: cloud
    (False, True, True, "mode-local"): Route.CLOUD,
    (False, True, True, "mode-cloud"): Route.CLOUD,
    (False, True, True, "not-in-config"): Route.CLOUD,
    (False, True, False, "mode-local"): Route.CLOUD,
    (False, True, False, "mode-cloud"): Route.CLOUD,
    (False, True, False, "not-in-config"): Route.CLOUD,
    # off / off / on: local, project modes not consulted
    (False, False, True, "mode-local"): Route.LOCAL,
    (False, False, True, "mode-cloud"): Route.LOCAL,
    (False, False, True, "not-in-config"): Route.LOCAL,
    # off / off / off: the project's mode; unknown projects are local
    (False, False, False, "mode-local"): Route.LOCAL,
    (False, False, False, "mode-cloud"): Route.CLOUD,
    (False, False, False, "not-in-config"): Route.LOCAL,
}


def on_off(flag: bool) -> str:
    return "on" if flag else "off"


def test_routing_table_has_all_24_rows() -> None:
    assert len(ROUTING_TABLE) == 24
    assert set(ROUTING_TABLE) == set(product([True, False], [True, False], [True, False], MODES))


@pytest.mark.parametrize(
    ("force_local", "force_cloud", "explicit", "mode", "expected"),
    [
        pytest.param(
            *row,
            expected,
            id=f"local-{on_off(row[0])}/cloud-{on_off(row[1])}/explicit-{on_off(row[2])}/{row[3]}",
        )
        for row, expected in ROUTING_TABLE.items()
    ],
)
def test_routing_table(
    force_local: bool, force_cloud: bool, explicit: bool, mode: str, expected: str
) -> None:
    flags = RoutingFlags(force_local=force_local, force_cloud=force_cloud, explicit=explicit)

    decided = decide_route(flags, MODES[mode])

    if expected == CONFLICT:
        failure = decided.failure()
        assert isinstance(failure, ConflictingRouting)
        assert FORCE_LOCAL in failure.message
        assert FORCE_CLOUD in failure.message
        assert "\n" not in failure.message
    else:
        decision = decided.unwrap()
        assert decision.route is expected
        assert decision.reason


@pytest.mark.parametrize(
    ("flags", "mode", "reason_mentions"),
    [
        pytest.param(RoutingFlags(force_local=True), ProjectMode.CLOUD, FORCE_LOCAL, id="local"),
        pytest.param(RoutingFlags(force_cloud=True), ProjectMode.LOCAL, FORCE_CLOUD, id="cloud"),
        pytest.param(RoutingFlags(explicit=True), ProjectMode.CLOUD, EXPLICIT_ROUTING, id="expl"),
        pytest.param(RoutingFlags(), ProjectMode.CLOUD, "cloud", id="mode"),
        pytest.param(RoutingFlags(), None, "not configured", id="unknown-project"),
    ],
)
def test_route_reason_says_which_rule_decided(
    flags: RoutingFlags, mode: ProjectMode | None, reason_mentions: str
) -> None:
    assert reason_mentions in decide_route(flags, mode).unwrap().reason


# --- boolean parsing -------------------------------------------------------------------------

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off", "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *(pytest.param(word, True, id=f"true-{word}") for word in TRUE_WORDS),
        *(pytest.param(word, False, id=f"false-{word or 'empty'}") for word in FALSE_WORDS),
        pytest.param("TRUE", True, id="upper-TRUE"),
        pytest.param("True", True, id="title-True"),
        pytest.param("yEs", True, id="mixed-yEs"),
        pytest.param("ON", True, id="upper-ON"),
        pytest.param("FALSE", False, id="upper-FALSE"),
        pytest.param("No", False, id="title-No"),
        pytest.param("oFf", False, id="mixed-oFf"),
        pytest.param("  yes  ", True, id="spaces-around-yes"),
        pytest.param("\ttrue\n", True, id="tab-newline-around-true"),
        pytest.param(" 1 ", True, id="spaces-around-1"),
        pytest.param(" 0 ", False, id="spaces-around-0"),
        pytest.param("   ", False, id="only-spaces-is-empty"),
        pytest.param(None, False, id="unset"),
    ],
)
def test_parse_flag_accepts(raw: str | None, expected: bool) -> None:
    assert parse_flag("BASIC_MEMORY_FORCE_LOCAL", raw).unwrap() is expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("2", id="two"),
        pytest.param("-1", id="minus-one"),
        pytest.param("01", id="zero-one"),
        pytest.param("tru", id="tru"),
        pytest.param("truee", id="truee"),
        pytest.param("enable", id="enable"),
        pytest.param("enabled", id="enabled"),
        pytest.param("y", id="y"),
        pytest.param("n", id="n"),
        pytest.param("t", id="t"),
        pytest.param("f", id="f"),
        pytest.param("none", id="none"),
        pytest.param("null", id="null"),
        pytest.param("yes please", id="two-words"),
        pytest.param("o n", id="inner-space"),
        pytest.param('"true"', id="quoted"),
        pytest.param("true\x00", id="trailing-nul"),
        pytest.param("\uff54rue", id="fullwidth-t"),
    ],
)
def test_parse_flag_rejects_other_words_naming_the_variable(raw: str) -> None:
    failure = parse_flag("BASIC_MEMORY_EXPLICIT_ROUTING", raw).failure()

    assert isinstance(failure, InvalidBoolean)
    assert failure.variable == "BASIC_MEMORY_EXPLICIT_ROUTING"
    assert failure.value == raw
    assert "BASIC_MEMORY_EXPLICIT_ROUTING" in failure.message
    assert "\n" not in failure.message


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, RoutingFlags(), id="nothing-set"),
        pytest.param(
            {FORCE_LOCAL: "1", FORCE_CLOUD: "no", EXPLICIT_ROUTING: "ON"},
            RoutingFlags(force_local=True, force_cloud=False, explicit=True),
            id="all-set",
        ),
        pytest.param({FORCE_CLOUD: "yes"}, RoutingFlags(force_cloud=True), id="only-cloud"),
        pytest.param({EXPLICIT_ROUTING: "true"}, RoutingFlags(explicit=True), id="only-explicit"),
        pytest.param(
            {FORCE_LOCAL: "true", FORCE_CLOUD: "true"},
            RoutingFlags(force_local=True, force_cloud=True),
            id="both-forced-parsed-conflict-decided-later",
        ),
        pytest.param(
            {"BASIC_MEMORY_FORCE_LOCALX": "garbage", "OTHER": "x"},
            RoutingFlags(),
            id="unrelated-variables-ignored",
        ),
    ],
)
def test_parse_routing_flags(env: dict[str, str], expected: RoutingFlags) -> None:
    assert parse_routing_flags(env).unwrap() == expected


@pytest.mark.parametrize(
    ("env", "reported"),
    [
        pytest.param({FORCE_LOCAL: "maybe"}, FORCE_LOCAL, id="local-bad"),
        pytest.param({FORCE_CLOUD: "maybe"}, FORCE_CLOUD, id="cloud-bad"),
        pytest.param({EXPLICIT_ROUTING: "maybe"}, EXPLICIT_ROUTING, id="explicit-bad"),
        pytest.param(
            {FORCE_LOCAL: "x", FORCE_CLOUD: "y", EXPLICIT_ROUTING: "z"},
            FORCE_LOCAL,
            id="all-bad-first-reported",
        ),
        pytest.param(
            {FORCE_CLOUD: "y", EXPLICIT_ROUTING: "z"}, FORCE_CLOUD, id="cloud-before-expl"
        ),
        pytest.param(
            {EXPLICIT_ROUTING: "z", FORCE_CLOUD: "y", FORCE_LOCAL: "true"},
            FORCE_CLOUD,
            id="order-of-variables-not-of-mapping",
        ),
    ],
)
def test_parse_routing_flags_reports_first_bad_variable(env: dict[str, str], reported: str) -> None:
    failure = parse_routing_flags(env).failure()

    assert failure.variable == reported
    assert failure.value == env[reported]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("line1\nline2", id="newline"),
        pytest.param("x" * 200, id="long"),
        pytest.param("\x1b[31mred", id="ansi-escape"),
    ],
)
def test_invalid_boolean_message_stays_one_line_and_short(value: str) -> None:
    message = parse_flag(FORCE_LOCAL, value).failure().message

    assert "\n" not in message
    assert "\x1b" not in message
    assert len(message) < 200


# --- properties ------------------------------------------------------------------------------

ACCEPTED = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


@st.composite
def spelled_words(draw: st.DrawFn) -> tuple[str, bool]:
    """An accepted word in random letter case, padded with random whitespace."""
    word = draw(st.sampled_from(sorted(ACCEPTED)))
    cased = "".join(letter.upper() if draw(st.booleans()) else letter.lower() for letter in word)
    pad = st.text(alphabet=" \t\r\n", max_size=3)
    return draw(pad) + cased + draw(pad), ACCEPTED[word]


@settings(max_examples=200)
@given(spelled=spelled_words())
def test_parse_flag_accepts_listed_words_in_any_case_and_padding(spelled: tuple[str, bool]) -> None:
    raw, expected = spelled

    assert parse_flag("VAR", raw).unwrap() is expected


@settings(max_examples=200)
@given(raw=st.text() | st.sampled_from(sorted(ACCEPTED)).map(str.upper))
def test_parse_flag_is_total_and_accepts_only_listed_words(raw: str) -> None:
    parsed = parse_flag("VAR", raw)  # never raises

    word = raw.strip()
    if is_successful(parsed):
        assert word.isascii()
        assert parsed.unwrap() is ACCEPTED[word.lower()]
    else:
        assert word.lower() not in ACCEPTED
        assert parsed.failure().variable == "VAR"
