"""Turn use-case results into text, JSON and exit codes (SPEC §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, assert_never

from returns.result import Success

from domain.credential_store import CredentialStore
from domain.credentials import CredentialSource, describe_source
from domain.errors import (
    AccessDenied,
    AmbiguousWorkspace,
    AuthFailure,
    ConflictingRouting,
    CorruptFile,
    CredentialRejected,
    DeviceCodeExpired,
    FileAccessError,
    InsecureHost,
    InvalidApiKey,
    InvalidBoolean,
    InvalidCredentialStore,
    InvalidKeyName,
    InvalidProjectName,
    InvalidProjectPath,
    KeychainUnavailable,
    KeyNotSaved,
    LockTimeout,
    LoginTimedOut,
    MalformedResponse,
    NoCredential,
    ProjectExists,
    ProviderError,
    ServerError,
    ServiceUnreachable,
    SessionExpired,
    SessionNotSaved,
    SubscriptionRequired,
    UnknownProject,
    UnknownWorkspace,
    UntrustedPath,
    WorkspaceForbidden,
)
from domain.routing import ROUTING_VARIABLES, RoutingFlags
from entrypoints.cli_failures import (
    CliFailure,
    ConfirmationRequired,
    LoginCancelled,
    NoApiKeyInput,
    SeveralKeyLines,
)
from entrypoints.console import err, human_duration

if TYPE_CHECKING:
    from returns.result import Result

    from application.show_status import KeyView, SecretsView, SessionView, StatusReport
    from domain.ports import CloudFailure, HealthReport
    from domain.routing import ProjectRoute
    from domain.session import TokenSet

EXIT_OK = 0
EXIT_USER_MUST_ACT = 1
EXIT_USAGE = 2
EXIT_CLOUD_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130


def exit_code(failure: AuthFailure | CliFailure) -> int:
    match failure:
        case (
            InvalidApiKey()
            | InvalidBoolean()
            | ConflictingRouting()
            | InsecureHost()
            | NoCredential()
            | SessionExpired()
            | AccessDenied()
            | DeviceCodeExpired()
            | LoginTimedOut()
            | ProviderError()
            | CredentialRejected()
            | SubscriptionRequired()
            | CorruptFile()
            | FileAccessError()
            | LockTimeout()
            | KeychainUnavailable()
            | InvalidCredentialStore()
            | ProjectExists()
            | KeyNotSaved()
            | UntrustedPath()
            | SessionNotSaved()
            | WorkspaceForbidden()
        ):
            return EXIT_USER_MUST_ACT
        case (
            UnknownProject()
            | InvalidProjectName()
            | InvalidProjectPath()
            | ConfirmationRequired()
            | NoApiKeyInput()
            | SeveralKeyLines()
            | InvalidKeyName()
            | UnknownWorkspace()
            | AmbiguousWorkspace()
        ):
            return EXIT_USAGE
        case ServiceUnreachable(settings=True):
            return EXIT_USER_MUST_ACT
        case ServiceUnreachable() | ServerError() | MalformedResponse():
            return EXIT_CLOUD_UNAVAILABLE
        case LoginCancelled():
            return EXIT_INTERRUPTED
        case _:
            assert_never(failure)


def fail(failure: AuthFailure | CliFailure) -> int:
    """Report a failure as one line on stderr and give its exit code."""
    err(f"Error: {failure.message}")
    return exit_code(failure)


def login_failure_reason(failure: AuthFailure | CliFailure) -> str:
    """The `reason` of `bm cloud login --json`'s error event: what a program acts on."""
    match failure:
        case AccessDenied():
            return "denied"
        case DeviceCodeExpired():
            return "expired"
        case LoginTimedOut():
            return "timeout"
        case LoginCancelled():
            return "cancelled"
        case (
            ServiceUnreachable(settings=True)
            | InvalidBoolean()
            | ConflictingRouting()
            | InsecureHost()
            | InvalidCredentialStore()
        ):
            return "settings"
        case ServiceUnreachable():
            return "network"
        case ServerError() | MalformedResponse():
            return "server"
        case ProviderError():
            return "provider"
        case CorruptFile() | FileAccessError() | LockTimeout() | KeychainUnavailable():
            return "storage"
        case UntrustedPath():
            return "untrusted"
        case SessionNotSaved():
            return "not_saved"
        case (
            # Not failures of a login; named so a new failure type must be placed here.
            InvalidApiKey()
            | SessionExpired()
            | NoCredential()
            | CredentialRejected()
            | SubscriptionRequired()
            | UnknownProject()
            | InvalidProjectName()
            | InvalidProjectPath()
            | ProjectExists()
            | ConfirmationRequired()
            | NoApiKeyInput()
            | SeveralKeyLines()
            | InvalidKeyName()
            | KeyNotSaved()
            | UnknownWorkspace()
            | AmbiguousWorkspace()
            | WorkspaceForbidden()
        ):
            return "other"
        case _:
            assert_never(failure)


