"""Measures the emulator: start-up time (in process, subprocess) and GET /proxy/health rate."""

from __future__ import annotations

import argparse
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import httpx

from emulator.server import CloudEmulator


def start_in_process(runs: int) -> float:
    """Median seconds from constructing an emulator to it accepting connections."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        emulator = CloudEmulator().start()
        samples.append(time.perf_counter() - began)
        emulator.stop()
    return statistics.median(samples)


def start_subprocess(runs: int) -> float:
    """Median seconds from spawning `python -m emulator` to its first stdout line."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        process.stdout.readline()
        samples.append(time.perf_counter() - began)
        process.terminate()
        process.wait()
    return statistics.median(samples)


def request_rate(emulator: CloudEmulator, requests: int, threads: int) -> float:
    """Requests per second for `requests` health checks with an API key, over `threads` clients."""
    key = emulator.issue_api_key()
    headers = {"Authorization": f"Bearer {key}"}
    tls = ssl.create_default_context()  # unused on http://, but httpx builds one per client
    per_thread = requests // threads
    failures: list[int] = []

    def work() -> None:
        with httpx.Client(base_url=emulator.base_url, verify=tls) as client:
            for _ in range(per_thread):
                status = client.get("/proxy/health", headers=headers).status_code
                if status != 200:
                    failures.append(status)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {sorted(set(failures))}")
    return per_thread * threads / elapsed


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures, one per line."""
    parser = argparse.ArgumentParser(prog="bench/emulator_rate.py")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args(argv)
    print(f"start in process:      {start_in_process(20) * 1000:.1f} ms (median of 20)")
    print(
        f"start subprocess:      {start_subprocess(5) * 1000:.0f} ms to the URL line (median of 5)"
    )
    with CloudEmulator() as emulator:
        for threads in args.threads:
            rate = request_rate(emulator, args.requests, threads)
            print(
                f"GET /proxy/health:     {rate:.0f} req/s ({args.requests} requests, {threads} threads)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
