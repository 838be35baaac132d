"""Machinery of the reliability probes: bm runs (installed or in-process), loopback servers, guards."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.reliability.guard.sitecustomize import install_guard

REPO = Path(__file__).resolve().parents[2]
GUARD_DIR = Path(__file__).resolve().parent / "guard"
CONNECT_LOG_VARIABLE = "BM_RELIABILITY_CONNECT_LOG"
TOKEN_FILE = ".cloud_tokens.json"
CONFIG_FILE = "config.yaml"
# SPEC §6; 130 (interrupted) never comes from a command nobody interrupts.
DOCUMENTED_EXIT_CODES = frozenset({0, 1, 2, 3})
EXIT_USER_MUST_ACT = 1
EXIT_CLOUD_UNAVAILABLE = 3
# Every window of this many characters of a secret is searched for, so a secret cut short
# or wrapped is found too; the masked key (`bmc_…` + 4) is far shorter.
SECRET_WINDOW = 16
SNAPSHOT_READ_LIMIT = 8 * 1024 * 1024


# -- runs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished bm command; `exception` is an escaped exception (in-process runs only)."""

    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float
    exception: str | None = None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        """For failure messages: the command, its exit code and its stderr (never a secret
        that the product did not print itself)."""
        shown = " ".join(
            repr(arg) if len(arg) < 80 else repr(arg[:77] + "...") for arg in self.argv
        )
        return (
            f"bm {shown} -> exit {self.code} in {self.seconds:.2f}s; stderr={self.stderr[-600:]!r}"
        )

    def hygiene_problems(self, control: bool = True) -> list[str]:
        """What no run may show, whatever happened: a traceback, an escaped exception, an
        undocumented exit code, or (unless `control` is off) raw terminal control characters."""
        problems: list[str] = []
        if "Traceback" in self.output or self.exception is not None:
            escaped = self.exception.strip().splitlines()[-1] if self.exception else ""
            problems.append(f"traceback: {self.describe()} {escaped}")
        if self.code not in DOCUMENTED_EXIT_CODES:
            problems.append(f"undocumented exit code: {self.describe()}")
        if control and control_characters(self.output):
            problems.append(
                f"control characters {sorted(control_characters(self.output))} in output: "
                f"{self.describe()}"
            )
        return problems


def control_characters(text: str) -> set[str]:
    """Characters that a terminal would act on, other than the newline and the countdown's
    carriage return; a hostile value echoed raw would show up here.

    >>> sorted(control_characters("ok\\n\\x1b[31m\\x00"))
    ['\\x00', '\\x1b']
    """
    return {char for char in text if char not in "\n\r" and not char.isprintable()}


def bm_command() -> str:
    """The installed `bm` beside the running interpreter (the tests' venv or .venv).

    BM_RELIABILITY_BM names another one: mutation checks point it at a damaged copy.
    """
    override = os.environ.get("BM_RELIABILITY_BM")
    if override:
        return override
    candidate = Path(sys.executable).parent / "bm"
    if not candidate.exists():
        raise RuntimeError(f"bm is not installed next to {sys.executable}; run scripts/setup")
    return str(candidate)


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def base_environment(data_dir: Path, home: Path, connect_log: Path) -> dict[str, str]:
    """A clean environment for bm: its own data folder, no browser, every cloud URL on a
    closed loopback port (so a command never reaches the real cloud by default), and the
    loopback-only connection guard."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BASIC_MEMORY_")}
    # No session bus either: a keychain-store run adds its own test daemon's, never the real one.
    for name in (
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "SSH_CONNECTION",
        "SSH_TTY",
        "PYTHONPATH",
        "DBUS_SESSION_BUS_ADDRESS",
    ):
        env.pop(name, None)
    nowhere = closed_port_url()
    env.update(
        BASIC_MEMORY_CONFIG_DIR=str(data_dir),
        BASIC_MEMORY_CLOUD_HOST=nowhere,
        BASIC_MEMORY_CLOUD_DOMAIN=nowhere,
        HOME=str(home),
        BROWSER="",
        NO_COLOR="1",
        PYTHONPATH=str(GUARD_DIR),
        **{CONNECT_LOG_VARIABLE: str(connect_log)},
    )
    return env


class Workspace:
    """A data folder and the environment to run bm against it."""

    def __init__(self, root: Path, name: str = "ws") -> None:
        self.root = root / name
        self.data = self.root / "data"
        self.home = self.root / "home"
        self.connect_log = self.root / "blocked-connections.log"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = base_environment(self.data, self.home, self.connect_log)
        self.runs = 0

    @property
    def tokens(self) -> Path:
        return self.data / TOKEN_FILE

    @property
    def config(self) -> Path:
        return self.data / CONFIG_FILE

    def point_at(self, url: str) -> None:
        self.env.update(BASIC_MEMORY_CLOUD_HOST=url, BASIC_MEMORY_CLOUD_DOMAIN=url)

    def merged_env(self, env: Mapping[str, str | None] | None) -> dict[str, str]:
        merged = dict(self.env)
        for key, value in (env or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged

    def bm(
        self,
        *args: str,
        input: str | bytes = "",
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
    ) -> Run:
        """Run the installed bm and wait for it; `input` may be raw bytes (say, not UTF-8)."""
        began = time.monotonic()
        done = subprocess.run(
            [bm_command(), *args],
            input=input if isinstance(input, bytes) else input.encode(),
            capture_output=True,
            env=self.merged_env(env),
            timeout=timeout,
            check=False,
        )
        self.runs += 1
        stdout = done.stdout.decode("utf-8", "replace")
        stderr = done.stderr.decode("utf-8", "replace")
        return Run(tuple(args), done.returncode, stdout, stderr, time.monotonic() - began)

    def start(self, *args: str, env: Mapping[str, str | None] | None = None) -> Started:
        """Start the installed bm without waiting; `Started.finish` collects it."""
        self.runs += 1
        process = subprocess.Popen(
            [bm_command(), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=self.merged_env(env),
        )
        return Started(tuple(args), process, time.monotonic())

    def write_tokens(self, document: Mapping[str, Any] | bytes) -> None:
        data = document if isinstance(document, bytes) else json.dumps(document).encode()
        write_private(self.tokens, data)

    def write_config(self, text: str | bytes) -> None:
        write_private(self.config, text.encode() if isinstance(text, str) else text)

    def snapshot(self) -> dict[str, object]:
        return snapshot([self.tokens, self.config])

    def blocked_connections(self) -> list[str]:
        """Connections the guard refused in bm subprocesses (anything not on loopback)."""
        if not self.connect_log.exists():
            return []
        return self.connect_log.read_text().splitlines()


@dataclass
class Started:
    argv: tuple[str, ...]
    process: subprocess.Popen[str]
    began: float

    def finish(self, timeout: float = 60) -> Run:
        """Wait for the process; `seconds` counts until it was collected, not until it ended."""
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
            stderr += f"\n[killed by the suite after {timeout}s]"
        return Run(
            self.argv, self.process.returncode, stdout, stderr, time.monotonic() - self.began
        )


def write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def snapshot(paths: Iterable[Path]) -> dict[str, object]:
    """Each path's exact state: missing, a link and its target, a folder, or its bytes and mode."""
    state: dict[str, object] = {}
    for path in paths:
        try:
            info = path.lstat()
        except FileNotFoundError:
            state[path.name] = None
            continue
        if path.is_symlink():
            state[path.name] = ("link", os.readlink(path))
        elif path.is_dir():
            state[path.name] = ("dir", sorted(os.listdir(path)))
        elif path.is_file() and info.st_size > SNAPSHOT_READ_LIMIT:
            # Huge (sparse) files: identity and timestamps tell a rewrite well enough.
            state[path.name] = (
                "big file",
                info.st_mode,
                info.st_size,
                info.st_ino,
                info.st_mtime_ns,
            )
        elif path.is_file():
            state[path.name] = ("file", info.st_mode & 0o777, path.read_bytes())
        else:
            state[path.name] = ("other", info.st_mode)
    return state


