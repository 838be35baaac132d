"""Which credential a cloud call uses (SPEC §5), written down as numbered rules.

1. Per-project cloud routing (`bm project set-cloud`): the API key from
   BASIC_MEMORY_CLOUD_API_KEY, then the one in config.yaml, then the OAuth session.
2. Global cloud operations (status, subscription check): the OAuth session, then the
   API key (environment, then config).
3. Creating an API key: the OAuth session only; a key cannot mint keys.

A session counts when it is valid or can be refreshed; refreshing is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.errors import NoCredential

if TYPE_CHECKING:
    from pydantic import SecretStr

    from domain.api_key import ApiKey
    from domain.session import TokenSet

API_KEY_VARIABLE = "BASIC_MEMORY_CLOUD_API_KEY"


class CredentialSource(StrEnum):
    ENV_API_KEY = API_KEY_VARIABLE
    CONFIG_API_KEY = "config.yaml"
    OAUTH_SESSION = "OAuth session"
    # A key being checked before it is saved (`bm cloud api-key save --verify`).
    GIVEN_API_KEY = "the key given"


@dataclass(frozen=True)
class AvailableCredentials:
    """Everything the machine holds right now; the env key has already been validated."""

    env_api_key: ApiKey | None = None
    config_api_key: ApiKey | None = None
    session: TokenSet | None = None

    @property
    def api_key(self) -> tuple[ApiKey, CredentialSource] | None:
        """The key in force: the environment's beats the config file's."""
        if self.env_api_key is not None:
            return self.env_api_key, CredentialSource.ENV_API_KEY
        if self.config_api_key is not None:
            return self.config_api_key, CredentialSource.CONFIG_API_KEY
        return None


def describe_source(source: CredentialSource) -> str:
    """How messages name a credential.

    >>> describe_source(CredentialSource.CONFIG_API_KEY)
    'API key from config.yaml'
    """
    if source is CredentialSource.OAUTH_SESSION:
        return "OAuth session"
    if source is CredentialSource.GIVEN_API_KEY:
        return "API key given"
    return f"API key from {source.value}"


@dataclass(frozen=True)
class Credential:
    source: CredentialSource
    secret: SecretStr

    @property
    def is_api_key(self) -> bool:
        return self.source is not CredentialSource.OAUTH_SESSION

    @property
    def description(self) -> str:
        return describe_source(self.source)


def _from_key(found: tuple[ApiKey, CredentialSource]) -> Credential:
    key, source = found
    return Credential(source, key.value)


def _from_session(session: TokenSet | None, now: float) -> Credential | None:
    if session is None or not session.usable(now):
        return None
    return Credential(CredentialSource.OAUTH_SESSION, session.access_token)


def for_project_routing(
    available: AvailableCredentials, project: str, now: float
) -> Result[Credential, NoCredential]:
    """Rule 1: API key first, OAuth session as the fallback."""
    if available.api_key is not None:
        return Success(_from_key(available.api_key))
    session = _from_session(available.session, now)
    return Success(session) if session else Failure(NoCredential("project", project))


def for_global_operations(
    available: AvailableCredentials, now: float
) -> Result[Credential, NoCredential]:
    """Rule 2: OAuth session first, API key as the fallback."""
    session = _from_session(available.session, now)
    if session is not None:
        return Success(session)
    if available.api_key is not None:
        return Success(_from_key(available.api_key))
    return Failure(NoCredential("global"))


def for_key_creation(
    available: AvailableCredentials, now: float
) -> Result[Credential, NoCredential]:
    """Rule 3: OAuth only."""
    session = _from_session(available.session, now)
    return Success(session) if session else Failure(NoCredential("key_creation"))
