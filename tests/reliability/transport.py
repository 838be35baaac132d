"""Transport security: insecure hosts refused before any lookup or connection; TLS checks never off."""

from __future__ import annotations

import ast
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.http_transport import build_client, client_for
from tests.reliability.harness import REPO, Workspace, loopback_only, run_in_process

# Never contacted: the refusal comes before any connection (and the guard would stop it).
TEST_NET_HOST = "http://203.0.113.1"
INSECURE_HOSTS = (
    TEST_NET_HOST,
    "http://evil.example",
    "HTTP://EVIL.EXAMPLE",
    "http://127.0.0.1.evil.example",
    "http://localhost.evil.example",
    "http://127.1",
    "http://2130706433",
    "http://0.0.0.0",
    "http://[::ffff:127.0.0.1]",
    "http://10.0.0.1",
    "http://169.254.169.254",
    "http://me:secret@evil.example",
    "http://evil.example:443",
    " http://evil.example ",
    "ftp://evil.example",
    "file:///etc/passwd",
    "//evil.example",
    "evil.example",
    "javascript:alert(1)",
    "https://evil.example?x=1",
    "https://evil.example#x",
)
# Each would reach the host if the refusal failed: the health check, a device flow, a key
# verification, and a revocation.
NETWORK_COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("cloud", "status"), ""),
    (("cloud", "login", "--force", "--no-browser"), ""),
    (("cloud", "api-key", "save", "-", "--verify"), "bmc_verifythis0123456789\n"),
    (("cloud", "logout"), ""),
)
QUICK = 3.0
INSTALLED_QUICK = 5.0  # one start of the installed bm, on a busy machine
# Names that turn certificate checks off, in any of the ways Python allows.
INSECURE_ATTRIBUTES = frozenset(
    {"CERT_NONE", "_create_unverified_context", "_create_default_https_context"}
)
HTTPX_CONSTRUCTORS = frozenset(
    {
        "Client",
        "AsyncClient",
        "HTTPTransport",
        "AsyncHTTPTransport",
        "get",
        "post",
        "request",
        "stream",
    }
)
PRODUCT = ("domain", "application", "adapters", "entrypoints")
# What the wheel ships: the product and the emulator (a test server, but installed with it).
SHIPPED = (*PRODUCT, "emulator")


@dataclass
class TransportFigures:
    hosts: int = 0
    runs: int = 0
    attempts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        text = (
            f"insecure hosts: {self.hosts} refused before any connection ({self.runs} command "
            f"runs, exit 1 with the https:// rule, connection or lookup attempts = "
            f"{len(self.attempts)})"
        )
        if self.problems or self.attempts:
            text += " - PROBLEMS: " + "; ".join((self.attempts + self.problems)[:3])
        return text


def _environment(root: Path, host: str, variable: str) -> dict[str, str]:
    workspace = Workspace(root, "insecure")
    env = dict(workspace.env)
    env.pop("PYTHONPATH", None)
    env[variable] = host
    env["BASIC_MEMORY_CLOUD_API_KEY"] = "bmc_inforceforstatus0123"
    return env


def check_host(root: Path, host: str, figures: TransportFigures) -> None:
    """Every network command, with `host` as the cloud host and then as the sign-in domain."""
    figures.hosts += 1
    for variable in ("BASIC_MEMORY_CLOUD_HOST", "BASIC_MEMORY_CLOUD_DOMAIN"):
        env = _environment(root, host, variable)
        data = Path(env["BASIC_MEMORY_CONFIG_DIR"])
        data.mkdir(parents=True, exist_ok=True)
        (data / ".cloud_tokens.json").write_text(
            '{"access_token": "a", "refresh_token": "r", "expires_at": 4000000000}'
        )
        (data / ".cloud_tokens.json").chmod(0o600)
        for argv, stdin in NETWORK_COMMANDS:
            with loopback_only() as guard:
                run = run_in_process(list(argv), env, stdin)
            figures.runs += 1
            figures.attempts.extend(f"{host!r} ({' '.join(argv)}): {a}" for a in guard.attempts)
            figures.problems.extend(run.hygiene_problems())
            # Logout still removes the local session (exit 0), saying the server was not asked.
            expected = 0 if argv[:2] == ("cloud", "logout") else 1
            if run.code != expected or "https://" not in run.stderr or variable not in run.stderr:
                figures.problems.append(f"{host!r} as {variable} not refused: {run.describe()}")
            elif run.seconds > QUICK:
                figures.problems.append(f"{host!r}: refusal took {run.seconds:.1f}s")


