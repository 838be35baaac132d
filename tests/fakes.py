"""In-memory stand-ins for every port, honest enough to pass the same contract suites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import SecretStr
from returns.result import Failure, Result, Success

from domain.api_key import API_KEY_PREFIX, ApiKey, parse_api_key
from domain.config import AppConfig
from domain.credential_store import CredentialStore, Moved, StoreChoice
from domain.credentials import Credential
from domain.errors import (
    CredentialRejected,
    KeychainUnavailable,
    ProviderError,
    ServiceUnreachable,
    SessionExpired,
    StorageFailure,
    SubscriptionRequired,
    WorkspaceForbidden,
)
from domain.pkce import s256_challenge
from domain.ports import (
    BrowserUnavailable,
    CloudFailure,
    CreatedApiKey,
    DeviceAuthorization,
    HealthReport,
    OAuthCallFailure,
    PollFailure,
    RefreshFailure,
    VerificationPrompt,
)
from domain.session import TokenResponse, TokenSet
from domain.workspaces import Workspace, WorkspaceList

T = TypeVar("T")
E = TypeVar("E")


class FakeClock:
    """Wall and monotonic time that move only when told (or when the fake sleeper sleeps)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self._now = now
        self._monotonic = 1000.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._monotonic += seconds


class FakeSleeper:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.naps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.clock.advance(seconds)

    @property
    def total(self) -> float:
        return sum(self.naps)


def no_look(session: TokenSet | None) -> None:
    """A `TokenStore.delete` look that needs nothing from the session it removes."""


class InMemoryTokenStore:
    def __init__(self, tokens: TokenSet | None = None) -> None:
        self.tokens = tokens
        self.broken: StorageFailure | None = None
        # Writes fail with this while reads work (a read-only folder, a full disk); with
        # `probe_passes`, only `save` fails (the folder went read-only after the check).
        self.unwritable: StorageFailure | None = None
        self.probe_passes = False
        self.writes = 0
        self.probes = 0
        # Where the tokens are (`move` changes it), and where a write puts them.
        self.place = CredentialStore.FILE
        self.chosen = CredentialStore.FILE

    def load(self) -> Result[TokenSet | None, StorageFailure]:
        if self.broken is not None:
            return Failure(self.broken)
        return Success(self.tokens)

    def check_writable(self) -> Result[None, StorageFailure]:
        self.probes += 1
        if self.broken is not None:
            return Failure(self.broken)
        if self.unwritable is not None and not self.probe_passes:
            return Failure(self.unwritable)
        return Success(None)

    def save(self, tokens: TokenSet) -> Result[None, StorageFailure]:
        if self.broken is not None:
            return Failure(self.broken)
        if self.unwritable is not None:
            return Failure(self.unwritable)
        self.tokens = tokens
        self.place = self.chosen
        self.writes += 1
        return Success(None)

    def delete(
        self, last_look: Callable[[TokenSet | None], T]
    ) -> Result[tuple[bool, T], StorageFailure]:
        existed = self.tokens is not None or self.broken is not None
        seen = last_look(None if self.broken is not None else self.tokens)
        self.tokens = None
        self.broken = None
        return Success((existed, seen))

    def update(
        self, change: Callable[[TokenSet | None], Result[tuple[TokenSet, T], E]]
    ) -> Result[tuple[TokenSet, T], E | StorageFailure]:
        current = self.load()
        if isinstance(current, Failure):
            return Failure(current.failure())
        before = current.unwrap()
        result = change(before)
        if isinstance(result, Failure):
            return Failure(result.failure())
        answer = result.unwrap()
        if answer[0] is not before:
            self.save(answer[0])
        return Success(answer)

    def kept_in(self) -> Result[CredentialStore | None, StorageFailure]:
        if self.broken is not None:
            return Success(CredentialStore.FILE)
        return Success(self.place if self.tokens is not None else None)

    def move(self, to: CredentialStore) -> Result[Moved, StorageFailure]:
        current = self.load()
        if isinstance(current, Failure):
            return Failure(current.failure())
        if current.unwrap() is None:
            return Success(Moved.NOTHING)
        if self.place is to:
            return Success(Moved.ALREADY_THERE)
        if self.unwritable is not None:
            return Failure(self.unwritable)
        self.place = to
        self.writes += 1
        return Success(Moved.MOVED)


