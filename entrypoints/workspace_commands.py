"""`bm cloud workspace list` and `use`: the cloud tenants a signed-in account can work in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from cyclopts import Parameter
from returns.result import Failure

from domain.workspaces import account_choice
from entrypoints.command_support import prepare
from entrypoints.console import err, out, out_json
from entrypoints.presenters import EXIT_OK, fail

if TYPE_CHECKING:
    from application.list_workspaces import WorkspacesView
    from domain.workspaces import Workspace
    from entrypoints.container import Container


def list_(*, json_: Annotated[bool, Parameter(name="--json", negative=())] = False) -> int:
    """List the account's workspaces: name, slug, type, role, id, subscription, and which one
    is the default for this account and for each cloud project.

    Parameters
    ----------
    json_
        Print one JSON object.
    """
    container = prepare(network=True)
    result = container.list_workspaces().execute()
    if isinstance(result, Failure):
        return fail(result.failure())
    view = result.unwrap()
    if json_:
        out_json(_view_dict(view))
        return EXIT_OK
    for workspace in view.listing.workspaces:
        out(_line(view, workspace))
    if view.account is None:
        out("Account default: none (no OAuth session; sign in with `bm cloud login`).")
    elif view.account_default is None:
        out(
            f"Account default: none chosen for {view.account}"
            + ("; choose one with `bm cloud workspace use NAME`." if _several(view) else ".")
        )
    for name, resolved in view.projects:
        out(f"Project {name}: {resolved.describe(view.listing)}")
    return EXIT_OK


def use(name: str, /) -> int:
    """Make a workspace the default of the signed-in account (by name, slug or id).

    The choice is kept in config.yaml under the account, so signing in as another account
    does not inherit it.
    """
    container = prepare(network=True, writes=True)
    result = container.use_workspace().execute(name)
    if isinstance(result, Failure):
        return fail(result.failure())
    chosen = result.unwrap()
    out(
        f"Default workspace for {chosen.account} is now {chosen.workspace.label}: "
        "cloud calls of projects without a workspace of their own go there."
    )
    return EXIT_OK


def _several(view: WorkspacesView) -> bool:
    return len(view.listing.workspaces) > 1


def _roles(view: WorkspacesView, workspace: Workspace) -> list[str]:
    marks = []
    if workspace.tenant_id == view.account_default:
        marks.append("account default")
    if workspace.tenant_id == view.listing.default_workspace_id:
        marks.append("cloud default")
    marks.extend(
        f"project {name}"
        for name, resolved in view.projects
        if resolved.tenant_id == workspace.tenant_id
    )
    return marks


def _line(view: WorkspacesView, workspace: Workspace) -> str:
    subscription = "subscribed" if workspace.has_active_subscription else "no subscription"
    marks = _roles(view, workspace)
    star = "*" if workspace.tenant_id == view.account_default else " "
    used = f" [{', '.join(marks)}]" if marks else ""
    return (
        f"{star} {workspace.name:<20} {workspace.slug:<16} {workspace.workspace_type:<12} "
        f"{workspace.role:<8} {workspace.tenant_id}  {subscription}{used}"
    )


def _view_dict(view: WorkspacesView) -> dict[str, Any]:
    return {
        "workspaces": [
            {
                "tenant_id": w.tenant_id,
                "name": w.name,
                "slug": w.slug,
                "workspace_type": w.workspace_type,
                "role": w.role,
                "organization_id": w.organization_id,
                "has_active_subscription": w.has_active_subscription,
                "is_cloud_default": w.tenant_id == view.listing.default_workspace_id,
                "is_account_default": w.tenant_id == view.account_default,
            }
            for w in view.listing.workspaces
        ],
        "account": view.account,
        "account_default": view.account_default,
        "cloud_default": view.listing.default_workspace_id,
        "projects": {
            name: {"workspace": resolved.tenant_id, "source": resolved.source.value}
            for name, resolved in view.projects
        },
        "credential": view.credential.source.value,
    }


def after_login(container: Container) -> None:
    """After a sign-in: each workspace's subscription, and, when the account has several and
    none is chosen, the line that chooses one. Best effort: a failure here is only noted."""
    result = container.list_workspaces().execute()
    if isinstance(result, Failure):
        err(f"Note: could not list your workspaces ({result.failure().message})")
        return
    view = result.unwrap()
    if not _several(view):
        return
    for workspace in view.listing.workspaces:
        subscription = "active" if workspace.has_active_subscription else "none"
        err(f"  Workspace {workspace.label}: subscription {subscription}")
    if view.account_default is None:
        first = view.listing.workspaces[0].slug
        err(
            f"This account has {len(view.listing.workspaces)} workspaces and none is chosen; "
            f"the cloud's default is used. Choose one: bm cloud workspace use {first}"
        )


def kept_after_logout(container: Container, account: str | None) -> str | None:
    """What logout says about the signed-out account's default workspace, if it chose one."""
    if account is None:
        return None
    config = container.config().load()
    if isinstance(config, Failure):
        return None
    chosen = account_choice(config.unwrap(), account).value_or(None)
    if chosen is None:
        return None
    return (
        f"The default workspace of {account} ({chosen}) is kept in config.yaml; it applies "
        "again only when that account signs in."
    )
