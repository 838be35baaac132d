"""`cloud_auth()` under asyncio: concurrent tasks on an expired session, a slow token endpoint,
another process holding the token lock, and a ticker that measures how long the loop stalls.

The tests in test_async_auth.py and the reliability report assert on these figures.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from adapters.atomic_files import lock_path_for
from adapters.json_file_token_store import JsonFileTokenStore
from emulator import CloudEmulator
from entrypoints.library import CloudAuthError, cloud_auth
from tests.reliability.shared_auth import TOKEN_PATH, environment, sign_in

TICK = 0.010
# Holds the token file's lock (the same kind of OS lock bm takes) for the given seconds.
_HOLD_LOCK = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


@dataclass
class AsyncFigures:
    tasks: int
    held_lock_for: float = 0.0
    succeeded: int = 0
    refreshes: int = 0
    worst_stall_ms: float = 0.0
    ticks: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.succeeded == self.tasks
            and self.refreshes == 1
            and self.worst_stall_ms <= 100
            and not self.errors
        )

    @property
    def line(self) -> str:
        holder = (
            f", another process holding the token lock for {self.held_lock_for:g} s"
            if self.held_lock_for
            else ""
        )
        text = (
            f"async cloud_auth(): {self.tasks} concurrent AsyncClient requests on an expired "
            f"session, token endpoint answering after 1 s{holder}: {self.succeeded}/{self.tasks} "
            f"succeeded in {self.seconds:.1f} s, refreshes at the server = {self.refreshes} "
            f"(must be 1), worst stall of a {TICK * 1000:g} ms ticker = "
            f"{self.worst_stall_ms:.0f} ms (must be <= 100, {self.ticks} ticks)"
        )
        return text + (f" - PROBLEMS: {self.errors[:2]}" if self.errors else "")


def expire_locally(folder: Path) -> None:
    """The stored access token has expired here, so every request must refresh it first."""
    store = JsonFileTokenStore(folder / ".cloud_tokens.json")
    session = store.load().unwrap()
    assert session is not None
    store.save(session.model_copy(update={"expires_at": int(time.time()) - 10})).unwrap()


def hold_token_lock(folder: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _HOLD_LOCK,
            str(lock_path_for(folder / ".cloud_tokens.json")),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    if holder.stdout.readline().strip() != "held":
        holder.kill()
        raise RuntimeError("the lock holder could not take the lock")
    return holder


async def _requests(base_url: str, env: dict[str, str], figures: AsyncFigures) -> None:
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    async def ticker() -> None:
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(TICK)
            now = loop.time()
            figures.worst_stall_ms = max(figures.worst_stall_ms, (now - last - TICK) * 1000)
            figures.ticks += 1
            last = now

    async def call(client: httpx.AsyncClient) -> None:
        try:
            response = await client.get("/proxy/health")
        except (CloudAuthError, httpx.HTTPError) as error:
            figures.errors.append(f"{type(error).__name__}: {error}")
            return
        if response.status_code == 200:
            figures.succeeded += 1
        else:
            figures.errors.append(f"HTTP {response.status_code}")

    # Made before the ticker starts: building a client loads the CA certificates on the loop,
    # which is the program's own doing, once; what is measured is the requests.
    async with httpx.AsyncClient(base_url=base_url, auth=cloud_auth(env=env)) as client:
        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        began = loop.time()
        await asyncio.gather(*(call(client) for _ in range(figures.tasks)))
        figures.seconds = loop.time() - began
        done.set()
        await ticking


def concurrent_tasks(
    root: Path, emulator: CloudEmulator, tasks: int = 8, hold_lock: float = 0.0
) -> AsyncFigures:
    folder = root / f"async-{tasks}-{hold_lock:g}"
    folder.mkdir(mode=0o700)
    sign_in(emulator, folder)
    expire_locally(folder)
    emulator.delay_next(TOKEN_PATH, 1.0, count=tasks)
    before = emulator.refresh_count()
    figures = AsyncFigures(tasks, held_lock_for=hold_lock)
    holder = hold_token_lock(folder, hold_lock) if hold_lock else None
    try:
        asyncio.run(_requests(emulator.base_url, environment(folder, emulator), figures))
    finally:
        if holder is not None:
            holder.wait(timeout=30)
        emulator.clear_faults()
    figures.refreshes = emulator.refresh_count() - before
    return figures
