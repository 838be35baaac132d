"""Network faults through the installed bm: documented exit code and message, bounded time, files kept."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from emulator import CloudEmulator, EmulatorSettings
from tests.reliability.harness import (
    EXIT_CLOUD_UNAVAILABLE,
    EXIT_USER_MUST_ACT,
    Canned,
    Run,
    ScriptedServer,
    SilentServer,
    Workspace,
    closed_port_url,
    secret_leaks,
)

Server = Literal["emulator", "closed", "silent", "scripted"]
Session = Literal["none", "valid", "expired"]
# The CLI's longest single wait is the 15 s read timeout (adapters/http_transport.py); a hung
# server must not hold a command much longer than that.
READ_TIMEOUT = 15.0
HANG_BOUND = READ_TIMEOUT + 12.0
QUICK_BOUND = 12.0
SCRIPTED_ACCESS = "scripted-access-token-0123456789"
SCRIPTED_REFRESH = "scripted-refresh-token-0123456789"
UNREACHABLE = "Cannot reach"


def emulator_settings() -> EmulatorSettings:
    """Codes approve themselves, so a device flow that survives its faults completes."""
    return EmulatorSettings(interval=1.0, token_ttl=600.0, auto_approve_after=0.2)


@dataclass(frozen=True)
class Injected:
    """A fault set on the emulator before the command runs."""

    kind: Literal["fail", "drop", "hang"]
    path: str
    count: int = 1
    status: int = 503
    seconds: float = 60.0

    def apply(self, emulator: CloudEmulator) -> None:
        if self.kind == "fail":
            emulator.fail_next(self.path, self.status, self.count)
        elif self.kind == "drop":
            emulator.drop_next(self.path, self.count)
        else:
            emulator.hang_next(self.path, self.seconds, self.count)


@dataclass(frozen=True)
class FaultScenario:
    """One fault, one command, and what the command must do about it.

    `check` adds expectations on the files afterwards, for the scenarios that are meant to
    change them (`state_intact=False`).
    """

    name: str
    argv: tuple[str, ...]
    server: Server
    expect_code: int
    expect_text: tuple[str, ...]
    session: Session = "none"
    api_key: bool = False
    faults: tuple[Injected, ...] = ()
    scripted: Mapping[str, Canned] = field(default_factory=dict)
    state_intact: bool = True
    bound: float = QUICK_BOUND
    stdin: str = ""
    check: Callable[[Workspace, dict[str, str]], list[str]] | None = None
    # Scenarios that wait out a timeout run at the same time as each other.
    concurrent: bool = False
    # Set for the scenarios where the product is known to differ from the specification.
    known_defect: str | None = None


def _device_answer(base: str, **changes: object) -> Canned:
    document: dict[str, object] = {
        "device_code": "scripted-device-code-0123456789",
        "user_code": "ABCD-EFGH",
        "verification_uri": f"{base}/device",
        "verification_uri_complete": f"{base}/device?user_code=ABCD-EFGH",
        "expires_in": 600,
        "interval": 1,
    }
    for name, value in changes.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    return Canned.json(200, document)


def _kept_old_refresh_token(workspace: Workspace, secrets: dict[str, str]) -> list[str]:
    stored = json.loads(workspace.tokens.read_text())
    problems = []
    if stored.get("access_token") != "rotated-access-token-0123456789":
        problems.append("the new access token was not stored")
    if stored.get("refresh_token") != SCRIPTED_REFRESH:
        problems.append("the old refresh token was not kept (SPEC §3.5)")
    if not stored.get("expires_at", 0) > time.time() + 600:
        problems.append("the new expiry was not stored")
    return problems


def _tokens_removed(workspace: Workspace, secrets: dict[str, str]) -> list[str]:
    return [] if not workspace.tokens.exists() else ["the local tokens were not removed"]


def _logged_in(workspace: Workspace, secrets: dict[str, str]) -> list[str]:
    if not workspace.tokens.exists():
        return ["no session was saved"]
    stored = json.loads(workspace.tokens.read_text())
    return [] if stored.get("refresh_token") else ["the saved session has no refresh token"]


def _no_refresh_token_saved(workspace: Workspace, secrets: dict[str, str]) -> list[str]:
    if not workspace.tokens.exists():
        return ["no session was saved"]
    stored = json.loads(workspace.tokens.read_text())
    problems = []
    if stored.get("access_token") != "device-access-token-0123456789":
        problems.append("the access token was not saved")
    if stored.get("refresh_token") is not None:
        problems.append("a refresh token appeared from nowhere")
    return problems


def scenarios() -> list[FaultScenario]:
    """Every scenario; scripted answers that need the server's URL say `{base}`."""
    login = ("cloud", "login", "--force", "--no-browser")
    status = ("cloud", "status")
    health_ok = Canned.json(200, {"status": "ok"})
    rotated = Canned.json(
        200, {"access_token": "rotated-access-token-0123456789", "expires_in": 3600}
    )
    base = "{base}"
    return [
        # -- refused connections ---------------------------------------------------------------
        FaultScenario(
            "refused: status with a valid session",
            status,
            "closed",
            EXIT_CLOUD_UNAVAILABLE,
            (UNREACHABLE, "connection refused"),
            session="valid",
        ),
        FaultScenario(
            "refused: status --json with an API key",
            (*status, "--json"),
            "closed",
            EXIT_CLOUD_UNAVAILABLE,
            ('"reachable": false', "connection refused"),
            api_key=True,
        ),
        FaultScenario(
            "refused: status needing a refresh",
            status,
            "closed",
            EXIT_CLOUD_UNAVAILABLE,
            (UNREACHABLE, "connection refused"),
            session="expired",
        ),
        FaultScenario(
            "refused: login",
            login,
            "closed",
            EXIT_CLOUD_UNAVAILABLE,
            ("Cannot reach the sign-in service", "connection refused"),
            session="valid",
        ),
        FaultScenario(
            "refused: api-key save --verify",
            ("cloud", "api-key", "save", "-", "--verify"),
            "closed",
            EXIT_CLOUD_UNAVAILABLE,
            (UNREACHABLE,),
            stdin="bmc_verifyme0123456789\n",
        ),
        FaultScenario(
            "refused: api-key create",
            ("cloud", "api-key", "create", "laptop"),
            "closed",
            EXIT_CLOUD_UNAVAILABLE,
            (UNREACHABLE,),
            session="valid",
            api_key=True,
        ),
        FaultScenario(
            "refused: logout still removes the local session, saying revocation failed",
            ("cloud", "logout"),
            "closed",
            0,
            ("revocation failed", "Logged out"),
            session="valid",
            api_key=True,
            state_intact=False,
            check=_tokens_removed,
        ),
        # -- 5xx bursts ------------------------------------------------------------------------
        FaultScenario(
            "5xx: health answers 503 three times",
            status,
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            ("server error (HTTP 503)",),
            session="valid",
            faults=(Injected("fail", "/proxy/health", status=503, count=3),),
        ),
        FaultScenario(
            "5xx: the refresh answers 500",
            status,
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            ("server error (HTTP 500)",),
            session="expired",
            faults=(Injected("fail", "/oauth2/token", status=500, count=3),),
        ),
        FaultScenario(
            "5xx: device authorization answers 502",
            login,
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            ("server error (HTTP 502)",),
            faults=(Injected("fail", "/oauth2/device_authorization", status=502, count=1),),
        ),
        FaultScenario(
            "5xx: a burst while polling is ridden out and the login completes",
            login,
            "emulator",
            0,
            ("Logged in as", "Retrying"),
            faults=(Injected("fail", "/oauth2/token", status=503, count=2),),
            state_intact=False,
            check=_logged_in,
            bound=30.0,
        ),
        FaultScenario(
            "5xx: api-key create answers 500",
            ("cloud", "api-key", "create", "laptop"),
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            ("server error (HTTP 500)",),
            session="valid",
            faults=(Injected("fail", "/api/keys", status=500, count=1),),
        ),
        FaultScenario(
            "5xx: api-key save --verify, health 503",
            ("cloud", "api-key", "save", "-", "--verify"),
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            ("server error (HTTP 503)",),
            faults=(Injected("fail", "/proxy/health", status=503, count=1),),
            stdin="@issued-key\n",
        ),
        # -- dropped connections ---------------------------------------------------------------
        FaultScenario(
            "drop: health connection closed unanswered",
            status,
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            (UNREACHABLE, "closed before a complete answer"),
            session="valid",
            faults=(Injected("drop", "/proxy/health", count=3),),
        ),
        FaultScenario(
            "drop: device authorization closed unanswered",
            login,
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            (UNREACHABLE, "closed before a complete answer"),
            faults=(Injected("drop", "/oauth2/device_authorization", count=1),),
        ),
        FaultScenario(
            "drop: revoke closed unanswered, logout still removes the local session",
            ("cloud", "logout"),
            "emulator",
            0,
            ("revocation failed",),
            session="valid",
            faults=(Injected("drop", "/oauth2/revoke", count=1),),
            state_intact=False,
            check=_tokens_removed,
        ),
        # -- servers that never answer (run at once: each waits out the read timeout) ------------
        FaultScenario(
            "hang: the emulator holds health past the read timeout",
            status,
            "emulator",
            EXIT_CLOUD_UNAVAILABLE,
            (UNREACHABLE, "timed out after 15s"),
            session="valid",
            faults=(Injected("hang", "/proxy/health", seconds=60.0, count=1),),
            bound=HANG_BOUND,
            concurrent=True,
        ),
        FaultScenario(
            "hang: a socket that accepts and never answers (status)",
            (*status, "--json"),
            "silent",
            EXIT_CLOUD_UNAVAILABLE,
            ("timed out after 15s",),
            api_key=True,
            bound=HANG_BOUND,
            concurrent=True,
        ),
        FaultScenario(
            "hang: a socket that accepts and never answers (login)",
            login,
            "silent",
            EXIT_CLOUD_UNAVAILABLE,
            ("Cannot reach the sign-in service", "timed out after 15s"),
            bound=HANG_BOUND,
            concurrent=True,
        ),
        # -- malformed answers -----------------------------------------------------------------
        FaultScenario(
            "malformed: device authorization body is cut-off JSON",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("Unexpected answer from the sign-in service", "not JSON"),
            session="valid",
            scripted={"/oauth2/device_authorization": Canned(200, b'{"device_code": "abc", ')},
        ),
        FaultScenario(
            "malformed: device authorization body is a JSON list",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("JSON that is not an object",),
            scripted={"/oauth2/device_authorization": Canned.json(200, ["device_code"])},
        ),
        FaultScenario(
            "malformed: the refresh answer is HTML (the API key carries on)",
            ("cloud", "status", "--json"),
            "scripted",
            0,
            ("not JSON",),
            session="expired",
            api_key=True,
            scripted={
                "/oauth2/token": Canned(200, b"<html>proxy error</html>", "text/html"),
                "/proxy/health": health_ok,
            },
        ),
        FaultScenario(
            "malformed: health 401 with a body that is not JSON",
            status,
            "scripted",
            EXIT_USER_MUST_ACT,
            ("rejected",),
            api_key=True,
            scripted={"/proxy/health": Canned(401, b"\x00\xff garbage", "text/plain")},
        ),
        FaultScenario(
            "malformed: health redirects to a foreign host, which is not followed",
            status,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("unexpected HTTP 302",),
            api_key=True,
            scripted={
                "/proxy/health": Canned(
                    302, b"", "text/plain", (("Location", "http://203.0.113.1/steal"),)
                )
            },
        ),
        # -- answers missing what the protocol requires ----------------------------------------
        FaultScenario(
            "device answer without device_code",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("the answer has no device_code",),
            session="valid",
            scripted={"/oauth2/device_authorization": _device_answer(base, device_code=None)},
        ),
        FaultScenario(
            "device answer without user_code",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("the answer has no user_code",),
            scripted={"/oauth2/device_authorization": _device_answer(base, user_code=None)},
        ),
        FaultScenario(
            "device answer without verification_uri",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("the answer has no verification_uri",),
            scripted={
                "/oauth2/device_authorization": _device_answer(
                    base, verification_uri=None, verification_uri_complete=None
                )
            },
        ),
        FaultScenario(
            "device answer without expires_in",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("the answer has no expires_in",),
            scripted={"/oauth2/device_authorization": _device_answer(base, expires_in=None)},
        ),
        FaultScenario(
            "device answer with a terminal escape in the user code",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("user_code is not a short printable code",),
            scripted={
                "/oauth2/device_authorization": _device_answer(base, user_code="\x1b[2J\x1b[31mX")
            },
        ),
        FaultScenario(
            "device answer pointing the browser at a local file",
            login,
            "scripted",
            EXIT_CLOUD_UNAVAILABLE,
            ("verification_uri is not an https:// URL",),
            scripted={
                "/oauth2/device_authorization": _device_answer(
                    base, verification_uri="file:///etc/passwd"
                )
            },
        ),
        FaultScenario(
            "refresh answer without refresh_token keeps the old one",
            ("cloud", "status", "--json"),
            "scripted",
            0,
            ('"state": "valid"',),
            session="expired",
            scripted={"/oauth2/token": rotated, "/proxy/health": health_ok},
            state_intact=False,
            check=_kept_old_refresh_token,
        ),
        FaultScenario(
            "device-flow token answer without refresh_token is saved as such",
            login,
            "scripted",
            0,
            ("Logged in as",),
            scripted={
                "/oauth2/device_authorization": _device_answer(base),
                "/oauth2/token": Canned.json(
                    200, {"access_token": "device-access-token-0123456789", "expires_in": 3600}
                ),
                "/proxy/health": health_ok,
            },
            state_intact=False,
            check=_no_refresh_token_saved,
        ),
    ]


