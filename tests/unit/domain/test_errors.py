"""Every failure in the AuthFailure union carries a printable one-line message."""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

import pytest

from domain import errors
from domain.errors import AuthFailure, FailureValue
from entrypoints.cli_failures import CliFailure

FAILURE_TYPES: tuple[type[Any], ...] = get_args(AuthFailure)

# Sample values by annotation; the module uses `from __future__ import annotations`.
SAMPLES: dict[str, Any] = {
    "str": "sample",
    "int": 3,
    "float": 2.5,
    "tuple[str, ...]": ("alpha", "beta"),
    "bool": True,
    "str | None": "sample",
    "Literal['not_logged_in', 'key_creation', 'project', 'global']": "project",
}


def annotation(failure_type: type[Any], name: str) -> str:
    """The annotation of field `name`, as written (a parent's, when the class inherits it)."""
    for kind in failure_type.__mro__:
        written: dict[str, str] = vars(kind).get("__annotations__", {})
        if name in written:
            return written[name]
    raise AssertionError(f"{failure_type.__name__}.{name} has no annotation")


def build(failure_type: type[Any]) -> Any:
    return failure_type(
        **{name: SAMPLES[annotation(failure_type, name)] for name in failure_type.FIELDS}
    )


def test_union_is_not_empty_and_has_no_duplicates() -> None:
    assert len(FAILURE_TYPES) >= 20
    assert len(set(FAILURE_TYPES)) == len(FAILURE_TYPES)


def test_every_failure_class_in_the_module_is_in_the_union() -> None:
    # Anything with a `message` defined here is presented somewhere, so it must be in the union.
    defined = {
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and value.__module__ == errors.__name__
        and hasattr(value, "message")
    }

    assert defined == set(FAILURE_TYPES)
    assert all(issubclass(kind, FailureValue) for kind in defined)


@pytest.mark.parametrize(
    "failure_type",
    [pytest.param(kind, id=kind.__name__) for kind in (*FAILURE_TYPES, *get_args(CliFailure))],
)
def test_message_is_one_non_empty_line(failure_type: type[Any]) -> None:
    failure = build(failure_type)

    message = failure.message

    assert isinstance(message, str)
    assert message.strip()
    assert message == message.strip()
    assert "\n" not in message
    assert "\r" not in message
    assert message.isprintable()


@pytest.mark.parametrize(
    "failure_type", [pytest.param(kind, id=kind.__name__) for kind in FAILURE_TYPES]
)
def test_failures_are_frozen_values(failure_type: type[Any]) -> None:
    failure = build(failure_type)

    assert failure == build(failure_type)
    assert hash(failure) == hash(build(failure_type))
    for name in failure_type.FIELDS:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(failure, name, SAMPLES[annotation(failure_type, name)])
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(failure, name)


@pytest.mark.parametrize(
    ("failure", "expected_fragment"),
    [
        pytest.param(
            errors.SessionExpired(), "Your session has expired. Run `bm cloud login`.", id="expired"
        ),
        pytest.param(
            errors.InvalidApiKey("why"), "Invalid API key: keys must start with 'bmc_'", id="key"
        ),
        pytest.param(
            errors.SubscriptionRequired("https://pay.example/sub"),
            "https://pay.example/sub",
            id="subscribe-url",
        ),
        pytest.param(errors.LoginTimedOut(600), "after 10 minutes", id="timeout-minutes"),
        pytest.param(errors.ProviderError("weird_error"), "weird_error", id="provider-code"),
        pytest.param(
            errors.ProviderError("weird_error", "some detail"), "some detail", id="provider-detail"
        ),
    ],
)
def test_messages_carry_their_details(failure: Any, expected_fragment: str) -> None:
    assert expected_fragment in failure.message


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        pytest.param(
            errors.NoCredential("not_logged_in"),
            "Not logged in to Basic Memory Cloud. Run `bm cloud login`.",
            id="not-logged-in",
        ),
        pytest.param(
            errors.NoCredential("key_creation"),
            "Creating an API key requires an OAuth session (an API key cannot create keys). "
            "Run `bm cloud login`.",
            id="key-creation",
        ),
        pytest.param(
            errors.NoCredential("project", "research"),
            "Project 'research' routes to the cloud but no credential is available: "
            "run `bm cloud login` or `bm cloud api-key save`.",
            id="project",
        ),
        pytest.param(
            errors.NoCredential("global"),
            "No cloud credential: run `bm cloud login`, or save an API key with "
            "`bm cloud api-key save`.",
            id="global",
        ),
    ],
)
def test_no_credential_says_what_was_missing_word_for_word(
    failure: errors.NoCredential, message: str
) -> None:
    assert failure.message == message


