"""Move the stored secrets (the OAuth session and the API key) to the file or keychain store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from domain.credential_store import (
    CREDENTIAL_STORE_VARIABLE,
    CredentialStore,
    Moved,
    choose_credential_store,
)

if TYPE_CHECKING:
    from domain.errors import StorageFailure
    from domain.ports import ConfigStore, TokenStore

# Told each secret's outcome as soon as it is known ("API key", Moved.MOVED), so a failure
# further on never hides what already moved.
MoveReport = Callable[[str, Moved], None]


@dataclass(frozen=True)
class MovedCredentials:
    to: CredentialStore
    # The environment still sends new secrets elsewhere: its variable, or None.
    overridden_by: str | None


class MoveCredentials:
    """The session first, then config.yaml (the key, and the choice it records last), so a
    session that cannot move leaves the choice as it was.

    Each store moves its secret under its own lock and removes the old copy only after the
    new one reads back the same, so a failure leaves every secret whole in one place.
    Failures: StorageFailure (a keychain that cannot be used among them).
    """

    def __init__(self, tokens: TokenStore, config: ConfigStore, env: Mapping[str, str]) -> None:
        self._tokens = tokens
        self._config = config
        self._env = env

    def execute(
        self, to: CredentialStore, report: MoveReport
    ) -> Result[MovedCredentials, StorageFailure]:
        for name, move in (("OAuth session", self._tokens.move), ("API key", self._config.move)):
            moved = move(to)
            if not is_successful(moved):
                return Failure(moved.failure())
            report(name, moved.unwrap())
        chosen = choose_credential_store(self._env, to.value)
        overridden = is_successful(chosen) and chosen.unwrap().store is not to
        invalid = not is_successful(chosen)
        return Success(
            MovedCredentials(to, CREDENTIAL_STORE_VARIABLE if overridden or invalid else None)
        )
