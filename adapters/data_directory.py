"""Where the data files live, creating that folder privately, and warnings about loose file modes."""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from returns.result import Failure, Result, Success

from adapters.atomic_files import describe_os_error
from domain.errors import FileAccessError

DATA_DIRECTORY_VARIABLE = "BASIC_MEMORY_CONFIG_DIR"
DEFAULT_DATA_DIRECTORY = "~/.basic-memory"
TOKEN_FILE_NAME = ".cloud_tokens.json"
CONFIG_FILE_NAME = "config.yaml"
PRIVATE_DIRECTORY_MODE = 0o700
# Read or write access for group or others; execute bits do not expose a data file.
_SHARED_ACCESS = stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH


def data_directory(env: Mapping[str, str]) -> Path:
    """$BASIC_MEMORY_CONFIG_DIR when set and not blank, else ~/.basic-memory; `~` expanded.

    `~` is expanded with the given environment's HOME when it has one, so the answer
    depends only on `env`.

    >>> data_directory({"BASIC_MEMORY_CONFIG_DIR": "/srv/bm", "HOME": "/home/a"})
    PosixPath('/srv/bm')
    >>> data_directory({"BASIC_MEMORY_CONFIG_DIR": "", "HOME": "/home/a"})
    PosixPath('/home/a/.basic-memory')
    """
    chosen = env.get(DATA_DIRECTORY_VARIABLE, "")
    raw = chosen if chosen.strip() else DEFAULT_DATA_DIRECTORY
    home = env.get("HOME")
    if home and raw == "~":
        return Path(home)
    if home and raw.startswith("~/"):
        return Path(home) / raw[2:]
    return Path(os.path.expanduser(raw))


def ensure_data_directory(path: Path) -> Result[Path, FileAccessError]:
    """Create the folder (and missing parents) when absent; a folder we create is 0700.

    An existing folder keeps its mode: it is the user's to choose.
    """
    try:
        if path.is_dir():
            return Success(path)
    except OSError as error:
        # is_dir() is False for a missing path but raises for some others (a name too long).
        return Failure(FileAccessError(str(path), describe_os_error(error)))
    try:
        path.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True)
        # mkdir's mode is filtered by the umask; the folder must end up exactly 0700.
        path.chmod(PRIVATE_DIRECTORY_MODE)
    except FileExistsError:
        if path.is_dir():  # created by a parallel command meanwhile
            return Success(path)
        return Failure(FileAccessError(str(path), "exists and is not a folder"))
    except OSError as error:
        return Failure(FileAccessError(str(path), describe_os_error(error)))
    return Success(path)


def loose_permission_warnings(paths: Iterable[Path]) -> list[str]:
    """One line per existing file that group or others may read or write, with the fix."""
    warnings: list[str] = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            continue  # missing or unreadable: other messages cover it
        if stat.S_ISREG(info.st_mode) and info.st_mode & _SHARED_ACCESS:
            shown = shlex.quote(str(path))
            warnings.append(f"Warning: {path} is readable by other users; run: chmod 600 {shown}")
    return warnings
