"""`bm cloud api-key save`, `create` and `remove`."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Annotated

from cyclopts import Parameter
from returns.result import Failure, Result, Success

from domain.credentials import API_KEY_VARIABLE
from domain.errors import InvalidApiKey
from entrypoints.cli_failures import NoApiKeyInput, SeveralKeyLines
from entrypoints.command_support import prepare
from entrypoints.console import err, is_terminal, out
from entrypoints.presenters import EXIT_OK, fail

# A key is one short line; reading more would only invite a pasted file.
MAX_STDIN_BYTES = 4096


def _read_key(key: str | None) -> Result[str, InvalidApiKey | NoApiKeyInput | SeveralKeyLines]:
    """The key from the argument, standard input, or a hidden prompt on a terminal."""
    if key is not None and key != "-":
        err(
            "Note: a key typed on the command line lands in shell history; "
            "`bm cloud api-key save` without it prompts with hidden input."
        )
        return _given(key)
    if is_terminal(sys.stdin) and key is None:
        import getpass

        try:
            return _given(getpass.getpass("API key (input is hidden): "))
        except (EOFError, OSError):
            return Failure(NoApiKeyInput())
    if is_terminal(sys.stdin):
        err("Reading the key from standard input; end with Ctrl-D.")
    try:
        data = sys.stdin.read(MAX_STDIN_BYTES + 1)
    except (OSError, ValueError, UnicodeDecodeError):
        return Failure(NoApiKeyInput())
    if len(data) > MAX_STDIN_BYTES:
        # Not a key (at most 512 characters), and what follows unread could be another one.
        return Failure(InvalidApiKey(f"standard input holds over {MAX_STDIN_BYTES} characters"))
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) > 1:
        return Failure(SeveralKeyLines(len(lines)))
    return _given(lines[0] if lines else "")


def _given(raw: str) -> Result[str, NoApiKeyInput]:
    return Success(raw) if raw.strip() else Failure(NoApiKeyInput())


def _note_env_override(env: Mapping[str, str]) -> None:
    if env.get(API_KEY_VARIABLE, "").strip():
        err(f"Note: {API_KEY_VARIABLE} is set and overrides the saved key in this environment.")


def save(
    key: Annotated[str | None, Parameter(show_default=False, allow_leading_hyphen=True)] = None,
    /,
    *,
    verify: Annotated[bool, Parameter(negative=())] = False,
) -> int:
    """Validate an existing API key and store it in config.yaml.

    Parameters
    ----------
    key
        The key, or '-' to read standard input. Omit it to be prompted (hidden input).
    verify
        Check the key with the cloud before saving it.
    """
    container = prepare(network=verify, writes=True)
    raw = _read_key(key)
    if isinstance(raw, Failure):
        return fail(raw.failure())
    result = container.save_api_key().execute(raw.unwrap(), verify=verify)
    if isinstance(result, Failure):
        return fail(result.failure())
    saved = result.unwrap()
    if saved.unchanged:
        out(f"API key {saved.masked} was already saved.")
    elif saved.replaced:
        out(f"Saved API key {saved.masked} (replacing {saved.replaced}).")
    else:
        out(f"Saved API key {saved.masked}.")
    _note_env_override(container.env())
    return EXIT_OK


def create(name: str, /, *, workspace: str | None = None) -> int:
    """Create an API key in the cloud with your OAuth session, and store it.

    Parameters
    ----------
    name
        A name that says where the key is used, e.g. "desktop-work".
    workspace
        Create the key in this workspace (name, slug or id); projects using it go there.
    """
    container = prepare(network=True, writes=True)
    result = container.create_api_key().execute(name, workspace)
    if isinstance(result, Failure):
        return fail(result.failure())
    created = result.unwrap()
    replaced = " (it replaces the key saved before)" if created.replaced else ""
    where = f" in workspace {created.workspace}" if created.workspace else ""
    out(f"Created API key '{created.name}' {created.masked}{where} and saved it{replaced}.")
    _note_env_override(container.env())
    return EXIT_OK


def remove() -> int:
    """Remove the API key stored in config.yaml."""
    container = prepare(writes=True)
    result = container.remove_api_key().execute()
    if isinstance(result, Failure):
        return fail(result.failure())
    removed = result.unwrap()
    if removed.removed:
        out(f"Removed API key {removed.removed}.")
    else:
        out("No API key was stored.")
    if removed.env_key_still_set:
        err("Note: BASIC_MEMORY_CLOUD_API_KEY is still set in this environment and stays in force.")
    return EXIT_OK