def login_error_event(failure: AuthFailure | CliFailure) -> dict[str, str]:
    return {"event": "error", "reason": login_failure_reason(failure), "message": failure.message}


def logged_in_event(
    session: TokenSet, verification: Result[HealthReport, CloudFailure] | None
) -> dict[str, str | None]:
    """None: the subscription was not checked (Ctrl-C after the session was saved)."""
    subscription = "unknown"
    if isinstance(verification, Success):
        subscription = "active"
    elif verification is not None and isinstance(verification.failure(), SubscriptionRequired):
        subscription = "required"
    return {"event": "logged_in", "email": session.email, "subscription": subscription}


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _flags_dict(flags: RoutingFlags) -> dict[str, bool]:
    return dict(
        zip(ROUTING_VARIABLES, (flags.force_local, flags.force_cloud, flags.explicit), strict=True)
    )


def route_line(route: ProjectRoute) -> str:
    mode = route.mode.value if route.mode else "-"
    target = route.route.value if route.route else "error"
    via = f" via the {describe_source(route.credential)}" if route.credential else ""
    problem = f" [{route.problem}]" if route.problem else ""
    workspace = f"; workspace: {route.workspace.describe()}" if route.workspace else ""
    return f"{route.name:<16} {mode:<6} -> {target}{via} ({route.reason}){workspace}{problem}"


def route_dict(route: ProjectRoute) -> dict[str, Any]:
    return {
        "name": route.name,
        "path": route.path,
        "mode": route.mode.value if route.mode else None,
        "route": route.route.value if route.route else None,
        "reason": route.reason,
        "credential": route.credential.value if route.credential else None,
        "problem": route.problem,
        "workspace": None
        if route.workspace is None
        else {
            "id": route.workspace.tenant_id,
            "source": route.workspace.source.value,
            "note": route.workspace.note,
        },
    }


def status_exit_code(report: StatusReport) -> int:
    """0 only with usable settings, a usable credential and, online, a cloud that accepted it."""
    answer = _credential_exit_code(report)
    if answer == EXIT_OK and report.settings_problem:
        return EXIT_USER_MUST_ACT
    return answer


def _credential_exit_code(report: StatusReport) -> int:
    if report.credential is None:
        # A refresh that failed on the network is the cloud's problem, not the user's.
        return exit_code(report.refresh_failure) if report.refresh_failure else EXIT_USER_MUST_ACT
    if not report.checked_online or report.cloud is None:
        return EXIT_OK
    result = report.cloud.result
    if isinstance(result, Success):
        return EXIT_OK
    return exit_code(result.failure())


