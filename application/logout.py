"""Sign out: revoke the refresh token (best effort), remove the session, optionally the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Never

from returns.result import Failure, Result, Success

from domain.credentials import API_KEY_VARIABLE, CredentialSource
from domain.errors import CorruptFile

if TYPE_CHECKING:
    from domain.config import AppConfig
    from domain.errors import StorageFailure
    from domain.ports import ConfigStore, IdentityProvider, TokenStore
    from domain.session import TokenSet


class Revocation(StrEnum):
    REVOKED = "revoked"
    FAILED = "failed"
    NOT_NEEDED = "not needed"


@dataclass(frozen=True)
class LogoutOutcome:
    session_removed: bool
    revocation: Revocation
    revocation_problem: str | None = None
    damaged_file_removed: str | None = None
    key_removed: bool = False
    # API keys still usable after the logout, the one in force first.
    keys_remaining: tuple[CredentialSource, ...] = ()


class Logout:
    """`bm cloud logout [--all]`.

    The local session is removed whatever the server answers; the outcome says whether the
    server-side revocation worked. Failures: only storage failures (the file could not be
    removed, or config.yaml could not be rewritten): StorageFailure.
    """

    def __init__(
        self,
        tokens: TokenStore,
        config: ConfigStore,
        identity: IdentityProvider,
        env: Mapping[str, str],
    ) -> None:
        self._tokens = tokens
        self._config = config
        self._identity = identity
        self._env = env

    def execute(self, remove_api_key: bool = False) -> Result[LogoutOutcome, StorageFailure]:
        damaged = None
        loaded = self._tokens.load()
        if isinstance(loaded, Failure):
            failure = loaded.failure()
            if not isinstance(failure, CorruptFile):
                return Failure(failure)
            # A damaged session cannot be revoked, but logout is how users clear it.
            damaged = failure.problem
        deleted = self._tokens.delete(self._revoke)
        if isinstance(deleted, Failure):
            return Failure(deleted.failure())
        session_removed, (revocation, problem) = deleted.unwrap()

        key_removed = False
        if remove_api_key:
            removal = self._config.update(_without_key)
            if isinstance(removal, Failure):
                return Failure(removal.failure())
            _config, key_removed = removal.unwrap()
        return Success(
            LogoutOutcome(
                session_removed=session_removed,
                revocation=revocation,
                revocation_problem=problem,
                damaged_file_removed=damaged,
                key_removed=key_removed,
                keys_remaining=self._keys_left(),
            )
        )

    def _revoke(self, session: TokenSet | None) -> tuple[Revocation, str | None]:
        # Called under the token lock, right before removal: a refresh in another process
        # cannot rotate the token between this revocation and the deletion.
        if session is None or session.refresh_token is None:
            return Revocation.NOT_NEEDED, None
        revoked = self._identity.revoke(session.refresh_token)
        if isinstance(revoked, Failure):
            return Revocation.FAILED, revoked.failure().message
        return Revocation.REVOKED, None

    def _keys_left(self) -> tuple[CredentialSource, ...]:
        left = []
        if self._env.get(API_KEY_VARIABLE, "").strip():
            left.append(CredentialSource.ENV_API_KEY)
        config = self._config.load()
        if isinstance(config, Success) and config.unwrap().cloud_api_key is not None:
            left.append(CredentialSource.CONFIG_API_KEY)
        return tuple(left)


def _without_key(config: AppConfig) -> Result[tuple[AppConfig, bool], Never]:
    """The config without its key, and whether it had one."""
    return Success((config.with_api_key(None), config.cloud_api_key is not None))
