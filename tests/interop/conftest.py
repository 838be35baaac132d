"""Starts the independent OpenID Connect provider and a stub cloud for the interop suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

SERVER_DIR = Path(__file__).parent / "oidc_server"
CLIENT_ID = "bm-interop-cli"
# Shorter than bm's 60 s expiry leeway, so every command after a login must refresh first.
ACCESS_TOKEN_TTL = 30
START_TIMEOUT = 30.0
# The bm installed next to this interpreter (scripts/setup installs the worktree editable).
BM = str(Path(sys.executable).parent / "bm")


@dataclass(frozen=True)
class OidcServer:
    base_url: str
    client_id: str

    def token_request(self, **form: str) -> httpx.Response:
        """A direct call to the token endpoint, as another client of the server would make."""
        return httpx.post(
            f"{self.base_url}/oauth2/token", data={"client_id": self.client_id, **form}, timeout=10
        )

    def userinfo(self, access_token: str) -> httpx.Response:
        return httpx.get(
            f"{self.base_url}/oauth2/userinfo",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        )


def _skip_loudly(reason: str) -> None:
    message = f"INTEROP SUITE SKIPPED: {reason}"
    # Both a warning (in pytest's summary) and a line on stderr: a skipped interop suite must
    # not pass unnoticed in CI.
    warnings.warn(message, stacklevel=2)
    print(f"\n*** WARNING: {message} ***", file=sys.stderr)
    pytest.skip(message)


def _ensure_installed() -> str:
    """The node binary, once the server's locked packages are installed; else skip loudly."""
    node = shutil.which("node")
    if node is None:
        _skip_loudly("node is not installed")
    assert node is not None
    if (SERVER_DIR / "node_modules" / "oidc-provider").is_dir():
        return node
    npm = shutil.which("npm")
    if npm is None:
        _skip_loudly("npm is not installed, so oidc-provider cannot be installed")
    assert npm is not None
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(SERVER_DIR)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        # npm's first error line names the cause; its last one only points at a log file.
        lines = [line for line in done.stderr.splitlines() if line.strip()] or ["no output"]
        _skip_loudly(f"`npm ci --prefix {SERVER_DIR}` failed: {lines[0]}")
    return node


def _read_base_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("listening "):
                found.append(line.split()[1])
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    if not found:
        process.kill()
        _, errors = process.communicate(timeout=10)
        pytest.fail(f"the OIDC server did not start:\n{errors}")
    return found[0]


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OidcServer]:
    node = _ensure_installed()
    process = subprocess.Popen(
        [
            node,
            str(SERVER_DIR / "server.mjs"),
            "--port=0",
            f"--client-id={CLIENT_ID}",
            f"--access-token-ttl={ACCESS_TOKEN_TTL}",
        ],
        cwd=SERVER_DIR,
        env={"PATH": os.environ.get("PATH", ""), "NODE_ENV": "test"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield OidcServer(_read_base_url(process), CLIENT_ID)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class StubCloud:
    """`GET /proxy/health` that accepts a bearer token only if the OIDC server accepts it."""

    base_url: str
    # Test tokens, but still tokens: kept out of reprs and so out of failure reports.
    seen_tokens: list[str] = field(default_factory=list, repr=False)


@pytest.fixture(scope="session")
def stub_cloud(oidc_server: OidcServer) -> Iterator[StubCloud]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            header = self.headers.get("Authorization", "")
            token = header.removeprefix("Bearer ")
            if self.path != "/proxy/health":
                status = 404
            elif not header.startswith("Bearer ") or not token:
                status = 401
            else:
                cloud.seen_tokens.append(token)
                # The cloud trusts the provider: a token the provider's userinfo refuses is
                # refused here too, so "subscription verified" means the token is live.
                status = 200 if oidc_server.userinfo(token).status_code == 200 else 401
            body = b'{"status": "ok"}' if status == 200 else b'{"detail": "refused"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the request line would be noise in the test output."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    cloud = StubCloud(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cloud
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def interop_env(tmp_path: Path, oidc_server: OidcServer, stub_cloud: StubCloud) -> dict[str, str]:
    """bm's environment: its own data folder, pointed at the provider and the stub cloud."""
    if not Path(BM).exists():
        pytest.fail(f"bm is not installed next to {sys.executable}; run scripts/setup")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASIC_MEMORY_")}
    env.update(
        BASIC_MEMORY_CONFIG_DIR=str(tmp_path / "data"),
        BASIC_MEMORY_CLOUD_DOMAIN=oidc_server.base_url,
        BASIC_MEMORY_CLOUD_CLIENT_ID=oidc_server.client_id,
        BASIC_MEMORY_CLOUD_HOST=stub_cloud.base_url,
        HOME=str(tmp_path / "home"),
        BROWSER="",
        NO_COLOR="1",
    )
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env
