"""The JSON token store on real files: format, privacy, damaged files, symbolic links."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.json_file_token_store import JsonFileTokenStore
from domain.errors import AuthFailure, CorruptFile, FileAccessError, SessionExpired
from domain.session import TokenSet
from tests.fakes import no_look

SECRET = "SECRET-d0n7-l34k-m3"


def session() -> TokenSet:
    return TokenSet(
        access_token=SecretStr(SECRET),
        refresh_token=SecretStr("refresh-" + SECRET),
        expires_at=1_800_003_600,
        user_id="user_1",
        email="alice@example.com",
        obtained_at=1_800_000_000,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".cloud_tokens.json"


@pytest.fixture
def store(path: Path) -> JsonFileTokenStore:
    return JsonFileTokenStore(path, lock_timeout=1.0)


def test_saved_file_is_private_json_in_the_documented_format(
    store: JsonFileTokenStore, path: Path
) -> None:
    store.save(session())

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "access_token": SECRET,
        "refresh_token": "refresh-" + SECRET,
        "expires_at": 1_800_003_600,
        "token_type": "Bearer",
        "user_id": "user_1",
        "email": "alice@example.com",
        "obtained_at": 1_800_000_000,
    }


def test_a_file_written_elsewhere_loads_with_unknown_fields_kept_on_rewrite(
    store: JsonFileTokenStore, path: Path
) -> None:
    path.write_text(
        json.dumps(
            {
                "access_token": "a",
                "refresh_token": None,
                "expires_at": 100,
                "expires_in": 3600,
                "scope": ["openid"],
            }
        )
    )

    loaded = store.load().unwrap()
    assert loaded is not None
    assert loaded.refresh_token is None
    assert loaded.token_type == "Bearer"
    assert loaded.extra == {"expires_in": 3600, "scope": ["openid"]}

    def bump(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        assert current is not None
        return Success((current.model_copy(update={"expires_at": 200}), None))

    store.update(bump)

    rewritten = json.loads(path.read_text())
    assert rewritten["expires_at"] == 200
    assert rewritten["expires_in"] == 3600
    assert rewritten["scope"] == ["openid"]


def test_a_rejected_change_leaves_the_file_byte_for_byte(
    store: JsonFileTokenStore, path: Path
) -> None:
    original = b'{"expires_at": 5,   "access_token": "x", "odd": [1,2]}'
    path.write_bytes(original)

    def refuse(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        return Failure(SessionExpired())

    assert store.update(refuse) == Failure(SessionExpired())
    assert path.read_bytes() == original


CORRUPT_FILES = {
    "truncated": (
        b'{"access_token": "' + SECRET.encode() + b'", "expires_at": 17',
        "not valid JSON",
    ),
    "empty": (b"", "empty file"),
    "whitespace": (b"  \n", "empty file"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff" + SECRET.encode(), "not valid UTF-8"),
    "not an object": (json.dumps([SECRET]).encode(), "not a JSON object"),
    "missing access token": (b'{"expires_at": 1}', "access_token is missing"),
    "missing expiry": (json.dumps({"access_token": SECRET}).encode(), "expires_at is missing"),
    "expiry as text": (
        json.dumps({"access_token": SECRET, "expires_at": "soon"}).encode(),
        "expires_at must be an integer",
    ),
    "expiry as boolean": (
        json.dumps({"access_token": SECRET, "expires_at": True}).encode(),
        "expires_at must be an integer",
    ),
    "expiry as float": (
        json.dumps({"access_token": SECRET, "expires_at": 1.5}).encode(),
        "expires_at must be an integer",
    ),
    "token as number": (b'{"access_token": 12345, "expires_at": 1}', "access_token must be"),
    "refresh token as object": (
        json.dumps({"access_token": "a", "expires_at": 1, "refresh_token": {"t": SECRET}}).encode(),
        "refresh_token must be a non-empty string of visible ASCII",
    ),
    # Hand-edited tokens that could not go in an Authorization header: refused at load, so
    # nothing (the library included) ever sends one and gets httpx's header error quoting it.
    "access token with a space": (
        json.dumps({"access_token": f"{SECRET} x", "expires_at": 1}).encode(),
        "access_token must be a non-empty string of visible ASCII",
    ),
    "access token with a newline": (
        json.dumps({"access_token": f"{SECRET}\n", "expires_at": 1}).encode(),
        "access_token must be a non-empty string of visible ASCII",
    ),
    "access token not ASCII": (
        json.dumps({"access_token": f"{SECRET}é", "expires_at": 1}).encode(),
        "access_token must be a non-empty string of visible ASCII",
    ),
    "access token empty": (
        json.dumps({"access_token": "", "expires_at": 1}).encode(),
        "access_token must be a non-empty string of visible ASCII",
    ),
    "refresh token with a control character": (
        json.dumps(
            {"access_token": "a", "expires_at": 1, "refresh_token": f"{SECRET}\x7f"}
        ).encode(),
        "refresh_token must be a non-empty string of visible ASCII",
    ),
    "email as list": (
        json.dumps({"access_token": SECRET, "expires_at": 1, "email": [SECRET]}).encode(),
        "email must be a string or null",
    ),
    "deeply nested": (b'{"access_token": "a", "expires_at": 1, "x": ' + b"[" * 100_000, "JSON"),
    "huge": (b'{"access_token": "' + SECRET.encode() * 70_000 + b'"}', "larger than 1 MiB"),
}


@pytest.mark.parametrize("case", CORRUPT_FILES, ids=list(CORRUPT_FILES))
def test_a_damaged_file_is_named_in_one_line_without_its_content(
    store: JsonFileTokenStore, path: Path, case: str
) -> None:
    content, expected = CORRUPT_FILES[case]
    path.write_bytes(content)

    failure = store.load().failure()

    assert isinstance(failure, CorruptFile)
    assert expected in failure.problem
    assert str(path) in failure.message
    assert "\n" not in failure.message
    assert SECRET not in failure.message
    assert SECRET not in repr(failure)
    # Saving over it is refused too, and nothing was touched.
    assert isinstance(store.save(session()).failure(), CorruptFile)
    assert path.read_bytes() == content


def test_a_directory_at_the_token_path_is_an_access_failure(
    store: JsonFileTokenStore, path: Path
) -> None:
    path.mkdir()

    assert store.load() == Failure(FileAccessError(str(path), "is a directory"))
    assert isinstance(store.save(session()).failure(), FileAccessError)
    assert isinstance(store.delete(no_look).failure(), FileAccessError)
    assert path.is_dir()


@pytest.mark.skipif(
    os.geteuid() == 0, reason="running as root: chmod 000 does not stop root from reading"
)
def test_an_unreadable_file_is_an_access_failure(store: JsonFileTokenStore, path: Path) -> None:
    path.write_text(json.dumps({"access_token": SECRET, "expires_at": 1}))
    path.chmod(0o000)

    assert store.load() == Failure(FileAccessError(str(path), "permission denied"))


def test_a_symbolic_link_is_refused_for_reading_and_writing(
    store: JsonFileTokenStore, path: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"access_token": SECRET, "expires_at": 1}))
    before = elsewhere.read_bytes()
    path.symlink_to(elsewhere)
    refused = FileAccessError(str(path), "is a symbolic link; remove it")

    def create(current: TokenSet | None) -> Result[tuple[TokenSet, None], AuthFailure]:
        return Success((session(), None))

    assert store.load() == Failure(refused)
    assert store.save(session()) == Failure(refused)
    assert store.update(create) == Failure(refused)
    assert "remove it" in refused.message
    assert elsewhere.read_bytes() == before
    assert path.is_symlink()


def test_delete_removes_the_link_itself_not_its_target(
    store: JsonFileTokenStore, path: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("precious")
    path.symlink_to(elsewhere)

    assert store.delete(no_look) == Success((True, None))

    assert not path.is_symlink()
    assert elsewhere.read_text() == "precious"


def test_a_dangling_link_is_refused_and_deletable(store: JsonFileTokenStore, path: Path) -> None:
    path.symlink_to(path.parent / "does-not-exist")

    assert isinstance(store.load().failure(), FileAccessError)
    assert store.delete(no_look) == Success((True, None))
    assert not os.path.lexists(path)


def test_a_stale_temp_from_a_crashed_writer_goes_at_the_next_write(
    store: JsonFileTokenStore, path: Path
) -> None:
    stale = path.parent / f".{path.name}.99999.deadbeef.tmp"
    stale.write_text('{"access_token": "half')

    store.save(session())

    assert not stale.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        ".cloud_tokens.json",
        ".cloud_tokens.json.lock",
    ]


def test_save_creates_a_missing_data_folder_privately(tmp_path: Path) -> None:
    path = tmp_path / "data" / ".cloud_tokens.json"

    assert JsonFileTokenStore(path).save(session()) == Success(None)

    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_delete_in_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "data" / ".cloud_tokens.json"

    assert JsonFileTokenStore(path).delete(no_look) == Success((False, None))
    assert not path.parent.exists()


def test_secrets_never_show_in_the_stores_repr(store: JsonFileTokenStore) -> None:
    store.save(session())

    assert SECRET not in repr(store.load())
    assert SECRET not in repr(store)
