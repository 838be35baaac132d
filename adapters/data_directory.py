"""Where the data files live, creating that folder privately, refusing one others can change, and
warnings about loose file modes."""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterator, Mapping
from enum import Enum
from pathlib import Path

from returns.result import Failure, Result, Success

from adapters.atomic_files import LOCK_SUFFIX, describe_os_error
from domain.errors import FileAccessError, UntrustedPath

DATA_DIRECTORY_VARIABLE = "BASIC_MEMORY_CONFIG_DIR"
DEFAULT_DATA_DIRECTORY = "~/.basic-memory"
TOKEN_FILE_NAME = ".cloud_tokens.json"
CONFIG_FILE_NAME = "config.yaml"
PRIVATE_DIRECTORY_MODE = 0o700
ROOT_UID = 0
# Read access for group or others; write access is refused before this matters.
_SHARED_READ = stat.S_IRGRP | stat.S_IROTH
_SHARED_WRITE = stat.S_IWGRP | stat.S_IWOTH


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


class Place(Enum):
    """What a checked path is to us; each has its own rule (see `trust_problem`)."""

    FOLDER = "the data folder"
    ABOVE = "a folder above the data folder"
    FILE = "a data file"
    LOCK = "a lock file"


def trust_problem(place: Place, path: str, owner: int, mode: int, me: int) -> UntrustedPath | None:
    """What makes `path` untrustworthy, from its stat result, or None (a pure rule, as ssh's).

    `owner` and `mode` come from stat (lstat for a lock file); `me` is the effective uid.
    Anything owned by root or by us may be trusted; a folder above the data folder may be
    writable by others when it is sticky (/tmp): they cannot rename what they do not own.

    >>> trust_problem(Place.FILE, "/d/config.yaml", 1000, 0o100644, 1000) is None
    True
    >>> trust_problem(Place.FOLDER, "/d", 1000, 0o40777, 1000).fix
    'check the files in it, then run: chmod 700 /d'
    >>> trust_problem(Place.ABOVE, "/tmp", 0, 0o41777, 1000) is None
    True
    """
    quoted = shlex.quote(path)
    foreign = owner not in (me, ROOT_UID)
    writable = bool(mode & _SHARED_WRITE)
    stolen = f"it is owned by another user (uid {owner}), who can change it"
    match place:
        case Place.FOLDER if foreign:
            return UntrustedPath(
                path,
                f"{stolen} and plant settings or a session in it",
                f"check the files in it, then run: sudo chown -R $USER {quoted}",
            )
        case Place.FOLDER if writable:
            return UntrustedPath(
                path,
                "it is writable by other users, who could plant settings or a session in it",
                f"check the files in it, then run: chmod 700 {quoted}",
            )
        case Place.ABOVE if foreign:
            return UntrustedPath(
                path,
                f"{place.value}, {stolen} and swap the data folder for one of their own",
                "set BASIC_MEMORY_CONFIG_DIR to a folder outside it",
            )
        case Place.ABOVE if writable and not mode & stat.S_ISVTX:
            return UntrustedPath(
                path,
                f"{place.value}, it is writable by other users (and not sticky like /tmp), who "
                "could swap the data folder for one of their own",
                f"chmod go-w {quoted}",
            )
        case Place.FILE if stat.S_ISREG(mode) and foreign:
            return UntrustedPath(
                path,
                f"{stolen} and plant settings or a session in it",
                f"check its content, then run: sudo chown $USER {quoted}",
            )
        case Place.FILE if stat.S_ISREG(mode) and writable:
            return UntrustedPath(
                path,
                "it is writable by other users, who could plant settings or a session in it",
                f"check its content, then run: chmod 600 {quoted}",
            )
        case Place.LOCK if stat.S_ISLNK(mode):
            # Taking a lock opens the file for writing, truncating it: through a planted link,
            # a file of ours elsewhere would be emptied.
            return UntrustedPath(
                path,
                "the lock file is a symbolic link, and taking the lock would empty its target",
                f"rm {quoted}",
            )
    return None


def untrusted_paths(folder: Path, config: Path, tokens: Path) -> list[UntrustedPath]:
    """Every problem `trust_problem` finds on the way to the data files, outermost first.

    Checked: each folder above the data folder (resolved), the data folder, config.yaml (the
    target of a link, with the folders above the target, where its writes go), the token file
    (not followed: the token store refuses a link there), and the two lock files (not
    followed). A path that does not exist, or cannot be looked at, is left to the stores.
    """
    me = os.geteuid()
    problems: list[UntrustedPath] = []
    seen: set[str] = set()
    real_folder = Path(os.path.realpath(folder))
    config_target = Path(os.path.realpath(config))
    places = [
        *_above(real_folder),
        (Place.FOLDER, real_folder, True),
        # A linked config.yaml is written in its target's folder (temp file, lock, rename).
        *_above(config_target.parent, include_self=True),
        (Place.FILE, config_target, True),
        (Place.FILE, tokens, False),
        (Place.LOCK, config_target.with_name(config_target.name + LOCK_SUFFIX), False),
        (Place.LOCK, tokens.with_name(tokens.name + LOCK_SUFFIX), False),
    ]
    for place, path, follow in places:
        if str(path) in seen:
            continue
        seen.add(str(path))
        try:
            info = os.stat(path, follow_symlinks=follow)
        except (OSError, ValueError):
            continue  # missing or out of reach: the stores name the problem when they read
        problem = trust_problem(place, str(path), info.st_uid, info.st_mode, me)
        if problem is not None:
            problems.append(problem)
    return problems


def _above(folder: Path, include_self: bool = False) -> Iterator[tuple[Place, Path, bool]]:
    """The folders above `folder`, from / down (and `folder` itself if asked)."""
    chain = [*reversed(folder.parents)] + ([folder] if include_self else [])
    for path in chain:
        yield Place.ABOVE, path, True


def loose_permission_warnings(*, config: Path, tokens: Path) -> list[str]:
    """One line per existing data file that group or others may read, with the right fix.

    config.yaml may be a link (dotfile managers): its target is what others read, so the fix
    names the target. The token file is never read through a link, so a chmod there would
    only change some other file: the advice is to remove the link.
    """
    warnings: list[str] = []
    if _is_link(tokens):
        warnings.append(
            f"Warning: {tokens} is a symbolic link, which bm refuses for the session file; "
            f"remove the link (its target stays): rm {shlex.quote(str(tokens))}"
        )
    shown = str(config)
    if _is_link(config):
        config = Path(os.path.realpath(config))
        shown = f"{config} (the target of {shown})"
    for path, name in ((config, shown), (tokens, str(tokens))):
        try:
            info = os.stat(path, follow_symlinks=False)
        except (OSError, ValueError):
            continue  # missing or unreadable: other messages cover it
        if stat.S_ISREG(info.st_mode) and info.st_mode & _SHARED_READ:
            quoted = shlex.quote(str(path))
            warnings.append(f"Warning: {name} is readable by other users; run: chmod 600 {quoted}")
    return warnings


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return False  # missing or unreadable: other messages cover it