class InMemoryConfigStore:
    def __init__(self, config: AppConfig | None = None) -> None:
        self.config = config or AppConfig()
        self.broken: StorageFailure | None = None
        self.writes = 0
        self.key_place = CredentialStore.FILE

    def load(self) -> Result[AppConfig, StorageFailure]:
        if self.broken is not None:
            return Failure(self.broken)
        return Success(self.config)

    def update(
        self, change: Callable[[AppConfig], Result[tuple[AppConfig, T], E]]
    ) -> Result[tuple[AppConfig, T], E | StorageFailure]:
        current = self.load()
        if isinstance(current, Failure):
            return Failure(current.failure())
        before = current.unwrap()
        result = change(before)
        if isinstance(result, Failure):
            return Failure(result.failure())
        answer = result.unwrap()
        if answer[0] is not before:
            self.config = answer[0]
            self.writes += 1
        return Success(answer)

    def api_key_kept_in(self) -> Result[CredentialStore | None, StorageFailure]:
        if self.broken is not None:
            return Failure(self.broken)
        return Success(self.key_place if self.config.cloud_api_key is not None else None)

    def move(self, to: CredentialStore) -> Result[Moved, StorageFailure]:
        if self.broken is not None:
            return Failure(self.broken)
        self.config = self.config.model_copy(update={"credential_store": to.value})
        self.writes += 1
        if self.config.cloud_api_key is None:
            return Success(Moved.NOTHING)
        if self.key_place is to:
            return Success(Moved.ALREADY_THERE)
        self.key_place = to
        return Success(Moved.MOVED)


class InMemoryVault:
    """A keychain in a dict. `unavailable` makes every call fail, as a locked keychain does."""

    def __init__(self, name: str = "in-memory keychain") -> None:
        self.entries: dict[str, str] = {}
        self.unavailable: KeychainUnavailable | None = None
        self.calls: list[tuple[str, str]] = []
        self._name = name

    def read(self, name: str) -> Result[SecretStr | None, KeychainUnavailable]:
        self.calls.append(("read", name))
        if self.unavailable is not None:
            return Failure(self.unavailable)
        found = self.entries.get(name)
        return Success(SecretStr(found) if found is not None else None)

    def write(self, name: str, secret: SecretStr) -> Result[None, KeychainUnavailable]:
        self.calls.append(("write", name))
        if self.unavailable is not None:
            return Failure(self.unavailable)
        self.entries[name] = secret.get_secret_value()
        return Success(None)

    def delete(self, name: str) -> Result[bool, KeychainUnavailable]:
        self.calls.append(("delete", name))
        if self.unavailable is not None:
            return Failure(self.unavailable)
        return Success(self.entries.pop(name, None) is not None)

    def describe(self) -> Result[str, KeychainUnavailable]:
        if self.unavailable is not None:
            return Failure(self.unavailable)
        return Success(self._name)


def device_authorization(
    expires_in: int = 900, interval: int | None = 5, complete: bool = True
) -> DeviceAuthorization:
    return DeviceAuthorization(
        device_code=SecretStr("device-code-secret"),
        user_code="BCDF-GHJK",
        verification_uri="https://auth.example.com/device",
        verification_uri_complete=(
            "https://auth.example.com/device?user_code=BCDF-GHJK" if complete else None
        ),
        expires_in=expires_in,
        interval=interval,
    )


