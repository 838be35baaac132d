"""Workspaces (cloud tenants): the cloud's list, choosing one by name, and which one a project uses.

Which workspace a project's cloud calls carry (`X-Workspace-ID`), as numbered rules:

1. The project's own workspace (`bm project set-cloud NAME --workspace W`).
2. The workspace of the API key the project sends, when `bm cloud api-key create --workspace`
   made it there (a key minted in a workspace works there).
3. The default workspace the signed-in account chose (`bm cloud workspace use`); a choice
   belongs to the account that made it, so another account never inherits it.
4. The only workspace, when the account has exactly one.
5. The cloud's own `default_workspace_id`.

Rules 4 and 5 need the cloud's list: offline, the workspace is unknown (and said so).
Where the choices live in config.yaml: `workspaces: {<account>: <tenant_id>}` at the top,
`workspace: <tenant_id>` in a project's entry, `cloud_api_key_workspace: <tenant_id>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from returns.result import Failure, Result, Success

from domain.errors import AmbiguousWorkspace, CorruptFile, UnknownWorkspace

if TYPE_CHECKING:
    from domain.config import AppConfig

WORKSPACE_HEADER = "X-Workspace-ID"
ACCOUNT_CHOICES_KEY = "workspaces"
PROJECT_WORKSPACE_KEY = "workspace"
API_KEY_WORKSPACE_KEY = "cloud_api_key_workspace"
CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class Workspace:
    """One entry of `GET /workspaces/`."""

    tenant_id: str
    workspace_type: str
    slug: str
    name: str
    role: str
    is_default: bool = False
    organization_id: str | None = None
    has_active_subscription: bool = False

    @property
    def label(self) -> str:
        """How messages name it.

        >>> Workspace("t1", "personal", "me", "Me", "owner").label
        "'Me' (me, t1)"
        """
        return f"'{self.name}' ({self.slug}, {self.tenant_id})"


@dataclass(frozen=True)
class WorkspaceList:
    workspaces: tuple[Workspace, ...]
    default_workspace_id: str | None = None
    current_workspace_id: str | None = None

    def find(self, tenant_id: str | None) -> Workspace | None:
        return next((w for w in self.workspaces if w.tenant_id == tenant_id), None)


class WorkspaceSource(StrEnum):
    PROJECT = "project setting"
    API_KEY = "API key's workspace"
    ACCOUNT = "account default"
    ONLY = "only workspace"
    CLOUD_DEFAULT = "cloud default"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ResolvedWorkspace:
    """The workspace a project's calls carry and which rule chose it; `tenant_id` is None when
    it is unknown (offline, or the cloud's list could not be read: `note` says why)."""

    tenant_id: str | None
    source: WorkspaceSource
    note: str | None = None

    def describe(self, listing: WorkspaceList | None = None) -> str:
        """
        >>> ResolvedWorkspace("t1", WorkspaceSource.ACCOUNT).describe()
        't1 (account default)'
        >>> ResolvedWorkspace(None, WorkspaceSource.UNKNOWN, "offline").describe()
        'unknown (offline)'
        """
        if self.tenant_id is None:
            return f"unknown ({self.note})" if self.note else "unknown"
        found = listing.find(self.tenant_id) if listing else None
        name = f"{found.name} [{self.tenant_id}]" if found else self.tenant_id
        return f"{name} ({self.source.value})"


def resolve_workspace(
    project_workspace: str | None,
    key_workspace: str | None,
    account_workspace: str | None,
    listing: WorkspaceList | None,
    unknown_because: str = "offline: the cloud's list is needed",
) -> ResolvedWorkspace:
    """Apply the rules of this module's docstring, in order.

    >>> resolve_workspace("p", "k", "a", None).source.value
    'project setting'
    >>> resolve_workspace(None, None, None, None).tenant_id is None
    True
    """
    if project_workspace:
        return ResolvedWorkspace(project_workspace, WorkspaceSource.PROJECT)
    if key_workspace:
        return ResolvedWorkspace(key_workspace, WorkspaceSource.API_KEY)
    if account_workspace:
        return ResolvedWorkspace(account_workspace, WorkspaceSource.ACCOUNT)
    if listing is None:
        return ResolvedWorkspace(None, WorkspaceSource.UNKNOWN, unknown_because)
    if len(listing.workspaces) == 1:
        return ResolvedWorkspace(listing.workspaces[0].tenant_id, WorkspaceSource.ONLY)
    if listing.default_workspace_id:
        return ResolvedWorkspace(listing.default_workspace_id, WorkspaceSource.CLOUD_DEFAULT)
    return ResolvedWorkspace(None, WorkspaceSource.UNKNOWN, "the cloud names no default workspace")


def match_workspace(
    listing: WorkspaceList, wanted: str
) -> Result[Workspace, UnknownWorkspace | AmbiguousWorkspace]:
    """A workspace by id, else slug, else name (case-insensitive); several matches are refused
    with the choices rather than guessed.

    >>> two = WorkspaceList((Workspace("t1", "personal", "me", "Team", "owner"),
    ...                      Workspace("t2", "organization", "acme", "Team", "member")))
    >>> match_workspace(two, "acme").unwrap().tenant_id
    't2'
    >>> match_workspace(two, "team").failure().choices
    ("'Team' (me, t1)", "'Team' (acme, t2)")
    """
    text = wanted.strip()
    folded = text.casefold()
    for matches in (
        [w for w in listing.workspaces if w.tenant_id == text],
        [w for w in listing.workspaces if w.slug.casefold() == folded],
        [w for w in listing.workspaces if w.name.casefold() == folded],
    ):
        if len(matches) == 1:
            return Success(matches[0])
        if matches:
            return Failure(AmbiguousWorkspace(text, tuple(w.label for w in matches)))
    return Failure(UnknownWorkspace(text, tuple(w.label for w in listing.workspaces)))


# -- the choices in config.yaml ---------------------------------------------------------------


def account_choices(config: AppConfig) -> Result[dict[str, str], CorruptFile]:
    """`workspaces:`: each account's default workspace. Wrong types are a damaged file (never
    silently dropped, since the next write would lose them)."""
    raw: Any = config.extra.get(ACCOUNT_CHOICES_KEY)
    if raw is None:
        return Success({})
    if not isinstance(raw, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in raw.items()
    ):
        return Failure(
            CorruptFile(CONFIG_FILE, f"{ACCOUNT_CHOICES_KEY} must map accounts to workspace ids")
        )
    return Success(dict(raw))


def account_choice(config: AppConfig, account: str | None) -> Result[str | None, CorruptFile]:
    if account is None:
        return Success(None)
    return account_choices(config).map(lambda choices: choices.get(account))


def with_account_choice(
    config: AppConfig, account: str, tenant_id: str | None
) -> Result[AppConfig, CorruptFile]:
    """The config with `account`'s default set (or removed, for None)."""
    found = account_choices(config)
    if isinstance(found, Failure):
        return Failure(found.failure())
    choices = {key: value for key, value in found.unwrap().items() if key != account}
    if tenant_id is not None:
        choices[account] = tenant_id
    extra = {key: value for key, value in config.extra.items() if key != ACCOUNT_CHOICES_KEY}
    if choices:
        extra[ACCOUNT_CHOICES_KEY] = choices
    return Success(config.model_copy(update={"extra": extra}))


def _text_setting(value: object, where: str) -> Result[str | None, CorruptFile]:
    if value is None:
        return Success(None)
    if not isinstance(value, str) or not value.strip():
        return Failure(CorruptFile(CONFIG_FILE, f"{where} must be a workspace id"))
    return Success(value.strip())


def project_workspace(config: AppConfig, project: str) -> Result[str | None, CorruptFile]:
    entry = config.projects.get(project)
    if entry is None:
        return Success(None)
    return _text_setting(
        entry.extra.get(PROJECT_WORKSPACE_KEY), f"projects.{project}.{PROJECT_WORKSPACE_KEY}"
    )


def with_project_workspace(config: AppConfig, project: str, tenant_id: str) -> AppConfig:
    """The config with the project pinned to a workspace (the project must exist)."""
    entry = config.projects[project]
    pinned = entry.model_copy(update={"extra": {**entry.extra, PROJECT_WORKSPACE_KEY: tenant_id}})
    return config.model_copy(update={"projects": {**config.projects, project: pinned}})


def api_key_workspace(config: AppConfig) -> Result[str | None, CorruptFile]:
    return _text_setting(config.extra.get(API_KEY_WORKSPACE_KEY), API_KEY_WORKSPACE_KEY)


def with_api_key_workspace(config: AppConfig, tenant_id: str | None) -> AppConfig:
    """A new saved key forgets the workspace of the one it replaces."""
    extra = {key: value for key, value in config.extra.items() if key != API_KEY_WORKSPACE_KEY}
    if tenant_id is not None:
        extra[API_KEY_WORKSPACE_KEY] = tenant_id
    return config.model_copy(update={"extra": extra})


def account_of(user_id: str | None, email: str | None) -> str | None:
    """The key an account's choice is stored under: the stable user id, else the email.

    >>> account_of("user_1", "a@x"), account_of(None, "a@x"), account_of(None, None)
    ('user_1', 'a@x', None)
    """
    return user_id or email or None
