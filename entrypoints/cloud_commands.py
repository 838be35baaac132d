"""`bm cloud login`, `logout`, `status` and `token`."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, assert_never

from cyclopts import Parameter
from dependency_injector import providers
from returns.result import Failure, Success

from domain.credential_store import CredentialStore
from domain.credentials import API_KEY_VARIABLE, CredentialSource
from domain.errors import CredentialRejected, NoCredential, SubscriptionRequired
from entrypoints.cli_failures import CliFailure, ConfirmationRequired, LoginCancelled
from entrypoints.command_support import cloud_host, prepare, prepare_logout
from entrypoints.console import (
    JsonLoginDisplay,
    confirm,
    err,
    is_terminal,
    out,
    out_json,
    out_json_line,
    print_secret_on_purpose,
)
from entrypoints.presenters import (
    EXIT_CLOUD_UNAVAILABLE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_USER_MUST_ACT,
    fail,
    logged_in_event,
    login_error_event,
    status_dict,
    status_exit_code,
    status_lines,
)

if TYPE_CHECKING:
    from domain.errors import AuthFailure
    from entrypoints.container import Container

Flag = Parameter(negative=())


def login(
    *,
    no_browser: Annotated[bool, Flag] = False,
    browser: Annotated[bool, Flag] = False,
    force: Annotated[bool, Flag] = False,
    json_: Annotated[bool, Parameter(name="--json", negative=())] = False,
) -> int:
    """Sign in to Basic Memory Cloud.

    A stored session is refreshed silently; otherwise the OAuth device flow runs: the code
    and URL are shown, the browser opens, and the command waits (10 minutes at most).

    Parameters
    ----------
    no_browser
        Do not open a browser; open the printed URL yourself (for SSH sessions).
    browser
        With --json, open the browser too (it does not by default).
    force
        Ignore the stored session and sign in anew.
    json_
        JSON lines on stdout for a program to relay: a "verification" event with the code
        and URL, then "logged_in" or "error". No countdown, no browser unless --browser.
    """
    if browser and no_browser:
        err("Error: --browser and --no-browser contradict each other; give one.")
        return EXIT_USAGE
    open_browser = browser or (not json_ and not no_browser)
    report = _report_login_failure_as_json if json_ else fail
    container = prepare(network=True, writes=True, on_failure=report)
    if json_:
        container.login_display.override(
            providers.Object(JsonLoginDisplay(browser_requested=open_browser))
        )
    display = container.login_display()
    before = container.tokens().load().value_or(None)
    try:
        result = container.login().execute(open_browser=open_browser, force=force)
    except KeyboardInterrupt:
        display.finish()
        if not json_:
            err("")
        after = container.tokens().load().value_or(None)
        if after is not None and after != before:
            # Interrupted while the subscription was being checked: the sign-in stands.
            if json_:
                out_json_line(logged_in_event(after, None))
            err(
                "Interrupted after signing in: the session was saved, the subscription not checked."
            )
            return EXIT_INTERRUPTED
        return report(LoginCancelled())
    if isinstance(result, Failure):
        return report(result.failure())
    outcome = result.unwrap()
    who = outcome.session.email or outcome.session.user_id or "your account"
    if outcome.refreshed:
        err("Refreshed the stored session (use --force to sign in anew).")
    from entrypoints.workspace_commands import after_login  # only login needs it

    verification = outcome.verification
    if isinstance(verification, Success) or isinstance(
        verification.failure(), SubscriptionRequired
    ):
        # Only a cloud that answered is asked again, so login keeps one network deadline.
        after_login(container)
    if json_:
        out_json_line(logged_in_event(outcome.session, verification))
    elif isinstance(verification, Success):
        out(f"Logged in as {who}")
    else:
        out(f"Logged in as {who}, but the subscription is not verified.")
    if isinstance(verification, Success):
        return EXIT_OK
    failure = verification.failure()
    if isinstance(failure, SubscriptionRequired | CredentialRejected):
        err(f"Error: {failure.message}")
        return EXIT_USER_MUST_ACT
    err(f"Error: could not verify the subscription: {failure.message}")
    return EXIT_CLOUD_UNAVAILABLE


def _report_login_failure_as_json(failure: AuthFailure | CliFailure) -> int:
    """The error event on stdout for the program, the usual line on stderr for a person."""
    out_json_line(login_error_event(failure))
    return fail(failure)


def token(*, json_: Annotated[bool, Parameter(name="--json", negative=())] = False) -> int:
    """Print the OAuth access token, for scripts, curl and MCP configurations.

    The token is refreshed first if it expires within 60 seconds. The refresh token and
    API keys are never printed.

    Parameters
    ----------
    json_
        Print {"access_token", "token_type", "expires_at", "email"} instead.
    """
    container = prepare(network=True)
    fresh = container.fresh_session().execute()
    if isinstance(fresh, Failure):
        failure = fresh.failure()
        key_places = _api_key_places(container)
        if failure == NoCredential("not_logged_in") and key_places:
            err(
                "Error: No OAuth session; `bm cloud token` prints only OAuth tokens. "
                f"Your API key is in {key_places}."
            )
            return EXIT_USER_MUST_ACT
        return fail(failure)
    session = fresh.unwrap()
    if is_terminal(sys.stdout):
        err("Note: the token below is a secret bearer credential; do not share or log it.")
    access_token = session.access_token.get_secret_value()
    if json_:
        document = {
            "access_token": access_token,
            "token_type": session.token_type,
            "expires_at": session.expires_at,
            "email": session.email,
        }
        print_secret_on_purpose(json.dumps(document, indent=2))
    else:
        print_secret_on_purpose(access_token)
    return EXIT_OK


def _api_key_places(container: Container) -> str | None:
    """Where the user's own API keys are, to point at them instead of printing one."""
    places = []
    if container.env().get(API_KEY_VARIABLE, "").strip():
        places.append(API_KEY_VARIABLE)
    # From config.yaml alone: pointing at a key must not need the keychain unlocked.
    match container.config().api_key_kept_in().value_or(None):
        case CredentialStore.KEYRING:
            places.append("the system keychain (saved with `bm cloud api-key save`)")
        case CredentialStore.FILE:
            places.append(str(container.config_path()))
    return " and ".join(places) or None


