"""ShowStatus: every part of the report, offline and online, with fakes."""

from __future__ import annotations

from typing import Never

from pydantic import SecretStr
from returns.result import Failure, Success

from application.ensure_fresh_session import EnsureFreshSession
from application.show_status import ShowStatus, StatusReport
from domain.config import AppConfig, Project
from domain.credential_store import CredentialStore
from domain.credentials import CredentialSource
from domain.errors import (
    CorruptFile,
    KeychainUnavailable,
    ServiceUnreachable,
    SubscriptionRequired,
)
from domain.routing import ProjectMode, Route
from domain.session import SessionState, TokenSet
from entrypoints.presenters import status_exit_code, status_lines
from tests.fakes import (
    FakeClock,
    FakeCloudApi,
    FakeIdentityProvider,
    InMemoryConfigStore,
    InMemoryTokenStore,
    InMemoryVault,
    file_store_choice,
    fixed_store_choice,
    token_response,
)

KEY = "bmc_abcdefgh12345678"


def _status(
    session_expires_in: int | None = None,
    key: str | None = None,
    env: dict[str, str] | None = None,
    offline: bool = False,
    broken_tokens: bool = False,
) -> tuple[StatusReport, FakeCloudApi, FakeIdentityProvider]:
    clock = FakeClock()
    tokens = InMemoryTokenStore(
        None
        if session_expires_in is None
        else TokenSet(
            access_token=SecretStr("access-0"),
            refresh_token=SecretStr("refresh-0"),
            expires_at=int(clock.now()) + session_expires_in,
            email="alice@example.com",
            user_id="user_1",
        )
    )
    if broken_tokens:
        tokens.broken = CorruptFile("/x/.cloud_tokens.json", "not valid JSON")
    config = InMemoryConfigStore(
        AppConfig(
            cloud_api_key=SecretStr(key) if key else None,
            projects={"research": Project(path="/r", mode=ProjectMode.CLOUD)},
        )
    )
    identity = FakeIdentityProvider(clock)
    identity.refreshes = [Success(token_response("access-1", "refresh-1"))]
    cloud = FakeCloudApi(accepted={"access-0", "access-1", KEY})
    use_case = ShowStatus(
        config,
        tokens,
        lambda: cloud,
        clock,
        env or {},
        lambda: EnsureFreshSession(tokens, identity, clock),
        store_choice=file_store_choice,
        keychain=InMemoryVault(),
    )
    return use_case.execute(offline=offline), cloud, identity


def test_logged_out_without_key_has_no_credential() -> None:
    report, cloud, _ = _status()
    assert report.session is None
    assert report.credential is None
    assert report.cloud is None
    assert cloud.health_calls == []


def test_offline_builds_neither_the_cloud_api_nor_the_session_refresh() -> None:
    def unwanted() -> Never:
        raise AssertionError("built offline")

    report = ShowStatus(
        InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(KEY))),
        InMemoryTokenStore(),
        unwanted,
        FakeClock(),
        {},
        unwanted,
        store_choice=file_store_choice,
        keychain=InMemoryVault(),
    ).execute(offline=True)
    assert report.credential is CredentialSource.CONFIG_API_KEY


def test_offline_never_calls_the_cloud_or_refreshes() -> None:
    report, cloud, identity = _status(session_expires_in=10, offline=True)
    assert cloud.health_calls == []
    assert identity.refresh_calls == []
    assert report.session is not None
    assert report.session.state is SessionState.REFRESHABLE


def test_online_refreshes_an_expiring_session_then_checks_the_cloud_with_it() -> None:
    report, cloud, identity = _status(session_expires_in=10)
    assert identity.refresh_calls == ["refresh-0"]
    assert report.session is not None
    assert report.session.state is SessionState.VALID
    assert report.credential is CredentialSource.OAUTH_SESSION
    assert cloud.health_calls[0].secret == SecretStr("access-1")
    assert report.cloud is not None
    assert isinstance(report.cloud.result, Success)


def test_global_operations_prefer_the_session_but_projects_prefer_the_key() -> None:
    report, _, _ = _status(session_expires_in=3600, key=KEY)
    assert report.credential is CredentialSource.OAUTH_SESSION
    assert report.projects[0].route is Route.CLOUD
    assert report.projects[0].credential is CredentialSource.CONFIG_API_KEY


def test_env_key_is_in_force_over_the_config_key() -> None:
    env_key = "bmc_envenvenv87654321"
    report, _, _ = _status(key=KEY, env={"BASIC_MEMORY_CLOUD_API_KEY": env_key})
    in_force = report.key_in_force
    assert in_force is not None
    assert in_force.source is CredentialSource.ENV_API_KEY
    assert in_force.masked == "bmc_…4321"
    assert [k.source for k in report.api_keys] == [
        CredentialSource.ENV_API_KEY,
        CredentialSource.CONFIG_API_KEY,
    ]


def test_a_damaged_token_file_is_a_problem_not_a_crash() -> None:
    report, _, _ = _status(key=KEY, broken_tokens=True)
    assert report.session is None
    assert report.session_problem is not None
    assert "not valid JSON" in report.session_problem
    assert report.credential is CredentialSource.CONFIG_API_KEY
    # A working key does not hide it: the user must fix or remove the file.
    assert report.settings_problem == report.session_problem


