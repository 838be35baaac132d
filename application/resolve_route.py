"""For one project: local or cloud, the credential to send, and the reason (SPEC §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from returns.result import Failure, Result, Success

from application.credentials_on_hand import gather
from application.ensure_fresh_session import EnsureFreshSession
from application.project_routes import routing_flags
from domain.credentials import Credential, CredentialSource, for_project_routing
from domain.errors import AuthFailure
from domain.ports import Clock, ConfigStore, TokenStore
from domain.routing import Route, decide_route


@dataclass(frozen=True)
class ResolvedRoute:
    project: str
    route: Route
    reason: str
    credential: Credential | None = None


class ResolveRoute:
    """Failures: InvalidBoolean / ConflictingRouting from the environment, InvalidApiKey for
    a malformed key, NoCredentialForProject for a cloud route with nothing to send, session
    failures when the OAuth session had to be refreshed, and storage failures."""

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

    def execute(self, project: str) -> Result[ResolvedRoute, AuthFailure]:
        flags = routing_flags(self._env)
        if isinstance(flags, Failure):
            return Failure(flags.failure())
        loaded = self._config.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        config = loaded.unwrap()
        entry = config.projects.get(project)
        decision = decide_route(flags.unwrap(), entry.mode if entry else None)
        if isinstance(decision, Failure):
            return Failure(decision.failure())
        decided = decision.unwrap()
        if decided.route is Route.LOCAL:
            return Success(ResolvedRoute(project, Route.LOCAL, decided.reason))
        available = gather(self._env, config, self._tokens)
        if isinstance(available, Failure):
            return Failure(available.failure())
        chosen = for_project_routing(available.unwrap(), project, self._clock.now())
        if isinstance(chosen, Failure):
            return Failure(chosen.failure())
        credential = chosen.unwrap()
        if credential.source is CredentialSource.OAUTH_SESSION:
            fresh = self._fresh_session.execute()
            if isinstance(fresh, Failure):
                return Failure(fresh.failure())
            credential = Credential(CredentialSource.OAUTH_SESSION, fresh.unwrap().access_token)
        return Success(ResolvedRoute(project, Route.CLOUD, decided.reason, credential))
