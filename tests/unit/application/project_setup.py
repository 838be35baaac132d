"""A config with a local and a cloud project, an empty session store and the fakes around them:
the world the project and routing use-case tests start from."""

from __future__ import annotations

from pydantic import SecretStr

from application.ensure_fresh_session import EnsureFreshSession
from application.obtain_credential import ObtainCredential
from application.resolve_route import ResolveRoute
from domain.config import AppConfig, Project
from domain.routing import ProjectMode
from domain.session import TokenSet
from tests.fakes import FakeClock, FakeIdentityProvider, InMemoryConfigStore, InMemoryTokenStore

KEY = "bmc_abcdefgh12345678"
ENV_KEY = "bmc_envenvenv87654321"
PROJECTS = {
    "notes": Project(path="/n", mode=ProjectMode.LOCAL),
    "research": Project(path="/r", mode=ProjectMode.CLOUD),
}


def stored_session(
    clock: FakeClock, expires_in: int = 3600, refresh: str | None = "refresh-0"
) -> TokenSet:
    return TokenSet(
        access_token=SecretStr("access-0"),
        refresh_token=SecretStr(refresh) if refresh else None,
        expires_at=int(clock.now()) + expires_in,
    )


class Setup:
    """The stores and fakes a test arranges; `resolve` runs ResolveRoute over them."""

    def __init__(
        self, key: str | None = None, session: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.clock = FakeClock()
        self.config = InMemoryConfigStore(
            AppConfig(cloud_api_key=SecretStr(key) if key else None, projects=dict(PROJECTS))
        )
        self.tokens = InMemoryTokenStore(stored_session(self.clock) if session else None)
        self.identity = FakeIdentityProvider(self.clock)
        self.env = env or {}
        self.fresh = EnsureFreshSession(self.tokens, self.identity, self.clock)

    def resolve(self, project: str):  # type: ignore[no-untyped-def]
        credentials = ObtainCredential(self.config, self.tokens, self.clock, self.env, self.fresh)
        return ResolveRoute(self.config, self.env, credentials).execute(project)