@dataclass
class ScenarioResult:
    scenario: FaultScenario
    run: Run | None = None
    problems: list[str] = field(default_factory=list)


def _seed(
    scenario: FaultScenario, workspace: Workspace, emulator: CloudEmulator | None
) -> dict[str, str]:
    """Write the scenario's files; return the secrets they hold."""
    secrets: dict[str, str] = {}
    if scenario.session != "none":
        if scenario.server == "emulator" and emulator is not None:
            issued = emulator.issue_session()
            access, refresh = str(issued["access_token"]), str(issued["refresh_token"])
        else:
            access, refresh = SCRIPTED_ACCESS, SCRIPTED_REFRESH
        expires_at = int(time.time()) + (-5 if scenario.session == "expired" else 3600)
        workspace.write_tokens(
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_at": expires_at,
                "token_type": "Bearer",
                "email": "alice@example.com",
                "unknown_field": {"kept": True},
            }
        )
        secrets.update(access_token=access, refresh_token=refresh)
    key = emulator.issue_api_key() if emulator is not None else "bmc_scriptedkey0123456789"
    secrets["issued_key"] = key
    lines = ["projects:\n  notes: {path: /srv/notes, mode: cloud}\n", "unknown: [1, 2]\n"]
    if scenario.api_key:
        lines.insert(0, f"cloud_api_key: {key}\n")
        secrets["config_key"] = key
    workspace.write_config("".join(lines))
    return secrets


