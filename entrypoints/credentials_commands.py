"""`bm cloud credentials move`: keep the stored secrets in files or in the system keychain."""

from __future__ import annotations

from typing import Annotated, Literal

from cyclopts import Parameter
from returns.result import Failure

from domain.credential_store import CredentialStore, Moved
from entrypoints.command_support import prepare
from entrypoints.console import err, out
from entrypoints.presenters import EXIT_OK, fail

_PLACES = {
    CredentialStore.FILE: "the data folder's files (mode 0600)",
    CredentialStore.KEYRING: "the system keychain",
}


def move(*, to: Annotated[Literal["keyring", "file"], Parameter(name="--to")]) -> int:
    """Move the OAuth session and the API key to the system keychain or back to files.

    Each secret's old copy is removed only after the new one reads back the same, and
    config.yaml records the choice (credential_store), so new secrets go there too.

    Parameters
    ----------
    to
        keyring: the system keychain (needs the keyring extra); file: private files.
    """
    container = prepare(writes=True)
    target = CredentialStore(to)

    def report(name: str, moved: Moved) -> None:
        match moved:
            case Moved.MOVED:
                out(f"{name}: moved to {_PLACES[target]}.")
            case Moved.ALREADY_THERE:
                out(f"{name}: already in {_PLACES[target]}.")
            case Moved.NOTHING:
                out(f"{name}: none stored.")

    result = container.move_credentials().execute(target, report)
    if isinstance(result, Failure):
        return fail(result.failure())
    done = result.unwrap()
    out(f"config.yaml: credential_store: {target.value} (new secrets go there too).")
    if done.overridden_by is not None:
        err(
            f"Note: {done.overridden_by} is set and chooses another store in this environment; "
            "unset it, or new secrets will not go where these went."
        )
    return EXIT_OK
