"""The installed bm against a server that trickles one byte every 2 s: the deadlines hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.deadlines import login_against_trickle, status_against_trickle

pytestmark = pytest.mark.reliability


def test_status_against_a_trickle_ends_within_35_seconds_with_exit_3(tmp_path: Path) -> None:
    figures = status_against_trickle(tmp_path)
    print(f"status ended in {figures.run.seconds:.1f} s, exit {figures.run.code}")
    assert figures.problems == []


def test_a_login_whose_token_endpoint_trickles_ends_at_its_deadline(tmp_path: Path) -> None:
    figures = login_against_trickle(tmp_path)
    print(f"login ended {figures.after_deadline:+.1f} s from its deadline: {figures.run.stderr!r}")
    assert figures.problems == []
