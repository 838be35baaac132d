"""`bm cloud status`: who is signed in, which key is in force, how projects route, and
whether the cloud answers; everything a person needs to debug their setup in one report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from returns.result import Failure, Success

from application.credentials_on_hand import config_api_key, env_api_key
from application.resolve_workspace import local_choices, with_workspaces
from domain.api_key import ApiKey, mask_api_key
from domain.config import AppConfig
from domain.credential_store import CredentialStore
from domain.credentials import (
    AvailableCredentials,
    Credential,
    CredentialSource,
    for_global_operations,
)
from domain.errors import MalformedResponse, ServerError, ServiceUnreachable
from domain.routing import ProjectRoute, Route, RoutingFlags, all_routes, routing_flags

if TYPE_CHECKING:
    from collections.abc import Callable

    from returns.result import Result

    from application.ensure_fresh_session import EnsureFreshSession, FreshSessionFailure
    from domain.credential_store import StoreChoice
    from domain.errors import StorageFailure
    from domain.ports import (
        Clock,
        CloudApi,
        CloudFailure,
        ConfigStore,
        HealthReport,
        SecretVault,
        TokenStore,
    )
    from domain.session import SessionState, TokenSet
    from domain.workspaces import WorkspaceList


@dataclass(frozen=True)
class SessionView:
    state: SessionState
    email: str | None
    user_id: str | None
    expires_at: int
    seconds_left: int
    can_refresh: bool


@dataclass(frozen=True)
class KeyView:
    masked: str
    source: CredentialSource
    problem: str | None = None


@dataclass(frozen=True)
class CloudView:
    credential: CredentialSource
    result: Result[HealthReport, CloudFailure]


class SecretsView(NamedTuple):
    """Where the secrets are kept: the chosen store and what chose it, where the session and
    the key are now (None: none stored, or unknown when `problem` says why), the keychain."""

    store: CredentialStore | None
    chosen_by: str | None
    session_in: CredentialStore | None
    api_key_in: CredentialStore | None
    keychain: str | None = None
    problem: str | None = None

    @property
    def not_yet_moved(self) -> tuple[str, ...]:
        """Secrets stored elsewhere than the chosen store (moved when next written)."""
        return tuple(
            name
            for name, place in (("OAuth session", self.session_in), ("API key", self.api_key_in))
            if place is not None and self.store is not None and place is not self.store
        )


@dataclass(frozen=True)
class StatusReport:
    session: SessionView | None
    session_problem: str | None
    # The token file could not be read (damaged, a symbolic link, unreadable): unlike a
    # failed refresh, only the user can fix it.
    token_file_problem: str | None
    # Why the session could not be refreshed, when that was tried and failed.
    refresh_failure: FreshSessionFailure | None
    api_keys: tuple[KeyView, ...]
    flags: RoutingFlags | None
    flags_problem: str | None
    projects: tuple[ProjectRoute, ...]
    config_problem: str | None
    credential: CredentialSource | None
    credential_problem: str | None
    cloud: CloudView | None
    checked_online: bool
    # Workspaces: the signed-in account, the default it chose (None: none), and the cloud's
    # list when it was asked (None offline, or when it failed: `workspaces_problem`).
    account: str | None = None
    account_workspace: str | None = None
    workspaces: WorkspaceList | None = None
    workspaces_problem: str | None = None
    secrets: SecretsView | None = None

    @property
    def settings_problem(self) -> str | None:
        """A damaged config.yaml or token file, a bad routing variable or a malformed key: the
        user must act."""
        key_problem = next((key.problem for key in self.api_keys if key.problem), None)
        store_problem = self.secrets.problem if self.secrets else None
        return (
            self.config_problem
            or self.token_file_problem
            or self.flags_problem
            or key_problem
            or store_problem
        )

    @property
    def key_in_force(self) -> KeyView | None:
        usable = [key for key in self.api_keys if key.problem is None]
        return usable[0] if usable else None


class ShowStatus:
    """Never fails as a whole: every problem is reported in its part of the report.

    Online, the session is refreshed if it is about to expire (that is a global operation,
    so it uses the OAuth session first, then the API key) and the cloud is asked once.
    `cloud` and `fresh_session` give the network side and are called only online, so an
    offline report never builds the HTTP adapters (start-up time).
    """

    def __init__(
        self,
        config: ConfigStore,
        tokens: TokenStore,
        cloud: Callable[[], CloudApi],
        clock: Clock,
        env: Mapping[str, str],
        fresh_session: Callable[[], EnsureFreshSession],
        store_choice: Callable[[], Result[StoreChoice, StorageFailure]],
        keychain: SecretVault,
    ) -> None:
        self._store_choice = store_choice
        self._keychain = keychain
        self._config = config
        self._tokens = tokens
        self._cloud = cloud
        self._clock = clock
        self._env = env
        self._fresh_session = fresh_session

    def execute(self, offline: bool = False) -> StatusReport:
        now = self._clock.now()
        session, session_problem = self._session()
        token_file_problem = session_problem
        refresh_failure: FreshSessionFailure | None = None
        config, config_problem = self._load_config()
        keys, env_key, stored_key = self._keys(config)
        flags_result = routing_flags(self._env)
        flags = flags_result.value_or(None)
        flags_problem = (
            flags_result.failure().message if isinstance(flags_result, Failure) else None
        )

        if (
            not offline
            and session is not None
            and not session.is_valid(now)
            and session.can_refresh
        ):
            refreshed = self._fresh_session().execute()
            if isinstance(refreshed, Success):
                session = refreshed.unwrap()
            else:
                refresh_failure = refreshed.failure()
                session_problem = refresh_failure.message
            now = self._clock.now()

        # A session whose refresh just failed is shown, but not offered as a credential.
        usable_session = session if session_problem is None else None
        available = AvailableCredentials(
            env_api_key=env_key, config_api_key=stored_key, session=usable_session
        )
        projects = all_routes(config, flags, available, now) if flags is not None else ()
        key_problem = next((key.problem for key in keys if key.problem), None)
        if key_problem is not None:
            # Commands that route refuse a malformed key rather than skip it; say the same.
            projects = tuple(
                replace(route, credential=None, problem=key_problem)
                if route.route is Route.CLOUD
                else route
                for route in projects
            )
        chosen = for_global_operations(available, now)
        credential: Credential | None = chosen.value_or(None)
        credential_problem = chosen.failure().message if isinstance(chosen, Failure) else None
        if key_problem is not None:
            # Every command that sends a credential refuses a malformed key (ObtainCredential
            # stops at it even when a session would do): status must not claim otherwise.
            credential, credential_problem = None, key_problem
        choices = local_choices(config, self._tokens, None, None)
        account = choices.unwrap() if isinstance(choices, Success) else None
        account_workspace = account.account if account else None
        cloud = None
        listing: WorkspaceList | None = None
        workspaces_problem = None if offline else "not asked: no usable credential"
        if not offline and credential is not None:
            # The account's chosen workspace is where its global calls go; else the cloud's.
            cloud_api = self._cloud()
            health = cloud_api.check_health(credential, account_workspace)
            cloud = CloudView(credential.source, health)
            if isinstance(health, Failure) and isinstance(
                health.failure(), ServiceUnreachable | ServerError | MalformedResponse
            ):
                # One deadline per status, not two: a cloud that did not answer is not asked again.
                workspaces_problem = "the cloud did not answer (see Cloud)"
            else:
                listed = cloud_api.list_workspaces(credential)
                listing = listed.value_or(None)
                workspaces_problem = (
                    listed.failure().message if isinstance(listed, Failure) else None
                )
        projects = with_workspaces(
            projects,
            config,
            self._tokens,
            listing,
            "offline: the cloud's list is needed"
            if offline
            else f"the cloud's list could not be read: {workspaces_problem}",
        )
        return StatusReport(
            session=_view(session, now) if session else None,
            session_problem=session_problem,
            token_file_problem=token_file_problem,
            refresh_failure=refresh_failure,
            api_keys=keys,
            flags=flags,
            flags_problem=flags_problem,
            projects=projects,
            config_problem=config_problem,
            credential=credential.source if credential else None,
            credential_problem=credential_problem,
            cloud=cloud,
            checked_online=not offline,
            account=account.account_name if account else None,
            account_workspace=account_workspace,
            workspaces=listing,
            workspaces_problem=workspaces_problem,
            secrets=self._secrets(),
        )

    def _secrets(self) -> SecretsView:
        session_in = self._tokens.kept_in().value_or(None)
        api_key_in = self._config.api_key_kept_in().value_or(None)
        chosen = self._store_choice()
        if isinstance(chosen, Failure):
            return SecretsView(None, None, session_in, api_key_in, problem=chosen.failure().message)
        choice = chosen.unwrap()
        keychain, problem = None, None
        # The keychain is asked only when something involves it: people who keep their
        # secrets in files never load the keyring library.
        if CredentialStore.KEYRING in (choice.store, session_in, api_key_in):
            described = self._keychain.describe()
            keychain = described.value_or(None)
            problem = described.failure().message if isinstance(described, Failure) else None
        return SecretsView(choice.store, choice.source, session_in, api_key_in, keychain, problem)

    def _session(self) -> tuple[TokenSet | None, str | None]:
        loaded = self._tokens.load()
        if isinstance(loaded, Failure):
            return None, loaded.failure().message
        return loaded.unwrap(), None

    def _load_config(self) -> tuple[AppConfig, str | None]:
        loaded = self._config.load()
        if isinstance(loaded, Failure):
            return AppConfig(), loaded.failure().message
        return loaded.unwrap(), None

    def _keys(self, config: AppConfig) -> tuple[tuple[KeyView, ...], ApiKey | None, ApiKey | None]:
        views: list[KeyView] = []
        found: list[ApiKey | None] = []
        for source, result, raw in (
            (
                CredentialSource.ENV_API_KEY,
                env_api_key(self._env),
                self._env.get(CredentialSource.ENV_API_KEY.value),
            ),
            (
                CredentialSource.CONFIG_API_KEY,
                config_api_key(config),
                config.cloud_api_key.get_secret_value() if config.cloud_api_key else None,
            ),
        ):
            if isinstance(result, Failure):
                views.append(KeyView(mask_api_key(raw or ""), source, result.failure().message))
                found.append(None)
                continue
            key = result.unwrap()
            found.append(key)
            if key is not None:
                views.append(KeyView(key.masked, source))
        return tuple(views), found[0], found[1]


def _view(session: TokenSet, now: float) -> SessionView:
    return SessionView(
        state=session.state(now),
        email=session.email,
        user_id=session.user_id,
        expires_at=session.expires_at,
        seconds_left=session.seconds_left(now),
        can_refresh=session.can_refresh,
    )
