"""ConfigStore on `config.yaml`: strict safe parsing; locked atomic rewrites that keep unknown keys.

With the keychain store the API key is an entry in the system keychain and config.yaml says
so with `cloud_api_key_in: keyring` instead of holding it; reading such a config reads the
key from the keychain, so every use case sees the same `AppConfig` whichever store holds it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import SecretStr
from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from adapters.atomic_files import (
    LockWaitNotice,
    ReadFailure,
    read_bytes_limited,
    with_lock,
    write_atomically,
)
from domain.config import AppConfig, Project
from domain.credential_store import (
    API_KEY_SECRET,
    CREDENTIAL_STORE_KEY,
    CredentialStore,
    Moved,
    StoreChoice,
    choose_credential_store,
)
from domain.errors import (
    CorruptFile,
    FileAccessError,
    InvalidCredentialStore,
    KeychainUnavailable,
    StorageFailure,
)
from domain.routing import ProjectMode

if TYPE_CHECKING:
    from domain.ports import SecretVault

try:
    # libyaml's classes parse and emit the same documents, several times faster.
    from yaml import CSafeDumper as _SafeDumper
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

_MERGE_TAG = "tag:yaml.org,2002:merge"
T = TypeVar("T")
E = TypeVar("E")


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping names the same key twice: which value was meant is a guess."""

    def __init__(self, key: object, first: yaml.Mark, again: yaml.Mark) -> None:
        super().__init__(problem="duplicate key", problem_mark=again)
        self.key = key
        self.first = first


