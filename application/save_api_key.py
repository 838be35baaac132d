"""`bm cloud api-key save`: validate a key, optionally check it with the cloud, store it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Never

from returns.result import Failure, Result, Success

from domain.api_key import parse_api_key
from domain.credentials import Credential, CredentialSource

if TYPE_CHECKING:
    from domain.config import AppConfig
    from domain.errors import InvalidApiKey, StorageFailure
    from domain.ports import CloudApi, CloudFailure, ConfigStore

    SaveApiKeyFailure = InvalidApiKey | CloudFailure | StorageFailure


@dataclass(frozen=True)
class SavedApiKey:
    masked: str
    replaced: str | None = None
    unchanged: bool = False


class SaveApiKey:
    """Failures (SaveApiKeyFailure): InvalidApiKey (nothing is touched), any cloud failure
    when `verify` is set (nothing is saved), or a storage failure (the file is left as it
    was).

    `cloud` gives the cloud API and is called only to verify: building the HTTP adapter
    would be start-up time spent for nothing by a plain save.
    """

    def __init__(self, config: ConfigStore, cloud: Callable[[], CloudApi]) -> None:
        self._config = config
        self._cloud = cloud

    def execute(self, raw_key: str, verify: bool = False) -> Result[SavedApiKey, SaveApiKeyFailure]:
        parsed = parse_api_key(raw_key)
        if isinstance(parsed, Failure):
            return Failure(parsed.failure())
        key = parsed.unwrap()
        if verify:
            checked = self._cloud().check_health(
                Credential(CredentialSource.GIVEN_API_KEY, key.value)
            )
            if isinstance(checked, Failure):
                return Failure(checked.failure())

        def store(config: AppConfig) -> Result[tuple[AppConfig, SavedApiKey], Never]:
            previous = config.cloud_api_key
            if previous is not None and previous.get_secret_value() == key.value.get_secret_value():
                return Success((config, SavedApiKey(key.masked, unchanged=True)))
            replaced = None
            if previous is not None:
                replaced = (
                    parse_api_key(previous.get_secret_value())
                    .map(lambda old: old.masked)
                    .value_or("a malformed key")
                )
            return Success((config.with_api_key(key.value), SavedApiKey(key.masked, replaced)))

        return self._config.update(store).map(lambda answer: answer[1])