def insecure_hosts_probe(root: Path, examples: int) -> TransportFigures:
    """Hand-picked look-alikes, then hypothesis-made http:// hosts that are not loopback."""
    figures = TransportFigures()
    for host in INSECURE_HOSTS:
        check_host(root, host, figures)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}(\.[a-z0-9-]{1,12}){0,3}", fullmatch=True)
        | st.ip_addresses(v=4).filter(lambda ip: not ip.is_loopback).map(str)
        | st.ip_addresses(v=6).filter(lambda ip: not ip.is_loopback).map(lambda ip: f"[{ip}]"),
        st.sampled_from(["", ":80", ":8080", "/", "/path"]),
    )
    def check(name: str, suffix: str) -> None:
        if name == "localhost":
            return
        before = len(figures.problems) + len(figures.attempts)
        check_host(root, f"http://{name}{suffix}", figures)
        assert len(figures.problems) + len(figures.attempts) == before, figures.problems[-1:]

    try:
        check()
    except AssertionError as failure:
        figures.problems.append(str(failure))
    return figures


def installed_refusal(root: Path) -> tuple[float, list[str]]:
    """The installed bm, pointed at a TEST-NET address over http://, refuses at once."""
    workspace = Workspace(root, "test-net")
    problems: list[str] = []
    began = time.monotonic()
    for variable, argv in (
        ("BASIC_MEMORY_CLOUD_HOST", ("cloud", "status")),
        ("BASIC_MEMORY_CLOUD_DOMAIN", ("cloud", "login", "--force", "--no-browser")),
    ):
        run = workspace.bm(
            *argv,
            env={variable: TEST_NET_HOST, "BASIC_MEMORY_CLOUD_API_KEY": "bmc_inforce0123456789"},
        )
        problems.extend(run.hygiene_problems())
        if run.code != 1 or "https://" not in run.stderr or run.seconds > INSTALLED_QUICK:
            problems.append(f"{variable}={TEST_NET_HOST}: {run.describe()}")
    problems.extend(f"connection attempted: {line}" for line in workspace.blocked_connections())
    return time.monotonic() - began, problems


def tls_source_scan() -> list[str]:
    """Code in the wheel that would turn certificate or host name checks off."""
    return [
        finding
        for folder in SHIPPED
        for path in sorted((REPO / folder).rglob("*.py"))
        for finding in insecure_tls_lines(str(path.relative_to(REPO)), path.read_text())
    ]


def insecure_tls_lines(name: str, source: str) -> list[str]:
    """verify=False, CERT_NONE, check_hostname = False, an unverified context, or
    PYTHONHTTPSVERIFY in `source` (comments and docstrings aside).

    >>> insecure_tls_lines("x.py", "httpx.Client(verify=False)")
    ['x.py:1: verify=False']
    >>> insecure_tls_lines("x.py", "# never pass verify=False")
    []
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if (
            isinstance(node, ast.keyword)
            and node.arg == "verify"
            and isinstance(node.value, ast.Constant)
            and not node.value.value
        ):
            found.append(f"{name}:{node.value.lineno}: verify={node.value.value!r}")
        elif isinstance(node, ast.Attribute) and node.attr in INSECURE_ATTRIBUTES:
            found.append(f"{name}:{line}: {node.attr}")
        elif isinstance(node, ast.Name) and node.id in INSECURE_ATTRIBUTES:
            found.append(f"{name}:{line}: {node.id}")
        elif isinstance(node, ast.Constant) and node.value == "PYTHONHTTPSVERIFY":
            found.append(f"{name}:{line}: PYTHONHTTPSVERIFY")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in ("check_hostname", "verify_mode")
                    and isinstance(node.value, ast.Constant)
                    and not node.value.value
                ):
                    found.append(f"{name}:{line}: {target.attr} = {node.value.value!r}")
    return found


def client_constructions() -> list[str]:
    """httpx clients and transports are made in one place only (adapters/http_transport.py),
    where TLS verification is left on (the emulator, a test server, is not scanned)."""
    found = []
    for folder in PRODUCT:
        for path in sorted((REPO / folder).rglob("*.py")):
            name = str(path.relative_to(REPO))
            if path.name == "http_transport.py":
                continue
            found.extend(_constructions(name, ast.parse(path.read_text())))
    return found


def _constructions(name: str, tree: ast.AST) -> list[str]:
    return [
        f"{name}:{node.lineno}: httpx.{node.func.attr}(...)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "httpx"
        and node.func.attr in HTTPX_CONSTRUCTORS
    ]


def client_verifies_tls() -> list[str]:
    """The clients the adapters build check certificates and host names, follow no redirect."""
    problems = []
    for name, client in (
        ("build_client", build_client()),
        ("client_for", client_for("x").unwrap()),
    ):
        with client:
            transport = client._transport
            context = getattr(getattr(transport, "_pool", None), "_ssl_context", None)
            if not isinstance(transport, httpx.HTTPTransport) or not isinstance(
                context, ssl.SSLContext
            ):
                problems.append(f"{name}: cannot find its TLS context to check")
                continue
            if context.verify_mode != ssl.CERT_REQUIRED:
                problems.append(f"{name}: certificates are not required")
            if not context.check_hostname:
                problems.append(f"{name}: host names are not checked")
            if client.follow_redirects:
                problems.append(f"{name}: follows redirects")
    return problems
