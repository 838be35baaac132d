"""The `bm-emulator` command: start the local cloud emulator and print its base URL."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType

from emulator.server import CloudEmulator
from emulator.settings import EmulatorSettings


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"expected a non-negative number of seconds, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    defaults = EmulatorSettings()
    parser = argparse.ArgumentParser(
        prog="bm-emulator",
        description=(
            "Local Basic Memory Cloud emulator: the WorkOS AuthKit device flow and the cloud API "
            "on loopback. Prints its base URL on the first line, then serves until interrupted."
        ),
    )
    parser.add_argument("--host", default=defaults.host, help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument(
        "--interval", type=_seconds, default=defaults.interval, help="device polling interval"
    )
    parser.add_argument(
        "--code-ttl", type=_seconds, default=defaults.code_ttl, help="device code lifetime"
    )
    parser.add_argument(
        "--token-ttl", type=_seconds, default=defaults.token_ttl, help="access token lifetime"
    )
    parser.add_argument(
        "--auto-approve-after",
        type=_seconds,
        metavar="S",
        help="approve each device code as the default user S seconds after issue",
    )
    parser.add_argument(
        "--no-subscription",
        action="store_true",
        help="the default user (alice@example.com) has no subscription",
    )
    parser.add_argument(
        "--slow-down-step",
        type=_seconds,
        default=defaults.slow_down_step,
        help="seconds added to a code's interval on each slow_down",
    )
    parser.add_argument(
        "--client-id",
        action="append",
        default=[],
        metavar="ID",
        help="accept another OAuth client id (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = EmulatorSettings(
            host=args.host,
            port=args.port,
            interval=args.interval,
            code_ttl=args.code_ttl,
            token_ttl=args.token_ttl,
            auto_approve_after=args.auto_approve_after,
            default_user_subscribed=not args.no_subscription,
            slow_down_step=args.slow_down_step,
            extra_client_ids=tuple(args.client_id),
            verbose=args.verbose,
        )
    except ValueError as error:
        parser.error(str(error))
    # SIGINT too: a parent that started us in the background may have left it ignored.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        emulator = CloudEmulator(settings).start()
    except OSError as error:
        print(f"bm-emulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    try:
        # First line of stdout, flushed: scripts and tests read the URL from here.
        print(emulator.base_url, flush=True)
        print(
            f"Device page: {emulator.base_url}/device  Control API: {emulator.base_url}/_emulator/"
            "  Stop with Ctrl-C.",
            file=sys.stderr,
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
