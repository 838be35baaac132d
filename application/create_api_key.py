"""`bm cloud api-key create NAME`: mint a key with the OAuth session and store it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Never

from returns.result import Failure, Result, Success

from domain.credentials import Credential, CredentialSource
from domain.errors import InvalidKeyName, KeyNotSaved, NoCredential
from domain.workspaces import match_workspace, with_api_key_workspace

if TYPE_CHECKING:
    from application.ensure_fresh_session import EnsureFreshSession, FreshSessionFailure
    from domain.config import AppConfig
    from domain.errors import AmbiguousWorkspace, UnknownWorkspace
    from domain.ports import CloudApi, CloudFailure, ConfigStore

    CreateApiKeyFailure = (
        InvalidKeyName
        | KeyNotSaved
        | CloudFailure
        | FreshSessionFailure
        | UnknownWorkspace
        | AmbiguousWorkspace
    )

MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class CreatedKeyOutcome:
    masked: str
    name: str
    key_id: str | None
    replaced: bool
    workspace: str | None = None  # the label of the workspace it was created in


class CreateApiKey:
    """Failures (CreateApiKeyFailure): InvalidKeyName, NoCredential("key_creation") (no
    session: a configured key is no substitute), SessionExpired or another refresh failure,
    a cloud failure, UnknownWorkspace or AmbiguousWorkspace for `--workspace`, a storage
    failure found before the key is minted, or KeyNotSaved when config.yaml refused the new
    key afterwards (the key exists in the cloud and the message says to revoke it)."""

    def __init__(
        self, fresh_session: EnsureFreshSession, cloud: CloudApi, config: ConfigStore
    ) -> None:
        self._fresh_session = fresh_session
        self._cloud = cloud
        self._config = config

    def execute(
        self, name: str, workspace: str | None = None
    ) -> Result[CreatedKeyOutcome, CreateApiKeyFailure]:
        """`workspace` (name, slug or id) creates the key there; the key's workspace is saved
        beside it, so a project sending the key sends that workspace too."""
        cleaned = name.strip()
        if not cleaned or len(cleaned) > MAX_NAME_LENGTH or not cleaned.isprintable():
            return Failure(InvalidKeyName(MAX_NAME_LENGTH))
        # A key minted while config.yaml cannot take it would be lost: check first.
        readable = self._config.load()
        if isinstance(readable, Failure):
            return Failure(readable.failure())
        session = self._fresh_session.execute()
        if isinstance(session, Failure):
            failure = session.failure()
            return Failure(
                NoCredential("key_creation") if isinstance(failure, NoCredential) else failure
            )
        tenant: str | None = None
        label: str | None = None
        if workspace is not None:
            credential = Credential(CredentialSource.OAUTH_SESSION, session.unwrap().access_token)
            listed = self._cloud.list_workspaces(credential)
            if isinstance(listed, Failure):
                return Failure(listed.failure())
            matched = match_workspace(listed.unwrap(), workspace)
            if isinstance(matched, Failure):
                return Failure(matched.failure())
            tenant, label = matched.unwrap().tenant_id, matched.unwrap().label
        created = self._cloud.create_api_key(session.unwrap().access_token, cleaned, tenant)
        if isinstance(created, Failure):
            return Failure(created.failure())
        new = created.unwrap()

        def store(config: AppConfig) -> Result[tuple[AppConfig, bool], Never]:
            replaced = config.cloud_api_key is not None
            return Success(
                (with_api_key_workspace(config.with_api_key(new.key.value), tenant), replaced)
            )

        saved = self._config.update(store)
        if isinstance(saved, Failure):
            return Failure(KeyNotSaved(new.name, new.key.masked, saved.failure().message))
        _config, replaced = saved.unwrap()
        return Success(CreatedKeyOutcome(new.key.masked, new.name, new.key_id, replaced, label))
