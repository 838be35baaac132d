"""Secrets never leave: every command's output, the browser hook, children, server echoes, reprs."""

from __future__ import annotations

import contextlib
import json
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from returns.result import Failure, Success

from emulator import CloudEmulator
from tests.reliability.harness import (
    Canned,
    Run,
    ScriptedServer,
    Workspace,
    bm_command,
    closed_port_url,
    secret_leaks,
)

CANARY_ACCESS = "canaryAccess-5e1d9b7f3a2c4e6081"
CANARY_REFRESH = "canaryRefresh-8c2a4e6f0b1d3f5a79"
CANARY_KEY = "bmc_canaryStoredKey4f6e8d0c2b1a39"
CANARY_ENV_KEY = "bmc_canaryEnvKey9a8b7c6d5e4f3g2h1"
CANARY_DEVICE_CODE = "canaryDeviceCode-3b5d7f9e1c0a2468"
CANARY_URL_PASSWORD = "canaryUrlPassword7d6c5b4a"

BROWSER_HOOK = """#!/bin/sh
# Records how bm opened the browser: its argument list and its environment.
log="$(dirname "$0")/browser"
{ printf '%s\\n' "$@"; printf '%s\\n' '--end--'; } >> "$log.argv"
env >> "$log.env"
exit 0
"""


@dataclass
class SecretFigures:
    """Runs scanned, secrets looked for, and every place one was found (by name only)."""

    commands: int = 0
    secrets: int = 0
    browser_calls: list[list[str]] = field(default_factory=list)
    children: set[str] = field(default_factory=set)
    found: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        verdict = f"secrets found = {len(self.found)}"
        text = (
            f"secrets in output: {self.commands} command runs (success and failure paths, "
            f"--json, online/offline, login, logout, api-key save/create/remove, projects) "
            f"scanned for {self.secrets} secrets, {verdict}; browser hook got only the URL "
            f"({len(self.browser_calls)} call(s)), no other child process"
        )
        if self.found or self.problems:
            text += " - PROBLEMS: " + "; ".join((self.found + self.problems)[:3])
        return text


def install_browser_hook(workspace: Workspace) -> Path:
    hook = workspace.root / "browser-hook.sh"
    hook.write_text(BROWSER_HOOK)
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    workspace.env["BROWSER"] = str(hook)
    return hook


def browser_calls(workspace: Workspace) -> tuple[list[list[str]], str]:
    argv_log = workspace.root / "browser.argv"
    env_log = workspace.root / "browser.env"
    calls: list[list[str]] = []
    current: list[str] = []
    for line in argv_log.read_text().splitlines() if argv_log.exists() else []:
        if line == "--end--":
            calls.append(current)
            current = []
        else:
            current.append(line)
    return calls, env_log.read_text() if env_log.exists() else ""


def _children_of(pid: int) -> list[str]:
    """Command lines of the live children of `pid` (Linux /proc; empty elsewhere)."""
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").exists() else []:
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            parent = next(
                line.split()[1] for line in status.splitlines() if line.startswith("PPid:")
            )
            if int(parent) == pid:
                raw = (entry / "cmdline").read_bytes()
                found.append(" ".join(part.decode(errors="replace") for part in raw.split(b"\0")))
        except (OSError, StopIteration, ValueError):
            continue
    return found


def _watched(workspace: Workspace, figures: SecretFigures, *argv: str) -> Run:
    """Run bm, noting every child process it starts (only the browser hook may appear) and
    every command line it shows (it must stay the one it was started with)."""
    started = workspace.start(*argv)
    pid = started.process.pid
    own = Path(f"/proc/{pid}/cmdline")
    shown: set[bytes] = set()
    while started.process.poll() is None:
        figures.children.update(_children_of(pid))
        with contextlib.suppress(OSError):
            shown.add(own.read_bytes())
        time.sleep(0.005)
    run = started.finish()
    expected = b"\0".join(arg.encode() for arg in (bm_command(), *argv)) + b"\0"
    # A zombie shows an empty command line; the interpreter named in bm's #! line comes first.
    strange = {line for line in shown - {b""} if not line.endswith(expected)}
    if strange:
        figures.problems.append(f"bm showed another command line: {sorted(strange)!r}")
    return run


