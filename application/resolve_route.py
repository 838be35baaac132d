"""For one project: local or cloud, the credential to send, and the reason (SPEC §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.errors import CorruptFile
from domain.routing import Route, decide_route, routing_flags
from domain.workspaces import ResolvedWorkspace, WorkspaceSource

if TYPE_CHECKING:
    from application.obtain_credential import ObtainCredential, ObtainCredentialFailure
    from application.resolve_workspace import ResolveWorkspace
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
    # For a cloud route: the workspace its calls carry and why (unknown when the cloud's list
    # was needed and could not be read: `note` says why).
    workspace: ResolvedWorkspace | None = None


class ResolveRoute:
    """Failures (ResolveRouteFailure): InvalidBoolean / ConflictingRouting from the
    environment, InvalidApiKey for a malformed key, NoCredential("project") for a cloud route
    with nothing to send, session failures when the OAuth session had to be refreshed, and
    storage failures."""

    def __init__(
        self,
        config: ConfigStore,
        env: Mapping[str, str],
        credentials: ObtainCredential,
        workspaces: ResolveWorkspace | None = None,
    ) -> None:
        self._config = config
        self._env = env
        self._credentials = credentials
        self._workspaces = workspaces

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
        obtained = self._credentials.from_config(config, project)
        if isinstance(obtained, Failure):
            return Failure(obtained.failure())
        credential = obtained.unwrap()
        workspace = None
        if self._workspaces is not None:
            found = self._workspaces.execute(config, project, credential)
            if isinstance(found, Failure) and isinstance(found.failure(), CorruptFile):
                return Failure(found.failure())
            workspace = (
                found.unwrap()[0]
                if isinstance(found, Success)
                else ResolvedWorkspace(None, WorkspaceSource.UNKNOWN, found.failure().message)
            )
        return Success(ResolvedRoute(project, Route.CLOUD, decided.reason, credential, workspace))
