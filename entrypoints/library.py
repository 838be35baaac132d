"""The small public API for Python programs that talk to Basic Memory Cloud.

    import httpx
    from entrypoints.library import cloud_auth, route_for

    route = route_for("research")            # local or cloud, the reason, the credential kind
    with httpx.Client(base_url=cloud_host(), auth=cloud_auth(project="research")) as client:
        client.get("/proxy/health")

Settings, files and priorities are exactly those of the `bm` command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from adapters.httpx_auth import BasicMemoryCloudAuth, ChosenWorkspace, CloudAuthError
from adapters.worker_threads import offload, prepare_for_event_loop
from entrypoints.container import build_container

if TYPE_CHECKING:
    from pydantic import SecretStr

    from application.resolve_route import ResolvedRoute
    from domain.credentials import Credential
    from domain.errors import AuthFailure
    from domain.workspaces import WorkspaceList
    from entrypoints.container import Container

__all__ = ["BasicMemoryCloudAuth", "CloudAuthError", "cloud_auth", "cloud_host", "route_for"]


def cloud_auth(
    project: str | None = None, env: Mapping[str, str] | None = None
) -> BasicMemoryCloudAuth:
    """An `httpx.Auth` for one project (API key first) or, without a project, for global
    operations (OAuth session first). Raises CloudAuthError when no credential is usable."""
    container = _trusted(build_container(env))
    obtain = container.obtain_credential()
    obtain_async = container.obtain_credential_async()
    prepare_for_event_loop()  # here, not on the caller's event loop at its first request

    def supply(rejected: SecretStr | None) -> Result[Credential, AuthFailure]:
        try:
            return _trust(container).bind(lambda _: obtain.execute(project, rejected))
        finally:
            # An auth object can live as long as the program: do not keep a connection
            # from an occasional refresh open in between (the next one opens its own).
            # Threads share this auth object; the client closed here is this thread's only.
            container.http_client().close()

    async def supply_async(rejected: SecretStr | None) -> Result[Credential, AuthFailure]:
        # The trust check reads the file system: in a worker thread, like the rest.
        trusted = await offload(lambda: _trust(container))
        if isinstance(trusted, Failure):
            return Failure(trusted.failure())
        return await obtain_async.execute(project, rejected)

    # The cloud's list changes rarely; asked once per auth object, and only when no local
    # choice decides the workspace (domain/workspaces.py, rules 4 and 5).
    listings: list[WorkspaceList | None] = []

    def workspace(credential: Credential) -> Result[ChosenWorkspace, AuthFailure]:
        try:
            loaded = container.config().load()
            if isinstance(loaded, Failure):
                return Failure(loaded.failure())
            resolved = container.resolve_workspace().execute(
                loaded.unwrap(),
                project,
                credential,
                # Global operations go where the cloud puts them unless the account chose.
                online=project is not None,
                listing=listings[-1] if listings else None,
            )
        finally:
            container.http_client().close()
        if isinstance(resolved, Failure):
            return Failure(resolved.failure())
        chosen, listing = resolved.unwrap()
        if listing is not None:
            listings.append(listing)
        if chosen.tenant_id is None:
            return Success(None)
        return Success((chosen.tenant_id, chosen.source.value))

    async def workspace_async(credential: Credential) -> Result[ChosenWorkspace, AuthFailure]:
        # Files and, when needed, one listing call: in a worker thread, off the caller's loop.
        return await offload(lambda: workspace(credential))

    return BasicMemoryCloudAuth(supply, supply_async, workspace, workspace_async)


def route_for(project: str, env: Mapping[str, str] | None = None) -> ResolvedRoute:
    """Where `project`'s work goes (SPEC §5), with the reason; raises CloudAuthError for a
    conflicting or invalid setting, or a cloud route without a usable credential."""
    container = _trusted(build_container(env))
    try:
        resolved = container.resolve_route().execute(project)
    finally:
        container.http_client().close()
    if isinstance(resolved, Failure):
        raise CloudAuthError(resolved.failure())
    return resolved.unwrap()


def cloud_host(env: Mapping[str, str] | None = None) -> str:
    """The cloud API base URL in force (environment, config.yaml, default)."""
    endpoints = _trusted(build_container(env)).endpoints()
    if isinstance(endpoints, Failure):
        raise CloudAuthError(endpoints.failure())
    return endpoints.unwrap().cloud_host


def _trusted(container: Container) -> Container:
    """The container, unless another user can change the data folder (as the CLI refuses)."""
    trusted = _trust(container)
    if isinstance(trusted, Failure):
        raise CloudAuthError(trusted.failure())
    return container


def _trust(container: Container) -> Result[None, AuthFailure]:
    """Looked at again on every lookup: an auth object may outlive the folder's modes."""
    untrusted = container.untrusted()
    return Failure(untrusted[0]) if untrusted else Success(None)
