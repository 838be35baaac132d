"""Every reliability property as one function returning its figure line: the report runs them all.

The tests under tests/reliability call the same probe functions (from crash, races, faults,
hostile, leaks and transport) with the same sizes, and assert on the figures.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from emulator import CloudEmulator, EmulatorSettings
from tests.reliability import (
    async_auth,
    crash,
    faults,
    hostile,
    leaks,
    races,
    shared_auth,
    transport,
    trust,
)
from tests.reliability.deadlines import deadlines

# The sizes the tests use too (each test module names its own constant from these).
KILLS_PER_FILE = 120  # 240 kills in all
RACERS = 16
GENERATED_EXAMPLES = 15
KEY_EXAMPLES = 60
ENVIRONMENT_EXAMPLES = 25
HOST_EXAMPLES = 30


@dataclass(frozen=True)
class Outcome:
    """One property's line for the report; `ok` is False only for an unexpected failure
    (a known defect, reported in the line, does not count as one)."""

    line: str
    ok: bool
    known_defects: int = 0


@contextmanager
def _emulator(**settings: object) -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=1.0, token_ttl=600.0, **settings)) as running:  # type: ignore[arg-type]
        yield running


def crash_tokens(root: Path) -> Outcome:
    figures = crash.kill_loop("tokens", root, KILLS_PER_FILE)
    return Outcome(figures.line, not figures.problems)


def crash_config(root: Path) -> Outcome:
    figures = crash.kill_loop("config", root, KILLS_PER_FILE)
    return Outcome(figures.line, not figures.problems)


def refresh_race(root: Path) -> Outcome:
    with _emulator() as emulator:
        figures = races.refresh_race(root, emulator, RACERS)
    return Outcome(figures.line, not figures.problems)


def keychain_refresh_race(root: Path) -> Outcome:
    """The refresh race with the session in a real keychain (Debian's gnome-keyring-daemon)."""
    from tests.keychain_daemon import NoKeychainDaemon, running_keychain

    folder = root / "keychain-daemon"
    folder.mkdir()
    try:
        with running_keychain(folder) as daemon, _emulator() as emulator:
            figures = races.refresh_race(root, emulator, RACERS, keychain_env=daemon.env)
    except NoKeychainDaemon as problem:
        return Outcome(f"refresh race, keychain store: NOT RUN ({problem})", False)
    return Outcome(figures.line, not figures.problems)


def config_race(root: Path) -> Outcome:
    figures = races.config_race(root, RACERS)
    return Outcome(figures.line, not figures.problems)


def dead_lock_holder(root: Path) -> Outcome:
    figures = races.dead_lock_holder(root)
    return Outcome(figures.line, not figures.problems)


def live_lock_holder(root: Path) -> Outcome:
    figures = races.live_lock_holder(root)
    return Outcome(figures.line, not figures.problems)


def network_faults(root: Path) -> Outcome:
    with CloudEmulator(faults.emulator_settings()) as emulator:
        figures = faults.FaultFigures(faults.run_all(root, emulator))
    return Outcome(figures.line, not figures.unexpected, len(figures.known))


def generated_files(root: Path) -> Outcome:
    figures = hostile.damaged_files_probe(root, GENERATED_EXAMPLES)
    what = "hypothesis: truncated, overwritten, inserted, binary, wrong types"
    return Outcome(figures.line(what), not figures.problems)


def hand_picked_files(root: Path) -> Outcome:
    figures = hostile.hand_picked_probe(root)
    what = "empty, huge, sparse, nested, FIFO, symlinks, directories, YAML bombs and tags"
    return Outcome(figures.line(what), not figures.problems, len(figures.known_defects))


def hostile_keys(root: Path) -> Outcome:
    figures = hostile.hostile_keys_probe(root, KEY_EXAMPLES)
    what = "control characters, look-alikes, NUL, ANSI escapes, long, multi-line"
    return Outcome(figures.line(what), not figures.problems)


def hostile_environment(root: Path) -> Outcome:
    figures = hostile.hostile_environment_probe(root, ENVIRONMENT_EXAMPLES)
    what = "routing booleans, hosts, keys, client id, data folder, proxies, CA files"
    return Outcome(figures.line(what), not figures.problems)


def installed_hostile_input(root: Path) -> Outcome:
    figures = hostile.installed_probe(root)
    what = "stdin with NUL, invalid UTF-8, ANSI, 1 MB; escaped, huge and insecure variables"
    return Outcome(figures.line(what), not figures.problems)


def secrets_in_output(root: Path) -> Outcome:
    with CloudEmulator(faults.emulator_settings()) as emulator:
        figures = leaks.sweep(root, emulator)
    return Outcome(figures.line, not (figures.found or figures.problems))


def device_code(root: Path) -> Outcome:
    figures = leaks.device_code_probe(root)
    found = len(figures.found)
    line = (
        f"device code: kept from the terminal and the browser (which got exactly "
        f"{figures.browser_calls[0] if figures.browser_calls else 'nothing'}), "
        f"secrets found = {found}"
    )
    problems = figures.found + figures.problems
    return Outcome(line + (f" - PROBLEMS: {problems[:2]}" if problems else ""), not problems)


def server_echoes(root: Path) -> Outcome:
    figures = leaks.echo_probe(root)
    problems = figures.found + figures.problems
    line = (
        f"servers quoting our tokens back (error codes, descriptions, subscribe URL): "
        f"{figures.commands} command runs, secrets found = {len(figures.found)}"
    )
    return Outcome(line + (f" - PROBLEMS: {problems[:2]}" if problems else ""), not problems)


def reprs(root: Path) -> Outcome:
    checked, found = leaks.repr_probe()
    line = (
        f"reprs, str(), model dumps and exception texts of domain objects holding secrets: "
        f"{checked} texts, secrets found = {len(found)}"
    )
    return Outcome(line + (f" - PROBLEMS: {found[:2]}" if found else ""), not found)


def insecure_hosts(root: Path) -> Outcome:
    figures = transport.insecure_hosts_probe(root, HOST_EXAMPLES)
    seconds, problems = transport.installed_refusal(root)
    line = figures.line + (
        f"; the installed bm refused {transport.TEST_NET_HOST} in {seconds:.1f}s (two commands)"
    )
    if problems:
        line += f" - PROBLEMS: {problems[:2]}"
    return Outcome(line, not (figures.problems or figures.attempts or problems))


def tls_verification(root: Path) -> Outcome:
    scan = transport.tls_source_scan()
    clients = transport.client_constructions()
    checks = transport.client_verifies_tls()
    problems = scan + clients + checks
    line = (
        f"TLS verification: places in the product that turn it off = {len(scan)}, httpx "
        f"clients made outside http_transport = {len(clients)}, the adapters' client requires "
        f"certificates and checks host names = {'yes' if not checks else 'NO'}"
    )
    return Outcome(line + (f" - PROBLEMS: {problems[:2]}" if problems else ""), not problems)


def shared_auth_threads(root: Path) -> Outcome:
    with _emulator() as emulator:
        figures = shared_auth.threads_share_one_auth(root, emulator)
    return Outcome(figures.line, figures.ok)


def redirected_401(root: Path) -> Outcome:
    with _emulator() as emulator:
        figures = shared_auth.redirect_to_another_origin(root, emulator)
    return Outcome(figures.line, figures.ok)


def untrusted_folder(root: Path) -> Outcome:
    figures = trust.untrusted_folder_probe(root)
    return Outcome(figures.line, not figures.problems)


def async_auth_tasks(root: Path) -> Outcome:
    with _emulator() as emulator:
        figures = async_auth.concurrent_tasks(root, emulator)
    return Outcome(figures.line, figures.ok)


def async_auth_lock_holder(root: Path) -> Outcome:
    with _emulator() as emulator:
        figures = async_auth.concurrent_tasks(root, emulator, hold_lock=2.0)
    return Outcome(figures.line, figures.ok)


PROPERTIES: tuple[tuple[str, Callable[[Path], Outcome]], ...] = (
    ("crash-tokens", crash_tokens),
    ("crash-config", crash_config),
    ("refresh-race", refresh_race),
    ("keychain-refresh-race", keychain_refresh_race),
    ("config-race", config_race),
    ("dead-lock-holder", dead_lock_holder),
    ("live-lock-holder", live_lock_holder),
    ("network-faults", network_faults),
    ("generated-files", generated_files),
    ("hand-picked-files", hand_picked_files),
    ("hostile-keys", hostile_keys),
    ("hostile-environment", hostile_environment),
    ("installed-hostile-input", installed_hostile_input),
    ("secrets-in-output", secrets_in_output),
    ("device-code", device_code),
    ("server-echoes", server_echoes),
    ("reprs", reprs),
    ("insecure-hosts", insecure_hosts),
    ("tls-verification", tls_verification),
    ("shared-auth-threads", shared_auth_threads),
    ("redirected-401", redirected_401),
    ("async-auth-tasks", async_auth_tasks),
    ("async-auth-lock-holder", async_auth_lock_holder),
    ("untrusted-folder", untrusted_folder),
    ("deadlines", deadlines),
)


def run(names: list[str] | None = None) -> Iterator[tuple[str, Outcome, float]]:
    """Run the chosen properties (all by default), each in a fresh temporary folder.

    A probe that raises is reported as a failed property, with the exception's type.
    """
    for name, probe in PROPERTIES:
        if names and name not in names:
            continue
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"bm-reliability-{name}-") as folder:
            try:
                outcome = probe(Path(folder))
            except Exception as error:
                outcome = Outcome(
                    f"{name}: the probe itself failed ({type(error).__name__}: {error})", False
                )
        yield name, outcome, time.monotonic() - began
