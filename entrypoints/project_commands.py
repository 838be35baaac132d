"""`bm project add`, `list`, `remove`, `set-cloud` and `set-local`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter
from returns.result import Failure

from domain.routing import ProjectMode
from entrypoints.command_support import prepare
from entrypoints.console import err, out, out_json
from entrypoints.presenters import EXIT_OK, fail, route_dict, route_line


def add(name: str, path: Path, /) -> int:
    """Add a project; it starts in local mode.

    Parameters
    ----------
    name
        Letters, digits, '.', '-' or '_'.
    path
        The project's folder.
    """
    container = prepare(writes=True)
    folder = str(path.expanduser().absolute())
    result = container.add_project().execute(name, folder)
    if isinstance(result, Failure):
        return fail(result.failure())
    out(f"Added project '{name}' at {folder} (mode: local).")
    return EXIT_OK


def list_(*, json_: Annotated[bool, Parameter(name="--json", negative=())] = False) -> int:
    """List projects with their mode and effective route.

    Parameters
    ----------
    json_
        Print a JSON array.
    """
    container = prepare()
    result = container.list_projects().execute()
    if isinstance(result, Failure):
        return fail(result.failure())
    routes = result.unwrap()
    if json_:
        out_json([route_dict(route) for route in routes])
    elif not routes:
        out("No projects yet; add one with `bm project add NAME PATH`.")
    else:
        for route in routes:
            out(route_line(route))
    return EXIT_OK


def remove(name: str, /) -> int:
    """Remove a project entry (its files are left alone)."""
    container = prepare(writes=True)
    result = container.remove_project().execute(name)
    if isinstance(result, Failure):
        return fail(result.failure())
    out(f"Removed project '{name}'.")
    return EXIT_OK


def _set_mode(name: str, mode: ProjectMode) -> int:
    container = prepare(writes=True)
    result = container.set_project_mode().execute(name, mode)
    if isinstance(result, Failure):
        return fail(result.failure())
    changed = result.unwrap()
    via = f", using the {changed.credential.description}" if changed.credential else ""
    out(f"Project '{name}' now routes to {mode.value}{via}.")
    effective = changed.effective
    if effective.route is not None and effective.route.value != mode.value:
        err(f"Note: it currently routes {effective.route.value}: {effective.reason}.")
    elif effective.problem:
        err(f"Note: {effective.problem}")
    return EXIT_OK


def set_cloud(name: str, /, *, workspace: str | None = None) -> int:
    """Route a project to the cloud (needs an API key or an OAuth session).

    Parameters
    ----------
    workspace
        Pin the project's cloud calls to this workspace (name, slug or id; asks the cloud).
    """
    if workspace is not None:
        container = prepare(network=True, writes=True)
        pinned = container.pin_project_workspace().execute(name, workspace)
        if isinstance(pinned, Failure):
            return fail(pinned.failure())
        out(f"Project '{name}' works in workspace {pinned.unwrap().label}.")
    return _set_mode(name, ProjectMode.CLOUD)


def set_local(name: str, /) -> int:
    """Route a project to the local API."""
    return _set_mode(name, ProjectMode.LOCAL)