def test_a_bad_routing_variable_is_reported_and_projects_are_skipped() -> None:
    report, _, _ = _status(key=KEY, env={"BASIC_MEMORY_FORCE_LOCAL": "sure"})
    assert report.flags is None
    assert report.flags_problem is not None
    assert "BASIC_MEMORY_FORCE_LOCAL" in report.flags_problem
    assert report.projects == ()


def test_cloud_failures_are_carried_in_the_report() -> None:
    clock = FakeClock()
    tokens = InMemoryTokenStore()
    cloud = FakeCloudApi(health_override=Failure(SubscriptionRequired("https://example.com/s")))
    use_case = ShowStatus(
        InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(KEY))),
        tokens,
        lambda: cloud,
        clock,
        {},
        lambda: EnsureFreshSession(tokens, FakeIdentityProvider(clock), clock),
        store_choice=file_store_choice,
        keychain=InMemoryVault(),
    )
    report = use_case.execute()
    assert report.cloud is not None
    assert isinstance(report.cloud.result.failure(), SubscriptionRequired)


def test_a_refresh_that_fails_on_the_network_keeps_showing_the_session() -> None:
    clock = FakeClock()
    tokens = InMemoryTokenStore(
        TokenSet(
            access_token=SecretStr("a"),
            refresh_token=SecretStr("r"),
            expires_at=int(clock.now()) + 5,
        )
    )
    identity = FakeIdentityProvider(clock)
    identity.refreshes = [Failure(ServiceUnreachable("the sign-in service", "refused"))]
    use_case = ShowStatus(
        InMemoryConfigStore(),
        tokens,
        FakeCloudApi,
        clock,
        {},
        lambda: EnsureFreshSession(tokens, identity, clock),
        store_choice=file_store_choice,
        keychain=InMemoryVault(),
    )
    report = use_case.execute()
    assert report.session is not None
    assert report.session_problem is not None
    assert "refused" in report.session_problem
    assert report.credential is None


def test_a_malformed_key_is_not_passed_over_for_the_session() -> None:
    # ObtainCredential (the library, project routing) refuses a malformed key even when a
    # session would do; status must not check the cloud, or claim it would, with the session.
    for offline in (True, False):
        report, cloud, _ = _status(
            session_expires_in=3600, env={"BASIC_MEMORY_CLOUD_API_KEY": "bmc_bad"}, offline=offline
        )
        assert report.credential is None
        assert report.credential_problem is not None
        assert "BASIC_MEMORY_CLOUD_API_KEY" in report.credential_problem
        assert cloud.health_calls == []


def _secrets_status(
    choice: CredentialStore, session_in: CredentialStore, vault: InMemoryVault
) -> StatusReport:
    clock = FakeClock()
    tokens = InMemoryTokenStore(
        TokenSet(access_token=SecretStr("a"), expires_at=int(clock.now()) + 3600)
    )
    tokens.place = session_in
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(KEY)))
    config.key_place = choice
    return ShowStatus(
        config,
        tokens,
        FakeCloudApi,
        clock,
        {},
        lambda: EnsureFreshSession(tokens, FakeIdentityProvider(clock), clock),
        store_choice=fixed_store_choice(choice),
        keychain=vault,
    ).execute(offline=True)


def test_status_says_where_the_secrets_are_and_what_is_not_there_yet() -> None:
    vault = InMemoryVault("SecretService Keyring")
    report = _secrets_status(CredentialStore.KEYRING, CredentialStore.FILE, vault)

    assert report.secrets is not None
    assert report.secrets.store is CredentialStore.KEYRING
    assert report.secrets.keychain == "SecretService Keyring"
    assert report.secrets.not_yet_moved == ("OAuth session",)
    lines = "\n".join(status_lines(report, None, "/data"))
    assert "Secrets:   system keychain (SecretService Keyring), chosen by credential_store" in lines
    assert "OAuth session is still in the other store" in lines
    assert "bm cloud credentials move --to keyring" in lines


def test_status_with_files_never_asks_the_keychain() -> None:
    vault = InMemoryVault()
    vault.unavailable = KeychainUnavailable("the keyring library is not installed")
    report = _secrets_status(CredentialStore.FILE, CredentialStore.FILE, vault)

    assert report.secrets is not None
    assert report.secrets.problem is None
    assert report.secrets.not_yet_moved == ()
    assert vault.calls == []
    assert "Secrets:   files in /data (mode 0600)" in "\n".join(status_lines(report, None, "/data"))


def test_status_reports_an_unusable_keychain_as_a_problem_to_fix() -> None:
    vault = InMemoryVault()
    vault.unavailable = KeychainUnavailable("the keychain is locked")
    report = _secrets_status(CredentialStore.KEYRING, CredentialStore.KEYRING, vault)

    assert report.secrets is not None
    assert report.secrets.problem == vault.unavailable.message
    assert report.settings_problem == vault.unavailable.message
    assert status_exit_code(report) == 1
