"""domain.workspaces: the resolution rules as a table, matching by id/slug/name, config helpers."""

from __future__ import annotations

import pytest
from returns.result import Failure

from domain.config import AppConfig
from domain.errors import AmbiguousWorkspace, CorruptFile, UnknownWorkspace
from domain.workspaces import (
    Workspace,
    WorkspaceList,
    WorkspaceSource,
    account_choice,
    match_workspace,
    project_workspace,
    resolve_workspace,
    with_account_choice,
    with_project_workspace,
)

ONE = WorkspaceList((Workspace("t1", "personal", "me", "Me", "owner"),), "t1")
TWO = WorkspaceList(
    (
        Workspace("t1", "personal", "me", "Me", "owner"),
        Workspace("t2", "organization", "acme", "Acme", "member"),
    ),
    "t1",
)
TWO_NO_DEFAULT = WorkspaceList(TWO.workspaces, None)


@pytest.mark.parametrize(
    ("project", "key", "account", "listing", "expected", "source"),
    [
        ("p", "k", "a", TWO, "p", WorkspaceSource.PROJECT),
        (None, "k", "a", TWO, "k", WorkspaceSource.API_KEY),
        (None, None, "a", TWO, "a", WorkspaceSource.ACCOUNT),
        (None, None, None, ONE, "t1", WorkspaceSource.ONLY),
        (None, None, None, TWO, "t1", WorkspaceSource.CLOUD_DEFAULT),
        (None, None, None, TWO_NO_DEFAULT, None, WorkspaceSource.UNKNOWN),
        (None, None, None, None, None, WorkspaceSource.UNKNOWN),
        ("p", None, None, None, "p", WorkspaceSource.PROJECT),
        (None, None, "a", None, "a", WorkspaceSource.ACCOUNT),
    ],
)
def test_resolution_rules_in_order(
    project: str | None,
    key: str | None,
    account: str | None,
    listing: WorkspaceList | None,
    expected: str | None,
    source: WorkspaceSource,
) -> None:
    resolved = resolve_workspace(project, key, account, listing)
    assert (resolved.tenant_id, resolved.source) == (expected, source)


def test_offline_unknown_says_why() -> None:
    assert "offline" in resolve_workspace(None, None, None, None).describe()


@pytest.mark.parametrize(("wanted", "tenant"), [("t2", "t2"), ("ACME", "t2"), ("me", "t1")])
def test_match_by_id_slug_or_name(wanted: str, tenant: str) -> None:
    assert match_workspace(TWO, wanted).unwrap().tenant_id == tenant


def test_a_name_that_matches_several_is_refused_with_the_choices() -> None:
    same = WorkspaceList(
        (
            Workspace("t1", "personal", "mine", "Team", "owner"),
            Workspace("t2", "organization", "acme", "Team", "member"),
        )
    )
    failure = match_workspace(same, "team").failure()
    assert isinstance(failure, AmbiguousWorkspace)
    assert "mine, t1" in failure.message
    assert "acme, t2" in failure.message


def test_unknown_name_lists_the_workspaces() -> None:
    failure = match_workspace(TWO, "nope").failure()
    assert isinstance(failure, UnknownWorkspace)
    assert "acme" in failure.message


def test_account_choices_belong_to_their_account() -> None:
    config = with_account_choice(AppConfig(), "user_a", "t2").unwrap()
    assert account_choice(config, "user_a").unwrap() == "t2"
    assert account_choice(config, "user_b").unwrap() is None
    assert with_account_choice(config, "user_a", None).unwrap().extra == {}


def test_damaged_choices_are_a_named_failure() -> None:
    config = AppConfig(extra={"workspaces": ["t1"]})
    assert isinstance(account_choice(config, "user_a"), Failure)
    assert isinstance(with_account_choice(config, "user_a", "t1").failure(), CorruptFile)


def test_project_pin_round_trip() -> None:
    config = AppConfig().with_project("notes", "/n").unwrap()
    pinned = with_project_workspace(config, "notes", "t2")
    assert project_workspace(pinned, "notes").unwrap() == "t2"
    assert project_workspace(config, "notes").unwrap() is None
