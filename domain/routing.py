"""Local or cloud for a project: strict boolean parsing and the routing table of SPEC §5."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from returns.result import Failure, Result, Success

from domain.errors import ConflictingRouting, InvalidBoolean

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
