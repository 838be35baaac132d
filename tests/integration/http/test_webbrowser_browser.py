"""WebbrowserBrowser: declines where no browser can appear, runs BROWSER as a real command."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest
from returns.result import Failure, Success

from adapters.system_clock import SystemClock, SystemSleeper
from adapters.webbrowser_browser import NO_BROWSER, WebbrowserBrowser
from domain.ports import BrowserUnavailable

URL = "http://127.0.0.1:8765/device?user_code=BCDF-GHJK"

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="uses a shell script as BROWSER")


def _script(tmp_path: Path, exit_code: int = 0) -> tuple[Path, Path]:
    """A stand-in browser that writes the arguments it got, one a line, and exits."""
    record = tmp_path / "opened.txt"
    script = tmp_path / "fake-browser"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


@pytest.mark.parametrize(
    ("env", "platform", "reason"),
    [
        (
            {"SSH_CONNECTION": "10.0.0.2 5000 10.0.0.1 22", "DISPLAY": ":0"},
            "linux",
            "this is an SSH session; open the link on your own computer",
        ),
        (
            {"SSH_TTY": "/dev/pts/3"},
            "darwin",
            "this is an SSH session; open the link on your own computer",
        ),
        ({}, "linux", "no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)"),
        (
            {"DISPLAY": ""},
            "freebsd14",
            "no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)",
        ),
    ],
)
def test_declines_without_trying_where_no_browser_can_appear(
    env: dict[str, str], platform: str, reason: str
) -> None:
    browser = WebbrowserBrowser(env, platform=platform)

    assert browser.unavailable_reason() == reason
    assert browser.open(URL) == Failure(BrowserUnavailable(reason))


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"DISPLAY": ":0"}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
        ({}, "darwin"),
        ({}, "win32"),
        ({"SSH_TTY": "/dev/pts/1", "BROWSER": "echo"}, "linux"),
        ({"BROWSER": "echo"}, "linux"),
    ],
)
def test_worth_trying_with_a_display_a_desktop_os_or_an_explicit_browser(
    env: dict[str, str], platform: str
) -> None:
    assert WebbrowserBrowser(env, platform=platform).unavailable_reason() is None


@posix_only
def test_the_browser_variable_runs_the_command_with_the_url(tmp_path: Path) -> None:
    script, record = _script(tmp_path)
    env = {"BROWSER": str(script), "SSH_CONNECTION": "10.0.0.2 5000 10.0.0.1 22"}

    assert WebbrowserBrowser(env, platform="linux").open(URL) == Success(None)
    assert record.read_text().splitlines() == [URL]


@posix_only
def test_a_list_of_browsers_is_tried_in_order(tmp_path: Path) -> None:
    script, record = _script(tmp_path)
    env = {"BROWSER": os.pathsep.join([str(tmp_path / "missing-browser"), str(script)])}

    assert WebbrowserBrowser(env, platform="linux").open(URL) == Success(None)
    assert record.read_text().splitlines() == [URL]


@posix_only
def test_a_browser_command_with_a_placeholder(tmp_path: Path) -> None:
    script, record = _script(tmp_path)
    env = {"BROWSER": f"{script} --new-window %s"}

    assert WebbrowserBrowser(env, platform="linux").open(URL) == Success(None)
    assert record.read_text().splitlines() == ["--new-window", URL]


@posix_only
@pytest.mark.parametrize("broken", ["failing", "missing"])
def test_a_browser_that_fails_or_is_missing_is_reported(tmp_path: Path, broken: str) -> None:
    script, _ = _script(tmp_path, exit_code=1)
    command = str(script) if broken == "failing" else str(tmp_path / "no-such-browser")

    result = WebbrowserBrowser({"BROWSER": command}, platform="linux").open(URL)

    assert result == Failure(BrowserUnavailable(NO_BROWSER))


@posix_only
@pytest.mark.parametrize(
    "url", ["--remote-debugging-port=9222", "file:///etc/passwd", "javascript:x"]
)
def test_only_web_links_are_handed_to_a_browser(tmp_path: Path, url: str) -> None:
    script, record = _script(tmp_path)

    result = WebbrowserBrowser({"BROWSER": str(script)}, platform="linux").open(url)

    assert result == Failure(BrowserUnavailable("refusing to open a link that is not http(s)"))
    assert not record.exists()


def test_system_clock_and_sleeper() -> None:
    clock = SystemClock()
    before = clock.monotonic()
    SystemSleeper().sleep(0.01)
    SystemSleeper().sleep(-1)

    assert clock.monotonic() - before >= 0.01
    assert abs(clock.now() - time.time()) < 1
