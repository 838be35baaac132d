"""SecretVault on the system keychain, through the `keyring` library (an optional extra).

keyring is imported by the first call, never with this module, so people who keep their
secrets in files start `bm` exactly as before. Every call runs in a daemon thread and is
abandoned when the keychain has not answered within `timeout` seconds (a process's first call
has `choice_timeout` more to choose the keychain): a keychain can block without end (a frozen
Secret Service, an unlock prompt nobody answers), and a command must fail closed rather than
hang. Each way it fails becomes a KeychainUnavailable naming at most the exception's class:
keyring's messages may quote service names, user names or whatever the backend sent back.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import SecretStr
from returns.result import Failure, Result, Success

from domain.errors import KeychainUnavailable

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

T = TypeVar("T")

KEYCHAIN_TIMEOUT_SECONDS = 3.0
CHOICE_TIMEOUT_SECONDS = 10.0

_OR_FILES = "or keep secrets in files with `bm cloud credentials move --to file`"
NOT_INSTALLED = KeychainUnavailable(
    "the keyring library is not installed",
    "install it with `pip install 'basic-memory-cloud-auth[keyring]'` "
    "(or `pipx inject basic-memory-cloud-auth keyring`), " + _OR_FILES,
)
LOCKED = KeychainUnavailable("the keychain is locked")
# A name never written: describe() looks it up to prove that the keychain answers.
_PROBE = "keychain-check"

# The backend keyring chooses, once per process: choosing loads every backend named in the
# installed packages' entry points (on Linux, macOS's runs ctypes.util.find_library, which
# spawns ldconfig) and opens several D-Bus connections to see whether a Secret Service runs.
# Measured here: about 0.1 s, after 0.03 to 0.15 s to import keyring; too slow to repeat for
# each secret. The lock keeps two threads from choosing at once; forget_keychain_choice
# waits for a choice under way.
_choice_lock = threading.Lock()
_chosen: Result[KeyringBackend, KeychainUnavailable] | None = None
_choose_afresh = False


def forget_keychain_choice(wait: float = 30.0) -> None:
    """Make the next call choose the keychain again, as a new process would (tests point each
    case at a keychain of its own: another D-Bus session bus, or none).

    A choice under way is waited for, `wait` seconds at most: one stuck on a hung bus is a
    RuntimeError, not a test run that never ends.
    """
    global _chosen, _choose_afresh
    if not _choice_lock.acquire(timeout=wait):
        raise RuntimeError("a keychain choice is still under way (is a D-Bus session bus hung?)")
    try:
        _chosen = None
        _choose_afresh = True
    finally:
        _choice_lock.release()


class KeyringVault:
    """The named secrets of one data folder, as keychain entries (service, name).

    `backend` replaces keyring's own choice (tests; a program with a keychain of its own).
    """

    def __init__(
        self,
        service: str,
        timeout: float = KEYCHAIN_TIMEOUT_SECONDS,
        remember: Callable[[str], None] | None = None,
        *,
        backend: KeyringBackend | None = None,
        choice_timeout: float = CHOICE_TIMEOUT_SECONDS,
    ) -> None:
        self._service = service
        self._timeout = timeout
        self._choice_timeout = choice_timeout
        # Told each secret read or written, so that the CLI can keep it out of whatever it
        # prints (see JsonFileTokenStore).
        self._remember = remember
        self._backend = backend

    @property
    def service(self) -> str:
        return self._service

    def read(self, name: str) -> Result[SecretStr | None, KeychainUnavailable]:
        found = self._call(lambda keychain: _get(keychain, self._service, name))
        if self._remember is not None and isinstance(found, Success):
            secret = found.unwrap()
            if secret is not None:
                self._remember(secret)
        return found.map(lambda secret: SecretStr(secret) if secret is not None else None)

    def write(self, name: str, secret: SecretStr) -> Result[None, KeychainUnavailable]:
        value = secret.get_secret_value()
        if self._remember is not None:
            # Before the call: a failure that echoed it could then still not print it.
            self._remember(value)
        return self._call(lambda keychain: _set(keychain, self._service, name, value))

    def delete(self, name: str) -> Result[bool, KeychainUnavailable]:
        return self._call(lambda keychain: _delete(keychain, self._service, name))

    def describe(self) -> Result[str, KeychainUnavailable]:
        """The keychain's name, once a lookup shows that it answers: a locked or frozen
        keychain fails here as in every other call, rather than being named as if usable."""
        return self._call(lambda keychain: _answering_name(keychain, self._service))

    def _call(self, operation: Callable[[KeyringBackend], T]) -> Result[T, KeychainUnavailable]:
        outcome: list[Result[T, KeychainUnavailable]] = []
        chosen = threading.Event()

        def work() -> None:
            try:
                keychain = (
                    _usable(self._backend) if self._backend is not None else _chosen_keychain()
                )
                chosen.set()
                outcome.append(keychain.map(operation))
            except Exception as error:
                outcome.append(Failure(_failure(error)))
            finally:
                chosen.set()

        worker = threading.Thread(target=work, name="keychain call", daemon=True)
        worker.start()
        # Choosing (a process's first call) is mostly this process's own work: importing
        # keyring and loading its backends took up to 3.7 s with 16 processes starting at
        # once on 2 busy cores. It has a budget of its own; the keychain's answer has `timeout`.
        waited = self._choice_timeout
        if chosen.wait(self._choice_timeout):
            waited = self._timeout
            worker.join(self._timeout)
        if outcome:
            return outcome[0]
        # The thread is left to finish or block on its own; being a daemon thread it cannot
        # keep the process alive, and what it may still get back is never looked at. What it
        # asked may still be done when the keychain wakes up: after a write or a delete that
        # timed out, the entry may be either way.
        return Failure(
            KeychainUnavailable(
                f"the keychain did not answer within {_seconds(waited)}",
                "if it is asking for a password, unlock it and retry, " + _OR_FILES,
            )
        )


def _secret_service_error(error: Exception, name: str) -> bool:
    """Whether `error` is secretstorage's exception `name`. secretstorage is the Secret
    Service backend's library: if that backend did not import it, it raised none of these."""
    kind = getattr(sys.modules.get("secretstorage.exceptions"), name, None)
    return isinstance(kind, type) and isinstance(error, kind)