def _tokens(workspace: Workspace) -> dict[str, Any]:
    return json.loads(workspace.tokens.read_text()) if workspace.tokens.exists() else {}


def _config_key(workspace: Workspace) -> str | None:
    import yaml

    if not workspace.config.exists():
        return None
    loaded = yaml.safe_load(workspace.config.read_text()) or {}
    key = loaded.get("cloud_api_key")
    return key if isinstance(key, str) else None


def sweep(root: Path, emulator: CloudEmulator) -> SecretFigures:
    """Every command, in an order that visits each state, with the secrets on hand."""
    figures = SecretFigures()
    workspace = Workspace(root, "secrets")
    workspace.point_at(emulator.base_url)
    hook = install_browser_hook(workspace)
    secrets: dict[str, str] = {
        "canary access token": CANARY_ACCESS,
        "canary refresh token": CANARY_REFRESH,
        "canary stored key": CANARY_KEY,
        "canary env key": CANARY_ENV_KEY,
        "canary URL password": CANARY_URL_PASSWORD,
    }
    runs: list[Run] = []
    project_dir = workspace.root / "research"
    project_dir.mkdir()

    def bm(
        *argv: str,
        input: str = "",
        env: dict[str, str | None] | None = None,
        expect: int | None = None,
    ) -> Run:
        run = workspace.bm(*argv, input=input, env=env)
        runs.append(run)
        if expect is not None and run.code != expect:
            figures.problems.append(f"expected exit {expect}: {run.describe()}")
        return run

    def learn(name: str, value: object) -> None:
        if isinstance(value, str) and value:
            secrets[name] = value

    # 1. Planted canaries the cloud has never seen: every refusal path.
    workspace.write_tokens(
        {
            "access_token": CANARY_ACCESS,
            "refresh_token": CANARY_REFRESH,
            "expires_at": int(time.time()) - 30,
            "token_type": "Bearer",
            "email": "alice@example.com",
        }
    )
    workspace.write_config(f"cloud_api_key: {CANARY_KEY}\n")
    for argv, code in (
        (("cloud", "status"), 1),
        (("cloud", "status", "--json"), 1),
        (("cloud", "status", "--offline"), 0),
        (("cloud", "status", "--offline", "--json"), 0),
        (("project", "add", "research", str(project_dir)), 0),
        (("project", "set-cloud", "research"), 0),
        (("project", "list"), 0),
        (("project", "list", "--json"), 0),
        (("cloud", "api-key", "create", "refused"), 1),
    ):
        bm(*argv, expect=code)
    # 2. Login: the canary refresh is refused, the device flow runs, the browser hook opens.
    login = _watched(workspace, figures, "cloud", "login")
    runs.append(login)
    if login.code != 0:
        figures.problems.append(f"login failed: {login.describe()}")
    session = _tokens(workspace)
    learn("issued access token", session.get("access_token"))
    learn("issued refresh token", session.get("refresh_token"))
    bm("cloud", "status", expect=0)
    bm("cloud", "status", "--json", expect=0)
    bm("cloud", "login", expect=0)  # a silent refresh
    learn("refreshed access token", _tokens(workspace).get("access_token"))
    learn("refreshed refresh token", _tokens(workspace).get("refresh_token"))
    # 3. A locally expired session, refreshed by status.
    expired = _tokens(workspace)
    expired["expires_at"] = int(time.time()) - 30
    workspace.write_tokens(expired)
    bm("cloud", "status", "--json", expect=0)
    learn("rotated access token", _tokens(workspace).get("access_token"))
    learn("rotated refresh token", _tokens(workspace).get("refresh_token"))
    # 4. Keys: created in the cloud, saved from stdin (verified or not), refused.
    bm("cloud", "api-key", "create", "laptop", expect=0)
    learn("created key", _config_key(workspace))
    issued = emulator.issue_api_key()
    learn("issued key", issued)
    bm("cloud", "api-key", "save", "-", input=issued + "\n", expect=0)
    bm("cloud", "api-key", "save", "-", "--verify", input=issued + "\n", expect=0)
    bm("cloud", "api-key", "save", "-", "--verify", input=CANARY_KEY + "\n", expect=1)
    bm("cloud", "api-key", "save", "-", input="bmc_" + CANARY_ACCESS + "!\n", expect=1)
    bm("cloud", "api-key", "save", issued, expect=0)  # on the command line: warned, not echoed
    bm("project", "set-cloud", "research", expect=0)
    bm("cloud", "status", expect=0)
    # 5. A key in the environment, valid and not.
    env_key = emulator.issue_api_key()
    learn("environment key", env_key)
    with_env: dict[str, str | None] = {"BASIC_MEMORY_CLOUD_API_KEY": env_key}
    for argv in (
        ("cloud", "status", "--json"),
        ("project", "set-cloud", "research"),
        ("project", "list", "--json"),
        ("cloud", "api-key", "remove"),
    ):
        bm(*argv, env=with_env, expect=0)
    bm("cloud", "status", env={"BASIC_MEMORY_CLOUD_API_KEY": CANARY_ENV_KEY + "!"}, expect=1)
    bm("cloud", "status", env={"BASIC_MEMORY_CLOUD_API_KEY": CANARY_ENV_KEY}, expect=0)
    # 6. The cloud down.
    down = closed_port_url()
    offline: dict[str, str | None] = {
        "BASIC_MEMORY_CLOUD_HOST": down,
        "BASIC_MEMORY_CLOUD_DOMAIN": down,
    }
    for argv in (
        ("cloud", "status"),
        ("cloud", "status", "--json"),
        ("cloud", "api-key", "create", "down"),
        ("cloud", "login", "--no-browser"),
    ):
        bm(*argv, env=offline, expect=3)
    # 7. A password typed into a host URL.
    bm(
        "cloud",
        "status",
        env={"BASIC_MEMORY_CLOUD_HOST": f"https://me:{CANARY_URL_PASSWORD}@cloud.example"},
        expect=1,
    )
    # 8. Logout, revoked; then a canary session with the cloud down; then --all.
    bm("cloud", "logout", expect=0)
    bm("cloud", "status", expect=1)
    bm("cloud", "api-key", "save", "-", input=issued + "\n", expect=0)
    workspace.write_tokens(
        {"access_token": CANARY_ACCESS, "refresh_token": CANARY_REFRESH, "expires_at": 1}
    )
    bm("cloud", "logout", env=offline, expect=0)
    bm("cloud", "logout", "--all", "--yes", expect=0)
    bm("project", "set-local", "research", expect=0)
    bm("project", "remove", "research", expect=0)

    figures.commands = len(runs)
    figures.secrets = len(secrets)
    for run in runs:
        figures.problems.extend(run.hygiene_problems())
        for name in secret_leaks(run.output, secrets):
            figures.found.append(f"{name} in the output of bm {' '.join(run.argv[:4])}")
    figures.problems.extend(workspace.blocked_connections())
    _judge_browser(workspace, hook, emulator, secrets, figures)
    return figures


