"""Damaged files, hostile keys and hostile environment values: never a traceback, an overwrite or an echo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.harness import Workspace
from tests.reliability.hostile import (
    DAMAGED_TOKENS_REMOVED,
    SHOWN_FIELD_CASES,
    VALID_CONFIG_BYTES,
    VALID_TOKENS,
    VALID_TOKENS_BYTES,
    FileKind,
    HostileFigures,
    Sandbox,
    check_damaged_file,
    damaged_files_probe,
    escapes_shown,
    hand_picked,
    hand_picked_probe,
    hostile_environment_probe,
    hostile_keys_probe,
    installed_probe,
    unreadable,
)
from tests.reliability.probes import ENVIRONMENT_EXAMPLES, GENERATED_EXAMPLES, KEY_EXAMPLES

pytestmark = pytest.mark.reliability


def test_generated_damage_to_either_file_is_named_and_never_overwritten(tmp_path: Path) -> None:
    figures = damaged_files_probe(tmp_path, GENERATED_EXAMPLES)

    print(figures.line("truncated, overwritten, inserted, binary, wrong types"))
    assert figures.problems == []
    assert figures.inputs >= 4 * GENERATED_EXAMPLES
    assert figures.damaged > figures.inputs // 2  # most mutations really do break the file


def test_hand_picked_damage_is_named_and_never_overwritten(tmp_path: Path) -> None:
    figures = hand_picked_probe(tmp_path)

    print(figures.line("empty, huge, sparse, nested, FIFO, symlinks, directories, bombs"))
    assert figures.problems == []
    assert figures.damaged >= 40


@pytest.mark.parametrize("label", sorted(SHOWN_FIELD_CASES))
def test_fields_shown_from_accepted_files_carry_no_control_characters(
    label: str, tmp_path: Path
) -> None:
    kind, _, name = label.partition(": ")
    damage = dict(hand_picked(kind))[name]  # type: ignore[arg-type]

    assert escapes_shown(Sandbox(tmp_path), kind, damage, label) == []  # type: ignore[arg-type]


def test_a_lone_surrogate_in_the_token_file_does_not_crash_a_strict_utf8_terminal(
    tmp_path: Path,
) -> None:
    workspace = Workspace(tmp_path)
    workspace.write_tokens({**VALID_TOKENS, "email": "\udc80"})

    run = workspace.bm("cloud", "status", "--offline", env={"PYTHONIOENCODING": "utf-8:strict"})

    assert run.code in (0, 1), run.describe()


@pytest.mark.parametrize("kind", ["tokens", "config"])
def test_an_unreadable_file_is_named_and_left_alone(kind: FileKind, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading the file")
    figures = HostileFigures("unreadable")
    damage = unreadable(VALID_TOKENS_BYTES if kind == "tokens" else VALID_CONFIG_BYTES)

    assert check_damaged_file(Sandbox(tmp_path), kind, damage, "mode 000", figures) == []


def test_a_damaged_token_file_is_removed_by_logout_saying_so(tmp_path: Path) -> None:
    """The one change SPEC §1 allows to a damaged file."""
    sandbox = Sandbox(tmp_path)
    sandbox.reset("tokens", b'{"access_token": ')

    run = sandbox.run(["cloud", "logout"])

    assert run.code == 0, run.describe()
    assert DAMAGED_TOKENS_REMOVED in run.stdout
    assert not sandbox.tokens.exists()
    assert sandbox.config.read_bytes() == VALID_CONFIG_BYTES


def test_hostile_keys_are_refused_without_an_echo_or_saved_as_typed(tmp_path: Path) -> None:
    figures = hostile_keys_probe(tmp_path, KEY_EXAMPLES)

    print(figures.line("control characters, look-alikes, NUL, ANSI, long, multi-line"))
    assert figures.problems == []
    assert figures.inputs >= KEY_EXAMPLES


def test_hostile_environment_values_never_crash_or_echo(tmp_path: Path) -> None:
    figures = hostile_environment_probe(tmp_path, ENVIRONMENT_EXAMPLES)

    print(figures.line("routing booleans, hosts, key, client id, data folder, proxies, CAs"))
    assert figures.problems == []


def test_the_installed_bm_takes_raw_stdin_bytes_and_real_environment_values(
    tmp_path: Path,
) -> None:
    figures = installed_probe(tmp_path)

    print(figures.line("NUL, invalid UTF-8, ANSI, a megabyte; escapes, 100 kB, http host"))
    assert figures.problems == []
