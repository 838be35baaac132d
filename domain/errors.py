"""Every expected failure, one small frozen value each, carrying its user-facing message.

Presenters match on these types; nothing here holds a secret, so any of them may be printed.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import TYPE_CHECKING, Any, ClassVar, Literal, dataclass_transform

if TYPE_CHECKING:
    from typing import Self

LOGIN_HINT = "Run `bm cloud login`."
API_KEY_RULE = "keys must start with 'bmc_' followed by at least 8 letters, digits, '-' or '_'"


@dataclass_transform(eq_default=True, frozen_default=True)
class FailureValue:
    """Base of every failure: a frozen dataclass's behaviour, without a dataclass's cost.

    Every `bm` command imports this module, and Python 3.11 spends about 1.3 ms (3M
    instructions) defining each `@dataclass(frozen=True)`: it writes the source of
    `__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__` and `__delattr__` and
    compiles it with `exec`. Here those methods are written once, for all subclasses, and a
    subclass costs only `__init_subclass__` recording its fields.

    A subclass declares its fields as annotations, in order (a parent's come first), with
    defaults as class attributes; it gets what `@dataclass(frozen=True)` would give:
    positional and keyword construction (a missing or unknown argument is a TypeError),
    `FrozenInstanceError` on assignment, equality of the same type with equal fields, a
    consistent hash, a dataclass's repr and `__match_args__`. `dataclass_transform` (PEP
    681) has type checkers synthesize and check each subclass's `__init__` as they would a
    dataclass's. What `dataclasses` functions did is here too: `FIELDS` names the fields,
    `replace()` copies with changes.
    """

    __slots__ = ()

    # The subclass's field names in order, and the defaults of those that have one.
    FIELDS: ClassVar[tuple[str, ...]] = ()
    _DEFAULTS: ClassVar[dict[str, object]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = list(cls.FIELDS)
        defaults = dict(cls._DEFAULTS)
        for name, annotation in vars(cls).get("__annotations__", {}).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            if name not in names:
                names.append(name)
            if name in vars(cls):
                default = vars(cls)[name]
                if isinstance(default, list | dict | set):
                    raise ValueError(f"mutable default {type(default)} for field {name}")
                defaults[name] = default
            elif defaults:
                # Same rule as a dataclass: a required field cannot follow an optional one.
                raise TypeError(f"non-default argument {name!r} follows default argument")
        cls.FIELDS = tuple(names)
        cls._DEFAULTS = defaults
        # Positional patterns (`case CorruptFile(path, problem)`), as a dataclass allows;
        # setattr because type checkers treat `__match_args__` as theirs to synthesize.
        setattr(cls, "__match_args__", cls.FIELDS)  # noqa: B010

    def __init__(self, *args: object, **kwargs: object) -> None:
        kind = type(self).__qualname__
        names = self.FIELDS
        if len(args) > len(names):
            raise TypeError(
                f"{kind}() takes {len(names)} positional arguments but {len(args)} were given"
            )
        values = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"{kind}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{kind}() got multiple values for argument {name!r}")
            values[name] = value
        for name in names:
            if name not in values:
                if name not in self._DEFAULTS:
                    raise TypeError(f"{kind}() missing required argument: {name!r}")
                values[name] = self._DEFAULTS[name]
        # The instance dictionary, not setattr: assignment is what a frozen value forbids.
        vars(self).update((name, values[name]) for name in names)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def replace(self, **changes: object) -> Self:
        """A copy with `changes` (what `dataclasses.replace` does for a dataclass)."""
        values = {name: getattr(self, name) for name in self.FIELDS}
        values.update(changes)
        return type(self)(**values)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FailureValue) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


class InvalidApiKey(FailureValue):
    """A key that breaks the `bmc_` rules; `reason` never quotes the key itself."""

    reason: str

    @property
    def message(self) -> str:
        return f"Invalid API key: {API_KEY_RULE} ({self.reason})."


def _short(value: str) -> str:
    """A setting's value as a message may quote it: short and printable, else '…'."""
    return value if len(value) <= 20 and value.isprintable() else "…"


