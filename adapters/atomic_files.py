"""Private-file mechanics shared by the file stores: bounded reads, atomic 0600 writes, locks."""

from __future__ import annotations

import errno
import os
import secrets
import stat
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from returns.result import Failure, Result, Success

from domain.errors import CorruptFile, FileAccessError, LockTimeout

ONE_MIB = 1024 * 1024
PRIVATE_FILE_MODE = 0o600
TEMP_SUFFIX = ".tmp"
LOCK_SUFFIX = ".lock"

ReadFailure = CorruptFile | FileAccessError
LockFailure = LockTimeout | FileAccessError
# A locked read-modify-write of config.yaml takes milliseconds, a token refresh or revocation
# under the lock a network round trip; still held after this long, the person should hear
# what the command is waiting for.
LOCK_NOTICE_AFTER_SECONDS = 0.5
LockWaitNotice = Callable[[Path, float], None]
T = TypeVar("T")
E = TypeVar("E")

_READ_CHUNK = 64 * 1024
# Not every platform has these flags; 0 leaves the open call unchanged there.
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

SYMLINK_PROBLEM = "is a symbolic link; remove it"


def describe_os_error(error: OSError) -> str:
    """A short, lower-case problem for a message; never the file's content.

    >>> describe_os_error(PermissionError(13, "Permission denied", "/x"))
    'permission denied'
    """
    if error.errno == errno.EISDIR:
        return "is a directory"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.strerror:
        return error.strerror.lower()
    return type(error).__name__


def _size_text(limit: int) -> str:
    """
    >>> _size_text(ONE_MIB), _size_text(1500)
    ('1 MiB', '1500 bytes')
    """
    if limit % ONE_MIB == 0:
        return f"{limit // ONE_MIB} MiB"
    return f"{limit} bytes"


def read_bytes_limited(
    path: Path, limit: int = ONE_MIB, *, follow_symlinks: bool = True
) -> Result[bytes | None, ReadFailure]:
    """Read a whole regular file of at most `limit` bytes; a missing file is Success(None).

    With `follow_symlinks=False` a symbolic link is refused instead of read through.
    O_NONBLOCK keeps a FIFO planted at the path from hanging the command.
    """
    flags = os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | (0 if follow_symlinks else _O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return Success(None)
    except OSError as error:
        if error.errno == errno.ELOOP and not follow_symlinks and path.is_symlink():
            return Failure(FileAccessError(str(path), SYMLINK_PROBLEM))
        return Failure(FileAccessError(str(path), describe_os_error(error)))
    try:
        return _read_open_file(path, fd, limit)
    except OSError as error:
        return Failure(FileAccessError(str(path), describe_os_error(error)))
    finally:
        os.close(fd)


def _read_open_file(path: Path, fd: int, limit: int) -> Result[bytes | None, ReadFailure]:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        return Failure(FileAccessError(str(path), "is a directory"))
    if not stat.S_ISREG(info.st_mode):
        return Failure(FileAccessError(str(path), "is not a regular file"))
    too_big = Failure(CorruptFile(str(path), f"larger than {_size_text(limit)}"))
    if info.st_size > limit:
        return too_big
    # The size can change between fstat and read, so the read itself is bounded too.
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.read(fd, min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        return too_big
    return Success(b"".join(chunks))


def temp_prefix(path: Path) -> str:
    """Every temp file of `path` starts with this, so stale ones can be recognised."""
    return f".{path.name}."


def write_atomically(path: Path, data: bytes) -> Result[None, FileAccessError]:
    """Replace `path` with `data` so readers see the old file or the new one, never a mix.

    The temp file is private from creation (a secret is never readable, even briefly), is
    fsynced before the rename, and the folder is fsynced after it so the rename survives a
    power cut. Call it inside `with_lock(path, ...)`: the lock holder owns every temp file.
    """
    temp = path.with_name(f"{temp_prefix(path)}{os.getpid()}.{secrets.token_hex(8)}{TEMP_SUFFIX}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
    try:
        fd = os.open(temp, flags, PRIVATE_FILE_MODE)
    except OSError as error:
        return Failure(FileAccessError(str(path), describe_os_error(error)))
    try:
        try:
            # The umask may have removed bits; the file must end up exactly 0600.
            os.fchmod(fd, PRIVATE_FILE_MODE)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as error:
        with suppress(OSError):
            temp.unlink()
        return Failure(FileAccessError(str(path), describe_os_error(error)))
    _fsync_directory(path.parent)
    return Success(None)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    # Best effort: the data is already in place, and some filesystems refuse a directory fsync.
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files a crashed writer left beside `path`; only call while holding the lock.

    Only the lock holder writes, so while we hold it every such temp file is abandoned.
    Best effort: a temp that cannot be removed does no harm beyond taking space.
    """
    prefix = temp_prefix(path)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(TEMP_SUFFIX)):
            continue
        with suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def lock_path_for(path: Path) -> Path:
    return path.with_name(path.name + LOCK_SUFFIX)


def with_lock(
    path: Path,
    timeout: float,
    body: Callable[[], Result[T, E]],
    on_wait: LockWaitNotice | None = None,
) -> Result[T, E | LockFailure]:
    """Run `body` holding the cross-process lock of `path` (`<name>.lock` beside it).

    `body` runs only once the lock is held; otherwise the failure comes back (LockTimeout
    after `timeout` seconds) and nothing ran. The lock is an OS lock (flock), so the kernel
    drops it when its holder dies, even by SIGKILL: a crashed command never blocks the next
    one. Once held, stale temp files of `path` are removed. A missing folder is created
    private (0700) first. When the lock is still taken after LOCK_NOTICE_AFTER_SECONDS,
    `on_wait(lock path, seconds left)` is called once, so that the caller can say what it is
    waiting for.
    """
    # Imported here: filelock costs more start-up than a read-only command spends in total.
    from filelock import FileLock, Timeout

    lock_path = lock_path_for(path)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        return Failure(FileAccessError(str(path.parent), describe_os_error(error)))
    lock = FileLock(lock_path, timeout=timeout, mode=PRIVATE_FILE_MODE)
    deadline = time.monotonic() + timeout
    try:
        if on_wait is None or timeout <= LOCK_NOTICE_AFTER_SECONDS:
            lock.acquire(timeout=timeout)
        else:
            try:
                lock.acquire(timeout=LOCK_NOTICE_AFTER_SECONDS)
            except Timeout:
                # A notice that cannot be shown (stderr closed) must not fail the command.
                with suppress(OSError):
                    on_wait(lock_path, max(0.0, deadline - time.monotonic()))
                lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
    except Timeout:
        return Failure(LockTimeout(str(lock_path), timeout))
    except OSError as error:
        return Failure(FileAccessError(str(lock_path), describe_os_error(error)))
    try:
        remove_stale_temps(path)
        return body()
    finally:
        lock.release()
