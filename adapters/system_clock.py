"""Clock and Sleeper backed by the real `time` module."""

from __future__ import annotations

import time


class SystemClock:
    """Wall time for expiry (`time.time`), a monotonic clock for deadlines and latency."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class SystemSleeper:
    def sleep(self, seconds: float) -> None:
        # A computed wait can come out negative when the deadline has just passed.
        time.sleep(max(0.0, seconds))