class _UniqueKeyLoader(_SafeLoader):
    """The safe loader, refusing a key that appears twice in one mapping.

    PyYAML keeps the last value silently; the next rewrite would then drop the other one for
    good (two `projects:` sections lose one of them). Keys merged in with `<<:` may still be
    overridden by the mapping's own keys, as YAML intends.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if first is not key_node.start_mark:
                raise _DuplicateKey(key, first, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


_SETTING_KEYS = ("cloud_host", "cloud_domain", "cloud_client_id", CREDENTIAL_STORE_KEY)
_KEY = "cloud_api_key"
# In place of the key when the keychain holds it; "keyring" is its only value.
_KEY_PLACE = "cloud_api_key_in"
_KNOWN_KEYS = frozenset({_KEY, _KEY_PLACE, *_SETTING_KEYS, "projects"})
_PROJECT_KEYS = frozenset({"path", "mode"})
_MODES = {mode.value: mode for mode in ProjectMode}
# Project names this plain are safe to show in a message; any other is shown by position,
# since a message must never echo arbitrary file content.
_SHOWABLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)


@dataclass(frozen=True)
class _Snapshot:
    """The file as parsed: the raw mapping (for rewriting) and the typed config it holds."""

    raw: dict[Any, Any]
    config: AppConfig
    key_place: CredentialStore | None = None


class YamlConfigStore:
    """The user's settings as a YAML mapping in a private file.

    Rewrites start from the mapping just re-read under the lock and change only what the
    config change changed, so unknown keys keep their values and their order. PyYAML does
    not keep comments: a rewrite drops them (an unchanged config is never rewritten).
    """

    def __init__(
        self,
        path: Path,
        lock_timeout: float = 10.0,
        on_lock_wait: LockWaitNotice | None = None,
        remember: Callable[[str], None] | None = None,
        vault: SecretVault | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        # The keychain, for a key kept there; `env` may choose the store for new secrets.
        self._vault = vault
        self._env = env if env is not None else {}
        # Told the API key of each config read, so the command line keeps it out of all it
        # prints (a server's error text could quote it).
        self._remember = remember
        self._path = path
        self._lock_timeout = lock_timeout
        self._on_lock_wait = on_lock_wait

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> Result[AppConfig, StorageFailure]:
        return self._read().map(_config_of)

    def chosen_store(self) -> Result[StoreChoice, StorageFailure]:
        """Where new secrets go (the environment, then config.yaml); reads no keychain."""
        snapshot = self._read_file()
        if not is_successful(snapshot):
            return Failure(snapshot.failure())
        return self._chosen(snapshot.unwrap().config)

    def api_key_kept_in(self) -> Result[CredentialStore | None, StorageFailure]:
        return self._read_file().map(lambda snapshot: snapshot.key_place)

    def update(
        self, change: Callable[[AppConfig], Result[tuple[AppConfig, T], E]]
    ) -> Result[tuple[AppConfig, T], E | StorageFailure]:
        target = self._write_target()

        def apply() -> Result[tuple[AppConfig, T], E | StorageFailure]:
            current = self._read()
            if not is_successful(current):
                return Failure(current.failure())
            snapshot = current.unwrap()
            changed = change(snapshot.config)
            if not is_successful(changed):
                return Failure(changed.failure())
            answer = changed.unwrap()
            after = answer[0]
            # An unchanged config is not rewritten, so the file (comments too) stays as it is.
            if after is snapshot.config or after == snapshot.config:
                return Success(answer)
            document = _merged(snapshot.raw, snapshot.config, after)
            if after.cloud_api_key == snapshot.config.cloud_api_key:
                return write_atomically(target, _dump(document)).map(lambda _written: answer)
            return self._write_key(target, document, snapshot, after).map(lambda _done: answer)

        return with_lock(target, self._lock_timeout, apply, self._on_lock_wait)

    def move(self, to: CredentialStore) -> Result[Moved, StorageFailure]:
        target = self._write_target()

        def apply() -> Result[Moved, StorageFailure]:
            current = self._read()
            if not is_successful(current):
                return Failure(current.failure())
            snapshot = current.unwrap()
            document = dict(snapshot.raw)
            document[CREDENTIAL_STORE_KEY] = to.value
            key = snapshot.config.cloud_api_key
            if key is None or snapshot.key_place is to:
                outcome = Moved.NOTHING if key is None else Moved.ALREADY_THERE
                if snapshot.raw.get(CREDENTIAL_STORE_KEY) == to.value:
                    return Success(outcome)
                return write_atomically(target, _dump(document)).map(lambda _done: outcome)
            if to is CredentialStore.KEYRING:
                moved = self._key_into_keychain(target, document, key)
            else:
                moved = self._key_into_file(target, document, key)
            return moved.map(lambda _done: Moved.MOVED)

        return with_lock(target, self._lock_timeout, apply, self._on_lock_wait)

    def _write_key(
        self, target: Path, document: dict[Any, Any], before: _Snapshot, after: AppConfig
    ) -> Result[None, StorageFailure]:
        """Write a config whose API key changed: the new key goes where the chosen store says."""
        key = after.cloud_api_key
        if key is None:
            if before.key_place is CredentialStore.KEYRING:
                # Removed from the keychain first: if that fails, config.yaml still says
                # where the key is, rather than leaving a secret nobody points to.
                removed = self._keychain().bind(lambda vault: vault.delete(API_KEY_SECRET))
                if not is_successful(removed):
                    return Failure(removed.failure())
            document.pop(_KEY_PLACE, None)
            return write_atomically(target, _dump(document))
        chosen = self._chosen(after)
        if not is_successful(chosen):
            return Failure(chosen.failure())
        if chosen.unwrap().store is CredentialStore.KEYRING:
            return self._key_into_keychain(target, document, key)
        document.pop(_KEY_PLACE, None)
        written = write_atomically(target, _dump(document))
        if is_successful(written) and before.key_place is CredentialStore.KEYRING and self._vault:
            # The file holds the new key; the keychain's is the old one, and failing to
            # remove it must not fail the save that kept the new key.
            self._vault.delete(API_KEY_SECRET)
        return written

    def _key_into_keychain(
        self, target: Path, document: dict[Any, Any], key: SecretStr
    ) -> Result[None, StorageFailure]:
        """The keychain first, read back; then config.yaml without the key."""
        vault = self._keychain()
        if not is_successful(vault):
            return Failure(vault.failure())
        keychain = vault.unwrap()
        stored = keychain.write(API_KEY_SECRET, key)
        if not is_successful(stored):
            return Failure(stored.failure())
        back = keychain.read(API_KEY_SECRET)
        if not is_successful(back):
            return Failure(back.failure())
        if back.unwrap() != key:
            return Failure(KeychainUnavailable("it did not give back the API key just stored"))
        document.pop(_KEY, None)
        document[_KEY_PLACE] = CredentialStore.KEYRING.value
        return write_atomically(target, _dump(document))

    def _key_into_file(
        self, target: Path, document: dict[Any, Any], key: SecretStr
    ) -> Result[None, StorageFailure]:
        """config.yaml first, read back; then the keychain's entry (the old copy) goes."""
        vault = self._keychain()
        if not is_successful(vault):
            return Failure(vault.failure())
        document.pop(_KEY_PLACE, None)
        document[_KEY] = key.get_secret_value()
        written = write_atomically(target, _dump(document))
        if not is_successful(written):
            return Failure(written.failure())
        back = self._read_file()
        if not is_successful(back):
            return Failure(back.failure())
        if back.unwrap().config.cloud_api_key != key:
            problem = "it did not give back the API key just written"
            return Failure(FileAccessError(str(self._path), problem))
        return vault.unwrap().delete(API_KEY_SECRET).map(lambda _removed: None)

    def _chosen(self, config: AppConfig) -> Result[StoreChoice, InvalidCredentialStore]:
        return choose_credential_store(self._env, config.credential_store)

    def _keychain(self) -> Result[SecretVault, KeychainUnavailable]:
        if self._vault is None:
            return Failure(KeychainUnavailable("this program was built without one"))
        return Success(self._vault)

    def _write_target(self) -> Path:
        # Dotfile managers often make config.yaml a symbolic link into their repository. An
        # atomic rename onto the link would replace the link with a plain file, so writes go to
        # the link's resolved target, with the temp file and the lock in the target's folder.
        return Path(os.path.realpath(self._path))

    def _read(self) -> Result[_Snapshot, ReadFailure | KeychainUnavailable]:
        """The file, and the API key from the keychain when the file says it is there."""
        read = self._read_file()
        if not is_successful(read):
            return Failure(read.failure())
        snapshot = read.unwrap()
        if snapshot.key_place is not CredentialStore.KEYRING:
            return Success(snapshot)
        entry = self._keychain().bind(lambda vault: vault.read(API_KEY_SECRET))
        if not is_successful(entry):
            return Failure(entry.failure())
        key = entry.unwrap()
        if key is None or not key.get_secret_value():
            # Removed (or emptied) by hand: there is no key, as when none was saved; an
            # empty `cloud_api_key` in the file means the same.
            return Success(replace(snapshot, key_place=None))
        self._keep_out_of_output(key)
        config = snapshot.config.model_copy(update={"cloud_api_key": key})
        return Success(replace(snapshot, config=config))

    def _read_file(self) -> Result[_Snapshot, ReadFailure]:
        # Reading through a symbolic link is fine here, unlike the token file.
        return read_bytes_limited(self._path).bind(self._parse)

    def _parse(self, data: bytes | None) -> Result[_Snapshot, ReadFailure]:
        if data is None:
            return Success(_Snapshot({}, AppConfig()))
        parsed = _parse_config(self._path, data)
        key = parsed.map(lambda snapshot: snapshot.config.cloud_api_key).value_or(None)
        if key is not None:
            self._keep_out_of_output(key)
        return parsed

    def _keep_out_of_output(self, key: SecretStr) -> None:
        if self._remember is not None:
            self._remember(key.get_secret_value())