def status_dict(
    report: StatusReport, cloud_host: str | None, data_dir: str | None = None
) -> dict[str, Any]:
    session = report.session
    key = report.key_in_force
    # The same keys whether or not the cloud was asked, so scripts can index them blindly.
    cloud: dict[str, Any] = {
        "checked": report.cloud is not None,
        "host": cloud_host,
        "credential": None,
        "reachable": None,
        "latency_ms": None,
        "subscription": None,
        "problem": None,
    }
    if report.cloud is not None:
        result = report.cloud.result
        cloud["credential"] = report.cloud.credential.value
        if isinstance(result, Success):
            cloud.update(
                reachable=True,
                latency_ms=round(result.unwrap().latency_ms, 1),
                subscription="active",
                problem=None,
            )
        else:
            failure = result.failure()
            reachable: bool | None
            match failure:
                case ServiceUnreachable(settings=True):
                    reachable = None  # this machine's settings stopped the call before it began
                case ServiceUnreachable():
                    reachable = False
                case _:
                    reachable = True
            subscription = "required" if isinstance(failure, SubscriptionRequired) else "unknown"
            cloud.update(
                reachable=reachable,
                latency_ms=None,
                subscription=subscription,
                problem=failure.message,
            )
    return {
        "ok": status_exit_code(report) == EXIT_OK,
        "session": None
        if session is None
        else {
            "state": session.state.value,
            "email": session.email,
            "user_id": session.user_id,
            "expires_at": session.expires_at,
            "seconds_left": session.seconds_left,
            "can_refresh": session.can_refresh,
        },
        "session_problem": report.session_problem,
        "api_key": None if key is None else {"masked": key.masked, "source": key.source.value},
        "api_key_problems": [k.problem for k in report.api_keys if k.problem],
        "credential": report.credential.value if report.credential else None,
        "credential_problem": report.credential_problem,
        "routing": None if report.flags is None else _flags_dict(report.flags),
        "routing_problem": report.flags_problem,
        "config_problem": report.config_problem,
        "projects": [route_dict(route) for route in report.projects],
        "cloud": cloud,
        "data_dir": data_dir,
        "workspaces": {
            "account": report.account,
            "account_default": report.account_workspace,
            "cloud_default": report.workspaces.default_workspace_id if report.workspaces else None,
            "count": len(report.workspaces.workspaces) if report.workspaces else None,
            "problem": report.workspaces_problem,
        },
        "secrets": _secrets_dict(report.secrets),
    }


def _key_in_keychain(report: StatusReport, key: KeyView) -> bool:
    secrets = report.secrets
    return (
        key.source is CredentialSource.CONFIG_API_KEY
        and secrets is not None
        and secrets.api_key_in is CredentialStore.KEYRING
    )


def _secrets_dict(view: SecretsView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "store": view.store.value if view.store else None,
        "chosen_by": view.chosen_by,
        "keychain": view.keychain,
        "session_in": view.session_in.value if view.session_in else None,
        "api_key_in": view.api_key_in.value if view.api_key_in else None,
        "problem": view.problem,
    }


def _secrets_lines(view: SecretsView, data_dir: str | None) -> list[str]:
    """Where the secrets are kept, and any that are not yet where the setting says."""
    if view.store is None:
        return [f"  Secrets:   {view.problem}"]
    if view.store is CredentialStore.KEYRING:
        where = f"system keychain ({view.keychain})" if view.keychain else "system keychain"
    else:
        where = f"files in {data_dir}" if data_dir else "files in the data folder"
        where += " (mode 0600)"
    chosen = "the default" if view.chosen_by == "default" else f"chosen by {view.chosen_by}"
    lines = [f"  Secrets:   {where}, {chosen}"]
    if view.problem:
        lines.append(f"             {view.problem}")
    lines.extend(
        f"             the {name} is still in the other store; "
        f"`bm cloud credentials move --to {view.store.value}` moves it now"
        for name in view.not_yet_moved
    )
    return lines


def _workspace_line(report: StatusReport) -> str:
    """The account's default workspace, or that none is chosen (and whether that matters)."""
    listing = report.workspaces
    if report.account_workspace is not None:
        found = listing.find(report.account_workspace) if listing else None
        name = f"{found.name} [{found.tenant_id}]" if found else report.account_workspace
        return f"{name} (default chosen for {report.account})"
    if report.account is None:
        return "none chosen (no OAuth session)"
    if listing is None:
        return f"none chosen for {report.account}; {report.workspaces_problem or 'offline'}"
    if len(listing.workspaces) > 1:
        return (
            f"none chosen for {report.account} ({len(listing.workspaces)} workspaces; the "
            f"cloud's default {listing.default_workspace_id} is used): "
            "choose with `bm cloud workspace use NAME`"
        )
    return f"none chosen for {report.account}; the only workspace is used"