def _chosen_keychain() -> Result[KeyringBackend, KeychainUnavailable]:
    global _chosen, _choose_afresh
    with _choice_lock:
        if _chosen is None:
            try:
                import keyring
            except ImportError:
                # Not cached: the extra may be installed while a long-lived program runs.
                return Failure(NOT_INSTALLED)
            import keyring.backend
            import keyring.core

            if _choose_afresh:
                # keyring keeps its own choice and list of backends; both predate the reset.
                if hasattr(keyring.backend.get_all_keyring, "saved_result"):
                    keyring.backend.get_all_keyring.reset()
                keyring.core.init_backend()
                _choose_afresh = False
            _chosen = _usable(keyring.get_keyring())
        return _chosen


def _usable(keychain: KeyringBackend) -> Result[KeyringBackend, KeychainUnavailable]:
    """keyring answers "no keychain" with a backend, not an error: the one that fails every
    call (nothing viable found), the null one that silently keeps nothing (chosen in keyring's
    configuration), or a chainer with nothing to chain."""
    from keyring.backends import chainer, fail, null

    if isinstance(keychain, null.Keyring):
        return Failure(
            KeychainUnavailable(
                "keyring is configured with its null backend, which keeps nothing",
                "remove that setting (PYTHON_KEYRING_BACKEND or keyringrc.cfg), " + _OR_FILES,
            )
        )
    if isinstance(keychain, fail.Keyring) or (
        isinstance(keychain, chainer.ChainerBackend) and not keychain.backends
    ):
        return Failure(_none_found())
    return Success(keychain)


def _none_found() -> KeychainUnavailable:
    if sys.platform in ("darwin", "win32"):
        return KeychainUnavailable("no system keychain was found", _OR_FILES)
    # Linux and the BSDs: the keychain is a Secret Service on the D-Bus session bus.
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        where = "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    else:
        where = "no Secret Service on the D-Bus session bus"
    return KeychainUnavailable(
        f"no system keychain was found: {where}",
        "start one in this session (GNOME Keyring, KeePassXC) and retry, " + _OR_FILES,
    )


def _failure(error: Exception) -> KeychainUnavailable:
    # The class only: its message may quote the data (a D-Bus error quotes the request).
    failed = KeychainUnavailable(f"the keychain failed ({type(error).__name__})")
    try:
        from keyring.errors import InitError, KeyringLocked, NoKeyringError
    except Exception:  # keyring itself broke on import: nothing more to say than its class
        return failed
    if isinstance(error, KeyringLocked) or _secret_service_error(error, "LockedException"):
        return LOCKED
    if isinstance(error, NoKeyringError):
        return _none_found()
    if isinstance(error, InitError):
        return KeychainUnavailable(f"the keychain could not be opened ({type(error).__name__})")
    return failed


def _get(keychain: KeyringBackend, service: str, name: str) -> str | None:
    try:
        return keychain.get_password(service, name)
    except Exception as error:
        if _secret_service_error(error, "ItemNotFoundException"):
            # The Secret Service found the entry, then another process deleted it before it
            # could be read (a logout while a command runs): it is gone.
            return None
        raise


def _set(keychain: KeyringBackend, service: str, name: str, secret: str) -> None:
    try:
        keychain.set_password(service, name, secret)
    except Exception as error:
        if not _secret_service_error(error, "ItemNotFoundException"):
            raise
        # The entry was written, then deleted by another process before secretstorage could
        # look at it, or never written: writing again is right either way.
        keychain.set_password(service, name, secret)


# These backends raise PasswordDeleteError only when there is no such entry; macOS's raises
# it for every failure (a refusal too), and others may.
_PRECISE_DELETE = ("keyring.backends.SecretService", "keyring.backends.Windows")


def _delete(keychain: KeyringBackend, service: str, name: str) -> bool:
    from keyring.errors import PasswordDeleteError

    try:
        keychain.delete_password(service, name)
    except PasswordDeleteError:
        # Where it may be a refusal, a look decides: a refusal is never "nothing removed".
        if type(keychain).__module__ in _PRECISE_DELETE or _get(keychain, service, name) is None:
            return False
        raise
    except Exception as error:
        if _secret_service_error(error, "ItemNotFoundException"):
            return False  # found, then deleted by another process first
        raise
    return True


def _answering_name(keychain: KeyringBackend, service: str) -> str:
    from keyring.backends import chainer

    _get(keychain, service, _PROBE)
    if isinstance(keychain, chainer.ChainerBackend):
        return ", ".join(str(each.name) for each in keychain.backends)
    return str(keychain.name)


def _seconds(timeout: float) -> str:
    """
    >>> _seconds(3.0), _seconds(1), _seconds(0.5)
    ('3 seconds', '1 second', '0.5 seconds')
    """
    return f"{timeout:g} second" + ("" if timeout == 1 else "s")
