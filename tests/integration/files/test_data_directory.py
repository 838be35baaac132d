"""The data directory: where it is, created private, and warnings about loose file modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from returns.result import Success

from adapters.data_directory import (
    CONFIG_FILE_NAME,
    TOKEN_FILE_NAME,
    data_directory,
    ensure_data_directory,
    loose_permission_warnings,
)
from domain.errors import FileAccessError


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_variable_wins_when_set() -> None:
    env = {"BASIC_MEMORY_CONFIG_DIR": "/srv/bm", "HOME": "/home/a"}

    assert data_directory(env) == Path("/srv/bm")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_home_default_when_unset_or_blank(value: str | None) -> None:
    env = {"HOME": "/home/a"}
    if value is not None:
        env["BASIC_MEMORY_CONFIG_DIR"] = value

    assert data_directory(env) == Path("/home/a/.basic-memory")


@pytest.mark.parametrize(
    ("value", "expected"), [("~/elsewhere", "/home/a/elsewhere"), ("~", "/home/a")]
)
def test_a_tilde_in_the_variable_is_expanded_with_the_given_home(value: str, expected: str) -> None:
    env = {"BASIC_MEMORY_CONFIG_DIR": value, "HOME": "/home/a"}

    assert data_directory(env) == Path(expected)


def test_file_names() -> None:
    assert (TOKEN_FILE_NAME, CONFIG_FILE_NAME) == (".cloud_tokens.json", "config.yaml")


@pytest.mark.usefixtures("loose_umask")
def test_created_directory_is_0700_with_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / ".basic-memory"

    assert ensure_data_directory(target) == Success(target)

    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_an_existing_directory_is_left_as_it_is(tmp_path: Path) -> None:
    target = tmp_path / "bm"
    target.mkdir(mode=0o750)
    target.chmod(0o750)

    assert ensure_data_directory(target) == Success(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_a_file_in_the_way_is_an_access_failure(tmp_path: Path) -> None:
    target = tmp_path / "bm"
    target.write_text("")

    failure = ensure_data_directory(target).failure()

    assert isinstance(failure, FileAccessError)
    assert failure.path == str(target)


def test_loose_files_get_one_warning_line_each(tmp_path: Path) -> None:
    private = tmp_path / "config.yaml"
    private.write_text("")
    private.chmod(0o600)
    readable = tmp_path / ".cloud_tokens.json"
    readable.write_text("")
    readable.chmod(0o644)
    group_writable = tmp_path / "other"
    group_writable.write_text("")
    group_writable.chmod(0o620)

    warnings = loose_permission_warnings([private, readable, group_writable, tmp_path / "missing"])

    assert warnings == [
        f"Warning: {readable} is readable by other users; run: chmod 600 {readable}",
        f"Warning: {group_writable} is readable by other users; run: chmod 600 {group_writable}",
    ]


def test_a_path_with_spaces_is_quoted_in_the_fix(tmp_path: Path) -> None:
    loose = tmp_path / "my dir" / "config.yaml"
    loose.parent.mkdir()
    loose.write_text("")
    loose.chmod(0o640)

    assert loose_permission_warnings([loose]) == [
        f"Warning: {loose} is readable by other users; run: chmod 600 '{loose}'"
    ]
