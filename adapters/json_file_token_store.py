"""TokenStore on `.cloud_tokens.json`: strict, secret-safe parsing and locked atomic writes.

With the keychain store the tokens go to the system keychain as one entry (the same JSON
document this file would hold) and the file keeps the rest (expiry, account) and the line
`"credential_store": "keyring"` that says where they went. The file's lock still orders
every change, so processes refresh once between them whichever store holds the tokens.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

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
from domain.credential_store import SESSION_SECRET, CredentialStore, Moved, StoreChoice
from domain.errors import (
    CorruptFile,
    FileAccessError,
    KeychainUnavailable,
    StorageFailure,
)
from domain.session import TokenSet, is_header_safe

if TYPE_CHECKING:
    from domain.ports import SecretVault

_KNOWN_FIELDS = (
    "access_token",
    "refresh_token",
    "expires_at",
    "token_type",
    "user_id",
    "email",
    "session_id",
    "obtained_at",
    # Where the tokens went, in a file that holds none. Known, so that it is never carried
    # along as a field of another tool's: a session written with it would point away from
    # itself.
    "credential_store",
)
_OPTIONAL_TEXT = ("user_id", "email", "session_id")
_STORE_FIELD = "credential_store"
_SECRET_FIELDS = ("access_token", "refresh_token")
StoreChooser = Callable[[], Result[StoreChoice, StorageFailure]]
T = TypeVar("T")
E = TypeVar("E")
F = TypeVar("F", bound=ReadFailure | KeychainUnavailable)


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
        vault: SecretVault | None = None,
        choose: StoreChooser | None = None,
    ) -> None:
        self._path = path
        # The keychain, and which store new tokens go to; without them, always this file.
        self._vault = vault
        self._choose = choose
        self._lock_timeout = lock_timeout
        self._on_lock_wait = on_lock_wait
        # Told each secret read from the file, so that the CLI can keep them out of whatever
        # it prints, even after the file is gone (logout).
        self._remember = remember

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> Result[TokenSet | None, StorageFailure]:
        return self._read().map(_tokens_of)

    def kept_in(self) -> Result[CredentialStore | None, StorageFailure]:
        return (
            read_bytes_limited(self._path, follow_symlinks=False)
            .bind(self._place_of)
            .alt(_with_logout_remedy)
        )

    def save(self, tokens: TokenSet) -> Result[None, StorageFailure]:
        """Replace the session; a damaged file is reported, not silently overwritten."""
        return self.update(lambda _current: Success((tokens, None))).map(lambda _answer: None)

    def check_writable(self) -> Result[None, StorageFailure]:
        """Take the lock and create and remove a temp file, as `save` would.

        The temp file is named like `write_atomically`'s, so one a crash leaves behind is
        cleaned up by the next writer.
        """
        return self._with_lock(self._probe)

    def _probe(self) -> Result[None, StorageFailure]:
        return (
            self._probe_file()
            .bind(lambda _ok: self._chosen())
            .bind(lambda chosen: self._probe_chosen(chosen, None))
        )

    def _probe_chosen(
        self, chosen: CredentialStore, place: CredentialStore | None
    ) -> Result[None, StorageFailure]:
        """Before a change that costs something to lose (a refresh rotates the refresh
        token), make sure the chosen store can take its result: a locked keychain must stop
        the command before the old token is spent, not after."""
        if chosen is not CredentialStore.KEYRING or place is CredentialStore.KEYRING:
            return Success(None)  # the file was checked; a keychain just read from works
        return self._keychain().bind(lambda vault: vault.read(SESSION_SECRET)).map(_nothing)

    def _probe_file(self) -> Result[None, StorageFailure]:
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
            # Nothing to remove; no lock needed (and none created in a missing folder). An
            # entry a crash left in the keychain before its file was written goes too.
            if self._chosen().value_or(None) is CredentialStore.KEYRING:
                self._keychain().bind(lambda vault: vault.delete(SESSION_SECRET))
            return Success((False, last_look(None)))

        def remove() -> Result[tuple[bool, T], StorageFailure]:
            current = self._read()
            if not is_successful(current) and isinstance(current.failure(), KeychainUnavailable):
                # The tokens cannot be read, so their entry cannot be removed either: stop
                # with the whole session in place rather than leave a secret behind.
                return Failure(current.failure())
            stored = current.value_or(None)
            seen = last_look(stored.tokens if stored is not None else None)
            # A damaged session is removed too; if its file points to the keychain, the
            # (perhaps damaged) entry there goes with it, or a secret would stay behind.
            in_keychain = stored.place if stored is not None else self._file_place()
            if in_keychain is CredentialStore.KEYRING:
                removed = self._keychain().bind(lambda vault: vault.delete(SESSION_SECRET))
                if not is_successful(removed):
                    return Failure(removed.failure())
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
            stored = current.unwrap()
            place = stored.place if stored is not None else None
            # Chosen once per change: the choice reads config.yaml.
            chosen = self._chosen()
            if not is_successful(chosen):
                return Failure(chosen.failure())
            ready = self._probe_chosen(chosen.unwrap(), place)
            if not is_successful(ready):
                return Failure(ready.failure())
            before = stored.tokens if stored is not None else None
            changed = change(before)
            if not is_successful(changed):
                return Failure(changed.failure())
            answer = changed.unwrap()
            if answer[0] is before:
                return Success(answer)
            return self._write(answer[0], chosen.unwrap(), place).map(lambda _done: answer)

        return self._with_lock(apply)

    def move(self, to: CredentialStore) -> Result[Moved, StorageFailure]:
        def apply() -> Result[Moved, StorageFailure]:
            current = self._read()
            if not is_successful(current):
                return Failure(current.failure())
            stored = current.unwrap()
            if stored is None:
                return Success(Moved.NOTHING)
            if stored.place is to:
                return Success(Moved.ALREADY_THERE)
            if to is CredentialStore.KEYRING:
                return self._into_keychain(stored.tokens).map(lambda _done: Moved.MOVED)
            return self._into_file(stored.tokens).map(lambda _done: Moved.MOVED)

        return self._with_lock(apply)

    def _write(
        self, tokens: TokenSet, chosen: CredentialStore, place: CredentialStore | None
    ) -> Result[None, StorageFailure]:
        if chosen is CredentialStore.KEYRING:
            vault = self._keychain()
            if not is_successful(vault):
                return Failure(vault.failure())
            stored = vault.unwrap().write(SESSION_SECRET, SecretStr(_serialise(tokens).decode()))
            if not is_successful(stored):
                return Failure(stored.failure())
            return write_atomically(self._path, _stub(tokens))
        written = write_atomically(self._path, _serialise(tokens))
        if is_successful(written) and place is CredentialStore.KEYRING and self._vault:
            # The file holds the session now; the keychain's copy is an older one. Failing to
            # remove it must not fail the write that kept the new tokens (logout removes it).
            self._vault.delete(SESSION_SECRET)
        return written

    def _into_keychain(self, tokens: TokenSet) -> Result[None, StorageFailure]:
        """Keychain first, read back; then the file without its tokens (the old copy goes)."""
        vault = self._keychain()
        if not is_successful(vault):
            return Failure(vault.failure())
        keychain = vault.unwrap()
        document = _serialise(tokens).decode()
        stored = keychain.write(SESSION_SECRET, SecretStr(document))
        if not is_successful(stored):
            return Failure(stored.failure())
        back = keychain.read(SESSION_SECRET)
        if not is_successful(back):
            return Failure(back.failure())
        entry = back.unwrap()
        if entry is None or entry.get_secret_value() != document:
            return Failure(KeychainUnavailable("it did not give back the session just stored"))
        return write_atomically(self._path, _stub(tokens))

    def _into_file(self, tokens: TokenSet) -> Result[None, StorageFailure]:
        """The file first, read back; then the keychain's entry (the old copy) goes."""
        vault = self._keychain()
        if not is_successful(vault):
            return Failure(vault.failure())
        written = write_atomically(self._path, _serialise(tokens))
        if not is_successful(written):
            return Failure(written.failure())
        back = self._read()
        if not is_successful(back):
            return Failure(back.failure())
        stored = back.unwrap()
        if stored is None or stored.tokens != tokens:
            problem = "it did not give back the session just written"
            return Failure(FileAccessError(str(self._path), problem))
        return vault.unwrap().delete(SESSION_SECRET).map(_nothing)

    def _chosen(self) -> Result[CredentialStore, StorageFailure]:
        if self._choose is None:
            return Success(CredentialStore.FILE)
        return self._choose().map(lambda choice: choice.store)

    def _keychain(self) -> Result[SecretVault, KeychainUnavailable]:
        if self._vault is None:
            return Failure(KeychainUnavailable("this program was built without one"))
        return Success(self._vault)

    def _with_lock(self, body: Callable[[], Result[T, E]]) -> Result[T, E | LockFailure]:
        return with_lock(self._path, self._lock_timeout, body, self._on_lock_wait)

    def _read(self) -> Result[_Stored | None, ReadFailure | KeychainUnavailable]:
        data = read_bytes_limited(self._path, follow_symlinks=False)
        if not is_successful(data):
            return Failure(_with_logout_remedy(data.failure()))
        return self._parse(data.unwrap()).alt(_with_logout_remedy)

    def _parse(
        self, data: bytes | None
    ) -> Result[_Stored | None, ReadFailure | KeychainUnavailable]:
        if data is None:
            return Success(None)
        place = self._place_of(data)
        if not is_successful(place):
            return Failure(place.failure())
        if place.unwrap() is not CredentialStore.KEYRING:
            return self._parsed(parse_tokens(self._path, data), CredentialStore.FILE)
        vault = self._keychain()
        if not is_successful(vault):
            return Failure(vault.failure())
        entry = vault.unwrap().read(SESSION_SECRET)
        if not is_successful(entry):
            return Failure(entry.failure())
        return self._parse_keychain_entry(entry.unwrap())

    def _parse_keychain_entry(self, entry: SecretStr | None) -> Result[_Stored | None, CorruptFile]:
        if entry is None:
            # Removed from the keychain by hand (or the file was copied from another
            # machine): there is no session here, as when the file itself is gone.
            return Success(None)
        data = entry.get_secret_value().encode("utf-8", "surrogateescape")
        label = f"{self._path} (its tokens in the system keychain)"
        return self._parsed(parse_tokens(Path(label), data), CredentialStore.KEYRING)

    def _parsed(
        self, parsed: Result[TokenSet, CorruptFile], place: CredentialStore
    ) -> Result[_Stored | None, CorruptFile]:
        if self._remember is not None and isinstance(parsed, Success):
            for secret in _secrets_of(parsed.unwrap()):
                self._remember(secret)
        return parsed.map(lambda tokens: _Stored(tokens, place))

    def _file_place(self) -> CredentialStore | None:
        """Where the file says the tokens are, whatever else is wrong with it."""
        data = read_bytes_limited(self._path, follow_symlinks=False).value_or(None)
        document = _decode(data).value_or({}) if data is not None else {}
        return CredentialStore.KEYRING if _STORE_FIELD in document else None

    def _place_of(self, data: bytes | None) -> Result[CredentialStore | None, CorruptFile]:
        """Where the tokens are, from the file's bytes: a file that names the keychain
        holds none itself. Only that one value is read here; the rest is checked by the
        parser of whichever copy holds the tokens."""
        if data is None:
            return Success(None)
        document = _decode(data)
        if not is_successful(document) or _STORE_FIELD not in document.unwrap():
            return Success(CredentialStore.FILE)
        if document.unwrap()[_STORE_FIELD] != CredentialStore.KEYRING.value:
            return Failure(
                CorruptFile(str(self._path), f'{_STORE_FIELD} must be "keyring" when present')
            )
        if any(name in document.unwrap() for name in _SECRET_FIELDS):
            # Which copy is the session is a guess; neither is used, and the tokens in the
            # file are not left there unreported.
            problem = f'it holds tokens although its {_STORE_FIELD} says "keyring"'
            return Failure(CorruptFile(str(self._path), problem))
        return Success(CredentialStore.KEYRING)


class _Stored(NamedTuple):
    # A named tuple: cheaper to define at import than a frozen dataclass (start-up).
    tokens: TokenSet
    place: CredentialStore


def _tokens_of(stored: _Stored | None) -> TokenSet | None:
    return stored.tokens if stored is not None else None


def _nothing(_value: object) -> None:
    return None


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


def _stub(tokens: TokenSet) -> bytes:
    """The file when the keychain holds the tokens: what a person or `status` may read."""
    full = json.loads(_serialise(tokens))
    document = {key: value for key, value in full.items() if key in _KNOWN_FIELDS}
    for name in _SECRET_FIELDS:
        document.pop(name, None)
    document[_STORE_FIELD] = CredentialStore.KEYRING.value
    return (json.dumps(document, indent=2) + "\n").encode("ascii")


def _with_logout_remedy(failure: F) -> F:
    """A damaged session is worthless: the way out is to remove it and sign in again."""
    if isinstance(failure, CorruptFile):
        return failure.replace(remedy="remove it with `bm cloud logout`, then sign in again")
    return failure
