"""`bm project remove NAME`: forget a project entry (its files are not touched)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from returns.result import Result

    from domain.config import AppConfig
    from domain.errors import StorageFailure, UnknownProject
    from domain.ports import ConfigStore

    RemoveProjectFailure = UnknownProject | StorageFailure


class RemoveProject:
    """Failures (RemoveProjectFailure): UnknownProject (listing the known ones), storage
    failures."""

    def __init__(self, config: ConfigStore) -> None:
        self._config = config

    def execute(self, name: str) -> Result[AppConfig, RemoveProjectFailure]:
        def remove(config: AppConfig) -> Result[tuple[AppConfig, None], UnknownProject]:
            return config.without_project(name).map(lambda removed: (removed, None))

        return self._config.update(remove).map(lambda answer: answer[0])