# -- in-process runs ---------------------------------------------------------------------------


@contextlib.contextmanager
def replaced_environ(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ holds exactly `env` inside the block (the container reads os.environ)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_in_process(argv: list[str], env: Mapping[str, str], stdin: str = "") -> Run:
    """Run the cyclopts app in this process, as `bm` would, with `env` as the environment.

    An exception escaping the app is what the installed command would report as an
    internal error (exit 70); it is recorded, with its traceback, in `exception`.
    """
    from entrypoints.cli import app

    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    began = time.monotonic()
    exception: str | None = None
    try:
        with (
            replaced_environ(env),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                result = app(argv, result_action="return_value")
                code = result if isinstance(result, int) else 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
            except Exception:
                exception = traceback.format_exc()
                code = 70
    finally:
        sys.stdin = saved_stdin
    return Run(
        tuple(argv), code, out.getvalue(), err.getvalue(), time.monotonic() - began, exception
    )


# -- loopback-only guard (in-process) ----------------------------------------------------------


@dataclass
class ConnectionGuard:
    """Refuses, and records, every connection and name lookup that is not on loopback."""

    attempts: list[str] = field(default_factory=list)


@contextlib.contextmanager
def loopback_only() -> Iterator[ConnectionGuard]:
    """Inside the block this process can only reach loopback: anything else is refused
    before a packet leaves (recorded in the guard), so even a product bug sends nothing."""
    guard = ConnectionGuard()
    undo = install_guard(guard.attempts.append)
    try:
        yield guard
    finally:
        undo()


# -- loopback servers --------------------------------------------------------------------------


class SilentServer:
    """Accepts connections, reads nothing, answers nothing: a server that hangs forever."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def _accept(self) -> None:
        self._socket.settimeout(0.05)
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for connection in self._held:
            connection.close()
        self._socket.close()


@dataclass(frozen=True)
class Canned:
    """One scripted answer: a status and raw body bytes (JSON unless `content_type` says)."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, document: object) -> Canned:
        return cls(status, json.dumps(document).encode())


class ScriptedServer:
    """A tiny loopback HTTP server answering each path with a canned reply (404 otherwise)."""

    def __init__(self, answers: Mapping[str, Canned]) -> None:
        self.answers = dict(answers)
        self.requests: list[tuple[str, str, bytes]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                scripted.requests.append((self.command, path, body))
                canned = scripted.answers.get(path, Canned.json(404, {"detail": "Not Found"}))
                self.send_response(canned.status)
                self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                for name, value in canned.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(canned.body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)


# -- secrets -----------------------------------------------------------------------------------


def secret_leaks(text: str, secrets: Mapping[str, str], window: int = SECRET_WINDOW) -> list[str]:
    """Names of the secrets of which any `window`-long piece occurs in `text`.

    >>> secret_leaks("token abcdefghijklmnopqrstuv.", {"access": "xxabcdefghijklmnopqrxx"})
    ['access']
    >>> secret_leaks("masked bmc_…wxyz", {"key": "bmc_abcdefghijklmnopqrstuvwxyz"})
    []
    """
    found: list[str] = []
    for name, secret in secrets.items():
        if not secret:
            continue
        size = min(window, len(secret))
        pieces = {secret[start : start + size] for start in range(len(secret) - size + 1)}
        if any(piece in text for piece in pieces):
            found.append(name)
    return found
