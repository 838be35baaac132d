"""Loaded by bm subprocesses of the reliability suite: refuse (and log) any non-loopback traffic.

Standard library only: the same guard serves the suite in-process (tests.reliability.harness).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_LOG = os.environ.get("BM_RELIABILITY_CONNECT_LOG")


def is_loopback_host(host: object) -> bool:
    """Literal loopback addresses and `localhost`; every other name is off limits.

    >>> [is_loopback_host(h) for h in ("127.0.0.1", "::1", "localhost", "203.0.113.1", "a.b")]
    [True, True, True, False, False]
    """
    import ipaddress

    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def install_guard(record: Callable[[str], None]) -> Callable[[], None]:
    """Make connections and name lookups off loopback fail (after `record`); returns the undo."""
    import socket

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback_host(address[0]):
            record(f"connect {address!r}")
            raise ConnectionRefusedError(111, "blocked by the reliability suite")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback_host(address[0]):
            record(f"connect_ex {address!r}")
            return 111
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback_host(host):
            record(f"getaddrinfo {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the reliability suite")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo

    def undo() -> None:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo

    return undo


def _log_to(path: str) -> Callable[[str], None]:
    def record(what: str) -> None:
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"{os.getpid()} {what}\n")

    return record


# Only where the suite asked for it: importing this module elsewhere (pytest collects it for
# doctests, the harness for the guard) changes nothing.
if _LOG:
    install_guard(_log_to(_LOG))
