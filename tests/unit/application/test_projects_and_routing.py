"""Projects and routing use cases: the SPEC §5 table applied with the credential priority."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from application.add_project import AddProject
from application.ensure_fresh_session import EnsureFreshSession
from application.list_projects import ListProjects
from application.obtain_credential import ObtainCredential
from application.remove_project import RemoveProject
from application.resolve_route import ResolveRoute
from application.set_project_mode import SetProjectMode
from domain.config import AppConfig, Project
from domain.credentials import CredentialSource
from domain.errors import (
    ConflictingRouting,
    InvalidApiKey,
    InvalidBoolean,
    InvalidProjectName,
    InvalidProjectPath,
    NoCredential,
    ProjectExists,
    SessionExpired,
    UnknownProject,
)
from domain.routing import ProjectMode, Route
from domain.session import TokenSet
from tests.fakes import (
    FakeClock,
    FakeIdentityProvider,
    InMemoryConfigStore,
    InMemoryTokenStore,
    token_response,
)

KEY = "bmc_abcdefgh12345678"
ENV_KEY = "bmc_envenvenv87654321"
PROJECTS = {
    "notes": Project(path="/n", mode=ProjectMode.LOCAL),
    "research": Project(path="/r", mode=ProjectMode.CLOUD),
}


def _session(
    clock: FakeClock, expires_in: int = 3600, refresh: str | None = "refresh-0"
) -> TokenSet:
    return TokenSet(
        access_token=SecretStr("access-0"),
        refresh_token=SecretStr(refresh) if refresh else None,
        expires_at=int(clock.now()) + expires_in,
    )


class Setup:
    def __init__(
        self, key: str | None = None, session: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.clock = FakeClock()
        self.config = InMemoryConfigStore(
            AppConfig(cloud_api_key=SecretStr(key) if key else None, projects=dict(PROJECTS))
        )
        self.tokens = InMemoryTokenStore(_session(self.clock) if session else None)
        self.identity = FakeIdentityProvider(self.clock)
        self.env = env or {}
        self.fresh = EnsureFreshSession(self.tokens, self.identity, self.clock)

    def resolve(self, project: str):  # type: ignore[no-untyped-def]
        credentials = ObtainCredential(self.config, self.tokens, self.clock, self.env, self.fresh)
        return ResolveRoute(self.config, self.env, credentials).execute(project)


ON = "true"


@pytest.mark.parametrize(
    ("env", "project", "route"),
    [
        ({}, "notes", Route.LOCAL),
        ({}, "research", Route.CLOUD),
        ({}, "unknown", Route.LOCAL),
        ({"BASIC_MEMORY_FORCE_LOCAL": ON}, "research", Route.LOCAL),
        ({"BASIC_MEMORY_FORCE_CLOUD": ON}, "notes", Route.CLOUD),
        ({"BASIC_MEMORY_FORCE_CLOUD": ON}, "unknown", Route.CLOUD),
        ({"BASIC_MEMORY_EXPLICIT_ROUTING": ON}, "research", Route.LOCAL),
        (
            {"BASIC_MEMORY_FORCE_CLOUD": ON, "BASIC_MEMORY_EXPLICIT_ROUTING": ON},
            "notes",
            Route.CLOUD,
        ),
        (
            {"BASIC_MEMORY_FORCE_LOCAL": ON, "BASIC_MEMORY_EXPLICIT_ROUTING": ON},
            "research",
            Route.LOCAL,
        ),
    ],
)
def test_routing_table(env: dict[str, str], project: str, route: Route) -> None:
    setup = Setup(key=KEY, env=env)
    assert setup.resolve(project).unwrap().route is route


def test_conflicting_force_variables_are_an_error() -> None:
    setup = Setup(key=KEY, env={"BASIC_MEMORY_FORCE_LOCAL": "1", "BASIC_MEMORY_FORCE_CLOUD": "yes"})
    assert setup.resolve("notes").failure() == ConflictingRouting()


def test_a_bad_boolean_names_the_variable() -> None:
    setup = Setup(env={"BASIC_MEMORY_FORCE_CLOUD": "maybe"})
    assert setup.resolve("notes").failure() == InvalidBoolean("BASIC_MEMORY_FORCE_CLOUD", "maybe")


@pytest.mark.parametrize(
    ("key", "session", "env", "source"),
    [
        (KEY, True, {}, CredentialSource.CONFIG_API_KEY),
        (KEY, True, {"BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY}, CredentialSource.ENV_API_KEY),
        (None, True, {}, CredentialSource.OAUTH_SESSION),
        (None, False, {"BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY}, CredentialSource.ENV_API_KEY),
    ],
    ids=["config-key-beats-session", "env-key-beats-config", "session-fallback", "env-only"],
)
def test_cloud_routes_use_the_api_key_first(
    key: str | None, session: bool, env: dict[str, str], source: CredentialSource
) -> None:
    setup = Setup(key=key, session=session, env=env)
    resolved = setup.resolve("research").unwrap()
    assert resolved.credential is not None
    assert resolved.credential.source is source


def test_a_cloud_route_without_credentials_names_the_project() -> None:
    setup = Setup()
    assert setup.resolve("research").failure() == NoCredential("project", "research")


def test_a_malformed_env_key_is_reported_not_skipped() -> None:
    setup = Setup(key=KEY, env={"BASIC_MEMORY_CLOUD_API_KEY": "nope"})
    failure = setup.resolve("research").failure()
    assert isinstance(failure, InvalidApiKey)
    assert "BASIC_MEMORY_CLOUD_API_KEY" in failure.message


def test_an_expiring_session_is_refreshed_for_a_cloud_route() -> None:
    setup = Setup()
    setup.tokens.tokens = _session(setup.clock, expires_in=10)
    setup.identity.refreshes = [Success(token_response("access-1", "refresh-1"))]
    resolved = setup.resolve("research").unwrap()
    assert resolved.credential is not None
    assert resolved.credential.secret == SecretStr("access-1")


def test_a_dead_session_is_reported_for_a_cloud_route() -> None:
    setup = Setup()
    setup.tokens.tokens = _session(setup.clock, expires_in=10)
    setup.identity.refreshes = [Failure(SessionExpired())]
    assert setup.resolve("research").failure() == SessionExpired()


# What Python makes of `bm project add x $'\xff\xfe'`: bytes that are not UTF-8 become lone
# surrogates, which no UTF-8 file can hold.
NOT_UTF8 = b"/tmp/\xff\xfe".decode("utf-8", "surrogateescape")


def test_a_path_that_is_not_utf8_is_refused_before_the_file_is_touched() -> None:
    setup = Setup()

    assert AddProject(setup.config).execute("docs", NOT_UTF8).failure() == InvalidProjectPath()
    assert setup.config.writes == 0


def test_a_name_that_is_not_utf8_is_an_invalid_name() -> None:
    setup = Setup()
    name = b"\xff\xfe".decode("utf-8", "surrogateescape")

    assert AddProject(setup.config).execute(name, "/d").failure() == InvalidProjectName(name)
    assert setup.config.writes == 0


def test_add_list_remove() -> None:
    setup = Setup()
    AddProject(setup.config).execute("docs", "/d").unwrap()
    assert AddProject(setup.config).execute("docs", "/d2").failure() == ProjectExists("docs", "/d")
    routes = ListProjects(setup.config, setup.tokens, setup.clock, setup.env).execute().unwrap()
    assert [(r.name, r.route) for r in routes] == [
        ("docs", Route.LOCAL),
        ("notes", Route.LOCAL),
        ("research", Route.CLOUD),
    ]
    assert routes[2].problem is not None  # cloud without any credential
    RemoveProject(setup.config).execute("docs").unwrap()
    failure = RemoveProject(setup.config).execute("docs").failure()
    assert failure == UnknownProject("docs", ("notes", "research"))


def test_set_cloud_needs_a_credential_and_writes_nothing_without_one() -> None:
    setup = Setup()
    before = setup.config.config
    result = SetProjectMode(setup.config, setup.tokens, setup.clock, {}).execute(
        "notes", ProjectMode.CLOUD
    )
    assert result.failure() == NoCredential("project", "notes")
    assert setup.config.config is before


def test_set_cloud_says_which_credential_will_be_used() -> None:
    setup = Setup(session=True)
    changed = (
        SetProjectMode(setup.config, setup.tokens, setup.clock, {})
        .execute("notes", ProjectMode.CLOUD)
        .unwrap()
    )
    assert changed.credential is not None
    assert changed.credential.source is CredentialSource.OAUTH_SESSION
    assert setup.config.config.projects["notes"].mode is ProjectMode.CLOUD


def test_set_local_needs_no_credential_and_reports_a_forced_route() -> None:
    setup = Setup(env={"BASIC_MEMORY_FORCE_CLOUD": "on"}, key=KEY)
    changed = (
        SetProjectMode(setup.config, setup.tokens, setup.clock, setup.env)
        .execute("research", ProjectMode.LOCAL)
        .unwrap()
    )
    assert setup.config.config.projects["research"].mode is ProjectMode.LOCAL
    assert changed.effective.route is Route.CLOUD


def test_set_mode_on_an_unknown_project_lists_the_known_ones() -> None:
    setup = Setup(key=KEY)
    failure = (
        SetProjectMode(setup.config, setup.tokens, setup.clock, {})
        .execute("nope", ProjectMode.CLOUD)
        .failure()
    )
    assert failure == UnknownProject("nope", ("notes", "research"))
