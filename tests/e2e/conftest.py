"""Runs the installed `bm` as a subprocess with a data directory of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def installed_command(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if not candidate.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}; run scripts/check")
    return str(candidate)


BmRunner = Callable[..., Run]


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASIC_MEMORY_")}
    env.update(
        BASIC_MEMORY_CONFIG_DIR=str(tmp_path / "data"),
        HOME=str(tmp_path / "home"),
        BROWSER="",
        NO_COLOR="1",
        # A closed loopback port: no test can reach the real cloud by accident.
        BASIC_MEMORY_CLOUD_HOST="http://127.0.0.1:9",
        BASIC_MEMORY_CLOUD_DOMAIN="http://127.0.0.1:9",
    )
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    # A keychain-store test must reach the test's own keychain daemon (it adds its bus), never
    # the keychain of the person running the tests.
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return env


@pytest.fixture
def bm(clean_env: dict[str, str]) -> BmRunner:
    command = installed_command("bm")

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
    ) -> Run:
        merged = dict(clean_env)
        merged.update(env or {})
        done = subprocess.run(
            [command, *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=merged,
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run
