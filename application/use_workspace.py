"""`bm cloud workspace use NAME|SLUG|ID`: the signed-in account's default workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.credentials import Credential, CredentialSource
from domain.errors import NoCredential
from domain.workspaces import account_of, match_workspace, with_account_choice

if TYPE_CHECKING:
    from application.ensure_fresh_session import EnsureFreshSession
    from domain.config import AppConfig
    from domain.errors import AuthFailure
    from domain.ports import CloudApi, ConfigStore
    from domain.workspaces import Workspace


@dataclass(frozen=True)
class WorkspaceChosen:
    workspace: Workspace
    account: str
    previous: str | None


class UseWorkspace:
    """The choice belongs to the account of the OAuth session (an API key names no account
    here), so it needs the session: NoCredential("not_logged_in") without one. Other
    failures: UnknownWorkspace, AmbiguousWorkspace (with the choices), cloud and storage
    failures. config.yaml is written only on success."""

    def __init__(
        self, fresh_session: EnsureFreshSession, cloud: CloudApi, config: ConfigStore
    ) -> None:
        self._fresh_session = fresh_session
        self._cloud = cloud
        self._config = config

    def execute(self, wanted: str) -> Result[WorkspaceChosen, AuthFailure]:
        session = self._fresh_session.execute()
        if isinstance(session, Failure):
            failure = session.failure()
            return Failure(failure)
        held = session.unwrap()
        account = account_of(held.user_id, held.email)
        if account is None:
            return Failure(NoCredential("not_logged_in"))
        credential = Credential(CredentialSource.OAUTH_SESSION, held.access_token)
        listed = self._cloud.list_workspaces(credential)
        if isinstance(listed, Failure):
            return Failure(listed.failure())
        matched = match_workspace(listed.unwrap(), wanted)
        if isinstance(matched, Failure):
            return Failure(matched.failure())
        workspace = matched.unwrap()

        def choose(config: AppConfig) -> Result[tuple[AppConfig, str | None], AuthFailure]:
            choices = config.extra.get("workspaces")
            previous = choices.get(account) if isinstance(choices, dict) else None
            changed = with_account_choice(config, account, workspace.tenant_id)
            if isinstance(changed, Failure):
                return Failure(changed.failure())
            return Success((changed.unwrap(), previous))

        saved = self._config.update(choose)
        if isinstance(saved, Failure):
            return Failure(saved.failure())
        _config, previous = saved.unwrap()
        return Success(WorkspaceChosen(workspace, account, previous))
