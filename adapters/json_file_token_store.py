"""TokenStore on `.cloud_tokens.json`: strict, secret-safe parsing and locked atomic writes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr
from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from adapters.atomic_files import (
    PRIVATE_FILE_MODE,
    TEMP_SUFFIX,
    LockFailure,
    LockWaitNotice,
    ReadFailure,
    describe_os_error,
    read_bytes_limited,
    temp_prefix,
    with_lock,
    write_atomically,
)
from domain.errors import CorruptFile, FileAccessError, StorageFailure
from domain.session import TokenSet, is_header_safe

_KNOWN_FIELDS = (
    "access_token",
    "refresh_token",
    "expires_at",
    "token_type",
    "user_id",
    "email",
    "session_id",
    "obtained_at",
)
_OPTIONAL_TEXT = ("user_id", "email", "session_id")
T = TypeVar("T")
E = TypeVar("E")


# A refresh or a revocation runs under the lock (single flight), and one HTTP call may take up
# to its 30 s deadline (http_transport.REQUEST_DEADLINE_SECONDS): a waiter must outlast it, or
# it would give up while the holder is doing exactly what it was waiting for.
TOKEN_LOCK_TIMEOUT_SECONDS = 45.0


class JsonFileTokenStore:
    """The OAuth session as a JSON object in a private file.

    Never reads or writes through a symbolic link: a link at the token path could send the
    secrets somewhere else. Failure messages never quote the file, which holds secrets.
    """

    def __init__(
        self,
        path: Path,
        lock_timeout: float = TOKEN_LOCK_TIMEOUT_SECONDS,
        on_lock_wait: LockWaitNotice | None = None,
        remember: Callable[[str], None] | None = None,
    ) -> None:
        self._path = path
        self._lock_timeout = lock_timeout
        self._on_lock_wait = on_lock_wait
        # Told each secret read from the file, so that the CLI can keep them out of whatever
        # it prints, even after the file is gone (logout).
        self._remember = remember

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> Result[TokenSet | None, StorageFailure]:
        return self._read()

    def save(self, tokens: TokenSet) -> Result[None, StorageFailure]:
        """Replace the session; a damaged file is reported, not silently overwritten."""
        return self.update(lambda _current: Success((tokens, None))).map(lambda _answer: None)

    def check_writable(self) -> Result[None, StorageFailure]:
        """Take the lock and create and remove a temp file, as `save` would.

        The temp file is named like `write_atomically`'s, so one a crash leaves behind is
        cleaned up by the next writer.
        """
        return self._with_lock(self._probe)

    def _probe(self) -> Result[None, FileAccessError]:
        probe = self._path.with_name(f"{temp_prefix(self._path)}{os.getpid()}.probe{TEMP_SUFFIX}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            os.close(os.open(probe, flags, PRIVATE_FILE_MODE))
            probe.unlink()
        except OSError as error:
            return Failure(FileAccessError(str(self._path), describe_os_error(error)))
        return Success(None)

    def delete(
        self, last_look: Callable[[TokenSet | None], T]
    ) -> Result[tuple[bool, T], StorageFailure]:
        """Remove the file, damaged or not; a symbolic link is removed, not its target."""
        if not os.path.lexists(self._path):
            # Nothing to remove; no lock needed (and none created in a missing folder).
            return Success((False, last_look(None)))

        def remove() -> Result[tuple[bool, T], FileAccessError]:
            current = self._read()
            seen = last_look(current.unwrap() if is_successful(current) else None)
            try:
                self._path.unlink()
            except FileNotFoundError:
                return Success((False, seen))
            except OSError as error:
                return Failure(FileAccessError(str(self._path), describe_os_error(error)))
            return Success((True, seen))

        return self._with_lock(remove)

    def update(
        self, change: Callable[[TokenSet | None], Result[tuple[TokenSet, T], E]]
    ) -> Result[tuple[TokenSet, T], E | StorageFailure]:
        def apply() -> Result[tuple[TokenSet, T], E | StorageFailure]:
            current = self._read()
            if not is_successful(current):
                return Failure(current.failure())
            before = current.unwrap()
            changed = change(before)
            if not is_successful(changed):
                return Failure(changed.failure())
            answer = changed.unwrap()
            if answer[0] is before:
                return Success(answer)
            written = write_atomically(self._path, _serialise(answer[0]))
            return written.map(lambda _written: answer)

        return self._with_lock(apply)

    def _with_lock(self, body: Callable[[], Result[T, E]]) -> Result[T, E | LockFailure]:
        return with_lock(self._path, self._lock_timeout, body, self._on_lock_wait)

    def _read(self) -> Result[TokenSet | None, ReadFailure]:
        return (
            read_bytes_limited(self._path, follow_symlinks=False)
            .bind(self._parse)
            .alt(_with_logout_remedy)
        )

    def _parse(self, data: bytes | None) -> Result[TokenSet | None, ReadFailure]:
        if data is None:
            return Success(None)
        parsed = parse_tokens(self._path, data)
        if self._remember is not None and isinstance(parsed, Success):
            for secret in _secrets_of(parsed.unwrap()):
                self._remember(secret)
        return parsed


def _is_token(value: object) -> bool:
    # A hand-edited token that could not go in a header is refused here, at the one door
    # every session comes in by, so no caller (the library included) can ever send one and
    # have httpx quote it in an exception.
    return isinstance(value, str) and is_header_safe(value)


def _is_optional_token(value: object) -> bool:
    # An empty refresh token has always meant "none" (TokenSet.can_refresh).
    return value is None or value == "" or _is_token(value)


def _is_optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_unix_seconds(value: object) -> bool:
    # bool is an int subclass in Python, but `true` is not a time.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_optional_unix_seconds(value: object) -> bool:
    return value is None or _is_unix_seconds(value)


_TOKEN_RULE = "must be a non-empty string of visible ASCII characters (it is sent in a header)"

# (field, required, valid, rule): the first broken rule is the problem reported.
_FIELD_RULES: tuple[tuple[str, bool, Callable[[object], bool], str], ...] = (
    ("access_token", True, _is_token, _TOKEN_RULE),
    ("refresh_token", False, _is_optional_token, f"{_TOKEN_RULE} or null"),
    ("expires_at", True, _is_unix_seconds, "must be an integer (Unix seconds)"),
    ("token_type", False, _is_optional_text, "must be a string"),
    ("user_id", False, _is_optional_text, "must be a string or null"),
    ("email", False, _is_optional_text, "must be a string or null"),
    ("session_id", False, _is_optional_text, "must be a string or null"),
    ("obtained_at", False, _is_optional_unix_seconds, "must be an integer (Unix seconds)"),
)


def parse_tokens(path: Path, data: bytes) -> Result[TokenSet, CorruptFile]:
    """Decode the file; a failure's problem is one line and quotes nothing from the file."""
    return _decode(data).bind(_checked).map(_token_set).alt(partial(CorruptFile, str(path)))


