"""Which workspace a project's cloud calls carry, and why (the rules of domain/workspaces.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.credentials import CredentialSource
from domain.routing import Route
from domain.workspaces import (
    ResolvedWorkspace,
    WorkspaceList,
    WorkspaceSource,
    account_choice,
    account_of,
    api_key_workspace,
    project_workspace,
    resolve_workspace,
)

if TYPE_CHECKING:
    from domain.config import AppConfig
    from domain.credentials import Credential
    from domain.errors import AuthFailure
    from domain.ports import CloudApi, TokenStore
    from domain.routing import ProjectRoute


@dataclass(frozen=True)
class Choices:
    """What this machine has chosen, before the cloud's list is asked."""

    project: str | None
    api_key: str | None
    account: str | None
    account_name: str | None


def local_choices(
    config: AppConfig,
    tokens: TokenStore,
    project: str | None,
    credential_source: CredentialSource | None,
) -> Result[Choices, AuthFailure]:
    """The project's pin, the saved key's workspace (only when that key is the credential) and
    the signed-in account's default. Failures: a damaged config.yaml or token file."""
    pinned = project_workspace(config, project) if project else Success(None)
    if isinstance(pinned, Failure):
        return Failure(pinned.failure())
    key = (
        api_key_workspace(config)
        if credential_source is CredentialSource.CONFIG_API_KEY
        else Success(None)
    )
    if isinstance(key, Failure):
        return Failure(key.failure())
    session = tokens.load()
    if isinstance(session, Failure):
        return Failure(session.failure())
    held = session.unwrap()
    account = account_of(held.user_id, held.email) if held else None
    chosen = account_choice(config, account)
    if isinstance(chosen, Failure):
        return Failure(chosen.failure())
    return Success(Choices(pinned.unwrap(), key.unwrap(), chosen.unwrap(), account))


class ResolveWorkspace:
    """For one project (or None: global operations) and the credential it sends.

    The cloud's list is asked only when no local choice decides (rules 4 and 5); `online=False`
    then answers "unknown". A cloud failure of that list is a failure: the caller says so
    rather than send a guess. Other failures: a damaged config.yaml or token file.
    """

    def __init__(self, tokens: TokenStore, cloud: CloudApi) -> None:
        self._tokens = tokens
        self._cloud = cloud

    def execute(
        self,
        config: AppConfig,
        project: str | None,
        credential: Credential,
        online: bool = True,
        listing: WorkspaceList | None = None,
    ) -> Result[tuple[ResolvedWorkspace, WorkspaceList | None], AuthFailure]:
        choices = local_choices(config, self._tokens, project, credential.source)
        if isinstance(choices, Failure):
            return Failure(choices.failure())
        chosen = choices.unwrap()
        decided = resolve_workspace(chosen.project, chosen.api_key, chosen.account, None)
        if decided.tenant_id is not None or not online:
            return Success((decided, listing))
        if listing is None:
            fetched = self._cloud.list_workspaces(credential)
            if isinstance(fetched, Failure):
                return Failure(fetched.failure())
            listing = fetched.unwrap()
        return Success((resolve_workspace(None, None, None, listing), listing))


def with_workspaces(
    routes: tuple[ProjectRoute, ...],
    config: AppConfig,
    tokens: TokenStore,
    listing: WorkspaceList | None,
    unknown_because: str = "offline: the cloud's list is needed",
) -> tuple[ProjectRoute, ...]:
    """Each usable cloud route with its workspace; `listing` None means the cloud was not
    asked, so rules 4 and 5 answer "unknown" with `unknown_because`. A damaged setting shows
    as unknown with the file's problem: listing projects must not stop at it."""
    shown = []
    for route in routes:
        if route.route is not Route.CLOUD or route.credential is None:
            shown.append(route)
            continue
        choices = local_choices(config, tokens, route.name, route.credential)
        if isinstance(choices, Failure):
            resolved = ResolvedWorkspace(None, WorkspaceSource.UNKNOWN, choices.failure().message)
        else:
            found = choices.unwrap()
            resolved = resolve_workspace(
                found.project, found.api_key, found.account, listing, unknown_because
            )
        shown.append(replace(route, workspace=resolved))
    return tuple(shown)