def _judge_browser(
    workspace: Workspace,
    hook: Path,
    emulator: CloudEmulator,
    secrets: dict[str, str],
    figures: SecretFigures,
) -> None:
    calls, environment = browser_calls(workspace)
    figures.browser_calls = calls
    codes = emulator.user_codes()
    if len(calls) != 1:
        figures.problems.append(f"the browser hook ran {len(calls)} times, not once")
    for call in calls:
        if len(call) != 1 or not call[0].startswith(f"{emulator.base_url}/device"):
            figures.problems.append(f"the browser got {call!r}, not one device URL")
        elif not any(code in call[0] for code in codes):
            figures.problems.append("the browser URL does not carry the user code")
        for name in secret_leaks(" ".join(call), secrets):
            figures.found.append(f"{name} in the browser's arguments")
    given = {value for key, value in workspace.env.items() if key.startswith("BASIC_MEMORY_")}
    for name in secret_leaks(environment, secrets):
        if secrets[name] not in given:
            figures.found.append(f"{name} in the browser's environment")
    # An exited child not yet reaped shows an empty command line.
    strangers = {child for child in figures.children if child and str(hook) not in child}
    if strangers:
        figures.problems.append(f"bm started other processes: {sorted(strangers)}")


def device_code_probe(root: Path) -> SecretFigures:
    """A scripted sign-in service hands out a canary device code: it must reach neither the
    terminal nor the browser, which gets exactly the complete verification URL."""
    figures = SecretFigures()
    workspace = Workspace(root, "device-code")
    install_browser_hook(workspace)
    with ScriptedServer({}) as server:
        complete = f"{server.url}/device?user_code=WXYZ-2345"
        server.answers.update(
            {
                "/oauth2/device_authorization": Canned.json(
                    200,
                    {
                        "device_code": CANARY_DEVICE_CODE,
                        "user_code": "WXYZ-2345",
                        "verification_uri": f"{server.url}/device",
                        "verification_uri_complete": complete,
                        "expires_in": 600,
                        "interval": 1,
                    },
                ),
                "/oauth2/token": Canned.json(
                    400,
                    {
                        "error": "access_denied",
                        "error_description": f"denied {CANARY_DEVICE_CODE}",
                    },
                ),
            }
        )
        workspace.point_at(server.url)
        run = _watched(workspace, figures, "cloud", "login")
    figures.commands = 1
    figures.secrets = 1
    secrets = {"device code": CANARY_DEVICE_CODE}
    figures.problems.extend(run.hygiene_problems())
    if run.code != 1 or "denied" not in run.stderr or "WXYZ-2345" not in run.stderr:
        figures.problems.append(f"expected a denied login showing the user code: {run.describe()}")
    figures.found.extend(f"{name} in the output" for name in secret_leaks(run.output, secrets))
    calls, environment = browser_calls(workspace)
    figures.browser_calls = calls
    if calls != [[complete]]:
        figures.problems.append(f"the browser got {calls!r}, not [[{complete!r}]]")
    figures.found.extend(
        f"{name} in the browser's arguments or environment"
        for name in secret_leaks(repr(calls) + environment, secrets)
    )
    return figures