def token_response(
    access: str = "access-1", refresh: str | None = "refresh-1", expires_in: int | None = 3600
) -> TokenResponse:
    return TokenResponse(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if refresh else None,
        expires_in=expires_in,
        user_id="user_1",
        email="alice@example.com",
    )


@dataclass
class FakeIdentityProvider:
    """Answers polls from a script; each poll takes the next answer (the last one repeats).

    Like the real provider, whatever the script says: tokens come only for the verifier behind
    the last challenge, and a refresh token that was rotated away or revoked is SessionExpired.
    """

    clock: FakeClock
    start: Result[DeviceAuthorization, OAuthCallFailure] = field(
        default_factory=lambda: Success(device_authorization())
    )
    polls: list[Result[TokenResponse, PollFailure]] = field(default_factory=list)
    refreshes: list[Result[TokenResponse, RefreshFailure]] = field(default_factory=list)
    revoke_result: Result[None, OAuthCallFailure] = field(default_factory=lambda: Success(None))
    poll_times: list[float] = field(default_factory=list)
    poll_limits: list[float | None] = field(default_factory=list)
    refresh_calls: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    dead_refresh_tokens: set[str] = field(default_factory=set)
    challenges: list[str] = field(default_factory=list)
    verifiers: list[str] = field(default_factory=list)

    def start_device_authorization(
        self, code_challenge: str
    ) -> Result[DeviceAuthorization, OAuthCallFailure]:
        self.challenges.append(code_challenge)
        return self.start

    def poll_device_token(
        self, device_code: SecretStr, code_verifier: str, within: float | None = None
    ) -> Result[TokenResponse, PollFailure]:
        self.poll_times.append(self.clock.monotonic())
        self.poll_limits.append(within)
        self.verifiers.append(code_verifier)
        index = min(len(self.poll_times) - 1, len(self.polls) - 1)
        answer = self.polls[index]
        if (
            isinstance(answer, Success)
            and self.challenges
            and s256_challenge(code_verifier) != self.challenges[-1]
        ):
            return Failure(ProviderError("invalid_grant", "PKCE verification failed"))
        return answer

    def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        secret = refresh_token.get_secret_value()
        self.refresh_calls.append(secret)
        if secret in self.dead_refresh_tokens:
            return Failure(SessionExpired())
        if not self.refreshes:
            return Failure(ServiceUnreachable("the sign-in service", "not scripted"))
        answer = self.refreshes.pop(0) if len(self.refreshes) > 1 else self.refreshes[0]
        if isinstance(answer, Success):
            rotated = answer.unwrap().refresh_token
            if rotated is not None and rotated.get_secret_value() != secret:
                self.dead_refresh_tokens.add(secret)
        return answer

    def revoke(self, refresh_token: SecretStr) -> Result[None, OAuthCallFailure]:
        self.revoked.append(refresh_token.get_secret_value())
        if isinstance(self.revoke_result, Success):
            self.dead_refresh_tokens.add(refresh_token.get_secret_value())
        return self.revoke_result


def workspace(
    tenant_id: str, name: str, slug: str | None = None, kind: str = "organization"
) -> Workspace:
    return Workspace(
        tenant_id=tenant_id,
        workspace_type=kind,
        slug=slug or name.lower(),
        name=name,
        role="owner" if kind == "personal" else "member",
        is_default=kind == "personal",
        has_active_subscription=True,
    )


def one_workspace_list() -> WorkspaceList:
    return WorkspaceList((workspace("t-personal", "Personal", "me", "personal"),), "t-personal")


def two_workspace_list() -> WorkspaceList:
    return WorkspaceList(
        (workspace("t-personal", "Personal", "me", "personal"), workspace("t-acme", "Acme")),
        "t-personal",
    )


