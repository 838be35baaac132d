"""`bm project set-cloud NAME` / `set-local NAME`: choose where a project's work goes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from application.credentials_on_hand import gather
from domain.credentials import AvailableCredentials, Credential, for_project_routing
from domain.routing import ProjectMode, ProjectRoute, project_route, routing_flags

if TYPE_CHECKING:
    from application.credentials_on_hand import GatherFailure
    from domain.config import AppConfig
    from domain.errors import NoCredential, RoutingFailure, UnknownProject
    from domain.ports import Clock, ConfigStore, TokenStore

    SetProjectModeFailure = RoutingFailure | UnknownProject | NoCredential | GatherFailure


@dataclass(frozen=True)
class ModeChanged:
    name: str
    mode: ProjectMode
    credential: Credential | None
    effective: ProjectRoute


class SetProjectMode:
    """Failures (SetProjectModeFailure): UnknownProject, NoCredential("project") (set-cloud
    with nothing to send), a malformed key, bad routing variables, storage failures. The
    file is only written on success."""

    def __init__(
        self, config: ConfigStore, tokens: TokenStore, clock: Clock, env: Mapping[str, str]
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._clock = clock
        self._env = env

    def execute(self, name: str, mode: ProjectMode) -> Result[ModeChanged, SetProjectModeFailure]:
        flags = routing_flags(self._env)
        if isinstance(flags, Failure):
            return Failure(flags.failure())

        def switch(
            config: AppConfig,
        ) -> Result[tuple[AppConfig, Credential | None], SetProjectModeFailure]:
            changed = config.with_mode(name, mode)
            if isinstance(changed, Failure) or mode is ProjectMode.LOCAL:
                return changed.map(lambda switched: (switched, None))
            available = gather(self._env, config, self._tokens)
            if isinstance(available, Failure):
                return Failure(available.failure())
            chosen = for_project_routing(available.unwrap(), name, self._clock.now())
            if isinstance(chosen, Failure):
                return Failure(chosen.failure())
            return Success((changed.unwrap(), chosen.unwrap()))

        updated = self._config.update(switch)
        if isinstance(updated, Failure):
            return Failure(updated.failure())
        config, credential = updated.unwrap()
        available = gather(self._env, config, self._tokens).value_or(None)
        effective = project_route(
            name,
            config.projects[name],
            flags.unwrap(),
            available or AvailableCredentials(),
            self._clock.now(),
        )
        return Success(ModeChanged(name, mode, credential, effective))
