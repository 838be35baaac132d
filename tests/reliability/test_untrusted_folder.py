"""A data folder, file or parent that another user can change is refused before any connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.trust import (
    AS_ROOT,
    SETUPS,
    Setup,
    TrustFigures,
    check_setup,
    untrusted_folder_probe,
)

pytestmark = pytest.mark.reliability


@pytest.mark.parametrize("setup", SETUPS, ids=[setup.name for setup in SETUPS])
def test_each_planted_setup_is_refused_by_bm_and_the_library(tmp_path: Path, setup: Setup) -> None:
    if setup.needs_root and not AS_ROOT:
        pytest.skip("only root can give a file to another user (nobody)")
    figures = TrustFigures()

    check_setup(tmp_path, 0, setup, figures)

    assert figures.problems == []
    assert figures.connections == 0


def test_the_probe_line(tmp_path: Path) -> None:
    figures = untrusted_folder_probe(tmp_path)

    print(figures.line)
    assert figures.problems == [], figures.line
    assert figures.refused == figures.library == figures.logouts == figures.setups
    assert figures.connections == 0
    assert figures.control_connections > 0