@contextmanager
def _server_for(scenario: FaultScenario, emulator: CloudEmulator) -> Iterator[str]:
    if scenario.server == "emulator":
        for fault in scenario.faults:
            fault.apply(emulator)
        yield emulator.base_url
    elif scenario.server == "closed":
        yield closed_port_url()
    elif scenario.server == "silent":
        with SilentServer() as silent:
            yield silent.url
    else:
        with ScriptedServer({}) as scripted:
            for path, canned in scenario.scripted.items():
                body = canned.body.replace(b"{base}", scripted.url.encode())
                scripted.answers[path] = replace(canned, body=body)
            yield scripted.url


def judge(
    scenario: FaultScenario,
    workspace: Workspace,
    run: Run,
    before: dict[str, object],
    secrets: dict[str, str],
) -> list[str]:
    """Everything the scenario promises, as a list of what went wrong."""
    problems = run.hygiene_problems()
    if run.code != scenario.expect_code:
        problems.append(f"exit {run.code}, expected {scenario.expect_code}: {run.describe()}")
    missing = [text for text in scenario.expect_text if text not in run.output]
    if missing:
        problems.append(f"missing {missing} in the output: {run.describe()}")
    if run.seconds > scenario.bound:
        problems.append(f"took {run.seconds:.1f}s, more than {scenario.bound:.0f}s")
    if scenario.state_intact and workspace.snapshot() != before:
        problems.append("the stored files changed although the command failed")
    if scenario.check is not None:
        problems.extend(scenario.check(workspace, secrets))
    # Even the commands meant to change the session never touch config.yaml.
    if not scenario.state_intact and workspace.snapshot().get("config.yaml") != before.get(
        "config.yaml"
    ):
        problems.append("config.yaml changed")
    leaked = secret_leaks(run.output, secrets)
    if leaked:
        problems.append(f"secrets in the output: {leaked}")
    problems.extend(f"non-loopback traffic: {line}" for line in workspace.blocked_connections())
    return problems


