"""Where secrets are kept: private files (the default) or the system keychain, by choice.

The choice governs where secrets are written. A secret is always read from where it is, as
the files record it (the token file and config.yaml say when theirs is in the keychain), so
changing the setting never hides a session or a key; `bm cloud credentials move` moves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import NamedTuple

from returns.result import Failure, Result, Success

from domain.errors import InvalidCredentialStore

CREDENTIAL_STORE_VARIABLE = "BASIC_MEMORY_CREDENTIAL_STORE"
CREDENTIAL_STORE_KEY = "credential_store"

# The keychain entries of one data folder: the OAuth session (a JSON document) and the key.
SESSION_SECRET = "oauth-session"
API_KEY_SECRET = "api-key"


class CredentialStore(StrEnum):
    FILE = "file"
    KEYRING = "keyring"


class StoreChoice(NamedTuple):
    """The store new secrets go to, and which setting chose it (for `bm cloud status`).

    A named tuple, not a frozen dataclass: every command imports this module, and under
    Python 3.11 a frozen dataclass costs a millisecond of start-up to build.
    """

    store: CredentialStore
    source: str


def choose_credential_store(
    env: Mapping[str, str], configured: str | None
) -> Result[StoreChoice, InvalidCredentialStore]:
    """The environment, then config.yaml, then files. Case and spaces are forgiven; an
    unknown name is refused, never read as the default (a typo must not leave secrets in a
    file that the person meant to keep in the keychain).

    >>> choose_credential_store({}, None).unwrap()
    StoreChoice(store=<CredentialStore.FILE: 'file'>, source='default')
    >>> choose_credential_store({CREDENTIAL_STORE_VARIABLE: " Keyring "}, "file").unwrap().store
    <CredentialStore.KEYRING: 'keyring'>
    >>> choose_credential_store({}, "keychain").failure().setting
    'credential_store in config.yaml'
    """
    raw = env.get(CREDENTIAL_STORE_VARIABLE, "")
    if raw.strip():
        return _parsed(raw, CREDENTIAL_STORE_VARIABLE)
    if configured is not None and configured.strip():
        return _parsed(configured, f"{CREDENTIAL_STORE_KEY} in config.yaml")
    return Success(StoreChoice(CredentialStore.FILE, "default"))


def _parsed(value: str, setting: str) -> Result[StoreChoice, InvalidCredentialStore]:
    try:
        return Success(StoreChoice(CredentialStore(value.strip().lower()), setting))
    except ValueError:
        return Failure(InvalidCredentialStore(setting, value))


class Moved(StrEnum):
    """What `bm cloud credentials move` did with one secret."""

    MOVED = "moved"
    ALREADY_THERE = "already there"
    NOTHING = "none stored"
