"""`bm --install-completion`: tab completion for bash, zsh and fish, written by cyclopts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from cyclopts import Parameter

from entrypoints.console import err, out
from entrypoints.presenters import EXIT_OK, EXIT_USAGE

Shell = Literal["bash", "zsh", "fish"]


def install_completion(
    *,
    shell: Shell | None = None,
    output: Annotated[Path | None, Parameter(name=["--output", "-o"])] = None,
    add_to_startup: bool = True,
) -> int:
    """Install tab completion for bm in your shell.

    Parameters
    ----------
    shell
        bash, zsh or fish; by default the shell you are running.
    output
        Where to write the script; by default the shell's usual completion folder.
    add_to_startup
        Add a line that loads the script to ~/.bashrc or ~/.zshrc (fish needs none).
    """
    # Imported here: completion is generated once per install, never on a command's start-up.
    from cyclopts.completion import ShellDetectionError, detect_shell

    from entrypoints.cli import app

    if shell is None:
        try:
            detected = detect_shell()
        except ShellDetectionError:
            err("Error: could not tell which shell you use; give --shell bash, zsh or fish.")
            return EXIT_USAGE
        if detected not in ("bash", "zsh", "fish"):
            err(f"Error: no completion for {detected}; give --shell bash, zsh or fish.")
            return EXIT_USAGE
        shell = detected
    path = app.install_completion(shell=shell, output=output, add_to_startup=add_to_startup)
    out(f"Installed {shell} completion for bm in {path}.")
    if shell != "fish" and add_to_startup:
        out(f"Open a new {shell} (or source your ~/.{shell}rc) to use it.")
    return EXIT_OK
