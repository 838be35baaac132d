"""The token file with the keychain store: what goes where, and failing closed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.json_file_token_store import JsonFileTokenStore
from domain.credential_store import SESSION_SECRET, CredentialStore, Moved, StoreChoice
from domain.errors import (
    AuthFailure,
    CorruptFile,
    InvalidCredentialStore,
    KeychainUnavailable,
    StorageFailure,
)
from domain.session import TokenSet
from tests.fakes import InMemoryVault, fixed_store_choice, no_look

LOCKED = KeychainUnavailable("the keychain is locked")


def _session(access: str = "access-1", refresh: str = "refresh-1") -> TokenSet:
    return TokenSet(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh),
        expires_at=1_800_003_600,
        email="alice@example.com",
        user_id="user_1",
        extra={"id_token": "secret-id-token"},
    )


def _store(
    tmp_path: Path, store: CredentialStore, vault: InMemoryVault | None = None
) -> tuple[JsonFileTokenStore, InMemoryVault, Path]:
    keychain = vault or InMemoryVault()
    path = tmp_path / ".cloud_tokens.json"
    tokens = JsonFileTokenStore(
        path, lock_timeout=2.0, vault=keychain, choose=fixed_store_choice(store)
    )
    return tokens, keychain, path


def _rotate(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
    return Success((_session("access-2", "refresh-2"), None))


def _recording(
    called: list[TokenSet | None],
) -> Callable[[TokenSet | None], Result[tuple[TokenSet, None], AuthFailure]]:
    """`_rotate`, noting each session it was given (a refresh that must not run)."""

    def refresh(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        called.append(current)
        return _rotate(current)

    return refresh


def test_with_the_keychain_chosen_the_file_keeps_no_secret(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)

    tokens.save(_session()).unwrap()

    text = path.read_text()
    for secret in ("access-1", "refresh-1", "secret-id-token"):
        assert secret not in text
    document = json.loads(text)
    assert document["credential_store"] == "keyring"
    assert document["expires_at"] == 1_800_003_600
    assert document["email"] == "alice@example.com"
    assert "access-1" in vault.entries[SESSION_SECRET]
    assert tokens.load() == Success(_session())
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_locked_keychain_stops_a_refresh_before_the_old_token_is_spent(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    before = path.read_bytes()
    vault.unavailable = LOCKED
    called: list[TokenSet | None] = []
    refresh = _recording(called)

    assert tokens.update(refresh) == Failure(LOCKED)
    assert called == []
    assert path.read_bytes() == before


def test_a_session_in_the_file_is_probed_for_before_it_moves_on_write(tmp_path: Path) -> None:
    """Keychain chosen after the session was saved to the file: it is still read from the
    file, and a refresh (which would spend the refresh token) first checks the keychain."""
    tokens_in_file, _, path = _store(tmp_path, CredentialStore.FILE)
    tokens_in_file.save(_session()).unwrap()
    tokens, vault, _ = _store(tmp_path, CredentialStore.KEYRING)

    assert tokens.load() == Success(_session())
    assert vault.calls == []
    vault.unavailable = LOCKED
    called: list[TokenSet | None] = []
    refresh = _recording(called)

    assert tokens.update(refresh) == Failure(LOCKED)
    assert called == []
    assert json.loads(path.read_text())["access_token"] == "access-1"

    vault.unavailable = None
    tokens.update(_rotate).unwrap()
    assert "access-2" not in path.read_text()
    assert tokens.kept_in() == Success(CredentialStore.KEYRING)
    assert tokens.load() == Success(_session("access-2", "refresh-2"))


def test_files_chosen_again_the_next_write_takes_the_tokens_out_of_the_keychain(
    tmp_path: Path,
) -> None:
    in_keychain, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    in_keychain.save(_session()).unwrap()
    tokens, _, _ = _store(tmp_path, CredentialStore.FILE, vault)

    assert tokens.load() == Success(_session())
    tokens.update(_rotate).unwrap()

    assert json.loads(path.read_text())["access_token"] == "access-2"
    assert SESSION_SECRET not in vault.entries


def test_a_keychain_entry_removed_by_hand_is_no_session(tmp_path: Path) -> None:
    tokens, vault, _ = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    vault.entries.clear()

    assert tokens.load() == Success(None)


def test_logout_removes_the_keychain_entry_and_the_file(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    seen: list[TokenSet | None] = []

    assert tokens.delete(seen.append) == Success((True, None))

    assert seen == [_session()]
    assert vault.entries == {}
    assert not path.exists()


def test_logout_with_a_locked_keychain_removes_nothing(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    before = path.read_bytes()
    vault.unavailable = LOCKED
    seen: list[TokenSet | None] = []

    assert tokens.delete(seen.append) == Failure(LOCKED)

    assert seen == []  # no revocation of a session that then stays
    assert path.read_bytes() == before
    assert SESSION_SECRET in vault.entries


def test_an_entry_left_by_a_crash_before_the_file_is_removed_by_logout(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    vault.entries[SESSION_SECRET] = "left behind"

    assert tokens.delete(no_look) == Success((False, None))
    assert vault.entries == {}
    assert not path.exists()


def test_a_move_to_a_locked_keychain_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.FILE)
    tokens.save(_session()).unwrap()
    before = path.read_bytes()
    vault.unavailable = LOCKED

    assert tokens.move(CredentialStore.KEYRING) == Failure(LOCKED)
    assert path.read_bytes() == before


class _ForgetfulVault(InMemoryVault):
    """Says it stored the secret, then gives back something else."""

    def write(self, name: str, secret: SecretStr) -> Result[None, KeychainUnavailable]:
        return super().write(name, SecretStr(secret.get_secret_value()[:-1]))


def test_a_move_whose_copy_does_not_read_back_keeps_the_old_copy(tmp_path: Path) -> None:
    tokens, _, path = _store(tmp_path, CredentialStore.FILE, _ForgetfulVault())
    tokens.save(_session()).unwrap()
    before = path.read_bytes()

    failure = tokens.move(CredentialStore.KEYRING).failure()

    assert isinstance(failure, KeychainUnavailable)
    assert "give back" in failure.message
    assert path.read_bytes() == before
    assert tokens.load() == Success(_session())


def test_a_move_out_of_a_locked_keychain_leaves_everything_in_place(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    before = path.read_bytes()
    vault.unavailable = LOCKED

    assert tokens.move(CredentialStore.FILE) == Failure(LOCKED)
    assert path.read_bytes() == before
    vault.unavailable = None
    assert tokens.load() == Success(_session())
    assert tokens.move(CredentialStore.FILE) == Success(Moved.MOVED)
    assert vault.entries == {}


def test_login_learns_before_the_device_flow_that_the_keychain_is_locked(tmp_path: Path) -> None:
    tokens, vault, _ = _store(tmp_path, CredentialStore.KEYRING)
    vault.unavailable = LOCKED

    assert tokens.check_writable() == Failure(LOCKED)


def test_a_bad_choice_fails_writes_and_not_reads(tmp_path: Path) -> None:
    in_file, _, _ = _store(tmp_path, CredentialStore.FILE)
    in_file.save(_session()).unwrap()
    bad = InvalidCredentialStore("BASIC_MEMORY_CREDENTIAL_STORE", "keychain")

    def choose() -> Result[StoreChoice, StorageFailure]:
        return Failure(bad)

    tokens = JsonFileTokenStore(
        tmp_path / ".cloud_tokens.json", vault=InMemoryVault(), choose=choose
    )

    assert tokens.load() == Success(_session())
    assert tokens.update(_rotate) == Failure(bad)
    assert tokens.load() == Success(_session())


def test_secrets_read_from_the_keychain_are_remembered(tmp_path: Path) -> None:
    vault = InMemoryVault()
    _store(tmp_path, CredentialStore.KEYRING, vault)[0].save(_session()).unwrap()
    known: list[str] = []
    tokens = JsonFileTokenStore(
        tmp_path / ".cloud_tokens.json",
        vault=vault,
        choose=fixed_store_choice(CredentialStore.KEYRING),
        remember=known.append,
    )

    tokens.load().unwrap()

    assert {"access-1", "refresh-1", "secret-id-token"} <= set(known)


def test_a_damaged_keychain_entry_is_a_damaged_session_naming_no_secret(tmp_path: Path) -> None:
    tokens, vault, _ = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    vault.entries[SESSION_SECRET] = '{"access_token": "leaky-secret'

    failure = tokens.load().failure()

    assert isinstance(failure, CorruptFile)
    assert "system keychain" in failure.message
    assert "leaky-secret" not in failure.message
    assert "bm cloud logout" in failure.message


def test_a_keychain_entry_naming_a_store_moves_back_whole(tmp_path: Path) -> None:
    """An entry edited to carry `credential_store` (a field the file uses) must not make the
    session written back to the file point away from itself."""
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    for value in ("keyring", "file"):
        entry = json.loads(vault.entries[SESSION_SECRET])
        vault.entries[SESSION_SECRET] = json.dumps({**entry, "credential_store": value})

        assert tokens.move(CredentialStore.FILE) == Success(Moved.MOVED)

        assert "credential_store" not in json.loads(path.read_text())
        assert tokens.load() == Success(_session())
        assert tokens.move(CredentialStore.KEYRING) == Success(Moved.MOVED)


def test_a_file_pointing_to_the_keychain_yet_holding_tokens_is_damaged(tmp_path: Path) -> None:
    tokens, _vault, path = _store(tmp_path, CredentialStore.KEYRING)
    path.write_text(
        json.dumps(
            {"access_token": "inline-secret", "expires_at": 1, "credential_store": "keyring"}
        )
    )

    failure = tokens.load().failure()
    assert isinstance(failure, CorruptFile)
    assert "holds tokens" in failure.message
    assert "inline-secret" not in failure.message
    assert isinstance(tokens.move(CredentialStore.KEYRING).failure(), CorruptFile)
    assert tokens.delete(no_look) == Success((True, None))
    assert not path.exists()


def test_logout_removes_a_damaged_keychain_entry_too(tmp_path: Path) -> None:
    tokens, vault, path = _store(tmp_path, CredentialStore.KEYRING)
    tokens.save(_session()).unwrap()
    vault.entries[SESSION_SECRET] = '{"access_token": "has space", "refresh_token": "r"}'
    in_files = JsonFileTokenStore(
        path, vault=vault, choose=fixed_store_choice(CredentialStore.FILE)
    )

    assert in_files.delete(no_look) == Success((True, None))

    assert vault.entries == {}
    assert not path.exists()