def run_scenario(
    scenario: FaultScenario, root: Path, emulator: CloudEmulator, name: str
) -> ScenarioResult:
    """Seed a workspace, start the scenario's server, run its command, judge the outcome."""
    workspace = Workspace(root, name)
    secrets = _seed(scenario, workspace, emulator)
    try:
        with _server_for(scenario, emulator) as url:
            workspace.point_at(url)
            before = workspace.snapshot()
            run = workspace.bm(
                *scenario.argv, input=_stdin(scenario, secrets), timeout=scenario.bound + 30
            )
    finally:
        if scenario.server == "emulator":
            emulator.clear_faults()
    return ScenarioResult(scenario, run, judge(scenario, workspace, run, before, secrets))


def run_concurrently(
    chosen: list[FaultScenario], root: Path, emulator: CloudEmulator
) -> list[ScenarioResult]:
    """Scenarios that wait out a timeout, all at once (each in a thread, timed on its own).

    Their emulator faults are all set before any command starts, and each fault names its
    own path, so they do not take each other's.
    """
    with ExitStack() as stack:
        prepared = []
        for index, scenario in enumerate(chosen):
            workspace = Workspace(root, f"concurrent-{index}")
            secrets = _seed(scenario, workspace, emulator)
            workspace.point_at(stack.enter_context(_server_for(scenario, emulator)))
            prepared.append((scenario, workspace, secrets, workspace.snapshot()))
        with ThreadPoolExecutor(max_workers=len(prepared) or 1) as pool:
            runs = list(
                pool.map(
                    lambda item: item[1].bm(*item[0].argv, timeout=item[0].bound + 30), prepared
                )
            )
    emulator.clear_faults()
    return [
        ScenarioResult(scenario, run, judge(scenario, workspace, run, before, secrets))
        for (scenario, workspace, secrets, before), run in zip(prepared, runs, strict=True)
    ]


