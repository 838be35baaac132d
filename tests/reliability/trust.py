"""Untrusted data folders: planted settings are refused before any connection, by bm and the library."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.harness import Workspace

NOBODY = 65534
# Another user's file or folder can only be made by root; elsewhere those setups are skipped.
AS_ROOT = os.geteuid() == 0


class CountingListener:
    """A loopback port that counts the connections it is offered and closes each at once:
    the planted `cloud_host` points here, so any count above zero is a token sent away."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self._socket.settimeout(0.05)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def __enter__(self) -> CountingListener:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()


@dataclass(frozen=True)
class Setup:
    """One way another user could have got at the data files.

    `plant` changes a private workspace and returns the path the refusal must name; `fix`
    is part of the command it must give. `folder_level` problems make logout refuse too;
    file-level ones let logout remove the session without asking the server.
    """

    name: str
    plant: Callable[[Workspace], Path]
    fix: str
    folder_level: bool
    needs_root: bool = False


def _folder_mode(mode: int) -> Callable[[Workspace], Path]:
    def plant(workspace: Workspace) -> Path:
        workspace.data.chmod(mode)
        return workspace.data

    return plant


def _config_mode(workspace: Workspace) -> Path:
    workspace.config.chmod(0o666)
    return workspace.config


def _owned_by_nobody(which: str) -> Callable[[Workspace], Path]:
    def plant(workspace: Workspace) -> Path:
        path = workspace.config if which == "config" else workspace.tokens
        os.chown(path, NOBODY, NOBODY)
        return path

    return plant


def _open_parent(workspace: Workspace) -> Path:
    # Without the sticky bit, anyone may rename the data folder away and put their own there.
    workspace.root.chmod(0o777)
    return workspace.root


def _linked_config(workspace: Workspace) -> Path:
    target = workspace.root / "dotfiles-config.yaml"
    workspace.config.rename(target)
    target.chmod(0o666)
    workspace.config.symlink_to(target)
    return target


SETUPS = (
    Setup("data folder 0777", _folder_mode(0o777), "chmod 700", folder_level=True),
    Setup("data folder 0770 (group)", _folder_mode(0o770), "chmod 700", folder_level=True),
    Setup("config.yaml 0666", _config_mode, "chmod 600", folder_level=False),
    Setup(
        "config.yaml owned by nobody",
        _owned_by_nobody("config"),
        "chown $USER",
        folder_level=False,
        needs_root=True,
    ),
    Setup(
        "token file owned by nobody",
        _owned_by_nobody("tokens"),
        "chown $USER",
        folder_level=False,
        needs_root=True,
    ),
    Setup("parent folder 0777, not sticky", _open_parent, "chmod go-w", folder_level=True),
    Setup("linked config.yaml, target 0666", _linked_config, "chmod 600", folder_level=False),
)


@dataclass
class TrustFigures:
    setups: int = 0
    refused: int = 0
    library: int = 0
    logouts: int = 0
    connections: int = 0
    control_connections: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        text = (
            f"untrusted data folder: {self.setups} planted setups, refused before any "
            f"connection {self.refused} (exit 1, path and fix named), library raised "
            f"{self.library}, logout right {self.logouts} (local removal without the server, or "
            f"refused), connections seen {self.connections} (a private folder's: "
            f"{self.control_connections})"
        )
        if self.problems:
            text += " - PROBLEMS: " + "; ".join(self.problems[:3])
        return text


def _workspace(root: Path, name: str, host: str) -> Workspace:
    """A private data folder whose config.yaml points at `host` and holds a session due for
    a refresh, so a command that trusted it would connect there at once."""
    workspace = Workspace(root, name)
    workspace.root.chmod(0o755)
    workspace.write_config(f"cloud_host: {host}\ncloud_domain: {host}\nprojects: {{}}\n")
    workspace.write_tokens(
        {
            "access_token": "planted-access-token",
            "refresh_token": "planted-refresh-token",
            "expires_at": int(time.time()) + 10,
        }
    )
    # The planted host must come from config.yaml, not from the harness's variables.
    workspace.env.pop("BASIC_MEMORY_CLOUD_HOST")
    workspace.env.pop("BASIC_MEMORY_CLOUD_DOMAIN")
    return workspace


def _library_raises(workspace: Workspace, named: Path) -> list[str]:
    from adapters.httpx_auth import CloudAuthError
    from domain.errors import UntrustedPath
    from entrypoints.library import cloud_auth, cloud_host, route_for

    problems = []
    calls: tuple[tuple[str, Callable[[], object]], ...] = (
        ("cloud_host", lambda: cloud_host(env=workspace.env)),
        ("route_for", lambda: route_for("notes", env=workspace.env)),
        ("cloud_auth", lambda: cloud_auth(env=workspace.env)),
    )
    for name, call in calls:
        try:
            call()
        except CloudAuthError as error:
            failure = error.failure
            if not isinstance(failure, UntrustedPath) or failure.path != str(named):
                problems.append(f"library {name}: {error}")
        else:
            problems.append(f"library {name} did not raise")
    return problems


def check_setup(root: Path, index: int, setup: Setup, figures: TrustFigures) -> None:
    with CountingListener() as listener:
        workspace = _workspace(root, f"trust-{index}", listener.url)
        named = setup.plant(workspace)
        before = workspace.snapshot()
        status = workspace.bm("cloud", "status")
        problems = status.hygiene_problems()
        if (
            status.code != 1
            or f"Refusing to use {named}:" not in status.stderr
            or setup.fix not in status.stderr
        ):
            problems.append(f"not refused: {status.describe()}")
        library = _library_raises(workspace, named)
        if workspace.snapshot() != before:
            problems.append("files changed by a refused command")
        logout = workspace.bm("cloud", "logout")
        problems.extend(logout.hygiene_problems())
        if setup.folder_level:
            logout_right = logout.code == 1 and workspace.tokens.exists()
        else:
            logout_right = (
                logout.code == 0
                and not workspace.tokens.exists()
                and "not contacted" in logout.stderr
            )
        if not logout_right:
            problems.append(f"logout: {logout.describe()}")
        connections = listener.connections
    figures.setups += 1
    figures.refused += not any(p.startswith("not refused") for p in problems)
    figures.library += not library
    figures.logouts += logout_right
    figures.connections += connections
    figures.problems.extend(f"{setup.name}: {problem}" for problem in problems + library)
    if connections:
        figures.problems.append(f"{setup.name}: {connections} connections to the planted host")


def _control(root: Path, figures: TrustFigures) -> None:
    """The same planted host in a private folder is trusted: the listener must see it, or a
    count of zero above would prove nothing."""
    with CountingListener() as listener:
        workspace = _workspace(root, "trust-control", listener.url)
        workspace.bm("cloud", "status", timeout=60)
        figures.control_connections = listener.connections
    if not figures.control_connections:
        figures.problems.append("control: a private folder's planted host saw no connection")


def untrusted_folder_probe(root: Path) -> TrustFigures:
    figures = TrustFigures()
    for index, setup in enumerate(SETUPS):
        if setup.needs_root and not AS_ROOT:
            continue
        check_setup(root, index, setup, figures)
    _control(root, figures)
    return figures
