"""`bm project set-cloud NAME --workspace W`: pin a project's cloud calls to one workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.workspaces import match_workspace, with_project_workspace

if TYPE_CHECKING:
    from application.obtain_credential import ObtainCredential
    from domain.config import AppConfig
    from domain.errors import AuthFailure
    from domain.ports import CloudApi, ConfigStore
    from domain.workspaces import Workspace


class PinProjectWorkspace:
    """The workspace is looked up (name, slug or id) in the list the project's own credential
    sees, so a pin names a workspace that credential can use. Failures: UnknownProject,
    UnknownWorkspace, AmbiguousWorkspace, no credential, cloud and storage failures; the file
    is written only on success."""

    def __init__(self, config: ConfigStore, cloud: CloudApi, credentials: ObtainCredential) -> None:
        self._config = config
        self._cloud = cloud
        self._credentials = credentials

    def execute(self, project: str, wanted: str) -> Result[Workspace, AuthFailure]:
        loaded = self._config.load()
        if isinstance(loaded, Failure):
            return Failure(loaded.failure())
        known = loaded.unwrap().project(project)
        if isinstance(known, Failure):
            return Failure(known.failure())
        credential = self._credentials.from_config(loaded.unwrap(), project)
        if isinstance(credential, Failure):
            return Failure(credential.failure())
        listed = self._cloud.list_workspaces(credential.unwrap())
        if isinstance(listed, Failure):
            return Failure(listed.failure())
        matched = match_workspace(listed.unwrap(), wanted)
        if isinstance(matched, Failure):
            return Failure(matched.failure())
        workspace = matched.unwrap()

        def pin(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
            still = config.project(project)
            if isinstance(still, Failure):
                return Failure(still.failure())
            return Success((with_project_workspace(config, project, workspace.tenant_id), None))

        saved = self._config.update(pin)
        if isinstance(saved, Failure):
            return Failure(saved.failure())
        return Success(workspace)
