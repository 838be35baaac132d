"""`bm` (entrypoints.main): heavy modules stay out of commands that do not need them.

A check of imports, not of time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
sys.argv = ["bm", *json.loads(sys.argv[1])]
try:
    from entrypoints.main import main
    main()
except SystemExit:
    pass
sys.__stderr__.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded_modules(
    arguments: list[str], data_dir: Path, extra_env: dict[str, str] | None = None
) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(arguments)],
        capture_output=True,
        text=True,
        env={
            "BASIC_MEMORY_CONFIG_DIR": str(data_dir),
            "PATH": "/usr/bin:/bin",
            "HOME": str(data_dir),
            **(extra_env or {}),
        },
        cwd=Path(__file__).resolve().parents[3],
        check=False,
        timeout=60,
    )
    marker = done.stderr.rindex("MODULES ")
    return set(json.loads(done.stderr[marker + len("MODULES ") :]))


# The container imports every use case (measured: no dearer than importing each on first use),
# but what only a request or a browser needs stays out of commands that make none.
# The keychain's library is loaded only by a command that reads or writes a keychain entry.
NETWORK_AND_EXTRAS = {
    "httpx",
    "httpcore",
    "emulator",
    "markdown_it",
    "webbrowser",
    "keyring",
    "secretstorage",
}


@pytest.mark.parametrize(
    ("arguments", "forbidden"),
    [
        (
            ["--version"],
            NETWORK_AND_EXTRAS | {"cyclopts", "rich", "pydantic", "dependency_injector"},
        ),
        (["--help"], NETWORK_AND_EXTRAS | {"pydantic", "dependency_injector", "yaml"}),
        (["cloud", "--help"], NETWORK_AND_EXTRAS | {"pydantic", "dependency_injector"}),
        (
            ["cloud", "status", "--offline"],
            NETWORK_AND_EXTRAS | {"filelock"},
        ),
        (
            ["project", "list"],
            NETWORK_AND_EXTRAS | {"filelock"},
        ),
        (
            ["cloud", "api-key", "save", "-"],
            NETWORK_AND_EXTRAS,
        ),
    ],
    ids=["version", "help", "cloud-help", "status-offline", "project-list", "api-key-save"],
)
def test_commands_import_only_what_they_use(
    arguments: list[str], forbidden: set[str], tmp_path: Path
) -> None:
    modules = loaded_modules(arguments, tmp_path)
    assert "entrypoints.main" in modules  # the probe really ran the command
    assert sorted(forbidden & modules) == []


def test_the_probe_sees_httpx_when_a_command_goes_online(tmp_path: Path) -> None:
    """The check above can fail: a status that asks the cloud (a closed loopback port) does
    import httpx."""
    closed = "http://127.0.0.1:9"
    modules = loaded_modules(
        ["cloud", "status"],
        tmp_path,
        {
            "BASIC_MEMORY_CLOUD_API_KEY": "bmc_abcdefgh12345678",
            "BASIC_MEMORY_CLOUD_HOST": closed,
            "BASIC_MEMORY_CLOUD_DOMAIN": closed,
        },
    )
    assert "httpx" in modules


def test_the_probe_sees_keyring_when_the_keychain_store_is_chosen(tmp_path: Path) -> None:
    """The keyring check above can fail: saving a key with the keychain store loads it (the
    save itself then fails closed here, where no keychain runs)."""
    modules = loaded_modules(
        ["cloud", "api-key", "save", "bmc_abcdefgh12345678"],
        tmp_path,
        {"BASIC_MEMORY_CREDENTIAL_STORE": "keyring"},
    )
    assert "keyring" in modules