class InvalidBoolean(FailureValue):
    variable: str
    value: str

    @property
    def message(self) -> str:
        shown = _short(self.value)
        return (
            f"{self.variable} must be true/false (also 1/0, yes/no, on/off), "
            f"not {shown!r}: fix or unset it."
        )


class ConflictingRouting(FailureValue):
    @property
    def message(self) -> str:
        return (
            "Conflicting settings: BASIC_MEMORY_FORCE_LOCAL and BASIC_MEMORY_FORCE_CLOUD "
            "are both on; unset one of them."
        )


class InsecureHost(FailureValue):
    setting: str
    url: str

    @property
    def message(self) -> str:
        return (
            f"{self.setting} must be an https:// URL (http:// only for 127.0.0.1, ::1 or "
            f"localhost), not {self.url!r}."
        )


class SessionExpired(FailureValue):
    @property
    def message(self) -> str:
        return f"Your session has expired. {LOGIN_HINT}"


class NoCredential(FailureValue):
    """No usable credential: no OAuth session ("not_logged_in"), none to create an API key
    (only a session can: "key_creation"), none for `project`'s cloud route, or none at all."""

    reason: Literal["not_logged_in", "key_creation", "project", "global"]
    project: str | None = None

    @property
    def message(self) -> str:
        match self.reason:
            case "not_logged_in":
                return f"Not logged in to Basic Memory Cloud. {LOGIN_HINT}"
            case "key_creation":
                return (
                    "Creating an API key requires an OAuth session (an API key cannot create "
                    f"keys). {LOGIN_HINT}"
                )
            case "project":
                return (
                    f"Project '{self.project}' routes to the cloud but no credential is "
                    "available: run `bm cloud login` or `bm cloud api-key save`."
                )
            case "global":
                return (
                    "No cloud credential: run `bm cloud login`, or save an API key with "
                    "`bm cloud api-key save`."
                )


class AccessDenied(FailureValue):
    @property
    def message(self) -> str:
        return "Login was denied in the browser. Run `bm cloud login` to try again."


class DeviceCodeExpired(FailureValue):
    @property
    def message(self) -> str:
        return "The login code expired before it was approved. Run `bm cloud login` again."