def echo_probe(root: Path) -> SecretFigures:
    """A server that quotes the secret it was sent in its error: the quote is cut out."""
    figures = SecretFigures()
    workspace = Workspace(root, "echo")
    secrets = {"refresh token": CANARY_REFRESH, "access token": CANARY_ACCESS}
    with ScriptedServer({}) as server:
        server.answers.update(
            {
                "/oauth2/token": Canned.json(
                    400,
                    {
                        "error": f"bad_{CANARY_REFRESH}",
                        "error_description": f"refresh token {CANARY_REFRESH} is unknown",
                    },
                ),
                "/oauth2/revoke": Canned.json(
                    400, {"error": "invalid_request", "error_description": CANARY_REFRESH}
                ),
                "/proxy/health": Canned.json(
                    403,
                    {
                        "detail": {
                            "error": "subscription_required",
                            "message": f"no plan for bearer {CANARY_ACCESS}",
                            "subscribe_url": f"https://evil.example/?t={CANARY_ACCESS}",
                        }
                    },
                ),
            }
        )
        workspace.point_at(server.url)
        runs = []
        for argv, expires_at in (
            (("cloud", "status"), 1),
            (("cloud", "status", "--json"), 1),
            (("cloud", "login", "--no-browser"), 1),
            (("cloud", "status"), 4_000_000_000),
            (("cloud", "logout"), 4_000_000_000),
        ):
            workspace.write_tokens(
                {
                    "access_token": CANARY_ACCESS,
                    "refresh_token": CANARY_REFRESH,
                    "expires_at": expires_at,
                }
            )
            runs.append(workspace.bm(*argv))
    figures.commands = len(runs)
    figures.secrets = len(secrets)
    for run in runs:
        figures.problems.extend(run.hygiene_problems())
        figures.found.extend(
            f"{name} echoed by bm {' '.join(run.argv)}"
            for name in secret_leaks(run.output, secrets)
        )
    return figures