def test_subscription_message_says_what_to_do_after_subscribing() -> None:
    message = errors.SubscriptionRequired("https://pay.example").message

    assert message.startswith("Active subscription required")
    assert "wait a few minutes" in message
    assert "bm cloud login" in message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param("maybe", "'maybe'", id="short-printable-shown"),
        pytest.param("x" * 21, "…", id="long-hidden"),
        pytest.param("a\nb", "…", id="newline-hidden"),
    ],
)
def test_invalid_boolean_shows_only_short_printable_values(value: str, shown: str) -> None:
    message = errors.InvalidBoolean("BASIC_MEMORY_FORCE_CLOUD", value).message

    assert shown in message
    assert "\n" not in message


# FailureValue stands in for @dataclass(frozen=True): the same class written both ways must
# behave the same, and a value must refuse what a dataclass's __init__ refuses.


@dataclasses.dataclass(frozen=True)
class AsDataclass:
    path: str
    problem: str
    remedy: str = "retry"


class AsFailureValue(FailureValue):
    path: str
    problem: str
    remedy: str = "retry"


class Extended(AsFailureValue):
    attempts: int = 1


def test_a_failure_value_looks_and_compares_like_a_frozen_dataclass() -> None:
    ours = AsFailureValue("/x", problem="bad")
    theirs = AsDataclass("/x", problem="bad")

    assert repr(ours) == repr(theirs).replace("AsDataclass", "AsFailureValue")
    assert tuple(f.name for f in dataclasses.fields(AsDataclass)) == AsFailureValue.FIELDS
    assert AsFailureValue.__match_args__ == AsDataclass.__match_args__
    assert hash(ours) == hash(theirs)
    assert ours == AsFailureValue("/x", "bad", "retry")
    assert ours != AsFailureValue("/x", "bad", "other")
    assert ours != theirs
    assert ours.__eq__(theirs) is NotImplemented
    assert ours != Extended("/x", "bad")  # a subclass is another type, as with dataclasses


def test_a_failure_value_is_matched_by_keyword_and_by_position() -> None:
    match AsFailureValue("/x", "bad", remedy="move it"):
        case AsFailureValue(path, problem, remedy="move it"):
            assert (path, problem) == ("/x", "bad")
        case _:
            pytest.fail("no match")


def test_a_subclass_adds_its_fields_after_its_parents() -> None:
    value = Extended("/x", "bad", "retry", 3)

    assert Extended.FIELDS == ("path", "problem", "remedy", "attempts")
    assert repr(value) == "Extended(path='/x', problem='bad', remedy='retry', attempts=3)"
    assert Extended("/x", "bad").attempts == 1


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(((), {"path": "/x"}), id="missing"),
        pytest.param((("/x", "bad"), {"extra": 1}), id="unknown"),
        pytest.param((("/x", "bad", "r", "more"), {}), id="too-many-positional"),
        pytest.param((("/x",), {"path": "/y", "problem": "bad"}), id="given-twice"),
    ],
)
def test_a_failure_value_refuses_what_a_dataclass_refuses(
    arguments: tuple[tuple[Any, ...], dict[str, Any]],
) -> None:
    args, kwargs = arguments
    with pytest.raises(TypeError):
        AsDataclass(*args, **kwargs)
    with pytest.raises(TypeError):
        AsFailureValue(*args, **kwargs)


def test_replace_copies_with_changes_and_checks_their_names() -> None:
    value = AsFailureValue("/x", "bad")

    assert value.replace(remedy="move it") == AsFailureValue("/x", "bad", "move it")
    assert value == AsFailureValue("/x", "bad")
    with pytest.raises(TypeError):
        value.replace(nope="x")


def test_a_required_field_after_an_optional_one_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="non-default argument 'late'"):

        class Misordered(FailureValue):
            early: str = ""
            late: str
