"""Start-up benchmark of the installed `bm`: wall time and peak memory, as ratios to the floor.

Run with the project's interpreter: `.venv/bin/python bench/startup.py [--runs 15]`.
Each command runs a couple of times to warm the page cache, then `--runs` times; the figures
are the median and the 10th-90th percentile spread, all measured in one run so that a noisy
machine shifts the floor and the commands alike.

Each command is also set against the libraries it cannot start without (the "libs" column):
the difference is the part of the start-up this project's own code decides. With
`--instructions` (needs valgrind), every case also runs once under callgrind and the table
shows instructions executed, which do not vary with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

BIN = Path(sys.executable).parent
KEY = "bmc_benchbenchbench1234"
# The issue's targets were set where cyclopts took ~60 ms and these six ~130 ms together.
SIX_LIBRARIES = (
    "import cyclopts, dependency_injector.containers, httpx, returns.result, yaml;"
    "from pydantic import BaseModel"
)
REFERENCE_SIX_LIBRARIES_MS = 130.0
# What an offline command cannot avoid: the CLI framework, the container, results, the
# config parser and the pydantic value types (httpx is imported only by online commands).
OFFLINE_LIBRARIES = (
    "import cyclopts, dependency_injector.containers, returns.result, yaml;"
    "from pydantic import BaseModel, SecretStr"
)


@dataclass
class Figure:
    name: str
    wall_ms: list[float]
    peak_mb: list[float]
    target_ms: float | None = None
    target_mb: float | None = None
    libraries: str | None = None  # the name of the reference figure this command needs
    instructions: float | None = None  # millions, under callgrind

    @property
    def median(self) -> float:
        return statistics.median(self.wall_ms)

    def spread(self) -> str:
        ordered = sorted(self.wall_ms)
        low = ordered[max(0, len(ordered) // 10)]
        high = ordered[min(len(ordered) - 1, len(ordered) * 9 // 10)]
        return f"{low:.0f}-{high:.0f}"


def measure(argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, float, int]:
    """Wall milliseconds, peak RSS in MB (this process alone, via wait4) and the exit code."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None
    process.stdin.write(stdin.encode())
    process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = (time.perf_counter() - started) * 1000
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, process.returncode