# -- reprs and exception texts -----------------------------------------------------------------


def repr_probe() -> tuple[int, list[str]]:
    """Every domain object that holds a secret, shown every way Python shows things, and the
    exceptions the domain raises around them: (texts checked, leaks found)."""
    from domain.api_key import ApiKey, parse_api_key
    from domain.config import AppConfig
    from domain.credentials import AvailableCredentials, Credential, CredentialSource
    from domain.errors import InvalidApiKey
    from domain.ports import CreatedApiKey, DeviceAuthorization
    from domain.session import TokenResponse, TokenSet, session_from_response

    secrets = {
        "access": CANARY_ACCESS,
        "refresh": CANARY_REFRESH,
        "key": CANARY_KEY,
        "device": CANARY_DEVICE_CODE,
    }
    tokens = TokenSet(
        access_token=SecretStr(CANARY_ACCESS),
        refresh_token=SecretStr(CANARY_REFRESH),
        expires_at=1,
        email="a@example.com",
    )
    key = ApiKey(value=SecretStr(CANARY_KEY))
    response = TokenResponse(
        access_token=SecretStr(CANARY_ACCESS), refresh_token=SecretStr(CANARY_REFRESH)
    )
    objects: list[object] = [
        tokens,
        response,
        session_from_response(response, 0, tokens),
        key,
        AppConfig(cloud_api_key=SecretStr(CANARY_KEY)),
        DeviceAuthorization(
            device_code=SecretStr(CANARY_DEVICE_CODE),
            user_code="ABCD-EFGH",
            verification_uri="https://x.example/device",
            expires_in=600,
        ),
        CreatedApiKey(key=key, name="laptop"),
        Credential(CredentialSource.OAUTH_SESSION, SecretStr(CANARY_ACCESS)),
        AvailableCredentials(env_api_key=key, config_api_key=key, session=tokens),
        Success(tokens),
        Failure(key),
        parse_api_key(CANARY_KEY),
        parse_api_key(CANARY_KEY + "!"),
        parse_api_key(CANARY_KEY + "x" * 600),
        parse_api_key(CANARY_KEY[:9]),
    ]
    texts: list[str] = []
    for value in objects:
        texts += [repr(value), str(value), f"{value!s:>10}", format(value)]
        inner = value.unwrap() if isinstance(value, Success) else value
        if hasattr(inner, "model_dump"):
            texts += [
                repr(inner.model_dump()),
                json.dumps(inner.model_dump(mode="json")),
                inner.model_dump_json(),
            ]
        if isinstance(value, Failure) and isinstance(value.failure(), InvalidApiKey):
            texts.append(value.failure().message)
    # Exceptions raised while building the models with secrets in hand, as the product does
    # (SecretStr in, a wrong value elsewhere).
    for build in (
        lambda: TokenSet(access_token=SecretStr(CANARY_ACCESS), expires_at="soon"),  # type: ignore[arg-type]
        lambda: TokenResponse(access_token=SecretStr(CANARY_ACCESS), expires_in="never"),  # type: ignore[arg-type]
        lambda: AppConfig(cloud_api_key=SecretStr(CANARY_KEY), projects=[1]),  # type: ignore[arg-type]
        lambda: tokens.model_copy(update={"expires_at": "x"}).model_validate(tokens),
    ):
        try:
            build()
        except (ValidationError, ValueError, TypeError) as error:
            texts += [str(error), repr(error), repr(error.args)]
    leaks = [f"{name} in {text[:60]!r}" for text in texts for name in secret_leaks(text, secrets)]
    return len(texts), leaks
