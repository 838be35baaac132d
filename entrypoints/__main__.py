"""`python -m entrypoints`: the same as the `bm` command."""

from entrypoints.main import main

main()
