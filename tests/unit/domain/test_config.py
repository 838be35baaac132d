"""The settings value: project name rules, duplicates, unknown names and immutability."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from returns.pipeline import is_successful

from domain.config import AppConfig, Project
from domain.errors import InvalidProjectName, ProjectExists, UnknownProject
from domain.routing import ProjectMode


def config_with(*names: str) -> AppConfig:
    return AppConfig(
        projects={name: Project(path=f"/home/me/{name}") for name in names},
        extra={"theme": "dark"},
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("notes", id="notes"),
        pytest.param("my-proj_1.2", id="dash-underscore-dot"),
        pytest.param("a", id="one-char"),
        pytest.param("9lives", id="starts-with-digit"),
        pytest.param("Research", id="upper-case"),
        pytest.param("a" * 64, id="64-chars"),
        pytest.param("x.", id="ends-with-dot"),
    ],
)
def test_valid_project_names(name: str) -> None:
    added = AppConfig().with_project(name, "/data").unwrap()

    assert added.projects[name] == Project(path="/data", mode=ProjectMode.LOCAL)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("../x", id="parent-traversal"),
        pytest.param("..", id="dot-dot"),
        pytest.param(".hidden", id="starts-with-dot"),
        pytest.param("a/b", id="slash"),
        pytest.param("a\\b", id="backslash"),
        pytest.param("a" * 65, id="65-chars"),
        pytest.param("-notes", id="starts-with-dash"),
        pytest.param("_notes", id="starts-with-underscore"),
        pytest.param("my notes", id="space"),
        pytest.param(" notes", id="leading-space"),
        pytest.param("notes\n", id="trailing-newline"),
        pytest.param("café", id="non-ascii"),
        pytest.param("not\x00es", id="nul"),
        pytest.param("a:b", id="colon"),
    ],
)
def test_invalid_project_names(name: str) -> None:
    failure = AppConfig().with_project(name, "/data").failure()

    assert failure == InvalidProjectName(name)
    assert "\n" not in failure.message


def test_duplicate_project_is_refused_with_its_path() -> None:
    config = config_with("notes")

    failure = config.with_project("notes", "/elsewhere").failure()

    assert failure == ProjectExists("notes", "/home/me/notes")
    assert "/home/me/notes" in failure.message
    assert "bm project remove notes" in failure.message


def test_names_differing_in_case_are_distinct_projects() -> None:
    assert is_successful(config_with("notes").with_project("Notes", "/n2"))


@pytest.mark.parametrize(
    ("operation", "known"),
    [
        pytest.param("without", ("alpha", "mid", "zeta"), id="without-project"),
        pytest.param("with_mode", ("alpha", "mid", "zeta"), id="with-mode"),
        pytest.param("project", ("alpha", "mid", "zeta"), id="lookup"),
    ],
)
def test_unknown_project_lists_known_names_sorted(operation: str, known: tuple[str, ...]) -> None:
    config = config_with("zeta", "alpha", "mid")

    if operation == "without":
        failure = config.without_project("ghost").failure()
    elif operation == "with_mode":
        failure = config.with_mode("ghost", ProjectMode.CLOUD).failure()
    else:
        failure = config.project("ghost").failure()

    assert failure == UnknownProject("ghost", known)
    assert "alpha, mid, zeta" in failure.message


def test_unknown_project_with_no_projects_suggests_adding_one() -> None:
    failure = AppConfig().without_project("ghost").failure()

    assert failure == UnknownProject("ghost", ())
    assert "bm project add" in failure.message


def test_with_project_leaves_the_original_unchanged() -> None:
    original = config_with("notes")

    changed = original.with_project("research", "/r").unwrap()

    assert set(original.projects) == {"notes"}
    assert set(changed.projects) == {"notes", "research"}
    assert changed.extra == {"theme": "dark"}


def test_without_project_leaves_the_original_unchanged() -> None:
    original = config_with("notes", "research")

    changed = original.without_project("notes").unwrap()

    assert set(original.projects) == {"notes", "research"}
    assert set(changed.projects) == {"research"}
    assert changed.projects["research"] == original.projects["research"]
    assert changed.extra == {"theme": "dark"}


def test_with_mode_changes_only_that_project_and_keeps_its_fields() -> None:
    original = AppConfig(
        projects={
            "notes": Project(path="/n", extra={"sync": True}),
            "research": Project(path="/r"),
        },
        cloud_api_key=SecretStr("bmc_keepThisKey123"),
    )

    changed = original.with_mode("notes", ProjectMode.CLOUD).unwrap()

    assert original.projects["notes"].mode is ProjectMode.LOCAL
    assert changed.projects["notes"] == Project(
        path="/n", mode=ProjectMode.CLOUD, extra={"sync": True}
    )
    assert changed.projects["research"] == original.projects["research"]
    assert changed.cloud_api_key == original.cloud_api_key


def test_with_api_key_sets_and_clears_without_touching_the_original() -> None:
    original = config_with("notes")

    with_key = original.with_api_key(SecretStr("bmc_abcdefgh1234"))
    cleared = with_key.with_api_key(None)

    assert original.cloud_api_key is None
    assert with_key.cloud_api_key is not None
    assert with_key.cloud_api_key.get_secret_value() == "bmc_abcdefgh1234"
    assert cleared.cloud_api_key is None
    assert cleared.projects == original.projects


def test_project_lookup_and_sorted_names() -> None:
    config = config_with("zeta", "alpha")

    assert config.project_names == ("alpha", "zeta")
    assert config.project("zeta").unwrap() == Project(path="/home/me/zeta")


def test_config_is_frozen_and_hides_the_key() -> None:
    config = AppConfig(cloud_api_key=SecretStr("bmc_s3cretKeyValue99"))

    with pytest.raises(ValueError, match="frozen"):
        config.cloud_host = "https://x"  # type: ignore[misc]
    assert "s3cret" not in repr(config)
    assert "s3cret" not in config.model_dump_json()
