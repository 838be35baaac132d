"""The device flow as JSON lines: one verification event, nothing else on stdout."""

from __future__ import annotations

import json

import pytest

from domain.ports import VerificationPrompt
from entrypoints.console import JsonLoginDisplay, scrub_secrets_known_to

PROMPT = VerificationPrompt(
    user_code="BCDF-GHJK",
    verification_uri="https://auth.example.com/device",
    verification_uri_complete="https://auth.example.com/device?user_code=BCDF-GHJK",
    expires_in=600,
    interval=5,
)


def test_the_code_is_one_json_line_and_waiting_prints_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    display = JsonLoginDisplay(browser_requested=False)
    display.show_code(PROMPT)
    display.browser_unavailable(PROMPT.verification_uri, "--no-browser was given")
    for left in (600, 599, 598):
        display.countdown(left)
    display.finish()
    captured = capsys.readouterr()
    assert captured.err == ""
    assert [json.loads(line) for line in captured.out.splitlines()] == [
        {
            "event": "verification",
            "verification_uri": "https://auth.example.com/device",
            "verification_uri_complete": "https://auth.example.com/device?user_code=BCDF-GHJK",
            "user_code": "BCDF-GHJK",
            "expires_in": 600,
            "interval": 5,
        }
    ]


def test_problems_go_to_stderr_as_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    display = JsonLoginDisplay(browser_requested=True)
    display.browser_unavailable(PROMPT.verification_uri, "no display")
    display.retrying("Cannot reach the sign-in service.", 10)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "No browser opened: no display.",
        "Cannot reach the sign-in service. Retrying in 0:10.",
    ]


def test_a_known_secret_never_reaches_the_event(capsys: pytest.CaptureFixture[str]) -> None:
    scrub_secrets_known_to(lambda: ["device-code-secret-0123"])
    try:
        JsonLoginDisplay(browser_requested=False).show_code(
            VerificationPrompt(
                "BCDF-GHJK", "https://x.example/device-code-secret-0123", None, 60, 5
            )
        )
    finally:
        scrub_secrets_known_to(list)
    assert "device-code-secret" not in capsys.readouterr().out
