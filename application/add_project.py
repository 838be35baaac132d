"""`bm project add NAME PATH`: a new project, local until set otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from returns.result import Result

    from domain.config import AppConfig
    from domain.errors import AuthFailure
    from domain.ports import ConfigStore


class AddProject:
    """Failures: InvalidProjectName, ProjectExists, storage failures (file left as it was)."""

    def __init__(self, config: ConfigStore) -> None:
        self._config = config

    def execute(self, name: str, path: str) -> Result[AppConfig, AuthFailure]:
        def add(config: AppConfig) -> Result[AppConfig, AuthFailure]:
            return config.with_project(name, path)

        return self._config.update(add)
