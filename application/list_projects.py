"""`bm project list`: every project with its mode and effective route, without the network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from application.credentials_on_hand import gather
from application.resolve_workspace import with_workspaces
from domain.routing import ProjectRoute, all_routes, routing_flags

if TYPE_CHECKING:
    from application.credentials_on_hand import GatherFailure
    from domain.errors import RoutingFailure
    from domain.ports import Clock, ConfigStore, TokenStore

    ListProjectsFailure = RoutingFailure | GatherFailure


class ListProjects:
    """Failures (ListProjectsFailure): bad routing variables, a malformed key, storage
    failures."""

    def __init__(
        self, config: ConfigStore, tokens: TokenStore, clock: Clock, env: Mapping[str, str]
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._clock = clock
        self._env = env

    def execute(self) -> Result[tuple[ProjectRoute, ...], ListProjectsFailure]:
        flags = routing_flags(self._env)
        if isinstance(flags, Failure):
            return Failure(flags.failure())
        loaded = self._config.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        config = loaded.unwrap()
        available = gather(self._env, config, self._tokens)
        if isinstance(available, Failure):
            return Failure(available.failure())
        routes = all_routes(config, flags.unwrap(), available.unwrap(), self._clock.now())
        # Offline by design: the workspace is shown when a local choice decides it.
        return Success(with_workspaces(routes, config, self._tokens, None))
