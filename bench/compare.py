"""Compare the start-up of two source trees of bm, side by side, in instructions executed.

    git worktree add /tmp/bm-before <commit>
    .venv/bin/python bench/compare.py /tmp/bm-before .

Each tree runs through this interpreter with the tree first on `sys.path`, so both use the
same installed libraries and only the project's own code differs. Every case runs once to
warm up and compile bytecode, then once under valgrind's callgrind: instruction counts do
not move with the machine's load, so a difference of a few percent is real. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.startup import KEY, count_instructions, write_logged_in

# Runs `bm ARGS...` from the tree given first, with this interpreter's libraries.
RUNNER = """
import sys
sys.path.insert(0, sys.argv[1])
sys.argv = ["bm", *sys.argv[2:]]
from entrypoints.main import main
main()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (checkouts) of bm")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("bench/compare.py needs valgrind (Debian package valgrind).")
    trees = [tree.resolve() for tree in args.trees]
    for tree in trees:
        if not (tree / "entrypoints" / "main.py").is_file():
            raise SystemExit(f"{tree} is not a checkout of bm (no entrypoints/main.py)")

    with tempfile.TemporaryDirectory() as folder:
        base = {k: v for k, v in os.environ.items() if not k.startswith("BASIC_MEMORY_")}
        # A closed loopback port: nothing here may reach a real service.
        base.update(
            BASIC_MEMORY_CLOUD_HOST="http://127.0.0.1:9",
            BASIC_MEMORY_CLOUD_DOMAIN="http://127.0.0.1:9",
            HOME=folder,
        )
        write_logged_in(Path(folder, "in"))
        logged_in = dict(base, BASIC_MEMORY_CONFIG_DIR=f"{folder}/in")
        logged_out = dict(base, BASIC_MEMORY_CONFIG_DIR=f"{folder}/out")
        cases = [
            ("bm --version", ["--version"], logged_out, ""),
            ("bm --help", ["--help"], logged_out, ""),
            ("bm cloud status --offline", ["cloud", "status", "--offline"], logged_in, ""),
            ("bm cloud api-key save", ["cloud", "api-key", "save"], logged_out, KEY + "\n"),
            ("bm project list", ["project", "list"], logged_in, ""),
        ]
        print(f"{'command':<28}" + "".join(f"{tree.name[-14:]:>16}" for tree in trees))
        for name, arguments, env, stdin in cases:
            counts = []
            for tree in trees:
                argv = [sys.executable, "-c", RUNNER, str(tree), *arguments]
                subprocess.run(
                    argv, env=env, input=stdin.encode(), capture_output=True, check=False
                )
                counts.append(count_instructions(argv, env, stdin))
            change = f"  {counts[-1] / counts[0] - 1:+.1%}" if len(counts) > 1 else ""
            print(f"{name:<28}" + "".join(f"{c:>15.0f}M" for c in counts) + change)


if __name__ == "__main__":
    main()
