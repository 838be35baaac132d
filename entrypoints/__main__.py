"""`python -m entrypoints`: the same as the `bm` command."""

from entrypoints.cli import main

main()
