"""Races between real bm processes: one refresh for many, no lost config update, stale and live locks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.yaml_config_store import YamlConfigStore
from emulator import CloudEmulator
from tests.reliability.harness import EXIT_USER_MUST_ACT, REPO, Run, Workspace

# The stores' lock timeout; the CLI offers no way to shorten it, so the live-holder probe
# waits it out once.
DEFAULT_LOCK_TIMEOUT = 10.0
LOCK_TIMEOUT_ADVICE = ("Another bm command has held", "let it finish (or stop it) and retry")

_HOLD_LOCK = """
import sys, time
from pathlib import Path
from returns.pipeline import is_successful
from adapters.atomic_files import with_lock
from returns.result import Success

def hold():
    print("held", flush=True)
    time.sleep(600)
    return Success(None)

if not is_successful(with_lock(Path(sys.argv[1]), 5, hold)):
    print("not held", flush=True)
"""


@dataclass
class RaceFigures:
    name: str
    processes: int = 0
    succeeded: int = 0
    refreshes: int | None = None
    kept: int | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        if self.problems:
            return f"{self.name}: {len(self.problems)} PROBLEMS: " + "; ".join(self.problems[:3])
        detail = [f"{self.processes} processes raced", f"{self.succeeded} succeeded"]
        if self.refreshes is not None:
            detail.append(f"refreshes seen at the server = {self.refreshes}")
        if self.kept is not None:
            detail.append(f"updates kept = {self.kept}, lost = {self.processes - self.kept}")
        return f"{self.name}: " + ", ".join(detail) + f" ({self.seconds:.1f}s)"


def refresh_race(
    root: Path,
    emulator: CloudEmulator,
    processes: int = 16,
    keychain_env: Mapping[str, str] | None = None,
) -> RaceFigures:
    """N `bm cloud status --json` at once on a locally expired session: one refresh in all.

    With `keychain_env` (a keychain daemon's environment) the session is moved into the
    system keychain first and the processes run with `credential_store: keyring`: the token
    file's lock must order them just the same.

    The token file's lock is held while the processes start, and let go (its holder is
    SIGKILLed) only once every one of them is idle, waiting for it with the expired session
    in hand: the tightest race there is. Each must re-read the file under the lock and find
    the session already refreshed; a second refresh would also spend a used refresh token,
    which ends the session at the server.
    """
    store = ", keychain store" if keychain_env is not None else ""
    figures = RaceFigures(f"refresh race (expired session{store})", processes)
    workspace = Workspace(root, "refresh-race")
    workspace.point_at(emulator.base_url)
    issued = emulator.issue_session()
    workspace.write_tokens(
        {
            "access_token": issued["access_token"],
            "refresh_token": issued["refresh_token"],
            "expires_at": int(time.time()) - 5,
            "token_type": "Bearer",
        }
    )
    if keychain_env is not None:
        workspace.env.update(keychain_env)
        moved = workspace.bm("cloud", "credentials", "move", "--to", "keyring")
        if moved.code != 0 or issued["refresh_token"] in workspace.tokens.read_text():
            figures.problems.append(f"the session did not move to the keychain: {moved.describe()}")
            return figures
    before = emulator.refresh_count()
    holder = _hold_lock(workspace.tokens)
    began = time.monotonic()
    started = [workspace.start("cloud", "status", "--json") for _ in range(processes)]
    if not wait_until_idle([process.process.pid for process in started]):
        figures.problems.append("the processes never settled to wait for the lock")
    holder.kill()
    holder.wait(timeout=5)
    runs = [process.finish(timeout=90) for process in started]
    figures.seconds = time.monotonic() - began
    figures.refreshes = emulator.refresh_count() - before
    for run in runs:
        figures.problems.extend(run.hygiene_problems())
        state = _session_state(run)
        if run.code == 0 and state == "valid":
            figures.succeeded += 1
        else:
            figures.problems.append(
                f"session state {state!r}: {run.describe()} stdout={run.stdout[:600]!r}"
            )
    if figures.refreshes != 1:
        figures.problems.append(f"{figures.refreshes} refreshes reached the server, not 1")
    stored = _stored_session(workspace, keychain_env)
    if stored["refresh_token"] == issued["refresh_token"] or stored["expires_at"] <= time.time():
        figures.problems.append("the token store does not hold the refreshed session")
    if keychain_env is not None and stored["refresh_token"] in workspace.tokens.read_text():
        figures.problems.append("the token file holds a secret with the keychain store")
    figures.problems.extend(workspace.blocked_connections())
    return figures


_READ_KEYCHAIN = """
import sys, keyring
print(keyring.get_password(sys.argv[1], "oauth-session") or "{}")
"""


def _stored_session(workspace: Workspace, keychain_env: Mapping[str, str] | None) -> dict[str, Any]:
    """The session as stored: the token file, or the keychain's entry (read by the keyring
    library in a process of its own, not by our adapter)."""
    if keychain_env is None:
        document: dict[str, Any] = json.loads(workspace.tokens.read_text())
        return document
    done = subprocess.run(
        [sys.executable, "-c", _READ_KEYCHAIN, f"basic-memory-cloud:{workspace.data}"],
        env=workspace.merged_env(None),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    entry: dict[str, Any] = json.loads(done.stdout or "{}")
    entry.setdefault("refresh_token", None)
    entry.setdefault("expires_at", 0)
    return entry


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_until_idle(pids: list[int], quiet: float = 0.4, limit: float = 45.0) -> bool:
    """Wait until the processes use no CPU for `quiet` seconds (all blocked, say on a lock).

    Without /proc this just waits a generous start-up time.
    """
    if not Path(f"/proc/{pids[0]}/stat").exists():
        time.sleep(8)
        return True
    deadline = time.monotonic() + limit
    last: list[int | None] = []
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        ticks = [_cpu_ticks(pid) for pid in pids]
        now = time.monotonic()
        # A waiter polls the lock every 50 ms, which may cost a tick now and then.
        settled = (
            bool(last)
            and None not in ticks
            and None not in last
            and sum(
                tick - previous
                for tick, previous in zip(ticks, last, strict=True)  # type: ignore[operator]
            )
            <= 1
        )
        if settled:
            quiet_since = quiet_since or now
            if now - quiet_since >= quiet:
                return True
        else:
            quiet_since = None
        last = ticks
        time.sleep(0.1)
    return False


def _session_state(run: Run) -> str | None:
    try:
        session = json.loads(run.stdout).get("session")
    except ValueError:
        return None
    return session.get("state") if isinstance(session, dict) else None


def config_race(root: Path, processes: int = 16) -> RaceFigures:
    """N `bm project add` at once, all released together: every project is in the file."""
    figures = RaceFigures("config race (bm project add)", processes)
    workspace = Workspace(root, "config-race")
    workspace.write_config("keep_me: {untouched: true}\n")
    folder = workspace.root / "projects"
    folder.mkdir()
    names = [f"p{index}" for index in range(processes)]
    # As for the refresh race: every process is waiting on the lock before anyone writes.
    holder = _hold_lock(workspace.config)
    began = time.monotonic()
    started = [workspace.start("project", "add", name, str(folder / name)) for name in names]
    if not wait_until_idle([process.process.pid for process in started]):
        figures.problems.append("the processes never settled to wait for the lock")
    holder.kill()
    holder.wait(timeout=5)
    runs = [process.finish(timeout=90) for process in started]
    figures.seconds = time.monotonic() - began
    for run in runs:
        figures.problems.extend(run.hygiene_problems())
        if run.code == 0:
            figures.succeeded += 1
        else:
            figures.problems.append(run.describe())
    config = YamlConfigStore(workspace.config).load().unwrap()
    figures.kept = len(set(config.projects) & set(names))
    if figures.kept != processes:
        missing = sorted(set(names) - set(config.projects))
        figures.problems.append(f"lost updates: {missing}")
    if config.extra != {"keep_me": {"untouched": True}}:
        figures.problems.append(f"unknown keys changed: {config.extra}")
    return figures


def _hold_lock(data_file: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(data_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    line = holder.stdout.readline().strip()
    if line != "held":
        holder.kill()
        holder.wait()
        raise RuntimeError(f"the lock holder could not take the lock ({line!r})")
    return holder


@dataclass
class LockFigures:
    name: str
    seconds: float = 0.0
    code: int | None = None
    problems: list[str] = field(default_factory=list)

    outcome: str = ""

    @property
    def line(self) -> str:
        if self.problems:
            return f"{self.name}: {len(self.problems)} PROBLEMS: " + "; ".join(self.problems[:3])
        return f"{self.name}: {self.outcome} (exit {self.code} after {self.seconds:.1f}s)"


def dead_lock_holder(root: Path) -> LockFigures:
    """A holder SIGKILLed with the lock held blocks nobody: the next command runs at once."""
    figures = LockFigures(
        "lock held by a SIGKILLed process", outcome="the next command ran at once"
    )
    workspace = Workspace(root, "dead-holder")
    workspace.write_config("projects: {}\n")
    holder = _hold_lock(workspace.config)
    holder.kill()
    holder.wait(timeout=5)
    run = workspace.bm("project", "add", "after-crash", str(workspace.root))
    figures.seconds, figures.code = run.seconds, run.code
    figures.problems.extend(run.hygiene_problems())
    if run.code != 0:
        figures.problems.append(run.describe())
    if run.seconds >= DEFAULT_LOCK_TIMEOUT / 2:
        figures.problems.append(f"took {run.seconds:.1f}s: it waited on the dead holder's lock")
    if "after-crash" not in YamlConfigStore(workspace.config).load().unwrap().projects:
        figures.problems.append("the project was not added")
    return figures


def live_lock_holder(root: Path) -> LockFigures:
    """A live holder that never lets go: the command gives up after the lock timeout with the
    LockTimeout advice, exit 1, and the file untouched."""
    figures = LockFigures(
        "lock held by a live, hung process",
        outcome=f"the command said it was waiting, gave up after the {DEFAULT_LOCK_TIMEOUT:g}s "
        "lock timeout with the LockTimeout advice, file untouched",
    )
    workspace = Workspace(root, "live-holder")
    workspace.write_config("projects: {}\n")
    before = workspace.snapshot()
    holder = _hold_lock(workspace.config)
    try:
        run = workspace.bm("project", "add", "blocked", str(workspace.root), timeout=60)
    finally:
        holder.kill()
        holder.wait(timeout=5)
    figures.seconds, figures.code = run.seconds, run.code
    figures.problems.extend(run.hygiene_problems())
    if run.code != EXIT_USER_MUST_ACT:
        figures.problems.append(f"exit {run.code}, not 1: {run.describe()}")
    if not all(fragment in run.stderr for fragment in LOCK_TIMEOUT_ADVICE):
        figures.problems.append(f"no LockTimeout advice: {run.describe()}")
    if f"{workspace.config}.lock" not in run.stderr:
        figures.problems.append("the message does not name the lock file")
    if f"for another bm command to release {workspace.config}.lock" not in run.stderr:
        figures.problems.append(f"no notice of the wait while it lasted: {run.describe()}")
    # Never before the timeout, and not much after it (start-up and one lock poll).
    if not DEFAULT_LOCK_TIMEOUT <= run.seconds < DEFAULT_LOCK_TIMEOUT + 8:
        figures.problems.append(f"gave up after {run.seconds:.1f}s")
    if workspace.snapshot() != before:
        figures.problems.append("config.yaml changed although the command failed")
    return figures