def _decode(data: bytes) -> Result[dict[str, Any], str]:
    if not data.strip():
        return Failure("empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Failure(f"not valid UTF-8 text (byte {error.start})")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        # error.msg names the kind of mistake only; error.doc (the content) is never used.
        return Failure(
            f"not valid JSON: {error.msg.lower()} (line {error.lineno}, column {error.colno})"
        )
    except RecursionError:
        return Failure("not valid JSON: nested too deeply")
    except ValueError:
        # Python refuses to convert an integer of more than 4300 digits (CVE-2020-10735).
        return Failure("not valid JSON: a number is too long")
    if not isinstance(document, dict):
        return Failure("not a JSON object")
    return Success(document)


def _checked(document: dict[str, Any]) -> Result[dict[str, Any], str]:
    for name, required, valid, rule in _FIELD_RULES:
        if name not in document:
            if required:
                return Failure(f"{name} is missing")
        elif not valid(document[name]):
            return Failure(f"{name} {rule}")
    return Success(document)


def _token_set(document: dict[str, Any]) -> TokenSet:
    """Build from a document `_checked` accepted, so every known field has its type."""
    refresh = document.get("refresh_token")
    return TokenSet(
        access_token=SecretStr(document["access_token"]),
        refresh_token=SecretStr(refresh) if refresh is not None else None,
        expires_at=document["expires_at"],
        token_type=document.get("token_type") or "Bearer",
        user_id=document.get("user_id"),
        email=document.get("email"),
        session_id=document.get("session_id"),
        obtained_at=document.get("obtained_at"),
        extra={key: value for key, value in document.items() if key not in _KNOWN_FIELDS},
    )


def _secrets_of(tokens: TokenSet) -> list[str]:
    """The tokens, and unknown fields' text (another tool's id_token, say, may be secret)."""
    found = [tokens.access_token.get_secret_value()]
    if tokens.refresh_token is not None:
        found.append(tokens.refresh_token.get_secret_value())
    found.extend(value for value in tokens.extra.values() if isinstance(value, str))
    return found


def _serialise(tokens: TokenSet) -> bytes:
    """The only place the secrets are revealed: on their way into the private file."""
    document: dict[str, Any] = {
        "access_token": tokens.access_token.get_secret_value(),
        "refresh_token": (
            tokens.refresh_token.get_secret_value() if tokens.refresh_token is not None else None
        ),
        "expires_at": tokens.expires_at,
        "token_type": tokens.token_type,
    }
    for name in _OPTIONAL_TEXT:
        value = getattr(tokens, name)
        if value is not None:
            document[name] = value
    if tokens.obtained_at is not None:
        document["obtained_at"] = tokens.obtained_at
    for key, value in tokens.extra.items():
        # A known field always comes from the typed attribute, never from `extra`.
        if key not in _KNOWN_FIELDS:
            document[key] = value
    # ASCII output: a lone surrogate read from an escape in the file still writes cleanly.
    return (json.dumps(document, indent=2) + "\n").encode("ascii")


def _with_logout_remedy(failure: ReadFailure) -> ReadFailure:
    """A damaged session is worthless: the way out is to remove it and sign in again."""
    if isinstance(failure, CorruptFile):
        return replace(failure, remedy="remove it with `bm cloud logout`, then sign in again")
    return failure
