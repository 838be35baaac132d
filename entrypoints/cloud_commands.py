"""`bm cloud login`, `logout` and `status`."""

from __future__ import annotations

import sys
from typing import Annotated, assert_never

from cyclopts import Parameter
from returns.result import Failure, Success

from domain.credentials import CredentialSource
from domain.errors import (
    ConfirmationRequired,
    CredentialRejected,
    LoginCancelled,
    SubscriptionRequired,
)
from entrypoints.command_support import cloud_host, prepare, prepare_logout
from entrypoints.console import confirm, err, is_terminal, out, out_json
from entrypoints.presenters import (
    EXIT_CLOUD_UNAVAILABLE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USER_MUST_ACT,
    fail,
    status_dict,
    status_exit_code,
    status_lines,
)

Flag = Parameter(negative=())


def login(
    *,
    no_browser: Annotated[bool, Flag] = False,
    force: Annotated[bool, Flag] = False,
) -> int:
    """Sign in to Basic Memory Cloud.

    A stored session is refreshed silently; otherwise the OAuth device flow runs: the code
    and URL are shown, the browser opens, and the command waits (10 minutes at most).

    Parameters
    ----------
    no_browser
        Do not open a browser; open the printed URL yourself (for SSH sessions).
    force
        Ignore the stored session and sign in anew.
    """
    container = prepare(network=True, writes=True)
    display = container.login_display()
    before = container.tokens().load().value_or(None)
    try:
        result = container.login().execute(open_browser=not no_browser, force=force)
    except KeyboardInterrupt:
        display.finish()
        err("")
        after = container.tokens().load().value_or(None)
        if after is not None and after != before:
            # Interrupted while the subscription was being checked: the sign-in stands.
            err(
                "Interrupted after signing in: the session was saved, the subscription not checked."
            )
            return EXIT_INTERRUPTED
        return fail(LoginCancelled())
    if isinstance(result, Failure):
        return fail(result.failure())
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
    if isinstance(verification, Success):
        out(f"Logged in as {who}")
        return EXIT_OK
    failure = verification.failure()
    out(f"Logged in as {who}, but the subscription is not verified.")
    if isinstance(failure, SubscriptionRequired | CredentialRejected):
        err(f"Error: {failure.message}")
        return EXIT_USER_MUST_ACT
    err(f"Error: could not verify the subscription: {failure.message}")
    return EXIT_CLOUD_UNAVAILABLE


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
    report = container.status().execute(offline=offline).unwrap()
    host = cloud_host(container)
    folder = str(container.data_dir())
    if json_:
        out_json(status_dict(report, host, folder))
    else:
        for line in status_lines(report, host, folder):
            out(line)
    return status_exit_code(report)
