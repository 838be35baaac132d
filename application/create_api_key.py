"""`bm cloud api-key create NAME`: mint a key with the OAuth session and store it."""

from __future__ import annotations

from dataclasses import dataclass

from returns.result import Failure, Result, Success

from application.ensure_fresh_session import EnsureFreshSession
from domain.config import AppConfig
from domain.errors import AuthFailure, InvalidKeyName, NotLoggedIn, OAuthRequired
from domain.ports import CloudApi, ConfigStore

MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class CreatedKeyOutcome:
    masked: str
    name: str
    key_id: str | None
    replaced: bool


class CreateApiKey:
    """Failures: OAuthRequired (no session: a configured key is no substitute),
    SessionExpired, a cloud failure, or a storage failure (the new key then exists in the
    cloud but is not saved; the message says so through the failure)."""

    def __init__(
        self, fresh_session: EnsureFreshSession, cloud: CloudApi, config: ConfigStore
    ) -> None:
        self._fresh_session = fresh_session
        self._cloud = cloud
        self._config = config

    def execute(self, name: str) -> Result[CreatedKeyOutcome, AuthFailure]:
        cleaned = name.strip()
        if not cleaned or len(cleaned) > MAX_NAME_LENGTH or not cleaned.isprintable():
            return Failure(InvalidKeyName(MAX_NAME_LENGTH))
        session = self._fresh_session.execute()
        if isinstance(session, Failure):
            failure = session.failure()
            return Failure(OAuthRequired() if isinstance(failure, NotLoggedIn) else failure)
        created = self._cloud.create_api_key(session.unwrap().access_token, cleaned)
        if isinstance(created, Failure):
            return Failure(created.failure())
        new = created.unwrap()
        replaced: list[bool] = []

        def store(config: AppConfig) -> Result[AppConfig, AuthFailure]:
            replaced.append(config.cloud_api_key is not None)
            return Success(config.with_api_key(new.key.value))

        return self._config.update(store).map(
            lambda _config: CreatedKeyOutcome(new.key.masked, new.name, new.key_id, replaced[-1])
        )
