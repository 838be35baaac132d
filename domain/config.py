"""The user's settings file as a value: the API key, endpoints, projects, and unknown keys."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from returns.result import Failure, Result, Success

from domain.errors import InvalidProjectName, ProjectExists, UnknownProject
from domain.routing import ProjectMode

_PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)


class Project(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    path: str
    mode: ProjectMode = ProjectMode.LOCAL
    # Fields of a project entry that we do not know, kept on every rewrite.
    extra: dict[str, Any] = Field(default_factory=dict)


class AppConfig(BaseModel):
    """`config.yaml`; `extra` keeps every top-level key the program does not know."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    cloud_api_key: SecretStr | None = None
    cloud_host: str | None = None
    cloud_domain: str | None = None
    cloud_client_id: str | None = None
    # Where new secrets go (`file` or `keyring`), as written; checked when a secret is written.
    credential_store: str | None = None
    projects: dict[str, Project] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def project_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.projects))

    def with_api_key(self, key: SecretStr | None) -> AppConfig:
        """A new (or no) key forgets the workspace the old key was created in."""
        if key == self.cloud_api_key:
            return self
        extra = {k: v for k, v in self.extra.items() if k != "cloud_api_key_workspace"}
        return self.model_copy(update={"cloud_api_key": key, "extra": extra})

    def project(self, name: str) -> Result[Project, UnknownProject]:
        found = self.projects.get(name)
        if found is None:
            return Failure(UnknownProject(name, self.project_names))
        return Success(found)

    def with_project(
        self, name: str, path: str
    ) -> Result[AppConfig, InvalidProjectName | ProjectExists]:
        """Add a project in local mode; names are checked, duplicates refused.

        >>> AppConfig().with_project("notes", "/n").unwrap().projects["notes"].mode.value
        'local'
        >>> AppConfig().with_project("../x", "/n").failure().name
        '../x'
        """
        if not _PROJECT_NAME.fullmatch(name):
            return Failure(InvalidProjectName(name))
        existing = self.projects.get(name)
        if existing is not None:
            return Failure(ProjectExists(name, existing.path))
        projects = {**self.projects, name: Project(path=path)}
        return Success(self.model_copy(update={"projects": projects}))

    def without_project(self, name: str) -> Result[AppConfig, UnknownProject]:
        if name not in self.projects:
            return Failure(UnknownProject(name, self.project_names))
        projects = {key: value for key, value in self.projects.items() if key != name}
        return Success(self.model_copy(update={"projects": projects}))

    def with_mode(self, name: str, mode: ProjectMode) -> Result[AppConfig, UnknownProject]:
        found = self.projects.get(name)
        if found is None:
            return Failure(UnknownProject(name, self.project_names))
        projects = {**self.projects, name: found.model_copy(update={"mode": mode})}
        return Success(self.model_copy(update={"projects": projects}))