def status_lines(
    report: StatusReport, cloud_host: str | None, data_dir: str | None = None
) -> list[str]:
    lines = ["Basic Memory Cloud"]
    session = report.session
    if session is not None:
        who = session.email or "unknown user"
        if session.user_id:
            who += f" ({session.user_id})"
        state = "expired, and the refresh failed:" if report.refresh_failure else None
        lines.append(f"  Session:   {who}: {state or _session_state(session)}")
    else:
        lines.append("  Session:   not logged in")
    if report.session_problem:
        lines.append(f"             {report.session_problem}")
    key = report.key_in_force
    if key is not None:
        kept = " (kept in the system keychain)" if _key_in_keychain(report, key) else ""
        lines.append(f"  API key:   {key.masked} from {key.source.value}{kept}")
        shadowed = [k for k in report.api_keys if k is not key and k.problem is None]
        lines.extend(
            f"             ({k.masked} in {k.source.value} is overridden)" for k in shadowed
        )
    else:
        lines.append("  API key:   none")
    lines.extend(f"             {k.problem}" for k in report.api_keys if k.problem)
    if report.flags is not None:
        flags = ", ".join(
            f"{name.removeprefix('BASIC_MEMORY_')}={_on_off(on)}"
            for name, on in _flags_dict(report.flags).items()
        )
        lines.append(f"  Routing:   {flags}")
    else:
        lines.append(f"  Routing:   {report.flags_problem}")
    if report.config_problem:
        lines.append(f"  Config:    {report.config_problem}")
    if report.projects:
        lines.append("  Projects:")
        lines.extend(f"    {route_line(route)}" for route in report.projects)
    elif report.config_problem or report.flags_problem:
        lines.append("  Projects:  not shown until the problem above is fixed")
    else:
        lines.append("  Projects:  none (add one with `bm project add NAME PATH`)")
    lines.append(f"  Cloud:     {_cloud_line(report, cloud_host)}")
    lines.append(f"  Workspace: {_workspace_line(report)}")
    if report.secrets is not None:
        lines.extend(_secrets_lines(report.secrets, data_dir))
    if data_dir is not None:
        lines.append(f"  Files:     {data_dir} (config.yaml, .cloud_tokens.json)")
    return lines


def _session_state(session: SessionView) -> str:
    # Imported here: only status shows a session, and the session models cost the other
    # commands start-up time.
    from domain.session import SessionState

    left = human_duration(session.seconds_left)
    match session.state:
        case SessionState.VALID:
            refresh = "refreshable" if session.can_refresh else "no refresh token"
            return f"valid, expires in {left}, {refresh}"
        case SessionState.REFRESHABLE:
            return "expired or about to, refreshed when next needed"
        case SessionState.EXPIRED:
            return "expired, no refresh token: run `bm cloud login`"
        case _:
            assert_never(session.state)


def _offline_use(report: StatusReport, credential: CredentialSource) -> str:
    """What an online run would do with the credential, in the routing's own terms: never a
    "would use" that the routing in force would refuse."""
    used = describe_source(credential)
    if report.flags is None:
        return "no project can route until the routing setting above is fixed"
    if report.flags.force_local:
        return (
            "BASIC_MEMORY_FORCE_LOCAL is on, so every project stays local; "
            f"`bm cloud status` would check the cloud with the {used}"
        )
    return f"would use the {used}"


def _cloud_line(report: StatusReport, cloud_host: str | None) -> str:
    host = cloud_host or "the cloud"
    if report.credential is None and report.refresh_failure is not None:
        return "not checked: the session could not be refreshed (see above)"
    if report.credential is None and any(key.problem for key in report.api_keys):
        return "not checked: a malformed API key (above) stops every cloud call; fix or remove it"
    if report.credential is None:
        return f"not checked: {report.credential_problem}"
    if not report.checked_online:
        return f"not checked (--offline); {_offline_use(report, report.credential)}"
    if report.cloud is None:
        return "not checked"
    result = report.cloud.result
    via = f"with the {describe_source(report.cloud.credential)}"
    if isinstance(result, Success):
        return f"{host} answered in {result.unwrap().latency_ms:.0f} ms {via}; subscription active"
    failure = result.failure()
    match failure:
        case SubscriptionRequired():
            return f"{host} answered {via}; {failure.message}"
        case _:
            return f"{failure.message}"
