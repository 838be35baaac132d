"""TokenStore contract: the in-memory fake and the JSON file adapter behave the same, the
adapter with its tokens in the file, in an in-memory keychain and in the real keychain (Debian's
gnome-keyring-daemon, tests/keychain_daemon.py; skipped loudly where it cannot start)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.json_file_token_store import JsonFileTokenStore
from adapters.keyring_vault import KeyringVault
from domain.credential_store import SESSION_SECRET, CredentialStore, Moved
from domain.errors import AuthFailure, CorruptFile, FileAccessError, NoCredential
from domain.ports import SecretVault, TokenStore
from domain.session import TokenSet
from tests.fakes import InMemoryTokenStore, InMemoryVault, fixed_store_choice, no_look


@dataclass
class Harness:
    """A store plus the two things only its kind knows: how to damage it, and its writes."""

    store: TokenStore
    damage: Callable[[], None]
    # Changes whenever the store writes; compared before and after to prove "no write".
    write_marker: Callable[[], object]
    # Makes the place the store writes to refuse new files, even for root.
    block_writes: Callable[[], None]
    # Where a new session's tokens go.
    home: CredentialStore = CredentialStore.FILE


def _fake() -> Harness:
    store = InMemoryTokenStore()

    def damage() -> None:
        store.broken = CorruptFile("fake tokens", "damaged")

    def marker() -> object:
        return store.writes

    def block() -> None:
        store.unwritable = FileAccessError("fake tokens", "read-only")

    return Harness(store, damage, marker, block)


def _real(
    tmp_path: Path,
    home: CredentialStore = CredentialStore.FILE,
    vault: SecretVault | None = None,
) -> Harness:
    """The JSON file store; with `home` KEYRING its tokens go to `vault` (the in-memory
    keychain unless a real one is given)."""
    folder = tmp_path / "data"
    path = folder / ".cloud_tokens.json"
    keychain = vault if vault is not None else InMemoryVault()

    def damage() -> None:
        folder.mkdir(exist_ok=True)
        if home is CredentialStore.KEYRING:
            # The keychain's copy is the damaged one; the file only points to it.
            path.write_bytes(b'{"expires_at": 1, "credential_store": "keyring"}')
            keychain.write(SESSION_SECRET, SecretStr('{"access_token": "sec')).unwrap()
        else:
            path.write_bytes(b'{"access_token": "sec')

    def marker() -> object:
        # Every atomic write renames a new inode into place; a keychain write changes it.
        entry = keychain.read(SESSION_SECRET).unwrap()
        if not path.exists():
            return (None, entry)
        info = path.stat()
        return (info.st_ino, info.st_mtime_ns, info.st_size, entry)

    def block() -> None:
        # chmod cannot stop root; a regular file where the folder was stops everyone.
        if folder.exists():
            folder.rename(tmp_path / "data.moved")
        folder.write_bytes(b"")

    store = JsonFileTokenStore(
        path, lock_timeout=2.0, vault=keychain, choose=fixed_store_choice(home)
    )
    return Harness(store, damage, marker, block, home)


@pytest.fixture(params=["fake", "json-file", "json-file+keychain", "json-file+real-keychain"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "fake":
        return _fake()
    if request.param == "json-file":
        return _real(tmp_path)
    if request.param == "json-file+keychain":
        return _real(tmp_path, CredentialStore.KEYRING)
    request.getfixturevalue("keychain")  # the real daemon, for in-process calls
    vault = KeyringVault(f"bm-contract-tokens-{uuid.uuid4()}")
    return _real(tmp_path, CredentialStore.KEYRING, vault)


def full_session(access: str = "access-1") -> TokenSet:
    return TokenSet(
        access_token=SecretStr(access),
        refresh_token=SecretStr("refresh-1"),
        expires_at=1_800_003_600,
        token_type="Bearer",
        user_id="user_1",
        email="alice@example.com",
        session_id="session_1",
        obtained_at=1_800_000_000,
        extra={"scope": "openid email", "nested": {"a": [1, 2.5, None, True]}, "é": "ü"},
    )


def minimal_session() -> TokenSet:
    return TokenSet(access_token=SecretStr("only-access"), expires_at=1_800_000_060)


def test_missing_session_loads_as_none(harness: Harness) -> None:
    assert harness.store.load() == Success(None)


@pytest.mark.parametrize("session", [full_session(), minimal_session()], ids=["full", "minimal"])
def test_save_then_load_round_trips_every_field(harness: Harness, session: TokenSet) -> None:
    assert harness.store.save(session) == Success(None)

    loaded = harness.store.load().unwrap()

    assert loaded == session
    assert loaded is not None
    assert loaded.access_token.get_secret_value() == session.access_token.get_secret_value()
    assert loaded.extra == session.extra


def test_save_replaces_the_previous_session(harness: Harness) -> None:
    harness.store.save(full_session("first"))
    harness.store.save(minimal_session())

    assert harness.store.load() == Success(minimal_session())


def test_update_creates_a_session_from_nothing(harness: Harness) -> None:
    seen: list[TokenSet | None] = []

    def create(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        seen.append(current)
        return Success((full_session(), None))

    assert harness.store.update(create) == Success((full_session(), None))
    assert seen == [None]
    assert harness.store.load() == Success(full_session())


def test_update_applies_the_change_to_the_stored_session(harness: Harness) -> None:
    harness.store.save(full_session())

    def rotate(current: TokenSet | None) -> Result[tuple[TokenSet, str], AuthFailure]:
        assert current is not None
        rotated = current.model_copy(update={"access_token": SecretStr("access-2")})
        return Success((rotated, current.access_token.get_secret_value()))

    result = harness.store.update(rotate)

    expected = full_session("access-2")
    # What the change found comes back with the session it made.
    assert result == Success((expected, "access-1"))
    assert harness.store.load() == Success(expected)


def test_a_failing_change_writes_nothing_and_comes_back(harness: Harness) -> None:
    harness.store.save(full_session())
    before = harness.write_marker()

    def refuse(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        return Failure(NoCredential("not_logged_in"))

    assert harness.store.update(refuse) == Failure(NoCredential("not_logged_in"))
    assert harness.write_marker() == before
    assert harness.store.load() == Success(full_session())


def test_returning_the_same_session_writes_nothing(harness: Harness) -> None:
    harness.store.save(full_session())
    before = harness.write_marker()
    given: list[TokenSet | None] = []

    def keep(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        assert current is not None
        given.append(current)
        return Success((current, None))

    result = harness.store.update(keep)

    assert result.unwrap()[0] is given[0]
    assert harness.write_marker() == before


def test_delete_says_whether_something_was_removed(harness: Harness) -> None:
    assert harness.store.delete(no_look) == Success((False, None))
    harness.store.save(full_session())

    assert harness.store.delete(no_look) == Success((True, None))
    assert harness.store.load() == Success(None)
    assert harness.store.delete(no_look) == Success((False, None))


def test_check_writable_writes_nothing(harness: Harness) -> None:
    harness.store.save(full_session()).unwrap()
    before = harness.write_marker()

    assert harness.store.check_writable() == Success(None)

    assert harness.write_marker() == before
    assert harness.store.load() == Success(full_session())


def test_check_writable_fails_where_save_would(harness: Harness) -> None:
    harness.block_writes()

    assert isinstance(harness.store.check_writable().failure(), FileAccessError)
    assert isinstance(harness.store.save(full_session()).failure(), FileAccessError)


def test_a_damaged_session_fails_to_load_and_is_not_overwritten(harness: Harness) -> None:
    harness.damage()
    calls: list[TokenSet | None] = []

    def create(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        calls.append(current)
        return Success((full_session(), None))

    assert isinstance(harness.store.load().failure(), CorruptFile)
    assert isinstance(harness.store.save(full_session()).failure(), CorruptFile)
    assert isinstance(harness.store.update(create).failure(), CorruptFile)
    assert calls == []


def test_a_damaged_session_can_still_be_deleted(harness: Harness) -> None:
    harness.damage()

    assert harness.store.delete(no_look) == Success((True, None))
    assert harness.store.load() == Success(None)


def test_delete_shows_the_session_before_removing_it(harness: Harness) -> None:
    """Logout revokes inside this look, under the lock, so nothing can rotate in between."""
    seen: list[TokenSet | None] = []
    harness.store.save(full_session("access-9")).unwrap()
    assert harness.store.delete(seen.append).unwrap()[0] is True
    assert [s.access_token.get_secret_value() if s else None for s in seen] == ["access-9"]
    assert harness.store.delete(seen.append).unwrap()[0] is False
    assert seen[-1] is None


def _other(store: CredentialStore) -> CredentialStore:
    return CredentialStore.FILE if store is CredentialStore.KEYRING else CredentialStore.KEYRING


def test_moving_nothing_says_so(harness: Harness) -> None:
    for to in CredentialStore:
        assert harness.store.move(to) == Success(Moved.NOTHING)
    assert harness.store.kept_in() == Success(None)
    assert harness.store.load() == Success(None)


def test_a_session_moves_there_and_back_whole(harness: Harness) -> None:
    harness.store.save(full_session()).unwrap()
    assert harness.store.kept_in() == Success(harness.home)
    away = _other(harness.home)

    assert harness.store.move(away) == Success(Moved.MOVED)
    assert harness.store.kept_in() == Success(away)
    assert harness.store.load() == Success(full_session())
    assert harness.store.move(away) == Success(Moved.ALREADY_THERE)

    assert harness.store.move(harness.home) == Success(Moved.MOVED)
    assert harness.store.kept_in() == Success(harness.home)
    assert harness.store.load() == Success(full_session())


def test_a_session_is_written_where_the_store_is_chosen(harness: Harness) -> None:
    """Moved away, the next write (a refresh) puts the tokens back in the chosen store."""
    harness.store.save(full_session()).unwrap()
    harness.store.move(_other(harness.home)).unwrap()

    harness.store.save(full_session("access-2")).unwrap()

    assert harness.store.kept_in() == Success(harness.home)
    assert harness.store.load() == Success(full_session("access-2"))


def test_a_moved_session_is_deleted_wherever_it_is(harness: Harness) -> None:
    harness.store.save(full_session()).unwrap()
    harness.store.move(_other(harness.home)).unwrap()

    assert harness.store.delete(no_look) == Success((True, None))
    assert harness.store.load() == Success(None)
    assert harness.store.kept_in() == Success(None)
