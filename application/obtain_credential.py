"""The bearer credential for a cloud request, for one project or for global operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from application.credentials_on_hand import gather
from domain.credentials import (
    Credential,
    CredentialSource,
    for_global_operations,
    for_project_routing,
)
from domain.errors import CredentialRejected, NoCredential, SessionExpired

if TYPE_CHECKING:
    from pydantic import SecretStr

    from application.ensure_fresh_session import EnsureFreshSession, FreshSessionFailure
    from domain.config import AppConfig
    from domain.errors import InvalidApiKey
    from domain.ports import Clock, ConfigStore, TokenStore

    ObtainCredentialFailure = CredentialRejected | InvalidApiKey | FreshSessionFailure


class ObtainCredential:
    """Pick the credential by SPEC §5's priority and make an OAuth session fresh.

    `project` set: the per-project rule (API key first); None: the global rule (OAuth
    session first). `rejected` is a secret the cloud just refused with a 401: an OAuth
    access token is then refreshed once; a refused API key is reported as CredentialRejected,
    since no refresh can mend it. Other failures (ObtainCredentialFailure): NoCredential
    (reason "project" or "global"), InvalidApiKey, session and storage failures.
    """

    def __init__(
        self,
        config: ConfigStore,
        tokens: TokenStore,
        clock: Clock,
        env: Mapping[str, str],
        fresh_session: EnsureFreshSession,
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._clock = clock
        self._env = env
        self._fresh_session = fresh_session

    def execute(
        self, project: str | None = None, rejected: SecretStr | None = None
    ) -> Result[Credential, ObtainCredentialFailure]:
        loaded = self._config.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        return self.from_config(loaded.unwrap(), project, rejected)

    def from_config(
        self, config: AppConfig, project: str | None = None, rejected: SecretStr | None = None
    ) -> Result[Credential, ObtainCredentialFailure]:
        """The same, for a caller that has just read config.yaml."""
        available = gather(self._env, config, self._tokens)
        if isinstance(available, Failure):
            return Failure(available.failure())
        now = self._clock.now()
        chosen: Result[Credential, NoCredential] = (
            for_global_operations(available.unwrap(), now)
            if project is None
            else for_project_routing(available.unwrap(), project, now)
        )
        if isinstance(chosen, Failure):
            return chosen
        credential = chosen.unwrap()
        if credential.is_api_key:
            if rejected is not None and _same(rejected, credential.secret):
                return Failure(CredentialRejected(credential.description))
            return Success(credential)
        fresh = self._fresh_session.execute(replace=rejected)
        if isinstance(fresh, Failure):
            key = available.unwrap().api_key
            # Global operations fall back to the API key once the session is over (rule 2).
            if isinstance(fresh.failure(), SessionExpired) and key is not None:
                return Success(Credential(key[1], key[0].value))
            return Failure(fresh.failure())
        return Success(Credential(CredentialSource.OAUTH_SESSION, fresh.unwrap().access_token))


def _same(left: SecretStr, right: SecretStr) -> bool:
    return left.get_secret_value() == right.get_secret_value()
