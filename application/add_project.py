"""`bm project add NAME PATH`: a new project, local until set otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from returns.result import Failure

from domain.errors import InvalidProjectPath

if TYPE_CHECKING:
    from returns.result import Result

    from domain.config import AppConfig
    from domain.errors import InvalidProjectName, ProjectExists, StorageFailure
    from domain.ports import ConfigStore

    AddProjectFailure = InvalidProjectPath | InvalidProjectName | ProjectExists | StorageFailure


def _is_text(path: str) -> bool:
    """False for a path whose bytes were not UTF-8: Python keeps them as lone surrogates,
    which config.yaml (UTF-8) cannot hold.

    >>> _is_text("/home/me/notes"), _is_text("/tmp/\\udcff\\udcfe")
    (True, False)
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class AddProject:
    """Failures (AddProjectFailure): InvalidProjectPath (checked before the file is touched),
    InvalidProjectName, ProjectExists, storage failures (file left as it was)."""

    def __init__(self, config: ConfigStore) -> None:
        self._config = config

    def execute(self, name: str, path: str) -> Result[AppConfig, AddProjectFailure]:
        if not _is_text(path):
            return Failure(InvalidProjectPath())

        def add(config: AppConfig) -> Result[tuple[AppConfig, None], AddProjectFailure]:
            return config.with_project(name, path).map(lambda added: (added, None))

        return self._config.update(add).map(lambda answer: answer[0])
