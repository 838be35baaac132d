"""Credential priority for the three kinds of cloud call (SPEC §5 "Credential priority")."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from pydantic import SecretStr
from returns.pipeline import is_successful
from returns.result import Result

from domain.api_key import ApiKey, parse_api_key
from domain.credentials import (
    AvailableCredentials,
    Credential,
    CredentialSource,
    for_global_operations,
    for_key_creation,
    for_project_routing,
)
from domain.errors import NoCredential
from domain.session import TokenSet

NOW = 1_800_000_000
ENV_KEY = "bmc_fromTheEnvironment01"
CONFIG_KEY = "bmc_fromTheConfigFile002"
ACCESS_TOKEN = "oauth-access-token"

ENV, CONFIG, OAUTH = "env", "config", "oauth"
# NoCredential reasons.
NO_PROJECT, NO_CREDENTIAL, NEEDS_OAUTH = "project", "global", "key_creation"

SECRET_OF = {ENV: ENV_KEY, CONFIG: CONFIG_KEY, OAUTH: ACCESS_TOKEN}
SOURCE_OF = {
    ENV: CredentialSource.ENV_API_KEY,
    CONFIG: CredentialSource.CONFIG_API_KEY,
    OAUTH: CredentialSource.OAUTH_SESSION,
}


def key(raw: str) -> ApiKey:
    return parse_api_key(raw).unwrap()


SESSIONS: dict[str, TokenSet | None] = {
    "no-session": None,
    "valid": TokenSet(
        access_token=SecretStr(ACCESS_TOKEN), refresh_token=SecretStr("r"), expires_at=NOW + 3600
    ),
    "expired-refreshable": TokenSet(
        access_token=SecretStr(ACCESS_TOKEN), refresh_token=SecretStr("r"), expires_at=NOW - 10
    ),
    "expired-no-refresh": TokenSet(
        access_token=SecretStr(ACCESS_TOKEN), refresh_token=None, expires_at=NOW - 10
    ),
}

# (env key, config key, session) -> (project routing, global operations, key creation)
PRIORITY_TABLE: dict[tuple[bool, bool, str], tuple[str, str, str]] = {
    (True, True, "no-session"): (ENV, ENV, NEEDS_OAUTH),
    (True, True, "valid"): (ENV, OAUTH, OAUTH),
    (True, True, "expired-refreshable"): (ENV, OAUTH, OAUTH),
    (True, True, "expired-no-refresh"): (ENV, ENV, NEEDS_OAUTH),
    (True, False, "no-session"): (ENV, ENV, NEEDS_OAUTH),
    (True, False, "valid"): (ENV, OAUTH, OAUTH),
    (True, False, "expired-refreshable"): (ENV, OAUTH, OAUTH),
    (True, False, "expired-no-refresh"): (ENV, ENV, NEEDS_OAUTH),
    (False, True, "no-session"): (CONFIG, CONFIG, NEEDS_OAUTH),
    (False, True, "valid"): (CONFIG, OAUTH, OAUTH),
    (False, True, "expired-refreshable"): (CONFIG, OAUTH, OAUTH),
    (False, True, "expired-no-refresh"): (CONFIG, CONFIG, NEEDS_OAUTH),
    (False, False, "no-session"): (NO_PROJECT, NO_CREDENTIAL, NEEDS_OAUTH),
    (False, False, "valid"): (OAUTH, OAUTH, OAUTH),
    (False, False, "expired-refreshable"): (OAUTH, OAUTH, OAUTH),
    (False, False, "expired-no-refresh"): (NO_PROJECT, NO_CREDENTIAL, NEEDS_OAUTH),
}


def test_table_covers_every_combination() -> None:
    assert set(PRIORITY_TABLE) == set(product([True, False], [True, False], SESSIONS))


def available(env: bool, config: bool, session: str) -> AvailableCredentials:
    return AvailableCredentials(
        env_api_key=key(ENV_KEY) if env else None,
        config_api_key=key(CONFIG_KEY) if config else None,
        session=SESSIONS[session],
    )


def rows(column: int) -> list[object]:
    return [
        pytest.param(
            env,
            config,
            session,
            expected[column],
            id=f"env-{'yes' if env else 'no'}/config-{'yes' if config else 'no'}/{session}",
        )
        for (env, config, session), expected in PRIORITY_TABLE.items()
    ]


def assert_outcome(result: Result[Credential, Any], expected: str) -> None:
    if expected in SOURCE_OF:
        assert is_successful(result), result
        credential = result.unwrap()
        assert credential.source is SOURCE_OF[expected]
        assert credential.secret.get_secret_value() == SECRET_OF[expected]
    else:
        assert not is_successful(result), result
        assert type(result.failure()) is NoCredential
        assert result.failure().reason == expected


@pytest.mark.parametrize(("env", "config", "session", "expected"), rows(0))
def test_project_routing_prefers_api_key(
    env: bool, config: bool, session: str, expected: str
) -> None:
    result = for_project_routing(available(env, config, session), "research", NOW)

    assert_outcome(result, expected)
    if expected == NO_PROJECT:
        failure = result.failure()
        assert failure.project == "research"
        assert "'research'" in failure.message
        assert "bm cloud login" in failure.message
        assert "bm cloud api-key save" in failure.message


@pytest.mark.parametrize(("env", "config", "session", "expected"), rows(1))
def test_global_operations_prefer_oauth(
    env: bool, config: bool, session: str, expected: str
) -> None:
    assert_outcome(for_global_operations(available(env, config, session), NOW), expected)


@pytest.mark.parametrize(("env", "config", "session", "expected"), rows(2))
def test_key_creation_needs_oauth(env: bool, config: bool, session: str, expected: str) -> None:
    result = for_key_creation(available(env, config, session), NOW)

    assert_outcome(result, expected)
    if expected == NEEDS_OAUTH:
        assert "OAuth" in result.failure().message


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(NOW + 3600 - 61, CredentialSource.OAUTH_SESSION, id="61s-left-valid"),
        pytest.param(NOW + 3600 - 60, None, id="inside-leeway-counts-as-expired"),
    ],
)
def test_session_without_refresh_token_is_usable_only_outside_leeway(
    now: int, expected: CredentialSource | None
) -> None:
    tokens = TokenSet(access_token=SecretStr(ACCESS_TOKEN), expires_at=NOW + 3600)

    result = for_global_operations(AvailableCredentials(session=tokens), now)

    if expected is None:
        assert isinstance(result.failure(), NoCredential)
    else:
        assert result.unwrap().source is expected


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [
        pytest.param(True, True, (ENV_KEY, CredentialSource.ENV_API_KEY), id="env-beats-config"),
        pytest.param(True, False, (ENV_KEY, CredentialSource.ENV_API_KEY), id="env-only"),
        pytest.param(False, True, (CONFIG_KEY, CredentialSource.CONFIG_API_KEY), id="config-only"),
        pytest.param(False, False, None, id="none"),
    ],
)
def test_api_key_in_force(
    env: bool, config: bool, expected: tuple[str, CredentialSource] | None
) -> None:
    found = available(env, config, "no-session").api_key

    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found[0].value.get_secret_value(), found[1]) == expected


@pytest.mark.parametrize(
    ("source", "is_api_key", "description"),
    [
        pytest.param(
            CredentialSource.ENV_API_KEY,
            True,
            "API key from BASIC_MEMORY_CLOUD_API_KEY",
            id="env",
        ),
        pytest.param(
            CredentialSource.CONFIG_API_KEY, True, "API key from config.yaml", id="config"
        ),
        pytest.param(CredentialSource.OAUTH_SESSION, False, "OAuth session", id="oauth"),
    ],
)
def test_credential_description(
    source: CredentialSource, is_api_key: bool, description: str
) -> None:
    credential = Credential(source, SecretStr("s3cret-value"))

    assert credential.is_api_key is is_api_key
    assert credential.description == description
    assert "s3cret" not in repr(credential)
    assert "s3cret" not in str(credential)
