"""The bearer credential for a cloud request, for one project or for global operations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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

    from application.ensure_fresh_session import (
        EnsureFreshSession,
        EnsureFreshSessionAsync,
        FreshSessionFailure,
    )
    from domain.config import AppConfig
    from domain.errors import InvalidApiKey
    from domain.ports import Clock, ConfigStore, Offload, TokenStore
    from domain.session import TokenSet

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
        chosen = self.choose(config, project, rejected)
        if isinstance(chosen, Failure):
            return Failure(chosen.failure())
        choice = chosen.unwrap()
        if isinstance(choice, Credential):
            return Success(choice)
        return choice.settle(self._fresh_session.execute(replace=rejected))

    def choose(
        self, config: AppConfig, project: str | None = None, rejected: SecretStr | None = None
    ) -> Result[Credential | SessionWanted, ObtainCredentialFailure]:
        """The credential by priority, or, when it is the OAuth session, what to do with a
        fresh one: the part that reads only files (a caller on an event loop runs it in a
        worker thread and refreshes the session on its loop)."""
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
            return Failure(chosen.failure())
        credential = chosen.unwrap()
        if credential.is_api_key:
            if rejected is not None and _same(rejected, credential.secret):
                return Failure(CredentialRejected(credential.description))
            return Success(credential)
        key = available.unwrap().api_key
        return Success(SessionWanted(Credential(key[1], key[0].value) if key else None))


@dataclass(frozen=True)
class SessionWanted:
    """The OAuth session is the credential; `fallback` is the API key that stands in once the
    session is over (rule 2 of the priority, for global operations)."""

    fallback: Credential | None

    def settle(
        self, fresh: Result[TokenSet, FreshSessionFailure]
    ) -> Result[Credential, ObtainCredentialFailure]:
        if isinstance(fresh, Failure):
            if isinstance(fresh.failure(), SessionExpired) and self.fallback is not None:
                return Success(self.fallback)
            return Failure(fresh.failure())
        return Success(Credential(CredentialSource.OAUTH_SESSION, fresh.unwrap().access_token))


class ObtainCredentialAsync:
    """`ObtainCredential` for a caller on an event loop, with the same priority and answers:
    the files are read in a worker thread (`offload`) and the session made fresh on the loop."""

    def __init__(
        self,
        config: ConfigStore,
        credentials: ObtainCredential,
        fresh_session: EnsureFreshSessionAsync,
        offload: Offload,
    ) -> None:
        self._config = config
        self._credentials = credentials
        self._fresh_session = fresh_session
        self._offload = offload

    async def execute(
        self, project: str | None = None, rejected: SecretStr | None = None
    ) -> Result[Credential, ObtainCredentialFailure]:
        def choose() -> Result[Credential | SessionWanted, ObtainCredentialFailure]:
            loaded = self._config.load()
            if isinstance(loaded, Failure):
                return Failure(loaded.failure())
            return self._credentials.choose(loaded.unwrap(), project, rejected)

        chosen = await self._offload(choose)
        if isinstance(chosen, Failure):
            return Failure(chosen.failure())
        choice = chosen.unwrap()
        if isinstance(choice, Credential):
            return Success(choice)
        return choice.settle(await self._fresh_session.execute(replace=rejected))


def _same(left: SecretStr, right: SecretStr) -> bool:
    return left.get_secret_value() == right.get_secret_value()
