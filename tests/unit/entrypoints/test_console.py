"""TerminalLoginDisplay: the code, the URL and a countdown that redraws one line on a terminal."""

from __future__ import annotations

import io

from domain.ports import VerificationPrompt
from entrypoints.console import TerminalLoginDisplay


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_countdown_redraws_one_line_on_a_terminal() -> None:
    stream = Tty()
    display = TerminalLoginDisplay(stream)
    display.countdown(600)
    display.countdown(599)
    display.finish()
    text = stream.getvalue()
    assert text.count("\r\x1b[K") == 3
    assert "10:00 left" in text
    assert "9:59 left" in text
    assert "\n" not in text


def test_countdown_without_a_terminal_prints_plain_lines_sparingly() -> None:
    stream = io.StringIO()
    display = TerminalLoginDisplay(stream)
    for left in range(600, 590, -1):
        display.countdown(left)
    lines = stream.getvalue().splitlines()
    assert lines == ["Waiting for approval… 10:00 left (Ctrl-C to cancel)"]
    assert "\r" not in stream.getvalue()


def test_code_and_url_are_shown_and_the_fallback_names_the_url() -> None:
    stream = io.StringIO()
    display = TerminalLoginDisplay(stream)
    display.show_code(
        VerificationPrompt(
            user_code="BCDF-GHJK",
            verification_uri="https://auth.example.com/device",
            verification_uri_complete="https://auth.example.com/device?user_code=BCDF-GHJK",
            expires_in=600,
            interval=5,
        )
    )
    display.browser_unavailable("https://auth.example.com/device?user_code=BCDF-GHJK", "no display")
    text = stream.getvalue()
    assert "    BCDF-GHJK\n" in text
    assert "https://auth.example.com/device?user_code=BCDF-GHJK" in text
    assert "no display" in text
