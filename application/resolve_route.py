"""For one project: local or cloud, the credential to send, and the reason (SPEC §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.routing import Route, decide_route, routing_flags

if TYPE_CHECKING:
    from application.obtain_credential import ObtainCredential, ObtainCredentialFailure
    from domain.credentials import Credential
    from domain.errors import RoutingFailure
    from domain.ports import ConfigStore

    ResolveRouteFailure = RoutingFailure | ObtainCredentialFailure


@dataclass(frozen=True)
class ResolvedRoute:
    project: str
    route: Route
    reason: str
    credential: Credential | None = None


class ResolveRoute:
    """Failures (ResolveRouteFailure): InvalidBoolean / ConflictingRouting from the
    environment, InvalidApiKey for a malformed key, NoCredential("project") for a cloud route
    with nothing to send, session failures when the OAuth session had to be refreshed, and
    storage failures."""

    def __init__(
        self, config: ConfigStore, env: Mapping[str, str], credentials: ObtainCredential
    ) -> None:
        self._config = config
        self._env = env
        self._credentials = credentials

    def execute(self, project: str) -> Result[ResolvedRoute, ResolveRouteFailure]:
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
        return self._credentials.from_config(config, project).map(
            lambda credential: ResolvedRoute(project, Route.CLOUD, decided.reason, credential)
        )