def run_all(root: Path, emulator: CloudEmulator) -> list[ScenarioResult]:
    """Every scenario: the waiting ones in the background (with an emulator of their own, so
    no fault is taken by the wrong request) while the others run in turn."""
    every = scenarios()
    with (
        CloudEmulator(emulator_settings()) as own,
        ThreadPoolExecutor(max_workers=1) as background,
    ):
        waiting = background.submit(run_concurrently, [s for s in every if s.concurrent], root, own)
        results = [
            run_scenario(scenario, root, emulator, f"scenario-{index}")
            for index, scenario in enumerate(every)
            if not scenario.concurrent
        ]
        return results + waiting.result()


@dataclass
class FaultFigures:
    results: list[ScenarioResult]

    @property
    def unexpected(self) -> list[ScenarioResult]:
        return [r for r in self.results if r.problems and not r.scenario.known_defect]

    @property
    def known(self) -> list[ScenarioResult]:
        return [r for r in self.results if r.problems and r.scenario.known_defect]

    @property
    def line(self) -> str:
        passed = len(self.results) - len(self.unexpected) - len(self.known)
        slowest = max((r.run.seconds for r in self.results if r.run), default=0.0)
        text = (
            f"network faults: {len(self.results)} scenarios (refused, 5xx, dropped, hung, "
            f"silent socket, malformed, missing fields) through bm, {passed} as documented "
            f"with files byte-identical, slowest {slowest:.1f}s (read timeout {READ_TIMEOUT:g}s)"
        )
        if self.known:
            text += f"; {len(self.known)} KNOWN DEFECT(S): " + "; ".join(
                r.scenario.name for r in self.known
            )
        if self.unexpected:
            text += f"; {len(self.unexpected)} FAILED: " + "; ".join(
                f"{r.scenario.name}: {r.problems[0]}" for r in self.unexpected
            )
        return text


def _stdin(scenario: FaultScenario, secrets: dict[str, str]) -> str:
    return scenario.stdin.replace("@issued-key", secrets["issued_key"])
