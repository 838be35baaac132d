"""Every failure in the AuthFailure union carries a printable one-line message."""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

import pytest

from domain import errors
from domain.errors import AuthFailure
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


def build(failure_type: type[Any]) -> Any:
    fields = dataclasses.fields(failure_type)
    return failure_type(**{field.name: SAMPLES[str(field.type)] for field in fields})


def test_union_is_not_empty_and_has_no_duplicates() -> None:
    assert len(FAILURE_TYPES) >= 20
    assert len(set(FAILURE_TYPES)) == len(FAILURE_TYPES)


def test_every_failure_dataclass_in_the_module_is_in_the_union() -> None:
    # Anything with a `message` defined here is presented somewhere, so it must be in the union.
    defined = {
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and dataclasses.is_dataclass(value)
        and value.__module__ == errors.__name__
        and hasattr(value, "message")
    }

    assert defined == set(FAILURE_TYPES)


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
    for field in dataclasses.fields(failure_type):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(failure, field.name, SAMPLES[str(field.type)])


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