@dataclass
class FakeCloudApi:
    """Accepts the credentials in `accepted`; the health answer can be overridden.

    Like the real cloud, only an OAuth session creates keys: a `bmc_` key is refused.
    """

    accepted: set[str] = field(default_factory=set)
    health_override: Result[HealthReport, CloudFailure] | None = None
    create_override: Result[CreatedApiKey, CloudFailure] | None = None
    health_calls: list[Credential] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    # The caller's workspaces; by default one personal workspace, as a new account has.
    workspaces: WorkspaceList = field(default_factory=lambda: one_workspace_list())
    # Subscriptions per workspace: a tenant id here has none.
    unsubscribed: set[str] = field(default_factory=set)
    # The workspace each health check and key creation named (None: no header).
    workspace_calls: list[str | None] = field(default_factory=list)
    list_calls: int = 0

    def check_health(
        self, credential: Credential, workspace: str | None = None
    ) -> Result[HealthReport, CloudFailure]:
        self.health_calls.append(credential)
        self.workspace_calls.append(workspace)
        if self.health_override is not None:
            return self.health_override
        if credential.secret.get_secret_value() not in self.accepted:
            return Failure(CredentialRejected(credential.description))
        if workspace is not None and self.workspaces.find(workspace) is None:
            return Failure(WorkspaceForbidden(workspace))
        if (workspace or self.workspaces.default_workspace_id) in self.unsubscribed:
            return Failure(SubscriptionRequired("https://example.test/subscribe"))
        return Success(HealthReport(latency_ms=12.0))

    def list_workspaces(self, credential: Credential) -> Result[WorkspaceList, CloudFailure]:
        self.list_calls += 1
        if credential.secret.get_secret_value() not in self.accepted:
            return Failure(CredentialRejected(credential.description))
        return Success(self.workspaces)

    def create_api_key(
        self, access_token: SecretStr, name: str, workspace: str | None = None
    ) -> Result[CreatedApiKey, CloudFailure]:
        self.workspace_calls.append(workspace)
        if self.create_override is not None:
            return self.create_override
        token = access_token.get_secret_value()
        if token not in self.accepted or token.startswith(API_KEY_PREFIX):
            return Failure(CredentialRejected("OAuth session"))
        if workspace is not None and self.workspaces.find(workspace) is None:
            return Failure(WorkspaceForbidden(workspace))
        raw = f"bmc_created{len(self.created):04d}abcdefgh"
        self.created.append(name)
        self.accepted.add(raw)
        key: ApiKey = parse_api_key(raw).unwrap()
        return Success(CreatedApiKey(key=key, name=name, key_id=f"key_{len(self.created)}"))


@dataclass
class FakeBrowser:
    works: bool = True
    opened: list[str] = field(default_factory=list)

    def open(self, url: str) -> Result[None, BrowserUnavailable]:
        if not self.works:
            return Failure(BrowserUnavailable("no display"))
        self.opened.append(url)
        return Success(None)


@dataclass
class RecordingLoginDisplay:
    events: list[tuple[str, object]] = field(default_factory=list)

    def show_code(self, prompt: VerificationPrompt) -> None:
        self.events.append(("code", prompt))

    def browser_opened(self, url: str) -> None:
        self.events.append(("browser", url))

    def browser_unavailable(self, url: str, reason: str) -> None:
        self.events.append(("no-browser", (url, reason)))

    def countdown(self, seconds_left: float) -> None:
        self.events.append(("countdown", seconds_left))

    def retrying(self, problem: str, wait_seconds: float) -> None:
        self.events.append(("retry", (problem, wait_seconds)))

    def finish(self) -> None:
        self.events.append(("finish", None))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


def file_store_choice() -> Result[StoreChoice, StorageFailure]:
    """The default choice: secrets in files."""
    return Success(StoreChoice(CredentialStore.FILE, "default"))


def fixed_store_choice(
    store: CredentialStore, source: str = "credential_store in config.yaml"
) -> Callable[[], Result[StoreChoice, StorageFailure]]:
    return lambda: Success(StoreChoice(store, source))