def count_instructions(argv: list[str], env: dict[str, str], stdin: str = "") -> float:
    """Millions of instructions the command executes, counted by callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env,
        input=stdin.encode(),
        capture_output=True,
        check=False,
    )
    for line in done.stderr.decode(errors="replace").splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip().replace(",", "")) / 1e6
    raise SystemExit(f"callgrind printed no count for {argv}")


def run_case(
    name: str,
    argv: list[str],
    env: dict[str, str],
    runs: int,
    stdin: str = "",
    target_ms: float | None = None,
    target_mb: float | None = None,
    expect: int | None = 0,
    libraries: str | None = None,
    instructions: bool = False,
) -> Figure:
    figure = Figure(name, [], [], target_ms, target_mb, libraries)
    for attempt in range(runs + 2):
        wall, peak, code = measure(argv, env, stdin)
        if expect is not None and code != expect:
            raise SystemExit(f"{name}: exit code {code}, expected {expect}")
        if attempt >= 2:
            figure.wall_ms.append(wall)
            figure.peak_mb.append(peak)
    if instructions:
        figure.instructions = count_instructions(argv, env, stdin)
    return figure


def write_logged_in(folder: Path) -> None:
    """A data folder with a valid session (offline: its tokens are never sent), a saved key
    and two projects."""
    folder.mkdir(mode=0o700)
    tokens = {
        "access_token": "opaque-bench-token",
        "refresh_token": "opaque-bench-refresh",
        "expires_at": int(time.time()) + 86400,
        "token_type": "Bearer",
        "email": "bench@example.com",
    }
    (folder / ".cloud_tokens.json").write_text(json.dumps(tokens))
    (folder / ".cloud_tokens.json").chmod(0o600)
    (folder / "config.yaml").write_text(
        f"cloud_api_key: {KEY}\nprojects:\n  notes: {{path: /tmp/n, mode: local}}\n"
        "  research: {path: /tmp/r, mode: cloud}\n"
    )
    (folder / "config.yaml").chmod(0o600)


def write_session(folder: Path, issued: dict[str, object]) -> None:
    """An OAuth session file, as `bm cloud login` would leave it."""
    folder.mkdir(mode=0o700)
    tokens = {
        "access_token": issued["access_token"],
        "refresh_token": issued["refresh_token"],
        "expires_at": int(time.time()) + int(str(issued["expires_in"])),
        "token_type": "Bearer",
        "email": "alice@example.com",
    }
    path = folder / ".cloud_tokens.json"
    path.write_text(json.dumps(tokens))
    path.chmod(0o600)


def login_figures(env: dict[str, str]) -> dict[str, float]:
    """One real login against the emulator: polls made vs the minimum, approval-to-exit delay."""
    from emulator import CloudEmulator, EmulatorSettings

    with CloudEmulator(EmulatorSettings(interval=1.0)) as emulator:
        login_env = dict(
            env,
            BASIC_MEMORY_CLOUD_HOST=emulator.base_url,
            BASIC_MEMORY_CLOUD_DOMAIN=emulator.base_url,
        )
        started = time.monotonic()
        process = subprocess.Popen(
            [str(BIN / "bm"), "cloud", "login", "--no-browser", "--force"],
            env=login_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        approved_at: list[float] = []

        def approve() -> None:
            while not emulator.device_codes():
                time.sleep(0.005)
            time.sleep(2.3)  # between two polls, as a person would be
            emulator.approve(emulator.device_codes()[-1].user_code)
            approved_at.append(time.monotonic())

        approver = threading.Thread(target=approve, daemon=True)
        approver.start()
        process.wait(timeout=60)
        finished = time.monotonic()
        approver.join()
        polls = [e for e in emulator.request_log() if e.path == "/oauth2/token"]
        issued = next(e for e in emulator.request_log() if e.path == "/oauth2/device_authorization")
        visible_at = next(e.monotonic for e in polls if e.monotonic >= approved_at[0])
        minimum = int((approved_at[0] - issued.monotonic) // 1.0) + 1
        return {
            "polls": len(polls),
            "minimum_polls": minimum,
            "polls_before_interval": sum(1 for e in polls if e.monotonic - issued.monotonic < 0.95),
            "approval_to_exit_ms": (finished - approved_at[0]) * 1000,
            "visible_to_exit_ms": (finished - visible_at) * 1000,
            "exit_code": float(process.returncode),
            "started_to_exit_s": finished - started,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--offline-only",
        action="store_true",
        help="skip the emulator cases (to compare with an older install that lacks them)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each case's instructions under valgrind's callgrind (load-independent)",
    )
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian package valgrind).")
    counted = args.instructions

    with tempfile.TemporaryDirectory() as folder:
        base = {k: v for k, v in os.environ.items() if not k.startswith("BASIC_MEMORY_")}
        logged_out = dict(base, BASIC_MEMORY_CONFIG_DIR=f"{folder}/out", HOME=folder)
        logged_in = dict(base, BASIC_MEMORY_CONFIG_DIR=f"{folder}/in", HOME=folder)
        write_logged_in(Path(folder, "in"))
        bm = str(BIN / "bm")
        runs = args.runs
        cyclopts_only = "reference: import cyclopts"
        offline_libraries = "reference: libraries of an offline command"
        six_libraries = "reference: import the six runtime libraries"
        # Every case runs `runs` times (and once under callgrind with --instructions).
        case = partial(run_case, runs=runs, instructions=counted)
        offline = partial(case, target_ms=180, target_mb=45, libraries=offline_libraries)
        figures = [
            case("python -c pass (floor)", [sys.executable, "-c", "pass"], base),
            case(cyclopts_only, [sys.executable, "-c", "import cyclopts"], base),
            case(offline_libraries, [sys.executable, "-c", OFFLINE_LIBRARIES], base),
            case(six_libraries, [sys.executable, "-c", SIX_LIBRARIES], base),
            case("bm --version", [bm, "--version"], logged_out, target_ms=100),
            case("bm --help", [bm, "--help"], logged_out, target_ms=100, libraries=cyclopts_only),
            offline(
                "bm cloud status --offline (logged out)",
                [bm, "cloud", "status", "--offline"],
                logged_out,
                expect=1,
            ),
            offline(
                "bm cloud status --offline (logged in)",
                [bm, "cloud", "status", "--offline"],
                logged_in,
            ),
            offline(
                "bm cloud api-key save (stdin)",
                [bm, "cloud", "api-key", "save"],
                logged_out,
                stdin=KEY + "\n",
            ),
            offline("bm project list", [bm, "project", "list"], logged_in),
        ]
        online_case = partial(case, target_ms=250, libraries=six_libraries)
        login: dict[str, float] | None = None
        if not args.offline_only:
            from emulator import CloudEmulator, EmulatorSettings

            with CloudEmulator(EmulatorSettings()) as emulator:
                api_key = emulator.issue_api_key("alice@example.com", name="bench")
                online = dict(
                    logged_out,
                    BASIC_MEMORY_CLOUD_HOST=emulator.base_url,
                    BASIC_MEMORY_CLOUD_DOMAIN=emulator.base_url,
                    BASIC_MEMORY_CLOUD_API_KEY=str(api_key),
                )
                figures.append(
                    online_case("bm cloud status (emulator)", [bm, "cloud", "status"], online)
                )
            # Tokens that live less than the expiry leeway: every status refreshes the session
            # with the sign-in service, then asks the cloud (two services, one HTTP client).
            with CloudEmulator(EmulatorSettings(token_ttl=30.0)) as emulator:
                refreshing = dict(
                    base,
                    BASIC_MEMORY_CONFIG_DIR=f"{folder}/refresh",
                    HOME=folder,
                    BASIC_MEMORY_CLOUD_HOST=emulator.base_url,
                    BASIC_MEMORY_CLOUD_DOMAIN=emulator.base_url,
                )
                write_session(Path(folder, "refresh"), emulator.issue_session("alice@example.com"))
                before = emulator.refresh_count()
                figures.append(
                    online_case(
                        "bm cloud status (emulator, refreshing)",
                        [bm, "cloud", "status"],
                        refreshing,
                    )
                )
                if emulator.refresh_count() - before < runs:
                    raise SystemExit("the refreshing status case did not refresh every time")
            login = login_figures(logged_out)

    floor = figures[0].median
    by_name = {figure.name: figure for figure in figures}
    if args.json:
        print(
            json.dumps(
                {
                    f.name: {
                        "median_ms": f.median,
                        "peak_mb": max(f.peak_mb),
                        "above_libraries_ms": (
                            f.median - by_name[f.libraries].median if f.libraries else None
                        ),
                        "instructions_m": f.instructions,
                    }
                    for f in figures
                }
                | {"login": login},
                indent=2,
            )
        )
        return
    print(
        f"{'command':<44} {'median':>8} {'p10-p90':>10} {'x floor':>8} {'peak MB':>8} "
        f"{'libs':>7}{'  instr (x libs)' if counted else ''}  target"
    )
    for figure in figures:
        libraries = by_name[figure.libraries] if figure.libraries else None
        above = f"+{figure.median - libraries.median:.0f}ms" if libraries else ""
        instr = ""
        if figure.instructions is not None:
            ratio = (
                f" ({figure.instructions / libraries.instructions:.2f}x)"
                if libraries is not None and libraries.instructions
                else ""
            )
            instr = f"  {figure.instructions:>6.0f}M{ratio:<8}"
        verdict = []
        if figure.target_ms is not None:
            verdict.append(
                f"{'ok' if figure.median <= figure.target_ms else 'OVER'} <= {figure.target_ms:.0f} ms"
            )
        if figure.target_mb is not None:
            verdict.append(
                f"{'ok' if max(figure.peak_mb) <= figure.target_mb else 'OVER'} <= {figure.target_mb:.0f} MB"
            )
        print(
            f"{figure.name:<44} {figure.median:>6.0f}ms {figure.spread():>10} "
            f"{figure.median / floor:>7.1f}x {max(figure.peak_mb):>8.1f} {above:>7}{instr}"
            f"  {', '.join(verdict)}"
        )
    print(
        "libs: the median above the reference line of the libraries that command cannot start "
        "without (cyclopts for --help; the offline set; the six with httpx for the emulator)."
    )
    six = by_name[six_libraries].median
    scale = six / REFERENCE_SIX_LIBRARIES_MS
    print(
        f"this machine imports the six runtime libraries in {six:.0f} ms, {scale:.2f}x the "
        f"{REFERENCE_SIX_LIBRARIES_MS:.0f} ms the targets assumed; scaled targets: "
        + ", ".join(f"{t:.0f} ms -> {t * scale:.0f} ms" for t in (100, 180, 250))
    )
    if login is None:
        return
    print(
        f"login: {login['polls']:.0f} polls (minimum {login['minimum_polls']:.0f}, "
        f"{login['polls_before_interval']:.0f} before the first interval); "
        f"approval-to-exit {login['approval_to_exit_ms']:.0f} ms, "
        f"approval-visible-to-exit {login['visible_to_exit_ms']:.0f} ms; exit code {login['exit_code']:.0f}"
    )


if __name__ == "__main__":
    main()
