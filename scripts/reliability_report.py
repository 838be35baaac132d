"""Print one line per reliability property with its figure; exit 1 if any property failed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.reliability import probes  # noqa: E402 - the repository root must be on the path first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "properties",
        nargs="*",
        metavar="PROPERTY",
        help="run only these: " + ", ".join(name for name, _ in probes.PROPERTIES),
    )
    parser.add_argument("--times", action="store_true", help="show how long each probe took")
    arguments = parser.parse_args()
    chosen: list[str] = arguments.properties
    unknown = set(chosen) - {name for name, _ in probes.PROPERTIES}
    if unknown:
        parser.error(f"unknown properties: {', '.join(sorted(unknown))}")
    times: bool = arguments.times
    began = time.monotonic()
    failed = known = 0
    for _, outcome, seconds in probes.run(chosen or None):
        mark = "FAIL" if not outcome.ok else "KNOWN" if outcome.known_defects else "ok"
        mark = f"{mark:<5}"
        suffix = f"  [{seconds:.1f}s]" if times else ""
        print(f"{mark} {outcome.line}{suffix}", flush=True)
        failed += not outcome.ok
        known += outcome.known_defects
    print(
        f"{'all properties hold' if not failed else f'{failed} properties FAILED'}"
        f"{f'; {known} known defects reported above' if known else ''}"
        f" ({time.monotonic() - began:.0f}s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
