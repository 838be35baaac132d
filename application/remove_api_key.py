"""`bm cloud api-key remove`: forget the stored key (an exported one is out of our reach)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Never

from returns.result import Result, Success

from domain.api_key import mask_api_key
from domain.credentials import API_KEY_VARIABLE

if TYPE_CHECKING:
    from domain.config import AppConfig
    from domain.errors import StorageFailure
    from domain.ports import ConfigStore


@dataclass(frozen=True)
class RemovedApiKey:
    removed: str | None
    env_key_still_set: bool


class RemoveApiKey:
    """Failures: StorageFailure only; removing when no key is stored succeeds."""

    def __init__(self, config: ConfigStore, env: Mapping[str, str]) -> None:
        self._config = config
        self._env = env

    def execute(self) -> Result[RemovedApiKey, StorageFailure]:
        env_set = bool(self._env.get(API_KEY_VARIABLE, "").strip())
        return self._config.update(_drop).map(lambda answer: RemovedApiKey(answer[1], env_set))


def _drop(config: AppConfig) -> Result[tuple[AppConfig, str | None], Never]:
    """The config without its key, and that key masked (None when there was none)."""
    key = config.cloud_api_key
    if key is None:
        return Success((config, None))
    return Success((config.with_api_key(None), mask_api_key(key.get_secret_value())))
