"""ResolveRoute: the SPEC §5 routing table applied with the credential priority."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from domain.credentials import CredentialSource
from domain.errors import (
    ConflictingRouting,
    InvalidApiKey,
    InvalidBoolean,
    NoCredential,
    SessionExpired,
)
from domain.routing import Route
from tests.fakes import token_response
from tests.unit.application.project_setup import ENV_KEY, KEY, Setup, stored_session

ON = "true"


@pytest.mark.parametrize(
    ("env", "project", "route"),
    [
        ({}, "notes", Route.LOCAL),
        ({}, "research", Route.CLOUD),
        ({}, "unknown", Route.LOCAL),
        ({"BASIC_MEMORY_FORCE_LOCAL": ON}, "research", Route.LOCAL),
        ({"BASIC_MEMORY_FORCE_CLOUD": ON}, "notes", Route.CLOUD),
        ({"BASIC_MEMORY_FORCE_CLOUD": ON}, "unknown", Route.CLOUD),
        ({"BASIC_MEMORY_EXPLICIT_ROUTING": ON}, "research", Route.LOCAL),
        (
            {"BASIC_MEMORY_FORCE_CLOUD": ON, "BASIC_MEMORY_EXPLICIT_ROUTING": ON},
            "notes",
            Route.CLOUD,
        ),
        (
            {"BASIC_MEMORY_FORCE_LOCAL": ON, "BASIC_MEMORY_EXPLICIT_ROUTING": ON},
            "research",
            Route.LOCAL,
        ),
    ],
)
def test_routing_table(env: dict[str, str], project: str, route: Route) -> None:
    setup = Setup(key=KEY, env=env)
    assert setup.resolve(project).unwrap().route is route


def test_conflicting_force_variables_are_an_error() -> None:
    setup = Setup(key=KEY, env={"BASIC_MEMORY_FORCE_LOCAL": "1", "BASIC_MEMORY_FORCE_CLOUD": "yes"})
    assert setup.resolve("notes").failure() == ConflictingRouting()


def test_a_bad_boolean_names_the_variable() -> None:
    setup = Setup(env={"BASIC_MEMORY_FORCE_CLOUD": "maybe"})
    assert setup.resolve("notes").failure() == InvalidBoolean("BASIC_MEMORY_FORCE_CLOUD", "maybe")


@pytest.mark.parametrize(
    ("key", "session", "env", "source"),
    [
        (KEY, True, {}, CredentialSource.CONFIG_API_KEY),
        (KEY, True, {"BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY}, CredentialSource.ENV_API_KEY),
        (None, True, {}, CredentialSource.OAUTH_SESSION),
        (None, False, {"BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY}, CredentialSource.ENV_API_KEY),
    ],
    ids=["config-key-beats-session", "env-key-beats-config", "session-fallback", "env-only"],
)
def test_cloud_routes_use_the_api_key_first(
    key: str | None, session: bool, env: dict[str, str], source: CredentialSource
) -> None:
    setup = Setup(key=key, session=session, env=env)
    resolved = setup.resolve("research").unwrap()
    assert resolved.credential is not None
    assert resolved.credential.source is source


def test_a_cloud_route_without_credentials_names_the_project() -> None:
    setup = Setup()
    assert setup.resolve("research").failure() == NoCredential("project", "research")


def test_a_malformed_env_key_is_reported_not_skipped() -> None:
    setup = Setup(key=KEY, env={"BASIC_MEMORY_CLOUD_API_KEY": "nope"})
    failure = setup.resolve("research").failure()
    assert isinstance(failure, InvalidApiKey)
    assert "BASIC_MEMORY_CLOUD_API_KEY" in failure.message


def test_an_expiring_session_is_refreshed_for_a_cloud_route() -> None:
    setup = Setup()
    setup.tokens.tokens = stored_session(setup.clock, expires_in=10)
    setup.identity.refreshes = [Success(token_response("access-1", "refresh-1"))]
    resolved = setup.resolve("research").unwrap()
    assert resolved.credential is not None
    assert resolved.credential.secret == SecretStr("access-1")


def test_a_dead_session_is_reported_for_a_cloud_route() -> None:
    setup = Setup()
    setup.tokens.tokens = stored_session(setup.clock, expires_in=10)
    setup.identity.refreshes = [Failure(SessionExpired())]
    assert setup.resolve("research").failure() == SessionExpired()
