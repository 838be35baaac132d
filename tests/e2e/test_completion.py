"""`bm --install-completion`: the scripts it writes complete bm's commands in a real shell."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import BmRunner

BASH = shutil.which("bash")


def install(bm: BmRunner, home: Path, shell: str, *args: str) -> Path:
    run = bm("--install-completion", "--shell", shell, *args, env={"HOME": str(home)})
    assert run.code == 0, run.output
    assert run.stderr == ""
    return Path(run.stdout.split(" in ", 1)[1].splitlines()[0].rstrip("."))


def bash_completes(script: Path, line: str) -> list[str]:
    """What bash offers for `line` (cursor at its end), asking the function that bash itself
    would call: the one `complete -p bm` names after sourcing the script."""
    assert BASH is not None
    words = line.split(" ")
    program = f"""
        source {shlex.quote(str(script))}
        spec=$(complete -p bm) || exit 97
        function=${{spec#*-F }}; function=${{function%% *}}
        COMP_WORDS=({" ".join(shlex.quote(word) for word in words)})
        COMP_CWORD={len(words) - 1}
        COMP_LINE={shlex.quote(line)}
        COMP_POINT=${{#COMP_LINE}}
        "$function" bm {shlex.quote(words[-1])} {shlex.quote(words[-2])}
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    done = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return sorted(word for word in done.stdout.splitlines() if word)


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_completes_commands_subcommands_and_options(bm: BmRunner, tmp_path: Path) -> None:
    script = install(bm, tmp_path, "bash", "--output", str(tmp_path / "bm.bash"))
    assert script == tmp_path / "bm.bash"
    assert bash_completes(script, "bm cloud lo") == ["login", "logout"]
    assert bash_completes(script, "bm cloud t") == ["token"]
    assert bash_completes(script, "bm cloud api-key ") == ["create", "remove", "save"]
    assert bash_completes(script, "bm pro") == ["project"]
    assert "--json" in bash_completes(script, "bm cloud login --")
    assert "--browser" in bash_completes(script, "bm cloud login --")


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_the_default_install_is_loaded_by_a_new_interactive_bash(
    bm: BmRunner, tmp_path: Path
) -> None:
    assert BASH is not None
    script = install(bm, tmp_path, "bash")
    assert script == tmp_path / ".local/share/bash-completion/completions/bm"
    install(bm, tmp_path, "bash")  # a second install adds no second line
    assert (tmp_path / ".bashrc").read_text().count("\n") == 2  # a comment, a source line
    done = subprocess.run(
        [BASH, "-i", "-c", "complete -p bm"],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TERM": "dumb"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout.strip().startswith("complete -F "), done.stderr
    assert done.stdout.strip().endswith(" bm")


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_know_the_commands(bm: BmRunner, tmp_path: Path, shell: str) -> None:
    script = install(bm, tmp_path, shell, "--no-add-to-startup")
    text = script.read_text()
    for word in ("cloud", "login", "logout", "token", "api-key", "set-cloud"):
        assert word in text
    assert not (tmp_path / ".zshrc").exists()
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} is not installed: the script's syntax was not checked")
    check = subprocess.run(
        [binary, "-n", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert check.returncode == 0, check.stderr


def test_an_unknown_shell_is_a_usage_error(bm: BmRunner, tmp_path: Path) -> None:
    run = bm("--install-completion", "--shell", "powershell", env={"HOME": str(tmp_path)})
    assert run.code != 0
    assert not any(tmp_path.iterdir())
