"""Browser backed by the standard `webbrowser` module, declining up front where none can work.

Where no browser could appear (an SSH session, a Linux or BSD console without a display) the
adapter says so without trying: `webbrowser` would otherwise fall back to a text browser such as
lynx or w3m and take over the terminal in the middle of the login. A `BROWSER` variable is the
person's explicit choice and always wins, as it does for `gh`, `git` and `xdg-open`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit

from returns.result import Failure, Result, Success

from domain.ports import BrowserUnavailable

NO_BROWSER = "no browser could be opened"
_NEEDS_DISPLAY = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly", "sunos")


class WebbrowserBrowser:
    """Opens a URL in the person's browser; `env` is the process environment to judge by."""

    def __init__(self, env: Mapping[str, str], platform: str = sys.platform) -> None:
        self._env = env
        self._platform = platform

    def unavailable_reason(self) -> str | None:
        """Why no browser can be opened here, or None when it is worth trying."""
        if self._env.get("BROWSER"):
            return None
        if self._env.get("SSH_CONNECTION") or self._env.get("SSH_TTY"):
            return "this is an SSH session; open the link on your own computer"
        needs_display = self._platform.startswith(_NEEDS_DISPLAY)
        if needs_display and not (self._env.get("DISPLAY") or self._env.get("WAYLAND_DISPLAY")):
            return "no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)"
        return None

    def open(self, url: str) -> Result[None, BrowserUnavailable]:
        if not _is_web_url(url):
            # Never hand a browser command something that could read as an option or a file.
            return Failure(BrowserUnavailable("refusing to open a link that is not http(s)"))
        reason = self.unavailable_reason()
        if reason is not None:
            return Failure(BrowserUnavailable(reason))
        # Imported here: webbrowser scans the system for browsers and is slow to import.
        import webbrowser

        choices = [choice for choice in self._env.get("BROWSER", "").split(os.pathsep) if choice]
        try:
            with _secrets_withheld():
                opened = _open_with(choices, url) if choices else webbrowser.open(url)
        except (webbrowser.Error, OSError):
            opened = False
        return Success(None) if opened else Failure(BrowserUnavailable(NO_BROWSER))


def _open_with(choices: list[str], url: str) -> bool:
    """Try each `BROWSER` entry the way the standard library does for `os.environ`.

    Done here rather than left to `webbrowser.open` so the variable is read from the
    environment this adapter was given, and so a command that `webbrowser` does not know by
    name still runs as a plain command, as it would from `os.environ`.
    """
    import webbrowser

    for choice in choices:
        try:
            controller = webbrowser.get(choice)
        except webbrowser.Error:
            controller = webbrowser.GenericBrowser(choice)
        if controller.open(url):
            return True
    return False


def _is_web_url(url: str) -> bool:
    """
    >>> [_is_web_url(u) for u in ("https://a.example/d?c=1", "-oProxy", "file:///x", "http://")]
    [True, False, False, False]
    """
    if not url.isprintable() or any(char.isspace() for char in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# Variables that hold secrets; a browser (a child process) must never inherit them.
SECRET_VARIABLES = ("BASIC_MEMORY_CLOUD_API_KEY",)


@contextmanager
def _secrets_withheld() -> Iterator[None]:
    """Hide secret variables from child processes while the browser starts.

    webbrowser starts the browser with this process's environment and takes no other, so
    the variables leave os.environ for that moment and come back after.
    """
    held = {name: os.environ.pop(name) for name in SECRET_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(held)
