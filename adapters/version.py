"""This distribution's name and installed version: the one place both are said."""

from __future__ import annotations

DISTRIBUTION = "basic-memory-cloud-auth"


def version() -> str:
    """The installed version, or "0+unknown" when run from a source tree never installed.

    >>> version() != ""
    True
    """
    # Imported here: `bm --version` is the only command that needs it before anything else.
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
