"""Every expected failure, one small frozen dataclass each, carrying its user-facing message.

Presenters match on these types; nothing here holds a secret, so any of them may be printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LOGIN_HINT = "Run `bm cloud login`."
API_KEY_RULE = "keys must start with 'bmc_' followed by at least 8 letters, digits, '-' or '_'"


@dataclass(frozen=True)
class InvalidApiKey:
    """A key that breaks the `bmc_` rules; `reason` never quotes the key itself."""

    reason: str

    @property
    def message(self) -> str:
        return f"Invalid API key: {API_KEY_RULE} ({self.reason})."


@dataclass(frozen=True)
class InvalidBoolean:
    variable: str
    value: str

    @property
    def message(self) -> str:
        shown = self.value if len(self.value) <= 20 and self.value.isprintable() else "…"
        return (
            f"{self.variable} must be true/false (also 1/0, yes/no, on/off), "
            f"not {shown!r}: fix or unset it."
        )


@dataclass(frozen=True)
class ConflictingRouting:
    @property
    def message(self) -> str:
        return (
            "Conflicting settings: BASIC_MEMORY_FORCE_LOCAL and BASIC_MEMORY_FORCE_CLOUD "
            "are both on; unset one of them."
        )


@dataclass(frozen=True)
class InsecureHost:
    setting: str
    url: str

    @property
    def message(self) -> str:
        return (
            f"{self.setting} must be an https:// URL (http:// only for 127.0.0.1, ::1 or "
            f"localhost), not {self.url!r}."
        )


@dataclass(frozen=True)
class SessionExpired:
    @property
    def message(self) -> str:
        return f"Your session has expired. {LOGIN_HINT}"


@dataclass(frozen=True)
class NoCredential:
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


@dataclass(frozen=True)
class AccessDenied:
    @property
    def message(self) -> str:
        return "Login was denied in the browser. Run `bm cloud login` to try again."


@dataclass(frozen=True)
class DeviceCodeExpired:
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


@dataclass(frozen=True)
class LoginTimedOut:
    # Seconds, not minutes: a code that lives 5 seconds must not read "after 1 minutes".
    seconds: int

    @property
    def message(self) -> str:
        return (
            f"Login timed out after {duration_words(self.seconds)} without approval. "
            "Run `bm cloud login` again and approve promptly."
        )


@dataclass(frozen=True)
class ProviderError:
    """An OAuth error code the flow has no special meaning for."""

    error: str
    description: str = ""

    @property
    def message(self) -> str:
        detail = f": {self.description}" if self.description else ""
        return f"The sign-in service refused the request ({self.error}{detail})."


@dataclass(frozen=True)
class MalformedResponse:
    service: str
    problem: str

    @property
    def message(self) -> str:
        return f"Unexpected answer from {self.service}: {self.problem}. Try again later."


@dataclass(frozen=True)
class ServiceUnreachable:
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


@dataclass(frozen=True)
class ServerError:
    service: str
    status: int

    @property
    def message(self) -> str:
        service = self.service[:1].upper() + self.service[1:]
        return f"{service} answered with a server error (HTTP {self.status}). Try again later."


@dataclass(frozen=True)
class CredentialRejected:
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


@dataclass(frozen=True)
class SubscriptionRequired:
    subscribe_url: str
    detail: str = "Active subscription required"

    @property
    def message(self) -> str:
        return (
            f"Active subscription required. Subscribe at {self.subscribe_url} ; if you just "
            "subscribed, wait a few minutes and run `bm cloud login` again."
        )


@dataclass(frozen=True)
class CorruptFile:
    path: str
    problem: str
    remedy: str = "fix or move it aside, then retry"

    @property
    def message(self) -> str:
        return f"{self.path} is unreadable ({self.problem}); {self.remedy}."


@dataclass(frozen=True)
class FileAccessError:
    path: str
    problem: str

    @property
    def message(self) -> str:
        return f"Cannot use {self.path} ({self.problem}); check the file and its permissions."


@dataclass(frozen=True)
class LockTimeout:
    path: str
    seconds: float

    @property
    def message(self) -> str:
        return (
            f"Another bm command has held {self.path} for over {self.seconds:g}s; let it "
            "finish (or stop it) and retry."
        )


@dataclass(frozen=True)
class UnknownProject:
    name: str
    known: tuple[str, ...]

    @property
    def message(self) -> str:
        listed = ", ".join(self.known) if self.known else "none yet; add one with `bm project add`"
        return f"Unknown project '{self.name}'. Known projects: {listed}."


@dataclass(frozen=True)
class InvalidProjectName:
    name: str

    @property
    def message(self) -> str:
        return (
            "Invalid project name: use 1-64 letters, digits, '.', '-' or '_' "
            "(starting with a letter or digit)."
        )


@dataclass(frozen=True)
class ProjectExists:
    name: str
    path: str

    @property
    def message(self) -> str:
        return (
            f"Project '{self.name}' already exists (path {self.path}); "
            f"remove it first with `bm project remove {self.name}`."
        )


@dataclass(frozen=True)
class InvalidKeyName:
    max_length: int

    @property
    def message(self) -> str:
        return (
            f'Invalid key name: use 1-{self.max_length} printable characters, e.g. "desktop-work".'
        )


@dataclass(frozen=True)
class KeyNotSaved:
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


@dataclass(frozen=True)
class UntrustedPath:
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


@dataclass(frozen=True)
class InvalidProjectPath:
    """A path that is not text (bytes that are not UTF-8): config.yaml could not hold it."""

    @property
    def message(self) -> str:
        return (
            "Invalid project path: it is not valid UTF-8 text, which config.yaml must hold; "
            "rename the folder or choose another."
        )


@dataclass(frozen=True)
class SessionNotSaved:
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


@dataclass(frozen=True)
class UnknownWorkspace:
    """No workspace of the account has this id, slug or name."""

    wanted: str
    choices: tuple[str, ...]

    @property
    def message(self) -> str:
        known = ", ".join(self.choices) or "none"
        return f"No workspace '{self.wanted}' in this account; its workspaces: {known}."


@dataclass(frozen=True)
class AmbiguousWorkspace:
    """Several workspaces answer to the name given: one is never guessed."""

    wanted: str
    choices: tuple[str, ...]

    @property
    def message(self) -> str:
        return (
            f"'{self.wanted}' names several workspaces: {', '.join(self.choices)}; "
            "give the slug or the id."
        )


@dataclass(frozen=True)
class WorkspaceForbidden:
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


@dataclass(frozen=True)
class KeychainUnavailable:
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


@dataclass(frozen=True)
class InvalidCredentialStore:
    """`credential_store` (config.yaml) or BASIC_MEMORY_CREDENTIAL_STORE names no store."""

    setting: str
    value: str

    @property
    def message(self) -> str:
        shown = self.value if len(self.value) <= 20 and self.value.isprintable() else "…"
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
