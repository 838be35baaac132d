"""No secret in any output, browser argument, child process or repr; a server's echo is cut out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import CloudEmulator
from tests.reliability.faults import emulator_settings
from tests.reliability.leaks import device_code_probe, echo_probe, repr_probe, sweep

pytestmark = pytest.mark.reliability


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(emulator_settings()) as running:
        yield running


def test_no_command_shows_a_secret_and_the_browser_gets_only_the_url(
    emulator: CloudEmulator, tmp_path: Path
) -> None:
    figures = sweep(tmp_path, emulator)

    print(figures.line)
    assert figures.found == []
    assert figures.problems == []
    assert figures.commands >= 40
    assert figures.secrets >= 12  # canaries, issued, refreshed, rotated, created and saved keys
    assert len(figures.browser_calls) == 1


def test_the_device_code_reaches_neither_the_terminal_nor_the_browser(tmp_path: Path) -> None:
    figures = device_code_probe(tmp_path)

    assert figures.found == []
    assert figures.problems == []


def test_a_server_quoting_our_secrets_back_is_not_repeated(tmp_path: Path) -> None:
    figures = echo_probe(tmp_path)

    assert figures.found == []
    assert figures.problems == []


def test_reprs_dumps_and_exception_texts_of_domain_objects_hold_no_secret() -> None:
    checked, leaks = repr_probe()

    assert leaks == []
    assert checked >= 80
