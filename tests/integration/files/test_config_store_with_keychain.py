"""config.yaml with the keychain store: the API key's place, moves, and failing closed."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.yaml_config_store import YamlConfigStore
from domain.config import AppConfig
from domain.credential_store import API_KEY_SECRET, CredentialStore, Moved
from domain.errors import AuthFailure, CorruptFile, InvalidCredentialStore, KeychainUnavailable
from tests.fakes import InMemoryVault

KEY = "bmc_abcdefgh12345678"
OTHER_KEY = "bmc_zyxwvuts87654321"
LOCKED = KeychainUnavailable("the keychain is locked")


def _store(
    tmp_path: Path, text: str = "", env: dict[str, str] | None = None
) -> tuple[YamlConfigStore, InMemoryVault, Path]:
    path = tmp_path / "config.yaml"
    if text:
        path.write_text(text)
    vault = InMemoryVault()
    return YamlConfigStore(path, lock_timeout=2.0, vault=vault, env=env or {}), vault, path


def _with_key(key: str | None):  # type: ignore[no-untyped-def]
    def change(config: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
        return Success((config.with_api_key(SecretStr(key) if key else None), None))

    return change


def _document(path: Path) -> dict[str, object]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_a_key_saved_with_the_keychain_chosen_stays_out_of_config_yaml(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path, "credential_store: keyring\nprojects: {}\n")

    config.update(_with_key(KEY)).unwrap()

    assert KEY not in path.read_text()
    assert _document(path)["cloud_api_key_in"] == "keyring"
    assert vault.entries[API_KEY_SECRET] == KEY
    assert config.load().unwrap().cloud_api_key == SecretStr(KEY)
    assert config.api_key_kept_in() == Success(CredentialStore.KEYRING)


def test_the_environment_chooses_over_config_yaml(tmp_path: Path) -> None:
    env = {"BASIC_MEMORY_CREDENTIAL_STORE": "keyring"}
    config, vault, path = _store(tmp_path, "credential_store: file\n", env)

    config.update(_with_key(KEY)).unwrap()

    assert KEY not in path.read_text()
    assert vault.entries == {API_KEY_SECRET: KEY}


def test_changes_that_leave_the_key_alone_leave_it_where_it_is(tmp_path: Path) -> None:
    """A key saved to the file before the keychain was chosen stays there until it changes
    or is moved: adding a project must not need the keychain."""
    config, vault, path = _store(tmp_path, f"cloud_api_key: {KEY}\ncredential_store: keyring\n")

    config.update(
        lambda current: current.with_project("notes", "/n").map(lambda new: (new, None))
    ).unwrap()

    assert _document(path)["cloud_api_key"] == KEY
    assert vault.calls == []


def test_without_a_key_in_the_keychain_it_is_never_asked(tmp_path: Path) -> None:
    config, vault, _ = _store(tmp_path, f"cloud_api_key: {KEY}\n")
    vault.unavailable = LOCKED

    assert config.load().unwrap().cloud_api_key == SecretStr(KEY)
    assert vault.calls == []


def test_a_key_in_a_locked_keychain_fails_closed(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path, "credential_store: keyring\n")
    config.update(_with_key(KEY)).unwrap()
    before = path.read_bytes()
    vault.unavailable = LOCKED

    assert config.load() == Failure(LOCKED)
    assert config.update(_with_key(None)) == Failure(LOCKED)
    assert path.read_bytes() == before


def test_removing_a_key_removes_its_keychain_entry(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path, "credential_store: keyring\n")
    config.update(_with_key(KEY)).unwrap()

    config.update(_with_key(None)).unwrap()

    assert vault.entries == {}
    assert "cloud_api_key" not in path.read_text()
    assert config.load().unwrap().cloud_api_key is None
    assert config.api_key_kept_in() == Success(None)


def test_a_new_key_saved_to_the_file_replaces_the_one_in_the_keychain(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path, "credential_store: keyring\n")
    config.update(_with_key(KEY)).unwrap()
    path.write_text(path.read_text().replace("credential_store: keyring", "credential_store: file"))

    config.update(_with_key(OTHER_KEY)).unwrap()

    assert _document(path)["cloud_api_key"] == OTHER_KEY
    assert "cloud_api_key_in" not in _document(path)
    assert vault.entries == {}


def test_the_key_moves_there_and_back_and_the_choice_is_recorded(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path, f"cloud_api_key: {KEY}\nprojects: {{}}\n")

    assert config.move(CredentialStore.KEYRING) == Success(Moved.MOVED)
    assert KEY not in path.read_text()
    assert _document(path)["credential_store"] == "keyring"
    assert vault.entries == {API_KEY_SECRET: KEY}
    assert config.move(CredentialStore.KEYRING) == Success(Moved.ALREADY_THERE)

    assert config.move(CredentialStore.FILE) == Success(Moved.MOVED)
    assert _document(path)["cloud_api_key"] == KEY
    assert _document(path)["credential_store"] == "file"
    assert vault.entries == {}


def test_moving_without_a_key_records_the_choice(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path)

    assert config.move(CredentialStore.KEYRING) == Success(Moved.NOTHING)
    assert _document(path) == {"credential_store": "keyring"}
    assert vault.entries == {}


def test_a_move_into_a_locked_keychain_changes_nothing(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path, f"cloud_api_key: {KEY}\n")
    before = path.read_bytes()
    vault.unavailable = LOCKED

    assert config.move(CredentialStore.KEYRING) == Failure(LOCKED)
    assert path.read_bytes() == before


def test_what_config_yaml_says_about_the_key_is_checked(tmp_path: Path) -> None:
    for text, problem in (
        ("cloud_api_key_in: vault\n", "cloud_api_key_in must be keyring"),
        (f"cloud_api_key_in: keyring\ncloud_api_key: {KEY}\n", "both set"),
        ("credential_store: [keyring]\n", "credential_store must be a string"),
    ):
        config, vault, _ = _store(tmp_path, text)
        failure = config.load().failure()
        assert isinstance(failure, CorruptFile), text
        assert problem in failure.message
        assert KEY not in failure.message
        assert vault.calls == []


def test_a_key_entry_removed_by_hand_is_no_key(tmp_path: Path) -> None:
    config, vault, _ = _store(tmp_path, "credential_store: keyring\n")
    config.update(_with_key(KEY)).unwrap()
    vault.entries.clear()

    assert config.load().unwrap().cloud_api_key is None
    config.update(_with_key(OTHER_KEY)).unwrap()
    assert vault.entries == {API_KEY_SECRET: OTHER_KEY}


def test_an_unknown_store_name_fails_only_writes_of_the_key(tmp_path: Path) -> None:
    config, vault, path = _store(tmp_path, "credential_store: keychain\n")

    assert config.load().unwrap().credential_store == "keychain"
    assert config.chosen_store().failure() == InvalidCredentialStore(
        "credential_store in config.yaml", "keychain"
    )
    assert isinstance(config.update(_with_key(KEY)).failure(), InvalidCredentialStore)
    assert KEY not in path.read_text()
    assert vault.entries == {}


def test_an_empty_key_in_the_keychain_is_no_key(tmp_path: Path) -> None:
    config, vault, _ = _store(tmp_path, "credential_store: keyring\n")
    config.update(_with_key(KEY)).unwrap()
    vault.entries[API_KEY_SECRET] = ""

    assert config.load().unwrap().cloud_api_key is None