def _counted(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def duration_words(seconds: int) -> str:
    """A whole number of seconds as a person would say it.

    >>> [duration_words(s) for s in (1, 5, 60, 90, 600)]
    ['1 second', '5 seconds', '1 minute', '1 minute 30 seconds', '10 minutes']
    """
    minutes, rest = divmod(max(0, seconds), 60)
    if minutes == 0:
        return _counted(rest, "second")
    if rest == 0:
        return _counted(minutes, "minute")
    return f"{_counted(minutes, 'minute')} {_counted(rest, 'second')}"


class LoginTimedOut(FailureValue):
    # Seconds, not minutes: a code that lives 5 seconds must not read "after 1 minutes".
    seconds: int

    @property
    def message(self) -> str:
        return (
            f"Login timed out after {duration_words(self.seconds)} without approval. "
            "Run `bm cloud login` again and approve promptly."
        )


class ProviderError(FailureValue):
    """An OAuth error code the flow has no special meaning for."""

    error: str
    description: str = ""

    @property
    def message(self) -> str:
        detail = f": {self.description}" if self.description else ""
        return f"The sign-in service refused the request ({self.error}{detail})."


class MalformedResponse(FailureValue):
    service: str
    problem: str

    @property
    def message(self) -> str:
        return f"Unexpected answer from {self.service}: {self.problem}. Try again later."


class ServiceUnreachable(FailureValue):
    service: str
    detail: str
    # True when this machine's settings (proxy, certificates, endpoints) stopped the call
    # before any connection: trying again cannot help, the user must fix them.
    settings: bool = False

    @property
    def message(self) -> str:
        if self.settings:
            return f"Cannot reach {self.service}: {self.detail.rstrip('.')}."
        return (
            f"Cannot reach {self.service} ({self.detail}). "
            "Check your connection (and HTTPS_PROXY) and try again."
        )


class ServerError(FailureValue):
    service: str
    status: int

    @property
    def message(self) -> str:
        service = self.service[:1].upper() + self.service[1:]
        return f"{service} answered with a server error (HTTP {self.status}). Try again later."


class CredentialRejected(FailureValue):
    credential: str

    @property
    def message(self) -> str:
        if "BASIC_MEMORY_CLOUD_API_KEY" in self.credential:
            # A saved key cannot help while the variable overrides it.
            return (
                f"The cloud rejected the {self.credential}: set it to a valid key, or unset "
                "it to use the saved key or your OAuth session."
            )
        return (
            f"The cloud rejected the {self.credential}. Run `bm cloud login`, or save a "
            "valid key with `bm cloud api-key save`."
        )


class SubscriptionRequired(FailureValue):
    subscribe_url: str
    detail: str = "Active subscription required"

    @property
    def message(self) -> str:
        return (
            f"Active subscription required. Subscribe at {self.subscribe_url} ; if you just "
            "subscribed, wait a few minutes and run `bm cloud login` again."
        )


class CorruptFile(FailureValue):
    path: str
    problem: str
    remedy: str = "fix or move it aside, then retry"

    @property
    def message(self) -> str:
        return f"{self.path} is unreadable ({self.problem}); {self.remedy}."


class FileAccessError(FailureValue):
    path: str
    problem: str

    @property
    def message(self) -> str:
        return f"Cannot use {self.path} ({self.problem}); check the file and its permissions."


class LockTimeout(FailureValue):
    path: str
    seconds: float

    @property
    def message(self) -> str:
        return (
            f"Another bm command has held {self.path} for over {self.seconds:g}s; let it "
            "finish (or stop it) and retry."
        )


class UnknownProject(FailureValue):
    name: str
    known: tuple[str, ...]

    @property
    def message(self) -> str:
        listed = ", ".join(self.known) if self.known else "none yet; add one with `bm project add`"
        return f"Unknown project '{self.name}'. Known projects: {listed}."


class InvalidProjectName(FailureValue):
    name: str

    @property
    def message(self) -> str:
        return (
            "Invalid project name: use 1-64 letters, digits, '.', '-' or '_' "
            "(starting with a letter or digit)."
        )


class ProjectExists(FailureValue):
    name: str
    path: str

    @property
    def message(self) -> str:
        return (
            f"Project '{self.name}' already exists (path {self.path}); "
            f"remove it first with `bm project remove {self.name}`."
        )


class InvalidKeyName(FailureValue):
    max_length: int

    @property
    def message(self) -> str:
        return (
            f'Invalid key name: use 1-{self.max_length} printable characters, e.g. "desktop-work".'
        )


class KeyNotSaved(FailureValue):
    """A key was created in the cloud but could not be stored; it should be revoked."""

    name: str
    masked: str
    problem: str

    @property
    def message(self) -> str:
        return (
            f"Created API key '{self.name}' ({self.masked}) but could not save it: "
            f"{self.problem} Revoke that key in the web dashboard, then retry."
        )


class UntrustedPath(FailureValue):
    """A data folder, a file in it, or a folder above it that another user can change.

    As ssh treats `~/.ssh`: whoever can write there can plant a `cloud_host` that collects
    the bearer token, or a session of their own, so nothing in it is read or sent anywhere.
    """

    path: str
    problem: str  # what is wrong and what another user could do with it
    fix: str  # a shell command

    @property
    def message(self) -> str:
        return f"Refusing to use {self.path}: {self.problem}. Fix: {self.fix}"


class InvalidProjectPath(FailureValue):
    """A path that is not text (bytes that are not UTF-8): config.yaml could not hold it."""

    @property
    def message(self) -> str:
        return (
            "Invalid project path: it is not valid UTF-8 text, which config.yaml must hold; "
            "rename the folder or choose another."
        )


class SessionNotSaved(FailureValue):
    """Signed in, but the token file could not be written; the new session was then revoked
    on the server (when possible) so that no session is left open that nobody holds."""

    problem: str
    revoked: bool
    # Why the revocation failed, or why none was possible; empty when `revoked`.
    revoke_problem: str = ""

    @property
    def message(self) -> str:
        if self.revoked:
            server = "The new session was revoked on the server, so none is left open."
        else:
            server = (
                f"It could not be revoked on the server ({self.revoke_problem.rstrip('.')}): "
                "end it from the Basic Memory dashboard."
            )
        return (
            f"Signed in, but could not save the session: {self.problem} {server} "
            "Fix that, then run `bm cloud login` again."
        )


class UnknownWorkspace(FailureValue):
    """No workspace of the account has this id, slug or name."""

    wanted: str
    choices: tuple[str, ...]

    @property
    def message(self) -> str:
        known = ", ".join(self.choices) or "none"
        return f"No workspace '{self.wanted}' in this account; its workspaces: {known}."


class AmbiguousWorkspace(FailureValue):
    """Several workspaces answer to the name given: one is never guessed."""

    wanted: str
    choices: tuple[str, ...]

    @property
    def message(self) -> str:
        return (
            f"'{self.wanted}' names several workspaces: {', '.join(self.choices)}; "
            "give the slug or the id."
        )


class WorkspaceForbidden(FailureValue):
    """The cloud refused `X-Workspace-ID`: the caller is not a member of that workspace."""

    workspace: str
    origin: str = ""  # which setting chose it, when the caller knows

    @property
    def message(self) -> str:
        chosen = f" (the {self.origin})" if self.origin else ""
        return (
            f"The cloud refused workspace {self.workspace}{chosen}: this account is not a "
            "member, or the API key sent was made for another workspace. Run "
            "`bm cloud workspace list`, then "
            "`bm cloud workspace use NAME` or `bm project set-cloud PROJECT --workspace NAME`."
        )


class KeychainUnavailable(FailureValue):
    """The system keychain could not be used: not installed, none found, locked, no answer.

    Never a reason to keep a secret in a file instead: the command stops here.
    """

    problem: str
    remedy: str = (
        "unlock or fix it and retry, or keep secrets in files again with "
        "`bm cloud credentials move --to file`"
    )

    @property
    def message(self) -> str:
        return f"Cannot use the system keychain ({self.problem}); {self.remedy}."


class InvalidCredentialStore(FailureValue):
    """`credential_store` (config.yaml) or BASIC_MEMORY_CREDENTIAL_STORE names no store."""

    setting: str
    value: str

    @property
    def message(self) -> str:
        shown = _short(self.value)
        return f"{self.setting} must be 'file' or 'keyring', not {shown!r}: fix or unset it."


# What any credential store, the network and the routing variables can fail with.
StorageFailure = (
    CorruptFile | FileAccessError | LockTimeout | KeychainUnavailable | InvalidCredentialStore
)
NetworkFailure = ServiceUnreachable | ServerError | MalformedResponse
RoutingFailure = InvalidBoolean | ConflictingRouting

# Every failure the domain knows, for code that presents any of them (the command line's
# own failures are in entrypoints/cli_failures.py). Use cases state narrower unions.
AuthFailure = (
    StorageFailure
    | NetworkFailure
    | RoutingFailure
    | InvalidApiKey
    | InsecureHost
    | NoCredential
    | SessionExpired
    | AccessDenied
    | DeviceCodeExpired
    | LoginTimedOut
    | ProviderError
    | CredentialRejected
    | SubscriptionRequired
    | UnknownProject
    | InvalidProjectName
    | ProjectExists
    | InvalidKeyName
    | KeyNotSaved
    | UntrustedPath
    | InvalidProjectPath
    | SessionNotSaved
    | UnknownWorkspace
    | AmbiguousWorkspace
    | WorkspaceForbidden
)
