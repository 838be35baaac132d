"""The `bm` console script: answers `--version` before importing the command parser."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        # Scripts ask for the version often; it needs neither cyclopts nor rich.
        from adapters.version import version

        print(version())
        return
    from entrypoints.cli import run

    run(sys.argv[1:])
