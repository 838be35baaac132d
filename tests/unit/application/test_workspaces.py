"""ListWorkspaces, UseWorkspace and ResolveWorkspace with the fakes."""

from __future__ import annotations

from pydantic import SecretStr

from application.ensure_fresh_session import EnsureFreshSession
from application.list_workspaces import ListWorkspaces
from application.obtain_credential import ObtainCredential
from application.resolve_workspace import ResolveWorkspace
from application.use_workspace import UseWorkspace
from domain.config import AppConfig
from domain.credentials import Credential, CredentialSource
from domain.errors import AmbiguousWorkspace, NoCredential
from domain.routing import ProjectMode
from domain.session import TokenSet
from domain.workspaces import WorkspaceList, WorkspaceSource, with_project_workspace
from tests.fakes import (
    FakeClock,
    FakeCloudApi,
    FakeIdentityProvider,
    InMemoryConfigStore,
    InMemoryTokenStore,
    two_workspace_list,
    workspace,
)

SESSION = TokenSet(
    access_token=SecretStr("access-0"),
    refresh_token=SecretStr("refresh-0"),
    expires_at=2_000_000_000,
    user_id="user_a",
    email="a@example.com",
)


def _parts(
    session: TokenSet | None = SESSION, config: AppConfig | None = None
) -> tuple[InMemoryConfigStore, InMemoryTokenStore, FakeCloudApi, EnsureFreshSession, FakeClock]:
    clock = FakeClock()
    tokens = InMemoryTokenStore(session)
    fresh = EnsureFreshSession(tokens, FakeIdentityProvider(clock), clock)
    cloud = FakeCloudApi(accepted={"access-0"}, workspaces=two_workspace_list())
    return InMemoryConfigStore(config or AppConfig()), tokens, cloud, fresh, clock


def _lister(
    config: InMemoryConfigStore,
    tokens: InMemoryTokenStore,
    cloud: FakeCloudApi,
    fresh: EnsureFreshSession,
    clock: FakeClock,
) -> ListWorkspaces:
    obtain = ObtainCredential(config, tokens, clock, {}, fresh)
    return ListWorkspaces(config, tokens, cloud, obtain, {})


def test_use_stores_the_choice_under_the_account() -> None:
    config, _tokens, cloud, fresh, _ = _parts()
    chosen = UseWorkspace(fresh, cloud, config).execute("acme").unwrap()
    assert chosen.workspace.tenant_id == "t-acme"
    assert config.config.extra["workspaces"] == {"user_a": "t-acme"}


def test_use_refuses_an_ambiguous_name_and_writes_nothing() -> None:
    config, _tokens, cloud, fresh, _ = _parts()
    cloud.workspaces = WorkspaceList(
        (workspace("t1", "Team", "one"), workspace("t2", "Team", "two")), "t1"
    )
    failure = UseWorkspace(fresh, cloud, config).execute("Team").failure()
    assert isinstance(failure, AmbiguousWorkspace)
    assert "one, t1" in failure.message
    assert config.config.extra == {}


def test_use_needs_the_oauth_session() -> None:
    config, _tokens, cloud, fresh, _ = _parts(session=None)
    assert UseWorkspace(fresh, cloud, config).execute("acme").failure() == NoCredential(
        "not_logged_in"
    )


def test_list_shows_account_default_and_project_workspaces() -> None:
    base = AppConfig(extra={"workspaces": {"user_a": "t-acme"}})
    base = base.with_project("notes", "/n").unwrap().with_mode("notes", ProjectMode.CLOUD).unwrap()
    base = (
        base.with_project("pinned", "/p").unwrap().with_mode("pinned", ProjectMode.CLOUD).unwrap()
    )
    base = with_project_workspace(base, "pinned", "t-personal")
    parts = _parts(config=base)
    view = _lister(*parts).execute().unwrap()
    assert view.account == "user_a"
    assert view.account_default == "t-acme"
    projects = dict(view.projects)
    assert (projects["notes"].tenant_id, projects["notes"].source) == (
        "t-acme",
        WorkspaceSource.ACCOUNT,
    )
    assert projects["pinned"].source is WorkspaceSource.PROJECT


def test_another_account_does_not_inherit_the_choice() -> None:
    other = SESSION.model_copy(update={"user_id": "user_b", "email": "b@example.com"})
    parts = _parts(session=other, config=AppConfig(extra={"workspaces": {"user_a": "t-acme"}}))
    view = _lister(*parts).execute().unwrap()
    assert view.account == "user_b"
    assert view.account_default is None


def test_resolve_asks_the_cloud_only_when_nothing_local_decides() -> None:
    config, tokens, cloud, _fresh, _ = _parts()
    credential = Credential(CredentialSource.OAUTH_SESSION, SecretStr("access-0"))
    resolver = ResolveWorkspace(tokens, cloud)
    offline, _ = resolver.execute(config.config, None, credential, online=False).unwrap()
    assert offline.tenant_id is None
    assert cloud.list_calls == 0
    online, listing = resolver.execute(config.config, None, credential).unwrap()
    assert (online.tenant_id, online.source) == ("t-personal", WorkspaceSource.CLOUD_DEFAULT)
    assert listing is not None
    assert cloud.list_calls == 1
    chosen = AppConfig(extra={"workspaces": {"user_a": "t-acme"}})
    account, _ = resolver.execute(chosen, None, credential).unwrap()
    assert account.tenant_id == "t-acme"
    assert cloud.list_calls == 1


def test_the_saved_keys_workspace_counts_only_when_that_key_is_sent() -> None:
    _config, tokens, cloud, _fresh, _ = _parts(session=None)
    cfg = AppConfig(extra={"cloud_api_key_workspace": "t-acme"})
    resolver = ResolveWorkspace(tokens, cloud)
    key = Credential(CredentialSource.CONFIG_API_KEY, SecretStr("bmc_x"))
    env_key = Credential(CredentialSource.ENV_API_KEY, SecretStr("bmc_y"))
    assert resolver.execute(cfg, "p", key, online=False).unwrap()[0].tenant_id == "t-acme"
    assert resolver.execute(cfg, "p", env_key, online=False).unwrap()[0].tenant_id is None


def test_api_key_created_in_a_workspace_records_it_beside_the_key() -> None:
    from application.create_api_key import CreateApiKey

    config, _tokens, cloud, fresh, _ = _parts()
    outcome = CreateApiKey(fresh, cloud, config).execute("ci", "acme").unwrap()
    assert cloud.workspace_calls == ["t-acme"]
    assert outcome.workspace is not None
    assert "acme" in outcome.workspace
    assert config.config.extra["cloud_api_key_workspace"] == "t-acme"
    # A key saved later forgets the old key's workspace.
    assert "cloud_api_key_workspace" not in config.config.with_api_key(None).extra
