"""Blocking work for callers on an event loop: file reads, lock waits and writes in worker
threads (anyio's, so asyncio and trio programs alike), the loop free meanwhile."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from domain.api_key import ApiKey
from domain.config import AppConfig
from domain.session import TokenResponse, TokenSet

# anyio is imported inside the functions: the container builds these for every command, and
# only a program on an event loop uses them.
if TYPE_CHECKING:
    import anyio
    from returns.result import Result

    from domain.errors import StorageFailure
    from domain.ports import TokenStore

T = TypeVar("T")
E = TypeVar("E")


def prepare_for_event_loop() -> None:
    """Do now what the functions below would otherwise do at their first call, on the
    caller's event loop: import anyio's thread helpers and build the schemas of the models a
    refresh validates (each costs tens of milliseconds once, and would stall the loop)."""
    import importlib

    import anyio.from_thread
    import anyio.to_thread  # noqa: F401

    # anyio loads its asyncio backend (about 20 modules) on first use inside a loop; the name
    # is anyio's own, so a future anyio without it only loses this head start.
    with contextlib.suppress(ImportError):
        importlib.import_module("anyio._backends._asyncio")
    for model in (TokenResponse, TokenSet, ApiKey, AppConfig):
        model.model_rebuild(force=True)


@cache
def _file_threads() -> anyio.CapacityLimiter:
    """At most two worker threads do file work at a time: each parses YAML and JSON in
    Python, holding the interpreter lock the event loop's thread needs too, so more of them
    would not finish sooner, only take turns with the loop (a stall)."""
    import anyio

    return anyio.CapacityLimiter(2)


async def offload(work: Callable[[], T]) -> T:
    """Run `work` in a worker thread and await its result (the `Offload` port)."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(work, limiter=_file_threads())


class ThreadedTokenStore:
    """An `AsyncTokenStore` over any `TokenStore`: every file operation and lock wait runs
    in a worker thread. The change of an update runs on the caller's loop (it makes an
    asynchronous HTTP call) while the worker thread holds the file's lock for it, so the
    re-read, the change and the write stay one step for other processes and tasks."""

    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens

    async def load(self) -> Result[TokenSet | None, StorageFailure]:
        return await offload(self._tokens.load)

    async def update(
        self, change: Callable[[TokenSet | None], Awaitable[Result[TokenSet, E]]]
    ) -> Result[TokenSet, E | StorageFailure]:
        import anyio.from_thread

        def change_on_the_loop(current: TokenSet | None) -> Result[tuple[TokenSet, None], E]:
            async def awaited() -> Result[TokenSet, E]:
                return await change(current)

            return anyio.from_thread.run(awaited).map(lambda session: (session, None))

        # The change needs no file thread of its own (the refresh builds its HTTP client in a
        # pool of its own), so a thread waiting here never starves the one holding the lock.
        updated = await offload(lambda: self._tokens.update(change_on_the_loop))
        return updated.map(lambda answer: answer[0])
