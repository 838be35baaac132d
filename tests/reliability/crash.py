"""Crash safety: SIGKILL writers of the real file stores at random moments, then judge the files."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import SecretStr
from returns.pipeline import is_successful
from returns.result import Result, Success
from yaml import CSafeLoader

from adapters.atomic_files import TEMP_SUFFIX, temp_prefix
from adapters.json_file_token_store import JsonFileTokenStore
from adapters.yaml_config_store import YamlConfigStore
from domain.config import AppConfig, Project
from domain.errors import AuthFailure
from domain.session import TokenSet

Kind = Literal["tokens", "config"]
FILE_NAMES: dict[Kind, str] = {"tokens": ".cloud_tokens.json", "config": "config.yaml"}
# A kill lands 0-30 ms after the writer starts: several whole writes fit in that window
# (each is a few milliseconds with its two fsyncs), so kills fall at every stage of a write.
MAX_KILL_DELAY = 0.030
CALIBRATION_WRITES = 5
UNKNOWN_KEYS_LINE = "keep_me: {nested: [1, 2, 3]}\n"


@dataclass
class CrashFigures:
    """What a kill loop saw: kills, writes finished before them, and every broken rule."""

    kind: Kind
    kills: int = 0
    writes_completed: int = 0
    versions_seen: set[int] = field(default_factory=set)
    stale_temps_seen: int = 0
    stale_temps_removed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        verdict = (
            "0 torn or foreign files" if not self.problems else f"{len(self.problems)} PROBLEMS"
        )
        return (
            f"crash safety ({FILE_NAMES[self.kind]}): {self.kills} SIGKILLs survived mid-write "
            f"({self.writes_completed} writes finished between them, versions seen "
            f"{sorted(self.versions_seen)}), {verdict}, mode 0600 every time, "
            f"{self.stale_temps_seen} stale temp files all removed by the next write"
            if not self.problems
            else f"crash safety ({FILE_NAMES[self.kind]}): {self.kills} kills, {verdict}: "
            + "; ".join(self.problems[:3])
        )


def token_versions() -> list[TokenSet]:
    """Complete sessions of very different sizes, so a torn write could not pass for one."""
    return [
        TokenSet(
            access_token=SecretStr(f"access-{index}-" + "a" * size),
            refresh_token=SecretStr(f"refresh-{index}") if index != 1 else None,
            expires_at=1_700_000_000 + index,
            email=f"v{index}@example.com",
            extra={"version": index, "padding": "p" * size},
        )
        for index, size in enumerate((16, 24_000, 70_000))
    ]


def config_versions() -> list[AppConfig]:
    """Configs from one project to hundreds, with and without a key."""
    versions: list[AppConfig] = []
    for index, count in enumerate((1, 40, 160)):
        projects = {
            f"p{index}-{n}": Project(path=f"/work/v{index}/project-{n}" + "/deep" * index)
            for n in range(count)
        }
        key = SecretStr(f"bmc_version{index}key0123456789") if index != 1 else None
        versions.append(AppConfig(cloud_api_key=key, projects=projects))
    return versions


def _as_version(
    version: AppConfig,
) -> Callable[[AppConfig], Result[tuple[AppConfig, None], AuthFailure]]:
    def change(current: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        # Like the use cases: a copy of what was read, so unknown keys survive.
        copied = current.model_copy(
            update={"projects": version.projects, "cloud_api_key": version.cloud_api_key}
        )
        return Success((copied, None))

    return change


def _to_token_version(
    version: TokenSet,
) -> Callable[[TokenSet | None], Result[tuple[TokenSet, None], Any]]:
    def change(current: TokenSet | None) -> Result[tuple[TokenSet, None], Any]:
        return Success((version, None))

    return change


class _Target:
    """The store under test, the versions it alternates between, and how to judge a file."""

    def __init__(self, kind: Kind, folder: Path) -> None:
        self.kind = kind
        self.path = folder / FILE_NAMES[kind]
        if kind == "tokens":
            self.tokens = token_versions()
            self.expected = [json.loads(_token_bytes(folder, version)) for version in self.tokens]
        else:
            self.configs = config_versions()
            self.expected = [_config_document(folder, version) for version in self.configs]

    @property
    def count(self) -> int:
        return len(self.expected)

    def write(self, index: int) -> bool:
        """One write through the real adapter: save and update in turn for the tokens."""
        if self.kind == "tokens":
            store = JsonFileTokenStore(self.path)
            version = self.tokens[index % self.count]
            if index % 2:
                return is_successful(store.save(version))
            return is_successful(store.update(_to_token_version(version)))
        config = YamlConfigStore(self.path)
        return is_successful(config.update(_as_version(self.configs[index % self.count])))

    def judge(self) -> tuple[int | None, str | None]:
        """Which complete version the file holds now, or what is wrong with it."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return None, "the file is missing"
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file"
        if stat.S_IMODE(info.st_mode) != 0o600:
            return None, f"mode {stat.S_IMODE(info.st_mode):o}, not 600"
        data = self.path.read_bytes()
        try:
            document = (
                json.loads(data) if self.kind == "tokens" else yaml.load(data, Loader=CSafeLoader)
            )
        except (ValueError, yaml.YAMLError):
            return None, f"torn: {len(data)} bytes that do not parse"
        if document not in self.expected:
            return None, f"torn: {len(data)} bytes that are none of the versions written"
        loaded = (
            JsonFileTokenStore(self.path).load()
            if self.kind == "tokens"
            else YamlConfigStore(self.path).load()
        )
        if not is_successful(loaded):
            return None, f"the adapter cannot read it: {loaded.failure()}"
        return self.expected.index(document), None

    def stale_temps(self) -> list[Path]:
        prefix = temp_prefix(self.path)
        return [
            entry
            for entry in self.path.parent.iterdir()
            if entry.name.startswith(prefix) and entry.name.endswith(TEMP_SUFFIX)
        ]


