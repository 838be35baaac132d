"""The `bm` command line: cyclopts commands, presenters and the composition root."""
