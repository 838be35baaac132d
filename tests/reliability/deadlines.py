"""Whole-request deadlines through the installed bm: a server that trickles cannot hold a command.

The emulator's trickle fault sends the headers at once and then one body byte every 2 s, so
httpx's per-read timeouts never fire; only the deadline ends the wait.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.http_transport import REQUEST_DEADLINE_SECONDS
from emulator import CloudEmulator, EmulatorSettings
from tests.reliability.harness import EXIT_CLOUD_UNAVAILABLE, Run, Workspace

if TYPE_CHECKING:
    from tests.reliability.probes import Outcome

TRICKLE_EVERY = 2.0
# The requirement: `bm cloud status` against the trickle ends within this long.
STATUS_BOUND = 35.0
LOGIN_CODE_TTL = 6.0
# A login ends at its deadline; this much later still counts as "at" it on a busy machine.
LOGIN_SLACK = 3.0
DEADLINE_TEXT = f"no complete answer within {REQUEST_DEADLINE_SECONDS:g} s"


@dataclass(frozen=True)
class StatusFigures:
    run: Run
    problems: list[str]


@dataclass(frozen=True)
class LoginFigures:
    run: Run
    # Seconds from the device flow's deadline to the command's end (negative: before it).
    after_deadline: float
    problems: list[str]


def status_against_trickle(root: Path) -> StatusFigures:
    """`bm cloud status` with a valid session, while /proxy/health trickles."""
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0)) as emulator:
        workspace = Workspace(root, "status")
        issued = emulator.issue_session()
        workspace.write_tokens(
            {
                "access_token": issued["access_token"],
                "refresh_token": issued["refresh_token"],
                "expires_at": int(time.time()) + 3600,
                "token_type": "Bearer",
            }
        )
        workspace.point_at(emulator.base_url)
        emulator.trickle_next("/proxy/health", TRICKLE_EVERY, count=5)
        run = workspace.bm("cloud", "status", timeout=STATUS_BOUND + 60)
        trickled = [entry.fault for entry in emulator.request_log()] == ["trickle"]
    problems = run.hygiene_problems()
    if run.code != EXIT_CLOUD_UNAVAILABLE:
        problems.append(f"exit {run.code}, not {EXIT_CLOUD_UNAVAILABLE}: {run.describe()}")
    if run.seconds > STATUS_BOUND:
        problems.append(f"took {run.seconds:.1f} s (bound {STATUS_BOUND:g} s)")
    reasons = [line for line in run.output.splitlines() if DEADLINE_TEXT in line]
    if len(reasons) != 1:
        problems.append(f"not one line saying {DEADLINE_TEXT!r}: {run.describe()}")
    if len(run.stderr.splitlines()) > 1:
        problems.append(f"more than one line on stderr: {run.stderr!r}")
    if not trickled:
        problems.append("the health check did not meet the trickle")
    return StatusFigures(run, problems)


def login_against_trickle(root: Path) -> LoginFigures:
    """`bm cloud login` whose token endpoint trickles; the code lives LOGIN_CODE_TTL seconds."""
    settings = EmulatorSettings(interval=1.0, code_ttl=LOGIN_CODE_TTL, token_ttl=600.0)
    with CloudEmulator(settings) as emulator:
        workspace = Workspace(root, "login")
        workspace.point_at(emulator.base_url)
        emulator.trickle_next("/oauth2/token", TRICKLE_EVERY, count=100)
        began = time.monotonic()
        run = workspace.bm("cloud", "login", "--no-browser", timeout=LOGIN_CODE_TTL + 60)
        ended = began + run.seconds
        issued = [e for e in emulator.request_log() if e.path == "/oauth2/device_authorization"]
        polls = [e for e in emulator.request_log() if e.path == "/oauth2/token"]
    problems = run.hygiene_problems()
    # The emulator's clock is this process's monotonic clock: the deadline is when the code
    # was issued plus its life (the CLI's own deadline starts a hair later, on the answer).
    after = ended - (issued[0].monotonic + LOGIN_CODE_TTL) if issued else float("nan")
    if not issued or not polls:
        problems.append(f"no device flow ran: {run.describe()}")
    elif not -0.5 <= after <= LOGIN_SLACK:
        problems.append(f"ended {after:+.1f} s from its deadline: {run.describe()}")
    if run.code == 0 or workspace.tokens.exists():
        problems.append(f"a login without an answer succeeded: {run.describe()}")
    if len(run.stderr.strip().splitlines()[-1:]) != 1:
        problems.append("no closing message on stderr")
    return LoginFigures(run, after, problems)


def deadlines(root: Path) -> Outcome:
    """The reliability report's line for whole-request deadlines."""
    from tests.reliability.probes import Outcome

    status = status_against_trickle(root)
    login = login_against_trickle(root)
    problems = status.problems + login.problems
    line = (
        f"whole-request deadline ({REQUEST_DEADLINE_SECONDS:g} s): status against a "
        f"1 byte/{TRICKLE_EVERY:g} s trickle ended in {status.run.seconds:.1f} s, exit "
        f"{status.run.code}; login with a trickling token endpoint ended "
        f"{login.after_deadline:+.1f} s from its {LOGIN_CODE_TTL:g} s deadline, exit "
        f"{login.run.code}"
    )
    if problems:
        line += "; PROBLEMS: " + " | ".join(problems)
    return Outcome(line, not problems)
