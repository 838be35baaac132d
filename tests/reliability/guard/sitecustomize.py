"""Loaded by bm subprocesses of the reliability suite: refuse (and log) any non-loopback traffic."""

from __future__ import annotations

import os

_LOG = os.environ.get("BM_RELIABILITY_CONNECT_LOG")


def _install(log: str) -> None:
    import ipaddress
    import socket
    from typing import Any

    def loopback(host: object) -> bool:
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

    def record(what: str) -> None:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{os.getpid()} {what}\n")

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            record(f"connect {address!r}")
            raise ConnectionRefusedError(111, "blocked by the reliability suite")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            record(f"connect_ex {address!r}")
            return 111
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not loopback(host):
            record(f"getaddrinfo {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the reliability suite")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


# Only where the suite asked for it: importing this module elsewhere (pytest collects it for
# doctests) changes nothing.
if _LOG:
    _install(_LOG)
