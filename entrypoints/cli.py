"""The `bm` application: commands are registered by import path so start-up imports little."""

from __future__ import annotations

import io
import os
import sys

from cyclopts import App

from adapters.version import version

app = App(
    name="bm",
    version=version,
    # Plain text help: rendering markdown would import markdown-it on every --help.
    help_format="plaintext",
    help="Basic Memory command line: sign in to Basic Memory Cloud and route projects.",
)
cloud = App(name="cloud", help="Sign in to Basic Memory Cloud, manage API keys, check status.")
api_key = App(name="api-key", help="Long-lived API keys for scripts and per-project routing.")
project = App(name="project", help="Projects and whether each works locally or in the cloud.")
app.command(cloud)
app.command(project)
cloud.command(api_key)
workspace = App(name="workspace", help="Workspaces (cloud tenants): list them, choose a default.")
cloud.command(workspace)
credentials = App(
    name="credentials", help="Where the secrets are kept: private files or the system keychain."
)
cloud.command(credentials)

_CLOUD = "entrypoints.cloud_commands"
_KEYS = "entrypoints.api_key_commands"
_PROJECTS = "entrypoints.project_commands"
cloud.command(
    f"{_CLOUD}:login", name="login", help="Sign in with your browser (OAuth device flow)."
)
cloud.command(
    f"{_CLOUD}:logout", name="logout", help="Sign out: revoke and remove the OAuth session."
)
cloud.command(
    f"{_CLOUD}:status", name="status", help="Show the session, API key, routing and cloud state."
)
cloud.command(
    f"{_CLOUD}:token", name="token", help="Print the OAuth access token (for scripts and curl)."
)
api_key.command(f"{_KEYS}:save", name="save", help="Validate and store an existing bmc_ API key.")
api_key.command(
    f"{_KEYS}:create", name="create", help="Create a new API key with your OAuth session."
)
api_key.command(f"{_KEYS}:remove", name="remove", help="Remove the stored API key.")
_WORKSPACES = "entrypoints.workspace_commands"
workspace.command(f"{_WORKSPACES}:list_", name="list", help="List the account's workspaces.")
workspace.command(f"{_WORKSPACES}:use", name="use", help="Choose the account's default workspace.")
credentials.command(
    "entrypoints.credentials_commands:move",
    name="move",
    help="Move the session and API key to the system keychain or back to files.",
)
project.command(f"{_PROJECTS}:add", name="add", help="Add a project (local mode).")
project.command(f"{_PROJECTS}:list_", name="list", help="List projects with their mode and route.")
project.command(f"{_PROJECTS}:remove", name="remove", help="Remove a project entry.")
project.command(f"{_PROJECTS}:set_cloud", name="set-cloud", help="Route a project to the cloud.")
project.command(
    f"{_PROJECTS}:set_local", name="set-local", help="Route a project to the local API."
)
app.command(
    "entrypoints.completion_command:install_completion",
    name="--install-completion",
    help="Install tab completion for bm (bash, zsh or fish).",
)


def run(arguments: list[str]) -> None:
    """Parse and run one command; cyclopts exits with the command's return code."""
    # pydantic looks for plugins through package metadata when the first model is built;
    # bm uses no pydantic plugin, so skip the search.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show '…' gets '\u2026' rather than a crash.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        app(arguments)
    except BrokenPipeError:
        # The reader went away (`bm cloud status | head`): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as error:
        # The last line of defence against bugs. Never print the exception text: it could
        # quote a token or a key.
        print(f"Error: internal error ({type(error).__name__}); please report it.", file=sys.stderr)
        sys.exit(70)
