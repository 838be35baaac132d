"""A real system keychain for tests: Debian's gnome-keyring-daemon on a D-Bus session bus of
its own, with a fresh login keyring in a temporary folder.

Nothing touches the keychain of the person running the tests: the daemon's HOME, XDG folders
and bus are its own, and a client reaches it only through DBUS_SESSION_BUS_ADDRESS. Where the
daemon or dbus-run-session is missing or will not start, the tests that need it skip loudly.

In a test (tests/conftest.py provides the fixtures):

    def test_in_process(keychain: KeychainDaemon) -> None:
        ...  # os.environ points at the daemon; KeyringVault chooses its keychain afresh

    def test_a_subprocess(keychain_daemon: KeychainDaemon, clean_env: dict[str, str]) -> None:
        subprocess.run([...], env={**clean_env, **keychain_daemon.env})
        assert keychain_daemon.lookup(service, "api-key") == ...  # looked up from outside

A case that breaks its keychain (locks it, freezes it) takes `spare_keychain`, a daemon of
its own, and `use_keychain(spare_keychain)` for in-process calls.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from adapters.keyring_vault import forget_keychain_choice

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection

BUS_VARIABLE = "DBUS_SESSION_BUS_ADDRESS"
SECRETS_BUS_NAME = "org.freedesktop.secrets"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
# Unlocks the test login keyring; it guards nothing but test entries.
KEYRING_PASSWORD = "keychain-tests"
INSTALL_HINT = "install them: apt-get install -y gnome-keyring dbus"
START_SECONDS = 15.0

# Runs inside `dbus-run-session`: start the daemon on that bus with the login keyring created
# (or unlocked) from the password on stdin, say where the bus is, then wait for our stdin to
# close (the test session is over) and stop the daemon, which ends the bus too.
_SESSION_SCRIPT = r"""
printf '%s' "$KEYCHAIN_TEST_PASSWORD" |
  gnome-keyring-daemon --foreground --unlock --components=secrets >"$KEYCHAIN_ROOT/daemon.log" 2>&1 &
daemon=$!
echo "$daemon" >"$KEYCHAIN_ROOT/daemon.pid"
printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS" >"$KEYCHAIN_ROOT/bus.tmp"
mv "$KEYCHAIN_ROOT/bus.tmp" "$KEYCHAIN_ROOT/bus"
read -r _ignored
kill -CONT "$daemon" 2>/dev/null
kill "$daemon" 2>/dev/null
wait "$daemon"
"""


class NoKeychainDaemon(Exception):
    """The daemon cannot run here; says why and what to install."""


@dataclass
class KeychainDaemon:
    root: Path
    address: str
    daemon_pid: int
    _session: subprocess.Popen[bytes]

    @property
    def env(self) -> dict[str, str]:
        """What a client's environment needs to use this keychain (add it to a subprocess's)."""
        return {BUS_VARIABLE: self.address}

    def lock(self) -> None:
        """Lock the login keyring, as a screen lock or `Lock` in Seahorse would. It cannot be
        unlocked without a prompt, which no test can answer: only lock a spare daemon."""
        import secretstorage

        with closing(self.connect()) as connection:
            collection = secretstorage.Collection(connection, DEFAULT_COLLECTION)
            collection.lock()
            if not collection.is_locked():
                raise AssertionError("the test keychain did not lock")

    def lookup(self, service: str, name: str) -> str | None:
        """The secret of entry (service, name) as keyring stores it, looked up from outside
        (os.environ is not used): for checking what a subprocess wrote."""
        import secretstorage

        with closing(self.connect()) as connection:
            collection = secretstorage.Collection(connection, DEFAULT_COLLECTION)
            for item in collection.search_items({"service": service, "username": name}):
                return item.get_secret().decode()
        return None

    def names(self, service: str) -> set[str]:
        """The names (keyring's usernames) of the entries of `service`."""
        import secretstorage

        with closing(self.connect()) as connection:
            collection = secretstorage.Collection(connection, DEFAULT_COLLECTION)
            items = collection.search_items({"service": service})
            return {item.get_attributes()["username"] for item in items}

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """The daemon stopped with SIGSTOP: the bus still answers (the keychain is found) but
        no call to it ever does, like a hung Secret Service."""
        os.kill(self.daemon_pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.daemon_pid, signal.SIGCONT)

    def connect(self) -> DBusConnection:
        """A jeepney connection to this daemon's bus (for looking from outside)."""
        from jeepney.io.blocking import open_dbus_connection

        return open_dbus_connection(self.address)

    def stop(self) -> None:
        if self._session.poll() is None:
            assert self._session.stdin is not None
            self._session.stdin.close()
            try:
                self._session.wait(10)
            except subprocess.TimeoutExpired:
                # Its own process group (start_new_session): the daemon and the bus with it.
                os.killpg(self._session.pid, signal.SIGKILL)
                self._session.wait(10)


def _daemon_env(root: Path) -> dict[str, str]:
    """A session of its own: no display (an unlock prompt cannot appear), no bus of the
    person running the tests, and folders under `root` for everything the daemon keeps."""
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    folders = {
        "HOME": root / "home",
        "XDG_DATA_HOME": root / "data",
        "XDG_CONFIG_HOME": root / "config",
        "XDG_CACHE_HOME": root / "cache",
    }
    for folder in folders.values():
        folder.mkdir(mode=0o700)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "XDG_RUNTIME_DIR": str(runtime),
        "KEYCHAIN_ROOT": str(root),
        "KEYCHAIN_TEST_PASSWORD": KEYRING_PASSWORD,
        **{name: str(path) for name, path in folders.items()},
    }


