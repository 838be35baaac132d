"""Local or cloud for a project: strict boolean parsing and the routing table of SPEC §5."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.credentials import AvailableCredentials, CredentialSource, for_project_routing
from domain.errors import ConflictingRouting, InvalidBoolean

if TYPE_CHECKING:
    from domain.config import AppConfig, Project
    from domain.errors import RoutingFailure
    from domain.workspaces import ResolvedWorkspace

FORCE_LOCAL = "BASIC_MEMORY_FORCE_LOCAL"
FORCE_CLOUD = "BASIC_MEMORY_FORCE_CLOUD"
EXPLICIT_ROUTING = "BASIC_MEMORY_EXPLICIT_ROUTING"
ROUTING_VARIABLES = (FORCE_LOCAL, FORCE_CLOUD, EXPLICIT_ROUTING)

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


class ProjectMode(StrEnum):
    LOCAL = "local"
    CLOUD = "cloud"


class Route(StrEnum):
    LOCAL = "local"
    CLOUD = "cloud"


def parse_flag(variable: str, raw: str | None) -> Result[bool, InvalidBoolean]:
    """Parse a boolean variable; unset counts as false, and any other word is an error.

    >>> parse_flag("X", " Yes ").unwrap(), parse_flag("X", None).unwrap()
    (True, False)
    >>> parse_flag("X", "maybe").failure().variable
    'X'
    """
    if raw is None:
        return Success(False)
    word = raw.strip().lower()
    if word in _TRUE:
        return Success(True)
    if word in _FALSE:
        return Success(False)
    return Failure(InvalidBoolean(variable, raw))


@dataclass(frozen=True)
class RoutingFlags:
    force_local: bool = False
    force_cloud: bool = False
    explicit: bool = False


def parse_routing_flags(env: Mapping[str, str]) -> Result[RoutingFlags, InvalidBoolean]:
    """Read the three routing variables; the first bad one is reported."""
    values: list[bool] = []
    for variable in ROUTING_VARIABLES:
        parsed = parse_flag(variable, env.get(variable))
        if isinstance(parsed, Failure):
            return Failure(parsed.failure())
        values.append(parsed.unwrap())
    return Success(RoutingFlags(*values))


@dataclass(frozen=True)
class RouteDecision:
    route: Route
    reason: str


def decide_route(
    flags: RoutingFlags, mode: ProjectMode | None
) -> Result[RouteDecision, ConflictingRouting]:
    """Apply SPEC §5's table; `mode` is None for a project that is not in the config.

    >>> decide_route(RoutingFlags(force_cloud=True), ProjectMode.LOCAL).unwrap().route
    <Route.CLOUD: 'cloud'>
    >>> decide_route(RoutingFlags(), None).unwrap().reason
    'project not configured: local by default'
    """
    if flags.force_local and flags.force_cloud:
        return Failure(ConflictingRouting())
    if flags.force_local:
        return Success(RouteDecision(Route.LOCAL, f"{FORCE_LOCAL} is on"))
    if flags.force_cloud:
        return Success(RouteDecision(Route.CLOUD, f"{FORCE_CLOUD} is on"))
    if flags.explicit:
        return Success(
            RouteDecision(Route.LOCAL, f"{EXPLICIT_ROUTING} is on: project modes not consulted")
        )
    if mode is None:
        return Success(RouteDecision(Route.LOCAL, "project not configured: local by default"))
    return Success(RouteDecision(Route(mode.value), f"project mode is {mode.value}"))


# -- every project's route ----------------------------------------------------------------


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
    # The workspace a cloud route's calls carry; set by the use cases that know it.
    workspace: ResolvedWorkspace | None = None


def routing_flags(env: Mapping[str, str]) -> Result[RoutingFlags, RoutingFailure]:
    parsed = parse_routing_flags(env)
    if isinstance(parsed, Failure):
        return Failure(parsed.failure())
    flags = parsed.unwrap()
    conflict = decide_route(flags, None)
    if isinstance(conflict, Failure):
        return Failure(conflict.failure())
    return Success(flags)


def project_route(
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
        project_route(name, config.projects[name], flags, available, now)
        for name in config.project_names
    )