def _config_of(snapshot: _Snapshot) -> AppConfig:
    return snapshot.config


def _parse_config(path: Path, data: bytes) -> Result[_Snapshot, CorruptFile]:
    """Decode the file; a failure's problem is one line and quotes nothing from the file."""
    return _decode(data).bind(_snapshot_of).alt(partial(CorruptFile, str(path)))


def _decode(data: bytes) -> Result[dict[Any, Any], str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Failure(f"not valid UTF-8 text (byte {error.start})")
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except _DuplicateKey as error:
        return Failure(_duplicate_problem(error))
    except yaml.MarkedYAMLError as error:
        return Failure(_syntax_problem(error))
    except yaml.YAMLError:
        # The reader's own message would show the offending character; say what it is instead.
        return Failure("not valid YAML (it contains control characters)")
    except RecursionError:
        return Failure("not valid YAML (nested too deeply)")
    except (ValueError, OverflowError):
        # A scalar the loader cannot convert: an impossible date, an integer too long to read.
        return Failure("not valid YAML (a value cannot be read: an impossible date or number)")
    if document is None:
        return Success({})
    if not isinstance(document, dict):
        return Failure(f"the top level must be a mapping of settings, not {_kind(document)}")
    return Success(document)


def _syntax_problem(error: yaml.MarkedYAMLError) -> str:
    """From the error's position only: its text can quote the line, which may hold the key."""
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    why = " (unsupported tag)" if isinstance(error, yaml.constructor.ConstructorError) else ""
    return f"not valid YAML{where}{why}"


def _duplicate_problem(error: _DuplicateKey) -> str:
    """Names the key only when it is a plain word: a message never echoes arbitrary content."""
    key = error.key
    shown = f"'{key}'" if isinstance(key, str) and _SHOWABLE_NAME.fullmatch(key) else "a key"
    line = error.problem_mark.line + 1 if error.problem_mark is not None else 0
    return (
        f"{shown} appears twice in one mapping (lines {error.first.line + 1} and {line}); "
        "keep one, since the next write would lose the other"
    )


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


def _snapshot_of(raw: dict[Any, Any]) -> Result[_Snapshot, str]:
    api_key = raw.get(_KEY)
    if api_key is not None and not isinstance(api_key, str):
        return Failure("cloud_api_key must be a string")
    key_place = raw.get(_KEY_PLACE)
    if key_place is not None and key_place != CredentialStore.KEYRING.value:
        return Failure(f"{_KEY_PLACE} must be keyring when present")
    if key_place is not None and api_key:
        return Failure(f"{_KEY} and {_KEY_PLACE} are both set; keep the one that holds your key")
    for key in _SETTING_KEYS:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            return Failure(f"{key} must be a string")
    projects = _projects(raw.get("projects"))
    if not is_successful(projects):
        return Failure(projects.failure())
    config = AppConfig(
        # An empty key is no key: credential priority must not count it as configured.
        cloud_api_key=SecretStr(api_key) if api_key else None,
        cloud_host=raw.get("cloud_host"),
        cloud_domain=raw.get("cloud_domain"),
        cloud_client_id=raw.get("cloud_client_id"),
        credential_store=raw.get(CREDENTIAL_STORE_KEY),
        projects=projects.unwrap(),
        # Non-string top-level keys cannot be typed here; they stay in the raw mapping only.
        extra={key: value for key, value in raw.items() if _is_unknown(key, _KNOWN_KEYS)},
    )
    if key_place is not None:
        return Success(_Snapshot(raw, config, CredentialStore.KEYRING))
    return Success(_Snapshot(raw, config, CredentialStore.FILE if api_key else None))


def _is_unknown(key: object, known: frozenset[str]) -> bool:
    return isinstance(key, str) and key not in known


def _projects(raw: object) -> Result[dict[str, Project], str]:
    if raw is None:
        return Success({})
    if not isinstance(raw, dict):
        return Failure("projects must be a mapping of project names to {path, mode}")
    projects: dict[str, Project] = {}
    for position, (name, entry) in enumerate(raw.items(), start=1):
        if not isinstance(name, str):
            return Failure(f"projects: the name of project {position} must be text")
        project = _project(_label(name, position), entry)
        if not is_successful(project):
            return Failure(project.failure())
        projects[name] = project.unwrap()
    return Success(projects)


def _label(name: str, position: int) -> str:
    if _SHOWABLE_NAME.fullmatch(name):
        return f"project '{name}'"
    return f"project {position} in projects"


def _project(label: str, entry: object) -> Result[Project, str]:
    if not isinstance(entry, dict):
        return Failure(f"{label} must be a mapping with path and mode")
    if "path" not in entry:
        return Failure(f"{label} has no path")
    if not isinstance(entry["path"], str):
        return Failure(f"{label}: path must be a string")
    mode = entry.get("mode")
    if mode is not None and (not isinstance(mode, str) or mode not in _MODES):
        return Failure(f"{label}: mode must be local or cloud")
    return Success(
        Project(
            path=entry["path"],
            mode=_MODES[mode] if mode is not None else ProjectMode.LOCAL,
            extra={key: value for key, value in entry.items() if _is_unknown(key, _PROJECT_KEYS)},
        )
    )


def _merged(raw: dict[Any, Any], before: AppConfig, after: AppConfig) -> dict[Any, Any]:
    """The raw mapping with only the differences between `before` and `after` applied.

    Keys keep their places; new keys go at the end; what did not change is left as read.
    """
    document = dict(raw)
    if after.cloud_api_key != before.cloud_api_key:
        _set_or_remove(
            document,
            "cloud_api_key",
            after.cloud_api_key.get_secret_value() if after.cloud_api_key is not None else None,
        )
    for key in _SETTING_KEYS:
        if getattr(after, key) != getattr(before, key):
            _set_or_remove(document, key, getattr(after, key))
    if after.projects != before.projects:
        raw_projects = raw.get("projects")
        document["projects"] = _merged_projects(
            raw_projects if isinstance(raw_projects, dict) else {}, before, after
        )
    _merge_extra(document, before.extra, after.extra, _KNOWN_KEYS)
    return document


def _set_or_remove(document: dict[Any, Any], key: str, value: object) -> None:
    if value is None:
        document.pop(key, None)
    else:
        document[key] = value


def _merged_projects(
    raw_projects: dict[Any, Any], before: AppConfig, after: AppConfig
) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for name, entry in raw_projects.items():
        if name in after.projects:
            merged[name] = _merged_project(entry, before.projects.get(name), after.projects[name])
    for name, project in after.projects.items():
        if name not in merged:
            merged[name] = _merged_project(None, None, project)
    return merged


def _merged_project(raw_entry: object, before: Project | None, after: Project) -> dict[Any, Any]:
    if isinstance(raw_entry, dict) and before is not None and after == before:
        return raw_entry
    entry: dict[Any, Any] = dict(raw_entry) if isinstance(raw_entry, dict) else {}
    entry["path"] = after.path
    # New entries name their mode; an old one that never did stays so while local (the default).
    if raw_entry is None or "mode" in entry or after.mode is not ProjectMode.LOCAL:
        entry["mode"] = after.mode.value
    _merge_extra(entry, before.extra if before else {}, after.extra, _PROJECT_KEYS)
    return entry


def _merge_extra(
    document: dict[Any, Any],
    before: dict[str, Any],
    after: dict[str, Any],
    known: frozenset[str],
) -> None:
    for key in [key for key in document if _is_unknown(key, known) and key not in after]:
        del document[key]
    for key, value in after.items():
        if key in known:
            continue  # a typed field is never overridden from `extra`
        unchanged = key in before and (before[key] is value or before[key] == value)
        if not (unchanged and key in document):
            document[key] = value


def _dump(document: dict[Any, Any]) -> bytes:
    text: str = yaml.dump(
        document,
        Dumper=_SafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
    return text.encode("utf-8")