def start_keychain_daemon(root: Path) -> KeychainDaemon:
    """Start the daemon in `root` (an empty folder) and wait until its login keyring is
    unlocked on the bus; NoKeychainDaemon if it cannot be done here."""
    missing = [
        tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(tool)
    ]
    if missing:
        raise NoKeychainDaemon(f"{' and '.join(missing)} not found; {INSTALL_HINT}")
    try:
        import jeepney  # noqa: F401
        import secretstorage  # noqa: F401
    except ImportError:
        raise NoKeychainDaemon(
            "the Python packages jeepney and secretstorage (keyring's Linux backend) are "
            "missing; install the dev extra: pip install -e '.[dev]'"
        ) from None
    with (root / "session.log").open("wb") as log:
        session = subprocess.Popen(
            ["dbus-run-session", "--", "sh", "-c", _SESSION_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=_daemon_env(root),
            # A process group of its own: if it will not stop, it can be killed whole.
            start_new_session=True,
        )
    daemon = None
    try:
        address, pid = _wait_for_bus(root, session)
        daemon = KeychainDaemon(root, address, pid, session)
        _wait_until_unlocked(daemon)
    except BaseException:
        if daemon is not None:
            daemon.stop()
        elif session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait(10)
        raise
    return daemon


def _logs(root: Path) -> str:
    text = " ".join(
        (root / name).read_text(errors="replace").strip()
        for name in ("session.log", "daemon.log")
        if (root / name).exists()
    )
    return text[-600:] or "(no output)"


def _wait_for_bus(root: Path, session: subprocess.Popen[bytes]) -> tuple[str, int]:
    deadline = time.monotonic() + START_SECONDS
    bus, pid = root / "bus", root / "daemon.pid"
    while not (bus.exists() and pid.exists()):
        if session.poll() is not None:
            raise NoKeychainDaemon(f"dbus-run-session exited ({session.returncode}): {_logs(root)}")
        if time.monotonic() > deadline:
            raise NoKeychainDaemon(f"no session bus after {START_SECONDS:g} s: {_logs(root)}")
        time.sleep(0.02)
    return bus.read_text().strip(), int(pid.read_text())


def _wait_until_unlocked(daemon: KeychainDaemon) -> None:
    """Until the daemon owns the Secret Service name and its default collection (the login
    keyring) is unlocked: only then is what a test sees the keychain's doing, not start-up's."""
    import secretstorage
    from jeepney.bus_messages import message_bus

    deadline = time.monotonic() + START_SECONDS
    last = "not started"
    while time.monotonic() < deadline:
        if daemon._session.poll() is not None:
            break
        try:
            with closing(daemon.connect()) as connection:
                owned = connection.send_and_get_reply(message_bus.NameHasOwner(SECRETS_BUS_NAME))
                if owned.body[0]:
                    collection = secretstorage.Collection(connection, DEFAULT_COLLECTION)
                    if not collection.is_locked():
                        return
                    last = "the login keyring is still locked"
                else:
                    last = f"{SECRETS_BUS_NAME} has no owner yet"
        except Exception as error:  # not up yet: the bus or the collection
            last = type(error).__name__
        time.sleep(0.05)
    raise NoKeychainDaemon(f"gnome-keyring-daemon did not get ready ({last}): {_logs(daemon.root)}")


@contextmanager
def running_keychain(root: Path) -> Iterator[KeychainDaemon]:
    daemon = start_keychain_daemon(root)
    try:
        yield daemon
    finally:
        daemon.stop()


_BARE_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={folder}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@contextmanager
def bus_without_keychain(root: Path) -> Iterator[str]:
    """The address of a real session bus on which no Secret Service runs, and none can be
    started: unlike a desktop session's bus, it knows no services to start on demand."""
    if not shutil.which("dbus-daemon"):
        raise NoKeychainDaemon(f"dbus-daemon not found; {INSTALL_HINT}")
    config = root / "bare-bus.conf"
    config.write_text(_BARE_BUS_CONFIG.format(folder=root))
    bus = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        if not address:
            raise NoKeychainDaemon(f"dbus-daemon exited ({bus.wait(10)}) without a bus")
        yield address
    finally:
        bus.terminate()
        bus.wait(10)


@contextmanager
def wedged_bus(root: Path) -> Iterator[str]:
    """The address of a bus that lets clients in (the SASL handshake) and then never answers,
    as a hung dbus-daemon would: jeepney waits for its Hello reply without a time limit.
    On leaving, the connections close and whatever still waits gets an error."""
    path = root / "wedged-bus"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    listener.settimeout(0.05)  # close() does not wake a blocked accept()
    accepted: list[socket.socket] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            accepted.append(client)
            threading.Thread(target=handshake, args=(client,), daemon=True).start()

    def handshake(client: socket.socket) -> None:
        received = b""
        try:
            while b"BEGIN\r\n" not in received:
                chunk = client.recv(1024)
                if not chunk:
                    return
                received += chunk
                if b"AUTH " in chunk:
                    client.sendall(b"OK " + b"0" * 32 + b"\r\n")
                if b"NEGOTIATE_UNIX_FD" in chunk:
                    client.sendall(b"AGREE_UNIX_FD\r\n")
            while client.recv(4096):
                pass  # every message is read, none answered
        except OSError:
            return

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield f"unix:path={path}"
    finally:
        done.set()
        server.join(5)
        listener.close()
        for client in accepted:
            with suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()


@contextmanager
def use_keychain(env: Mapping[str, str]) -> Iterator[None]:
    """For in-process calls: os.environ takes `env` (a daemon's, or a broken bus's; a None-like
    empty value removes the variable) and KeyringVault chooses its keychain afresh, before and
    after, so that no choice leaks from one case to the next."""
    saved = {name: os.environ.get(name) for name in env}
    forget_keychain_choice()
    try:
        for name, value in env.items():
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        forget_keychain_choice()


def skip_loudly(config: pytest.Config, reason: str) -> None:
    """Skip, and say so where nobody can miss it: a skipped keychain test proves nothing."""
    message = f"keychain tests SKIPPED, nothing was checked against a real keychain: {reason}"
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\nWARNING: {message}", file=sys.stderr, flush=True)
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@pytest.fixture(scope="session")
def keychain_daemon(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[KeychainDaemon]:
    """One daemon for the whole run; its `env` goes into a subprocess's environment. Cases
    share it, so each uses a service name of its own (and must not lock or freeze it)."""
    try:
        daemon = start_keychain_daemon(tmp_path_factory.mktemp("keychain"))
    except NoKeychainDaemon as problem:
        skip_loudly(pytestconfig, str(problem))
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def keychain(keychain_daemon: KeychainDaemon) -> Iterator[KeychainDaemon]:
    """The shared daemon, for in-process calls (see use_keychain)."""
    with use_keychain(keychain_daemon.env):
        yield keychain_daemon


@pytest.fixture
def spare_keychain(tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[KeychainDaemon]:
    """A daemon of the case's own (about half a second to start), free to lock or freeze."""
    root = tmp_path / "spare-keychain"
    root.mkdir()
    try:
        daemon = start_keychain_daemon(root)
    except NoKeychainDaemon as problem:
        skip_loudly(pytestconfig, str(problem))
    try:
        yield daemon
    finally:
        daemon.stop()
