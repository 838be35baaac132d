"""The ports: what the use cases need from the outside world, named by capability.

Every port reports expected failures as `returns` results carrying the failure values of
`domain.errors`; an adapter that lets a library exception escape has a bug.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from domain.errors import (
    AccessDenied,
    CredentialRejected,
    DeviceCodeExpired,
    KeychainUnavailable,
    MalformedResponse,
    NetworkFailure,
    ProviderError,
    SessionExpired,
    StorageFailure,
    SubscriptionRequired,
    WorkspaceForbidden,
)
from domain.polling import PollOutcome

if TYPE_CHECKING:
    from pydantic import SecretStr
    from returns.result import Result

    from domain.api_key import ApiKey
    from domain.config import AppConfig
    from domain.credential_store import CredentialStore, Moved
    from domain.credentials import Credential
    from domain.session import TokenResponse, TokenSet
    from domain.workspaces import WorkspaceList

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class DeviceAuthorization:
    """RFC 8628 §3.2 response; the device code is a secret and is never shown."""

    device_code: SecretStr
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int | None = None
    verification_uri_complete: str | None = None

    @property
    def url_to_open(self) -> str:
        return self.verification_uri_complete or self.verification_uri


@dataclass(frozen=True)
class VerificationPrompt:
    """What the person needs to approve a device flow, and nothing secret: no device code.

    `expires_in` is how long this login waits (the code's life, at most 10 minutes) and
    `interval` the seconds between polls, so a program relaying the prompt knows both.
    """

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


@dataclass(frozen=True)
class HealthReport:
    latency_ms: float


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKey
    name: str
    key_id: str | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class BrowserUnavailable:
    reason: str


# Starting a device flow or revoking a token: the network, or an OAuth error answer.
OAuthCallFailure = NetworkFailure | ProviderError
# A poll that did not return tokens: one that allows another, or one that ends the flow.
PollFailure = PollOutcome | AccessDenied | DeviceCodeExpired | ProviderError | MalformedResponse
RefreshFailure = SessionExpired | ProviderError | NetworkFailure
CloudFailure = CredentialRejected | SubscriptionRequired | WorkspaceForbidden | NetworkFailure


class Clock(Protocol):
    """Wall time for expiry, monotonic time for deadlines."""

    def now(self) -> float: ...

    def monotonic(self) -> float: ...


class Sleeper(Protocol):
    def sleep(self, seconds: float) -> None: ...


class TokenStore(Protocol):
    """`.cloud_tokens.json`. A missing file loads as None; a damaged one is a failure.

    The tokens themselves are in the file, or in the system keychain when the file says so
    (`credential_store`); every write puts them where the chosen store says.
    """

    def load(self) -> Result[TokenSet | None, StorageFailure]: ...

    def save(self, tokens: TokenSet) -> Result[None, StorageFailure]: ...

    def check_writable(self) -> Result[None, StorageFailure]:
        """Whether `save` could write now (the folder takes a new file); changes nothing.

        Login asks before the device flow, so a read-only folder fails before a code is shown
        rather than after the person approved a session that then cannot be kept.
        """
        ...

    def delete(
        self, last_look: Callable[[TokenSet | None], T]
    ) -> Result[tuple[bool, T], StorageFailure]:
        """Remove the session, even a damaged one: (removed anything, what `last_look` said).

        `last_look` sees the session (None if absent or damaged) under the lock, just before
        removal, so no refresh can rotate it in between (logout revokes it there).
        """
        ...

    def update(
        self, change: Callable[[TokenSet | None], Result[tuple[TokenSet, T], E]]
    ) -> Result[tuple[TokenSet, T], E | StorageFailure]:
        """Under the cross-process lock: re-read, apply `change`, save the session it returns;
        the answer is the session and what the change found.

        Nothing is written when `change` fails or returns the session it was given.
        """
        ...

    def kept_in(self) -> Result[CredentialStore | None, StorageFailure]:
        """Where the session's tokens are now (None: no session), from the file alone."""
        ...

    def move(self, to: CredentialStore) -> Result[Moved, StorageFailure]:
        """Put the session's tokens in `to`; the old copy goes only after the new one reads
        back the same, so a failure at any step leaves a whole session where it was."""
        ...


class SecretVault(Protocol):
    """The system keychain (macOS Keychain, Windows Credential Manager, the Secret Service):
    named secrets of one data folder. Each call answers within a few seconds or fails; a
    locked or absent keychain is a failure, never an empty answer."""

    def read(self, name: str) -> Result[SecretStr | None, KeychainUnavailable]:
        """The secret, or None when there is no entry of that name."""
        ...

    def write(self, name: str, secret: SecretStr) -> Result[None, KeychainUnavailable]: ...

    def delete(self, name: str) -> Result[bool, KeychainUnavailable]:
        """Whether an entry was removed (False: there was none)."""
        ...

    def describe(self) -> Result[str, KeychainUnavailable]:
        """The keychain in use, for `bm cloud status` (e.g. "SecretService Keyring")."""
        ...


class ConfigStore(Protocol):
    """`config.yaml`. A missing file loads as an empty config; a damaged one is a failure."""

    def load(self) -> Result[AppConfig, StorageFailure]: ...

    def update(
        self, change: Callable[[AppConfig], Result[tuple[AppConfig, T], E]]
    ) -> Result[tuple[AppConfig, T], E | StorageFailure]:
        """Under the cross-process lock: re-read, apply `change`, write the config it returns
        atomically; the answer is the config and what the change found.

        When `change` fails the file is left byte for byte as it was. A changed API key is
        written where the chosen store says; other changes leave it where it is.
        """
        ...

    def api_key_kept_in(self) -> Result[CredentialStore | None, StorageFailure]:
        """Where the API key is now (None: no key), from config.yaml alone."""
        ...

    def move(self, to: CredentialStore) -> Result[Moved, StorageFailure]:
        """Record `credential_store: to` in config.yaml and put the API key there; the old
        copy goes only after the new one reads back the same."""
        ...


class IdentityProvider(Protocol):
    """WorkOS AuthKit's OAuth endpoints (device authorization, token, revoke)."""

    def start_device_authorization(
        self, code_challenge: str
    ) -> Result[DeviceAuthorization, OAuthCallFailure]: ...

    def poll_device_token(
        self, device_code: SecretStr, code_verifier: str, within: float | None = None
    ) -> Result[TokenResponse, PollFailure]:
        """One poll; an answer not complete `within` seconds (the flow's time left) is a
        ServiceUnreachable, so a slow server cannot hold the flow past its deadline."""
        ...

    def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        """`invalid_grant` comes back as SessionExpired."""
        ...

    def revoke(self, refresh_token: SecretStr) -> Result[None, OAuthCallFailure]: ...


class CloudApi(Protocol):
    """The Basic Memory Cloud API."""

    def check_health(
        self, credential: Credential, workspace: str | None = None
    ) -> Result[HealthReport, CloudFailure]:
        """`workspace` (a tenant id) goes out as `X-Workspace-ID`; a workspace the caller is
        not a member of comes back as WorkspaceForbidden."""
        ...

    def create_api_key(
        self, access_token: SecretStr, name: str, workspace: str | None = None
    ) -> Result[CreatedApiKey, CloudFailure]: ...

    def list_workspaces(self, credential: Credential) -> Result[WorkspaceList, CloudFailure]:
        """`GET /workspaces/`: the caller's workspaces and the cloud's default."""
        ...


class Browser(Protocol):
    def open(self, url: str) -> Result[None, BrowserUnavailable]: ...


class LoginDisplay(Protocol):
    """What the person sees while the device flow runs (stderr on the CLI)."""

    def show_code(self, prompt: VerificationPrompt) -> None: ...

    def browser_opened(self, url: str) -> None: ...

    def browser_unavailable(self, url: str, reason: str) -> None: ...

    def countdown(self, seconds_left: float) -> None: ...

    def retrying(self, problem: str, wait_seconds: float) -> None: ...

    def finish(self) -> None: ...


# -- for callers on an event loop (the library's async auth) ---------------------------------


class AsyncTokenStore(Protocol):
    """`TokenStore` for a caller on an event loop: the same file, lock and answers, and the
    loop never waits on a file or a lock (the adapter waits in a worker thread)."""

    async def load(self) -> Result[TokenSet | None, StorageFailure]: ...

    async def update(
        self, change: Callable[[TokenSet | None], Awaitable[Result[TokenSet, E]]]
    ) -> Result[TokenSet, E | StorageFailure]:
        """As `TokenStore.update`, the change awaited on the caller's loop while the
        cross-process lock is held, so processes and tasks refresh once between them."""
        ...


class AsyncIdentityProvider(Protocol):
    """The refresh grant over an asynchronous HTTP client."""

    async def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        """As `IdentityProvider.refresh`: `invalid_grant` comes back as SessionExpired."""
        ...


class Offload(Protocol):
    """Runs blocking work (files, locks) in a worker thread, so an event loop stays free."""

    async def __call__(self, work: Callable[[], T]) -> T: ...
