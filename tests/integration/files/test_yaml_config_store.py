"""The YAML config store on real files: unknown keys kept in order, damage, privacy, links."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.yaml_config_store import YamlConfigStore
from domain.config import AppConfig
from domain.errors import AuthFailure, CorruptFile, FileAccessError, UnknownProject
from domain.routing import ProjectMode

SECRET = "bmc_SECRETd0n7l34km3"

HAND_WRITTEN = f"""\
# my settings
zebra: striped
cloud_api_key: {SECRET}
projects:
  notes: {{path: /home/me/notes, mode: local, color: blue}}
  research:
    path: /home/me/research
    mode: cloud
    pinned: true
cloud_host: https://cloud.example.com
alpha:
  nested: [1, 2, {{deep: yes}}]
when: 2024-01-02
""".encode()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config.yaml"


@pytest.fixture
def store(path: Path) -> YamlConfigStore:
    return YamlConfigStore(path, lock_timeout=1.0)


def add(
    name: str, where: str
) -> Callable[[AppConfig], Result[tuple[AppConfig, None], AuthFailure]]:
    def change(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        return config.with_project(name, where).map(lambda added: (added, None))

    return change


def test_a_hand_written_file_loads_with_unknown_keys_and_fields(
    store: YamlConfigStore, path: Path
) -> None:
    path.write_bytes(HAND_WRITTEN)

    config = store.load().unwrap()

    assert config.cloud_api_key == SecretStr(SECRET)
    assert config.cloud_host == "https://cloud.example.com"
    assert config.projects["notes"].extra == {"color": "blue"}
    assert config.projects["research"].mode is ProjectMode.CLOUD
    assert config.projects["research"].extra == {"pinned": True}
    assert list(config.extra) == ["zebra", "alpha", "when"]


def test_a_rewrite_keeps_unknown_keys_their_values_and_their_order(
    store: YamlConfigStore, path: Path
) -> None:
    path.write_bytes(HAND_WRITTEN)
    before = yaml.safe_load(HAND_WRITTEN)

    def change(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        added = config.with_project("journal", "/j").unwrap()
        return added.with_mode("notes", ProjectMode.CLOUD).map(lambda moved: (moved, None))

    assert isinstance(store.update(change), Success)

    after = yaml.safe_load(path.read_bytes())
    assert list(after) == list(before)
    assert after["zebra"] == "striped"
    assert after["alpha"] == before["alpha"]
    assert after["when"] == before["when"]
    assert after["cloud_api_key"] == SECRET
    assert list(after["projects"]) == ["notes", "research", "journal"]
    assert after["projects"]["notes"] == {
        "path": "/home/me/notes",
        "mode": "cloud",
        "color": "blue",
    }
    assert after["projects"]["research"] == before["projects"]["research"]
    assert after["projects"]["journal"] == {"path": "/j", "mode": "local"}


def test_removing_the_api_key_removes_only_that_key(store: YamlConfigStore, path: Path) -> None:
    path.write_bytes(HAND_WRITTEN)
    before = yaml.safe_load(HAND_WRITTEN)

    def forget_key(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        return Success((config.with_api_key(None), None))

    store.update(forget_key)

    after = yaml.safe_load(path.read_bytes())
    assert SECRET.encode() not in path.read_bytes()
    assert after == {key: value for key, value in before.items() if key != "cloud_api_key"}


def test_written_file_is_private(store: YamlConfigStore, path: Path) -> None:
    store.update(add("notes", "/n"))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_rejected_change_leaves_the_file_byte_for_byte(
    store: YamlConfigStore, path: Path
) -> None:
    path.write_bytes(HAND_WRITTEN)

    def remove_unknown(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        return config.without_project("nope").map(lambda removed: (removed, None))

    assert isinstance(store.update(remove_unknown).failure(), UnknownProject)
    assert path.read_bytes() == HAND_WRITTEN


def test_an_unchanged_config_is_not_rewritten_so_comments_survive(
    store: YamlConfigStore, path: Path
) -> None:
    path.write_bytes(HAND_WRITTEN)
    inode = path.stat().st_ino

    def copy(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        return Success((config.model_copy(), None))

    store.update(copy)

    assert path.read_bytes() == HAND_WRITTEN
    assert path.stat().st_ino == inode


@pytest.mark.parametrize("content", [b"", b"\n", b"# only a comment\n", b"---\n"])
def test_an_empty_file_is_an_empty_config(
    store: YamlConfigStore, path: Path, content: bytes
) -> None:
    path.write_bytes(content)

    assert store.load() == Success(AppConfig())


def secret_bytes() -> bytes:
    return SECRET.encode()


CORRUPT_FILES = {
    "invalid syntax": (
        b"cloud_api_key: " + secret_bytes() + b"\nprojects: [a, b\n",
        "not valid YAML",
    ),
    "bad indentation": (b"a: b\n  " + secret_bytes() + b": c: d\n", "not valid YAML"),
    "tab indentation": (b"projects:\n\t" + secret_bytes() + b": x\n", "not valid YAML"),
    "python tag": (b"key: !!python/object:os.system " + secret_bytes() + b"\n", "unsupported tag"),
    "list at top level": (b"- " + secret_bytes() + b"\n- b\n", "top level must be a mapping"),
    "scalar at top level": (secret_bytes() + b"\n", "top level must be a mapping"),
    "api key not a string": (
        b"cloud_api_key: [" + secret_bytes() + b"]\n",
        "cloud_api_key must be",
    ),
    "api key a number": (b"cloud_api_key: 12345\n", "cloud_api_key must be a string"),
    "host not a string": (b"cloud_host: {a: " + secret_bytes() + b"}\n", "cloud_host must be"),
    "projects a list": (b"projects: [" + secret_bytes() + b"]\n", "projects must be a mapping"),
    "project not a mapping": (b"projects:\n  notes: " + secret_bytes() + b"\n", "project 'notes'"),
    "project without path": (b"projects:\n  notes: {mode: local}\n", "project 'notes' has no path"),
    "path not a string": (b"projects:\n  notes: {path: [" + secret_bytes() + b"]}\n", "path must"),
    "bad mode": (b"projects:\n  notes: {path: /n, mode: " + secret_bytes() + b"}\n", "mode must"),
    "secret as project name": (
        b"projects:\n  '" + secret_bytes() + b" x': {path: 1}\n",
        "project 1 in projects",
    ),
    "binary junk": (b"\x89PNG\r\n\x1a\n\x00\x00" + secret_bytes(), "not valid UTF-8"),
    "invalid utf-8": (b"cloud_api_key: " + secret_bytes() + b"\xc3\x28\n", "not valid UTF-8"),
    "control characters": (b"cloud_api_key: " + secret_bytes() + b"\x00\n", "control characters"),
    "deeply nested": (b"a: " + b"[" * 20_000 + secret_bytes(), "not valid YAML"),
    "huge": (b"cloud_api_key: " + secret_bytes() * 60_000 + b"\n", "larger than 1 MiB"),
    # PyYAML keeps the last of two equal keys; the next rewrite would lose the first for good.
    "two projects sections": (
        b"projects:\n  notes: {path: /n}\ncloud_api_key: " + secret_bytes() + b"\n"
        b"projects:\n  research: {path: /r}\n",
        "'projects' appears twice in one mapping (lines 1 and 4)",
    ),
    "two api keys": (
        b"cloud_api_key: " + secret_bytes() + b"\ncloud_api_key: bmc_other0123456789\n",
        "'cloud_api_key' appears twice",
    ),
    "two entries of one project": (
        b"projects:\n  notes: {path: /n}\n  notes: {path: /m}\n",
        "'notes' appears twice",
    ),
    "two paths of one project": (b"projects:\n  notes: {path: /n, path: /m}\n", "'path' appears"),
    "twice in an unknown key": (b"sync:\n  interval: 1\n  interval: 2\n", "'interval' appears"),
    "secret as a duplicate key": (
        secret_bytes() + b" x: 1\n" + secret_bytes() + b" x: 2\n",
        "a key appears twice",
    ),
}


@pytest.mark.parametrize("case", CORRUPT_FILES, ids=list(CORRUPT_FILES))
def test_a_damaged_file_is_named_in_one_line_without_its_content(
    store: YamlConfigStore, path: Path, case: str
) -> None:
    content, expected = CORRUPT_FILES[case]
    path.write_bytes(content)

    failure = store.load().failure()

    assert isinstance(failure, CorruptFile)
    assert expected in failure.problem
    assert str(path) in failure.message
    assert "\n" not in failure.message
    assert SECRET not in failure.message
    # An update is refused too, and the file is exactly as it was.
    assert isinstance(store.update(add("x", "/x")).failure(), CorruptFile)
    assert path.read_bytes() == content


def test_keys_merged_in_may_still_be_overridden(store: YamlConfigStore, path: Path) -> None:
    """`<<:` merges are YAML's way to share settings; the mapping's own key wins, as intended."""
    path.write_bytes(
        b"base: &b {path: /n, mode: local}\nprojects:\n  notes:\n    <<: *b\n    path: /m\n"
    )

    assert store.load().unwrap().projects["notes"].path == "/m"


def test_a_syntax_error_gives_its_position(store: YamlConfigStore, path: Path) -> None:
    path.write_bytes(b"a: 1\nb: [1, 2\n")

    assert store.load() == Failure(CorruptFile(str(path), "not valid YAML at line 3, column 1"))


def test_a_directory_at_the_config_path_is_an_access_failure(
    store: YamlConfigStore, path: Path
) -> None:
    path.mkdir()

    assert store.load() == Failure(FileAccessError(str(path), "is a directory"))
    assert isinstance(store.update(add("x", "/x")).failure(), FileAccessError)


def test_a_symlinked_config_is_written_at_its_target_and_the_link_survives(
    store: YamlConfigStore, path: Path, tmp_path: Path
) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "bm-config.yaml"
    target.write_bytes(HAND_WRITTEN)
    path.symlink_to(target)

    assert isinstance(store.update(add("journal", "/j")), Success)

    assert path.is_symlink()
    assert path.resolve() == target
    assert "journal" in yaml.safe_load(target.read_bytes())["projects"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert store.load().unwrap().project_names == ("journal", "notes", "research")
    assert {p.name for p in dotfiles.iterdir()} == {"bm-config.yaml", "bm-config.yaml.lock"}


def test_a_stale_temp_from_a_crashed_writer_goes_at_the_next_write(
    store: YamlConfigStore, path: Path
) -> None:
    stale = path.parent / ".config.yaml.31337.cafe.tmp"
    stale.write_bytes(b"cloud_api_key: half-writ")

    store.update(add("notes", "/n"))

    assert not stale.exists()
    assert store.load().unwrap().project_names == ("notes",)
