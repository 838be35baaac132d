"""Lets `python -m adapters.emulator` start the emulator like the `bm-emulator` script."""

import sys

from adapters.emulator.cli import main

sys.exit(main())
