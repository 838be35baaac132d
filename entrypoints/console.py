"""Terminal I/O for commands: results to stdout, progress and errors to stderr."""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from domain.ports import VerificationPrompt

# Without a terminal the countdown becomes a plain line this often, so logs stay short.
PLAIN_PROGRESS_EVERY_SECONDS = 30


def printable(text: str) -> str:
    r"""Text safe for a terminal: control, format (bidi) and surrogate characters become '?'.

    Emails, project names and paths come from files a person or a server wrote; printed raw,
    an escape sequence in them could rewrite the screen, and a newline could forge a line.

    >>> printable("alice\x1b[2J@example.com\u202e\udc80 ok")
    'alice\ufffd[2J@example.com\ufffd\ufffd ok'
    """
    return "".join("\ufffd" if unicodedata.category(char) in _UNSHOWN else char for char in text)


_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Shorter values are not looked for: they protect nothing (no service issues such a token),
# and removing every "abc" from a message would garble it.
MIN_SCRUBBED_LENGTH = 8
SCRUBBED = "…"


def _nothing_known() -> Iterable[str]:
    return ()


_source: Callable[[], Iterable[str]] = _nothing_known
# Everything the source has named since it was installed: a secret the command has since
# removed (logout deletes the session before saying how its revocation went) stays known.
_known: set[str] = set()


def scrub_secrets_known_to(source: Callable[[], Iterable[str]]) -> None:
    """From now on, remove every secret `source()` names from each line this process prints.

    The container's `known_secrets` is the source: every command installs it as it starts, so
    server text (an error description, a subscription message) never shows a token or key the
    command holds, whichever request it answered; nobody has to remember it per message.
    The source is read now and again at every line, so secrets gained later count too.
    """
    # One command per process, so one container's secrets at a time.
    global _source
    _source = source
    _known.clear()
    _known.update(source())


def without_known_secrets(text: str) -> str:
    r"""`text` with each known secret (also as JSON would escape it) replaced by '…'.

    >>> scrub_secrets_known_to(lambda: ["s3cret-token", "tok\"en-0123"])
    >>> without_known_secrets('echo s3cret-token and "tok\\"en-0123" and abc')
    'echo … and "…" and abc'
    >>> scrub_secrets_known_to(_nothing_known)
    """
    _known.update(_source())
    # Longest first, so a secret that contains another is removed whole.
    for secret in sorted(_known, key=len, reverse=True):
        if len(secret) < MIN_SCRUBBED_LENGTH:
            continue
        text = text.replace(secret, SCRUBBED)
        escaped = json.dumps(secret)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, SCRUBBED)
    return text


def out(text: str = "") -> None:
    """One line of results on stdout."""
    print(printable(without_known_secrets(text)), file=sys.stdout, flush=True)


def out_json(document: object) -> None:
    """A JSON document on stdout; json.dumps escapes every control character itself."""
    print(without_known_secrets(json.dumps(document, indent=2)), file=sys.stdout, flush=True)


def out_json_line(document: object) -> None:
    """One JSON document on one line of stdout, flushed at once: a reader waiting for the
    line (an agent relaying a sign-in) gets it the moment it is written."""
    print(without_known_secrets(json.dumps(document)), file=sys.stdout, flush=True)


def print_secret_on_purpose(text: str) -> None:
    """The one place a secret is printed: `bm cloud token`'s answer, on stdout.

    Everything else goes through `without_known_secrets`; this does not, because the token
    is the point of that command. Nothing else may call it (a test checks).
    """
    print(text, file=sys.stdout, flush=True)


def err(text: str) -> None:
    """One line of progress, warning or error on stderr."""
    print(printable(without_known_secrets(text)), file=sys.stderr, flush=True)


def lock_wait_notice(lock: Path, seconds_left: float) -> None:
    """Said once when another command holds a file's lock for longer than a write takes."""
    err(f"Waiting up to {seconds_left:.0f}s for another bm command to release {lock}…")


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False


def format_duration(seconds: float) -> str:
    """Minutes and seconds for a countdown.

    >>> format_duration(595.2)
    '9:55'
    """
    whole = max(0, int(seconds + 0.5))
    return f"{whole // 60}:{whole % 60:02d}"


def human_duration(seconds: int) -> str:
    """Coarse duration for status lines.

    >>> human_duration(3599), human_duration(90000), human_duration(42)
    ('59m', '1d 1h', '42s')
    """
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


class TerminalLoginDisplay:
    """The device-flow screen: the code, the URL, and a live countdown on stderr."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._live = is_terminal(self._stream)
        self._line_open = False
        self._last_plain: float | None = None

    def _write(self, text: str) -> None:
        """Callers pass every value that came from outside through printable()."""
        self._stream.write(without_known_secrets(text))
        self._stream.flush()

    def _close_line(self) -> None:
        if self._line_open:
            self._write("\r\x1b[K")
            self._line_open = False

    def show_code(self, prompt: VerificationPrompt) -> None:
        self._write(
            f"To sign in, open {printable(prompt.verification_uri)} and confirm this code:\n\n"
            f"    {printable(prompt.user_code)}\n\n"
        )

    def browser_opened(self, url: str) -> None:
        self._write("Opened your browser; check that the page shows the same code.\n")

    def browser_unavailable(self, url: str, reason: str) -> None:
        self._write(
            f"No browser opened: {printable(reason)}.\n"
            f"Open this URL yourself:\n    {printable(url)}\n"
        )

    def countdown(self, seconds_left: float) -> None:
        text = f"Waiting for approval… {format_duration(seconds_left)} left (Ctrl-C to cancel)"
        if self._live:
            self._write(f"\r\x1b[K{text}")
            self._line_open = True
            return
        now = time.monotonic()
        if self._last_plain is None or now - self._last_plain >= PLAIN_PROGRESS_EVERY_SECONDS:
            self._last_plain = now
            self._write(text + "\n")

    def retrying(self, problem: str, wait_seconds: float) -> None:
        self._close_line()
        self._write(f"{printable(problem)} Retrying in {format_duration(wait_seconds)}.\n")

    def finish(self) -> None:
        self._close_line()


class JsonLoginDisplay:
    """The device flow for a program (`bm cloud login --json`): one `verification` event on
    stdout as soon as the code exists; no countdown. Problems worth a person's eye go to
    stderr as plain lines, so stdout holds JSON lines only."""

    def __init__(self, browser_requested: bool) -> None:
        self._browser_requested = browser_requested

    def show_code(self, prompt: VerificationPrompt) -> None:
        # The prompt holds no device code; the scrubbing in out_json_line would catch it anyway.
        out_json_line(
            {
                "event": "verification",
                "verification_uri": prompt.verification_uri,
                "verification_uri_complete": prompt.verification_uri_complete,
                "user_code": prompt.user_code,
                "expires_in": prompt.expires_in,
                "interval": prompt.interval,
            }
        )

    def browser_opened(self, url: str) -> None:
        pass

    def browser_unavailable(self, url: str, reason: str) -> None:
        # Without --browser this is the normal case: the caller relays the URL itself.
        if self._browser_requested:
            err(f"No browser opened: {reason}.")

    def countdown(self, seconds_left: float) -> None:
        pass

    def retrying(self, problem: str, wait_seconds: float) -> None:
        err(f"{problem} Retrying in {format_duration(wait_seconds)}.")

    def finish(self) -> None:
        pass


def confirm(question: str) -> bool:
    """Ask yes/no on the terminal; anything but yes is no."""
    err_stream = sys.stderr
    err_stream.write(f"{question} [y/N] ")
    err_stream.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in {"y", "yes"}
