"""`bm cloud workspace list`: the account's workspaces, its default, and each project's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from application.resolve_workspace import local_choices
from domain.routing import ProjectMode
from domain.workspaces import resolve_workspace

if TYPE_CHECKING:
    from application.obtain_credential import ObtainCredential
    from domain.credentials import Credential
    from domain.errors import AuthFailure
    from domain.ports import CloudApi, ConfigStore, TokenStore
    from domain.workspaces import ResolvedWorkspace, WorkspaceList


@dataclass(frozen=True)
class WorkspacesView:
    listing: WorkspaceList
    account: str | None  # the signed-in account the default belongs to
    account_default: str | None  # its chosen default workspace (None: none chosen)
    # Cloud projects with the workspace each resolves to.
    projects: tuple[tuple[str, ResolvedWorkspace], ...]
    credential: Credential


class ListWorkspaces:
    """Failures: no credential (global rule: OAuth session, then API key), a cloud failure,
    storage failures."""

    def __init__(
        self,
        config: ConfigStore,
        tokens: TokenStore,
        cloud: CloudApi,
        credentials: ObtainCredential,
        env: Mapping[str, str],
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._cloud = cloud
        self._credentials = credentials
        self._env = env

    def execute(self) -> Result[WorkspacesView, AuthFailure]:
        loaded = self._config.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        config = loaded.unwrap()
        obtained = self._credentials.from_config(config)
        if isinstance(obtained, Failure):
            return Failure(obtained.failure())
        credential = obtained.unwrap()
        listed = self._cloud.list_workspaces(credential)
        if isinstance(listed, Failure):
            return Failure(listed.failure())
        listing = listed.unwrap()
        account = local_choices(config, self._tokens, None, None)
        if isinstance(account, Failure):
            return Failure(account.failure())
        projects: list[tuple[str, ResolvedWorkspace]] = []
        for name in config.project_names:
            if config.projects[name].mode is not ProjectMode.CLOUD:
                continue
            # The credential the project would send decides whether the key's workspace counts.
            sent = self._credentials.from_config(config, name)
            source = sent.unwrap().source if isinstance(sent, Success) else None
            chosen = local_choices(config, self._tokens, name, source)
            if isinstance(chosen, Failure):
                return Failure(chosen.failure())
            found = chosen.unwrap()
            projects.append(
                (name, resolve_workspace(found.project, found.api_key, found.account, listing))
            )
        return Success(
            WorkspacesView(
                listing,
                account.unwrap().account_name,
                account.unwrap().account,
                tuple(projects),
                credential,
            )
        )
