"""Separate processes writing the same files: no lost update, lock timeouts, crashed holders."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.json_file_token_store import JsonFileTokenStore
from adapters.yaml_config_store import YamlConfigStore
from domain.config import AppConfig
from domain.errors import AuthFailure, LockTimeout
from domain.session import TokenSet

REPO = Path(__file__).resolve().parents[3]
PROCESSES = 10
BUMPS_PER_PROCESS = 5

# Each child says "ready" once imported, then waits for the go file, so all of them hit the
# lock together instead of one after another as they finish starting up.
_WAIT_FOR_GO = """
import sys, time
from pathlib import Path
from returns.result import Success
from adapters.json_file_token_store import JsonFileTokenStore
from adapters.yaml_config_store import YamlConfigStore
print("ready", flush=True)
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.002)
"""

# Each child adds its own project to config.yaml, then bumps a counter in the token file
# several times: a lost update would show as a missing project or a short count.
WRITER = (
    _WAIT_FOR_GO
    + """
config_path, token_path, name, bumps = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], int(sys.argv[5])

def add(config):
    time.sleep(0.002)  # widen the read-modify-write window a lost update would need
    return config.with_project(name, "/projects/" + name).map(lambda added: (added, None))

def bump(current):
    time.sleep(0.001)
    extra = {**current.extra, "count": current.extra.get("count", 0) + 1}
    return Success((current.model_copy(update={"extra": extra}), None))

if not isinstance(YamlConfigStore(config_path, lock_timeout=30).update(add), Success):
    sys.exit(1)
tokens = JsonFileTokenStore(token_path, lock_timeout=30)
for _ in range(bumps):
    if not isinstance(tokens.update(bump), Success):
        sys.exit(2)
"""
)

LOCK_HOLDER = """
import sys, time
from pathlib import Path
from adapters.atomic_files import with_lock
from returns.result import Success

def hold():
    print("held", flush=True)
    time.sleep(60)
    return Success(None)

if not isinstance(with_lock(Path(sys.argv[1]), 5, hold), Success):
    print("not held", flush=True)
"""


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=5)
        if child.stdout is not None:
            child.stdout.close()


def start(children: list[subprocess.Popen[str]], script: str, *args: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    children.append(child)
    return child


def test_parallel_processes_lose_no_update_and_readers_see_only_whole_files(
    children: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text("keep_me: true\n")
    token_path = tmp_path / ".cloud_tokens.json"
    tokens = JsonFileTokenStore(token_path)
    tokens.save(TokenSet(access_token=SecretStr("a"), expires_at=1, extra={"count": 0}))
    config = YamlConfigStore(config_path)
    names = [f"project-{index}" for index in range(PROCESSES)]
    go = tmp_path / "go"
    for name in names:
        args = [str(go), str(config_path), str(token_path), name, str(BUMPS_PER_PROCESS)]
        start(children, WRITER, *args)
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"

    began = time.monotonic()
    go.touch()
    # Meanwhile read without the lock: the atomic rename means a read never sees a half file.
    loads: list[Result[object, object]] = []
    while any(child.poll() is None for child in children):
        loads.append(tokens.load())
        loads.append(config.load())
    elapsed = time.monotonic() - began

    assert [child.wait(timeout=60) for child in children] == [0] * PROCESSES
    assert all(isinstance(result, Success) for result in loads)
    final_config = config.load().unwrap()
    assert sorted(final_config.projects) == sorted(names)
    assert final_config.extra == {"keep_me": True}
    final_tokens = tokens.load().unwrap()
    assert final_tokens is not None
    assert final_tokens.extra["count"] == PROCESSES * BUMPS_PER_PROCESS
    print(
        f"{PROCESSES} processes: {PROCESSES} config updates, "
        f"{PROCESSES * BUMPS_PER_PROCESS} token updates, 0 lost, {len(loads)} reads "
        f"all whole, {elapsed:.2f}s"
    )


def hold_lock(children: list[subprocess.Popen[str]], data_file: Path) -> subprocess.Popen[str]:
    holder = start(children, LOCK_HOLDER, str(data_file))
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_held_lock_makes_update_time_out_without_calling_the_change(
    children: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    path = tmp_path / "config.yaml"
    hold_lock(children, path)
    calls: list[AppConfig] = []

    def record(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        calls.append(config)
        return config.with_project("late", "/late").map(lambda added: (added, None))

    began = time.monotonic()
    result = YamlConfigStore(path, lock_timeout=0.5).update(record)
    waited = time.monotonic() - began

    assert result == Failure(LockTimeout(str(tmp_path / "config.yaml.lock"), 0.5))
    assert 0.5 <= waited < 3
    assert calls == []
    assert not path.exists()


def test_a_lock_held_by_a_killed_process_does_not_block(
    children: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    path = tmp_path / ".cloud_tokens.json"
    holder = hold_lock(children, path)
    holder.kill()  # SIGKILL: no cleanup code runs; the kernel drops the flock
    holder.wait(timeout=5)

    def create(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        return Success((TokenSet(access_token=SecretStr("a"), expires_at=1), None))

    began = time.monotonic()
    result = JsonFileTokenStore(path, lock_timeout=0.5).update(create)

    assert isinstance(result, Success)
    assert time.monotonic() - began < 0.5
    assert (tmp_path / ".cloud_tokens.json.lock").exists()  # left behind, and harmless
