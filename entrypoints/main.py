"""The `bm` console script: answers `--version` before importing the command parser."""

from __future__ import annotations

import sys


def version() -> str:
    """Our distribution's version, as installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("basic-memory-cloud-auth")
    except PackageNotFoundError:
        return "0+unknown"


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        # Scripts ask for the version often; it needs neither cyclopts nor rich.
        print(version())
        return
    from entrypoints.cli import run

    run(sys.argv[1:])
