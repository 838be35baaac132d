"""Lets `python -m emulator` start the emulator like the `bm-emulator` script."""

import sys

from emulator.cli import main

sys.exit(main())
