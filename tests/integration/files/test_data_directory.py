"""The data directory: where it is, created private, trusted only if no other user can change it,
and warnings about loose file modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from returns.result import Success

from adapters.data_directory import (
    CONFIG_FILE_NAME,
    ROOT_UID,
    TOKEN_FILE_NAME,
    Place,
    data_directory,
    ensure_data_directory,
    loose_permission_warnings,
    trust_problem,
    untrusted_paths,
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


def test_readable_files_get_one_warning_line_each(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("")
    config.chmod(0o640)
    tokens = tmp_path / ".cloud_tokens.json"
    tokens.write_text("")
    tokens.chmod(0o604)

    warnings = loose_permission_warnings(config=config, tokens=tokens)

    assert warnings == [
        f"Warning: {config} is readable by other users; run: chmod 600 {config}",
        f"Warning: {tokens} is readable by other users; run: chmod 600 {tokens}",
    ]


def test_private_or_missing_files_get_no_warning(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("")
    config.chmod(0o600)

    assert loose_permission_warnings(config=config, tokens=tmp_path / "missing") == []


def test_a_path_with_spaces_is_quoted_in_the_fix(tmp_path: Path) -> None:
    loose = tmp_path / "my dir" / "config.yaml"
    loose.parent.mkdir()
    loose.write_text("")
    loose.chmod(0o640)

    assert loose_permission_warnings(config=loose, tokens=tmp_path / "none") == [
        f"Warning: {loose} is readable by other users; run: chmod 600 '{loose}'"
    ]


def test_a_linked_config_names_its_target_in_the_fix(tmp_path: Path) -> None:
    """chmod follows links, but the reader should know which file it changes."""
    target = tmp_path / "dotfiles" / "bm.yaml"
    target.parent.mkdir()
    target.write_text("")
    target.chmod(0o644)
    link = tmp_path / "config.yaml"
    link.symlink_to(target)

    assert loose_permission_warnings(config=link, tokens=tmp_path / "none") == [
        f"Warning: {target} (the target of {link}) is readable by other users; "
        f"run: chmod 600 {target}"
    ]


def test_a_linked_token_file_gets_no_chmod_advice_that_would_change_its_target(
    tmp_path: Path,
) -> None:
    """The token store refuses a link there; a chmod would only change some other file."""
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    target.chmod(0o644)
    link = tmp_path / ".cloud_tokens.json"
    link.symlink_to(target)

    warnings = loose_permission_warnings(config=tmp_path / "none", tokens=link)

    assert warnings == [
        f"Warning: {link} is a symbolic link, which bm refuses for the session file; "
        f"remove the link (its target stays): rm {link}"
    ]
    assert "chmod" not in "".join(warnings)


# -- trust: the pure rule ------------------------------------------------------------------------

ME, OTHER = 1000, 65534
FILE, DIR, LINK = stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK
TRUST_TABLE = [
    # place, owner, mode, expected fix (None: trusted)
    (Place.FOLDER, ME, DIR | 0o700, None),
    (Place.FOLDER, ME, DIR | 0o755, None),
    (Place.FOLDER, ROOT_UID, DIR | 0o755, None),
    (Place.FOLDER, ME, DIR | 0o777, "chmod 700 /p"),
    (Place.FOLDER, ME, DIR | 0o770, "chmod 700 /p"),
    (Place.FOLDER, ME, DIR | 0o702, "chmod 700 /p"),
    (Place.FOLDER, ME, DIR | 0o1777, "chmod 700 /p"),  # sticky: others may still add files
    (Place.FOLDER, OTHER, DIR | 0o700, "sudo chown -R $USER /p"),
    (Place.ABOVE, ME, DIR | 0o755, None),
    (Place.ABOVE, ROOT_UID, DIR | 0o1777, None),  # /tmp
    (Place.ABOVE, ROOT_UID, DIR | 0o777, "chmod go-w /p"),
    (Place.ABOVE, ME, DIR | 0o775, "chmod go-w /p"),
    (Place.ABOVE, OTHER, DIR | 0o755, "set BASIC_MEMORY_CONFIG_DIR to a folder outside it"),
    (Place.FILE, ME, FILE | 0o600, None),
    (Place.FILE, ME, FILE | 0o644, None),  # readable: a warning, not a refusal
    (Place.FILE, ROOT_UID, FILE | 0o600, None),
    (Place.FILE, ME, FILE | 0o666, "chmod 600 /p"),
    (Place.FILE, ME, FILE | 0o620, "chmod 600 /p"),
    (Place.FILE, OTHER, FILE | 0o600, "sudo chown $USER /p"),
    (Place.FILE, OTHER, stat.S_IFCHR | 0o666, None),  # not a file: the store reports it
    (Place.LOCK, ME, FILE | 0o600, None),
    (Place.LOCK, ME, LINK | 0o777, "rm /p"),
]


@pytest.mark.parametrize(("place", "owner", "mode", "fix"), TRUST_TABLE)
def test_the_trust_rule(place: Place, owner: int, mode: int, fix: str | None) -> None:
    problem = trust_problem(place, "/p", owner, mode, ME)

    if fix is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.fix.endswith(fix)
        assert problem.path == "/p"
        assert "\n" not in problem.message


def test_root_trusts_only_its_own_files() -> None:
    assert trust_problem(Place.FILE, "/p", OTHER, FILE | 0o600, ROOT_UID) is not None
    assert trust_problem(Place.FILE, "/p", ROOT_UID, FILE | 0o600, ROOT_UID) is None


# -- trust: the paths looked at ------------------------------------------------------------------


def _data_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = tmp_path / "bm"
    folder.mkdir(mode=0o700)
    config, tokens = folder / CONFIG_FILE_NAME, folder / TOKEN_FILE_NAME
    for path in (config, tokens):
        path.write_text("{}")
        path.chmod(0o600)
    return folder, config, tokens


def test_a_private_folder_is_trusted(tmp_path: Path) -> None:
    assert untrusted_paths(*_data_folder(tmp_path)) == []


def test_a_missing_folder_is_trusted_when_its_parents_are(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "bm"

    assert untrusted_paths(folder, folder / CONFIG_FILE_NAME, folder / TOKEN_FILE_NAME) == []


def test_problems_come_outermost_first(tmp_path: Path) -> None:
    folder, config, tokens = _data_folder(tmp_path)
    tmp_path.chmod(0o777)
    try:
        folder.chmod(0o777)
        config.chmod(0o666)

        found = [problem.path for problem in untrusted_paths(folder, config, tokens)]
    finally:
        tmp_path.chmod(0o700)

    assert found == [str(tmp_path), str(folder), str(config)]


def test_a_linked_config_is_judged_by_its_target_and_the_target_folder(tmp_path: Path) -> None:
    folder, config, tokens = _data_folder(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    target = shared / "bm.yaml"
    target.write_text("{}")
    target.chmod(0o666)
    config.unlink()
    config.symlink_to(target)

    found = [problem.path for problem in untrusted_paths(folder, config, tokens)]

    assert found == [str(shared), str(target)]


def test_a_linked_lock_file_is_refused(tmp_path: Path) -> None:
    """Taking the lock truncates the lock file: through a planted link, some file of ours."""
    folder, config, tokens = _data_folder(tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    lock = tokens.with_name(TOKEN_FILE_NAME + ".lock")
    lock.symlink_to(victim)

    problems = untrusted_paths(folder, config, tokens)

    assert [problem.fix for problem in problems] == [f"rm {lock}"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_token_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    folder, config, tokens = _data_folder(tmp_path)
    os.chown(tokens, 65534, 65534)

    problems = untrusted_paths(folder, config, tokens)

    assert [problem.path for problem in problems] == [str(tokens)]
    assert "uid 65534" in problems[0].message
