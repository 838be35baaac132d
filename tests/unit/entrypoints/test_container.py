"""The container builds every use case with the real wiring, touching no file and no network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dependency_injector import providers

from entrypoints.container import Container, build_container


def test_every_use_case_builds_with_the_real_wiring(tmp_path: Path) -> None:
    container = build_container({"BASIC_MEMORY_CONFIG_DIR": str(tmp_path), "HOME": str(tmp_path)})
    built = 0
    for name, provider in Container.cls_providers.items():
        if isinstance(provider, providers.Factory) and name != "browser":
            assert callable(getattr(container, name)().execute), name
            built += 1
    assert built >= 12
    assert not list(tmp_path.iterdir())  # building touches no file


def test_building_the_network_use_cases_does_not_import_httpx(tmp_path: Path) -> None:
    """Only a request imports httpx, so offline commands that build a network-capable use case
    (status --offline) pay nothing for it."""
    script = (
        "import sys\n"
        "from entrypoints.container import build_container\n"
        f"container = build_container({{'BASIC_MEMORY_CONFIG_DIR': {str(tmp_path)!r}}})\n"
        "container.login(); container.status(); container.logout(); container.create_api_key()\n"
        "print('httpx' in sys.modules)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "False"
