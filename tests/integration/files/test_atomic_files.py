"""The shared file mechanics on real files: private atomic writes, bounded reads, stale temps."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from returns.result import Failure, Result, Success

from adapters.atomic_files import (
    LOCK_NOTICE_AFTER_SECONDS,
    ONE_MIB,
    lock_path_for,
    read_bytes_limited,
    with_lock,
    write_atomically,
)
from domain.errors import CorruptFile, FileAccessError, LockTimeout


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def held() -> Result[None, str]:
    """A lock body with nothing to do: the result is then the lock's own."""
    return Success(None)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
def test_written_file_is_0600_even_with_an_open_umask(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"

    assert write_atomically(target, b"{}") == Success(None)

    assert mode_of(target) == 0o600
    assert target.read_bytes() == b"{}"


def test_rewrite_tightens_a_loose_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    target.write_bytes(b"old")
    target.chmod(0o644)

    write_atomically(target, b"new")

    assert target.read_bytes() == b"new"
    assert mode_of(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.json"]


def test_write_into_a_missing_folder_is_a_failure_not_an_exception(tmp_path: Path) -> None:
    result = write_atomically(tmp_path / "nowhere" / "f.json", b"x")

    assert isinstance(result.failure(), FileAccessError)


def test_read_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert read_bytes_limited(tmp_path / "absent") == Success(None)


def test_read_of_a_directory_is_an_access_failure(tmp_path: Path) -> None:
    assert read_bytes_limited(tmp_path) == Failure(FileAccessError(str(tmp_path), "is a directory"))


def test_read_is_bounded(tmp_path: Path) -> None:
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 10)
    over = tmp_path / "over"
    over.write_bytes(b"x" * 11)

    assert read_bytes_limited(exact, limit=10) == Success(b"x" * 10)
    assert read_bytes_limited(over, limit=10) == Failure(
        CorruptFile(str(over), "larger than 10 bytes")
    )


def test_read_of_a_huge_file_names_the_limit(tmp_path: Path) -> None:
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * (ONE_MIB + 1))

    assert read_bytes_limited(huge) == Failure(CorruptFile(str(huge), "larger than 1 MiB"))


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    assert read_bytes_limited(fifo) == Failure(FileAccessError(str(fifo), "is not a regular file"))


def test_symlinks_are_followed_or_refused_on_request(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"data")
    link = tmp_path / "link"
    link.symlink_to(real)

    assert read_bytes_limited(link) == Success(b"data")
    assert read_bytes_limited(link, follow_symlinks=False) == Failure(
        FileAccessError(str(link), "is a symbolic link; remove it")
    )


def test_taking_the_lock_removes_stale_temps_of_that_file_only(tmp_path: Path) -> None:
    target = tmp_path / "config.yaml"
    stale = [tmp_path / ".config.yaml.4242.0badc0de.tmp", tmp_path / ".config.yaml.1.x.tmp"]
    for path in stale:
        path.write_bytes(b"half-written")
    unrelated = [tmp_path / ".other.yaml.4242.0badc0de.tmp", tmp_path / "config.yaml.tmp"]
    for path in unrelated:
        path.write_bytes(b"keep")

    assert with_lock(target, 1.0, held) == Success(None)

    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in unrelated)


def test_lock_file_is_private_and_lives_beside_the_data_file(tmp_path: Path) -> None:
    target = tmp_path / "data.json"

    assert with_lock(target, 1.0, held) == Success(None)

    assert lock_path_for(target) == tmp_path / "data.json.lock"
    assert mode_of(lock_path_for(target)) == 0o600


def test_lock_creates_a_missing_folder_privately(tmp_path: Path) -> None:
    target = tmp_path / "fresh" / "data.json"

    assert with_lock(target, 1.0, held) == Success(None)

    assert mode_of(tmp_path / "fresh") == 0o700


def test_the_body_runs_only_while_the_lock_is_held(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    ran: list[bool] = []

    def body() -> Result[str, str]:
        ran.append(lock_path_for(target).exists())
        return Failure("the body's own failure")

    assert with_lock(target, 1.0, body) == Failure("the body's own failure")
    assert isinstance(with_lock(blocker / "data.json", 1.0, body).failure(), FileAccessError)
    assert ran == [True]


def test_lock_in_an_impossible_place_is_a_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")

    assert isinstance(with_lock(blocker / "data.json", 1.0, held).failure(), FileAccessError)


_HOLD_LOCK = """
import sys, time
from pathlib import Path
from adapters.atomic_files import with_lock
from returns.result import Success

def hold():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    return Success(None)

with_lock(Path(sys.argv[1]), 5, hold)
"""


@pytest.fixture
def held_for(tmp_path: Path) -> Iterator[Callable[[float], Path]]:
    """Start a process that holds the lock of tmp_path/data.json for the given seconds."""
    holders: list[subprocess.Popen[str]] = []

    def hold(seconds: float) -> Path:
        target = tmp_path / "data.json"
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(target), str(seconds)],
            cwd=Path(__file__).resolve().parents[3],
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        return target

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait()


def test_a_free_lock_is_taken_without_a_notice(tmp_path: Path) -> None:
    notices: list[tuple[Path, float]] = []
    lock = with_lock(tmp_path / "data.json", 5.0, held, lambda *told: notices.append(told))
    assert lock == Success(None)
    assert notices == []


def test_waiting_on_a_held_lock_is_told_once_with_the_time_left(
    held_for: Callable[[float], Path],
) -> None:
    target = held_for(LOCK_NOTICE_AFTER_SECONDS * 3)
    notices: list[tuple[Path, float]] = []
    started = time.monotonic()
    lock = with_lock(target, 5.0, held, lambda *told: notices.append(told))
    waited = time.monotonic() - started
    assert lock == Success(None)
    [(told_lock, seconds_left)] = notices
    assert told_lock == lock_path_for(target)
    assert 5.0 - LOCK_NOTICE_AFTER_SECONDS - 1.0 < seconds_left <= 5.0 - LOCK_NOTICE_AFTER_SECONDS
    assert waited >= LOCK_NOTICE_AFTER_SECONDS


def test_a_notice_that_cannot_be_shown_does_not_fail_the_lock(
    held_for: Callable[[float], Path],
) -> None:
    target = held_for(LOCK_NOTICE_AFTER_SECONDS * 2)

    def closed_stderr(lock: Path, seconds_left: float) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    assert with_lock(target, 5.0, held, closed_stderr) == Success(None)


def test_the_notice_does_not_change_the_timeout(held_for: Callable[[float], Path]) -> None:
    target = held_for(30)
    notices: list[tuple[Path, float]] = []
    started = time.monotonic()
    lock = with_lock(target, 1.5, held, lambda *told: notices.append(told))
    waited = time.monotonic() - started
    assert lock.failure() == LockTimeout(str(lock_path_for(target)), 1.5)
    assert 1.5 <= waited < 3.0
    assert len(notices) == 1
