"""Where each configured project's work goes right now, and with which credential."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.credentials import AvailableCredentials, CredentialSource, for_project_routing
from domain.routing import ProjectMode, Route, RoutingFlags, decide_route, parse_routing_flags

if TYPE_CHECKING:
    from domain.config import AppConfig, Project
    from domain.errors import AuthFailure


@dataclass(frozen=True)
class ProjectRoute:
    """One project's effective route; `problem` explains a route that cannot be used."""

    name: str
    path: str | None
    mode: ProjectMode | None
    route: Route | None
    reason: str
    credential: CredentialSource | None = None
    problem: str | None = None


def routing_flags(env: Mapping[str, str]) -> Result[RoutingFlags, AuthFailure]:
    parsed = parse_routing_flags(env)
    if isinstance(parsed, Failure):
        return Failure(parsed.failure())
    flags = parsed.unwrap()
    conflict = decide_route(flags, None)
    if isinstance(conflict, Failure):
        return Failure(conflict.failure())
    return Success(flags)


def route_for(
    name: str,
    project: Project | None,
    flags: RoutingFlags,
    available: AvailableCredentials,
    now: float,
) -> ProjectRoute:
    """Apply the routing table, then the per-project credential priority for cloud routes."""
    mode = project.mode if project else None
    path = project.path if project else None
    decided = decide_route(flags, mode)
    if isinstance(decided, Failure):
        failure = decided.failure()
        return ProjectRoute(name, path, mode, None, failure.message, problem=failure.message)
    decision = decided.unwrap()
    if decision.route is Route.LOCAL:
        return ProjectRoute(name, path, mode, Route.LOCAL, decision.reason)
    credential = for_project_routing(available, name, now)
    if isinstance(credential, Failure):
        return ProjectRoute(
            name, path, mode, Route.CLOUD, decision.reason, problem=credential.failure().message
        )
    return ProjectRoute(
        name, path, mode, Route.CLOUD, decision.reason, credential=credential.unwrap().source
    )


def all_routes(
    config: AppConfig, flags: RoutingFlags, available: AvailableCredentials, now: float
) -> tuple[ProjectRoute, ...]:
    return tuple(
        route_for(name, config.projects[name], flags, available, now)
        for name in config.project_names
    )