def logout(
    *,
    all_: Annotated[bool, Parameter(name="--all", negative=())] = False,
    yes: Annotated[bool, Parameter(name=["--yes", "-y"], negative=())] = False,
) -> int:
    """Sign out: revoke the session on the server and remove the local tokens.

    A configured API key stays and keeps working for cloud project routing.

    Parameters
    ----------
    all_
        Also remove the stored API key (asks first; use --yes outside a terminal).
    yes
        Do not ask for confirmation.
    """
    if all_ and not yes:
        if not is_terminal(sys.stdin):
            return fail(ConfirmationRequired("`bm cloud logout --all`"))
        if not confirm("Remove the OAuth session and the stored API key?"):
            err("Nothing was changed.")
            return EXIT_USER_MUST_ACT
    # No settings check: the local session is removed even when the server cannot be asked.
    container = prepare_logout(remove_api_key=all_)
    from domain.workspaces import account_of
    from entrypoints.workspace_commands import kept_after_logout

    signed_in = container.tokens().load().value_or(None)
    account = account_of(signed_in.user_id, signed_in.email) if signed_in else None
    result = container.logout().execute(remove_api_key=all_)
    if isinstance(result, Failure):
        return fail(result.failure())
    from application.logout import Revocation  # imported by logout alone (start-up time)

    outcome = result.unwrap()
    if outcome.damaged_file_removed:
        out(f"Removed a damaged token file ({outcome.damaged_file_removed}).")
    elif outcome.session_removed:
        out("Logged out: the OAuth session was removed from this machine.")
    else:
        out("No OAuth session was stored; nothing to log out.")
    if outcome.revocation is Revocation.REVOKED:
        out("The session was revoked on the server.")
    elif outcome.revocation is Revocation.FAILED:
        err(
            f"Warning: the server-side revocation failed ({outcome.revocation_problem}); "
            "the refresh token may stay usable on the server until it expires; on a shared "
            "machine, end the session from the Basic Memory dashboard."
        )
    if outcome.key_removed:
        out("The stored API key was removed.")
    for source in outcome.keys_remaining:
        out(_key_left_line(source))
    kept = kept_after_logout(container, account)
    if kept:
        out(kept)
    return EXIT_OK


def _key_left_line(source: CredentialSource) -> str:
    """What stays usable after a logout, and the way to remove it that actually works."""
    match source:
        case CredentialSource.ENV_API_KEY:
            return (
                f"The API key in {source.value} is still in force for cloud project routing "
                "(unset that variable to stop using it)."
            )
        case CredentialSource.CONFIG_API_KEY:
            return (
                "The API key saved in config.yaml remains available for cloud project routing "
                "(remove it with `bm cloud logout --all` or `bm cloud api-key remove`)."
            )
        case CredentialSource.OAUTH_SESSION | CredentialSource.GIVEN_API_KEY:
            raise AssertionError(f"logout never leaves a {source.value} behind")
        case _:
            assert_never(source)


def status(
    *,
    json_: Annotated[bool, Parameter(name="--json", negative=())] = False,
    offline: Annotated[bool, Flag] = False,
) -> int:
    """Show who is signed in, the API key in force, routing, and whether the cloud answers.

    Exit code 0 only when a usable credential exists and (unless --offline) the cloud
    accepted it.

    Parameters
    ----------
    json_
        Print one JSON object with stable keys (no secrets).
    offline
        Do not contact the cloud.
    """
    container = prepare()
    endpoints = container.endpoints()
    if isinstance(endpoints, Failure) and not offline:
        return fail(endpoints.failure())
    report = container.status().execute(offline=offline)
    host = cloud_host(container)
    folder = str(container.data_dir())
    if json_:
        out_json(status_dict(report, host, folder))
    else:
        for line in status_lines(report, host, folder):
            out(line)
    return status_exit_code(report)