def _token_bytes(folder: Path, version: TokenSet) -> bytes:
    scratch = folder / "expected"
    scratch.mkdir(exist_ok=True)
    store = JsonFileTokenStore(scratch / "tokens.json")
    store.save(version).unwrap()
    return (scratch / "tokens.json").read_bytes()


def _config_document(folder: Path, version: AppConfig) -> object:
    scratch = folder / "expected"
    scratch.mkdir(exist_ok=True)
    path = scratch / "config.yaml"
    path.write_text(UNKNOWN_KEYS_LINE)
    YamlConfigStore(path).update(_as_version(version)).unwrap()
    return yaml.load(path.read_bytes(), Loader=CSafeLoader)


def _writer(target: _Target, first: int, report: int) -> None:
    """The child: write versions in a tight loop, one byte down the pipe per finished write.

    The umask lets everything through, so a file that ends up private is private because
    the store made it so.
    """
    os.umask(0)
    index = first
    while True:
        if not target.write(index):
            os._exit(3)  # a store refused: the parent sees an exit instead of a kill
        os.write(report, b".")
        index += 1


def kill_loop(kind: Kind, folder: Path, kills: int, seed: int | None = None) -> CrashFigures:
    """Start a writer, SIGKILL it 0-30 ms later, judge the file; `kills` times.

    After a kill that left temp files behind, the parent makes one write of its own and
    checks that the temp files are gone (the stores remove them under the lock).
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    target = _Target(kind, folder)
    if kind == "config":
        target.path.write_text(UNKNOWN_KEYS_LINE)
        os.chmod(target.path, 0o600)
    target.write(0)
    # Kills must land while writes are under way. On a loaded machine a write takes longer
    # than the usual window, and kills that come too soon would only ever meet a writer that
    # has not started: the window stretches to a few of this machine's writes, measured now.
    began = time.monotonic()
    for index in range(CALIBRATION_WRITES):
        target.write(index)
    window = max(MAX_KILL_DELAY, 3 * (time.monotonic() - began) / CALIBRATION_WRITES)
    figures = CrashFigures(kind)
    for _ in range(kills):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                os.close(read_end)
                _writer(target, rng.randrange(target.count), write_end)
            finally:
                os._exit(4)
        os.close(write_end)
        time.sleep(rng.uniform(0, window))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        figures.writes_completed += _drain(read_end)
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            figures.problems.append(f"the writer stopped by itself (status {status})")
            continue
        figures.kills += 1
        version, problem = target.judge()
        if problem is not None:
            figures.problems.append(f"after kill {figures.kills}: {problem}")
            # Start the next round from a whole file, so one problem is counted once.
            _restore(target)
            continue
        assert version is not None
        figures.versions_seen.add(version)
        left = target.stale_temps()
        if left:
            figures.stale_temps_seen += len(left)
            target.write(rng.randrange(target.count))
            remaining = [path for path in left if path.exists()]
            figures.stale_temps_removed += len(left) - len(remaining)
            if remaining:
                figures.problems.append(f"{len(remaining)} temp files survived the next write")
    if not target.write(1):
        figures.problems.append("the final write failed")
    if target.stale_temps():
        figures.problems.append("temp files left after the final write")
    return figures


def _restore(target: _Target) -> None:
    target.path.unlink(missing_ok=True)
    if target.kind == "config":
        target.path.write_text(UNKNOWN_KEYS_LINE)
        os.chmod(target.path, 0o600)
    target.write(0)


def _drain(fd: int) -> int:
    total = 0
    try:
        while chunk := os.read(fd, 65536):
            total += len(chunk)
    finally:
        os.close(fd)
    return total
