"""Blocking work for callers on an event loop: file reads, lock waits and writes in worker
threads (anyio's, so asyncio and trio programs alike), the loop free meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

# anyio is imported inside the functions: the container builds these for every command, and
# only a program on an event loop uses them.
if TYPE_CHECKING:
    from returns.result import Result

    from domain.errors import AuthFailure, StorageFailure
    from domain.ports import TokenStore
    from domain.session import TokenSet

T = TypeVar("T")


def load_modules() -> None:
    """Import what the functions below import, for a caller about to use them from an event
    loop: a first import there (tens of milliseconds) would stall the loop."""
    import anyio.from_thread
    import anyio.to_thread  # noqa: F401


async def offload(work: Callable[[], T]) -> T:
    """Run `work` in a worker thread and await its result (the `Offload` port)."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(work)


class ThreadedTokenStore:
    """An `AsyncTokenStore` over any `TokenStore`: every file operation and lock wait runs
    in a worker thread. The change of an update runs on the caller's loop (it makes an
    asynchronous HTTP call) while the worker thread holds the file's lock for it, so the
    re-read, the change and the write stay one step for other processes and tasks."""

    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens

    async def load(self) -> Result[TokenSet | None, StorageFailure]:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self._tokens.load)

    async def update(
        self, change: Callable[[TokenSet | None], Awaitable[Result[TokenSet, AuthFailure]]]
    ) -> Result[TokenSet, AuthFailure]:
        import anyio.from_thread
        import anyio.to_thread

        def change_on_the_loop(current: TokenSet | None) -> Result[TokenSet, AuthFailure]:
            async def awaited() -> Result[TokenSet, AuthFailure]:
                return await change(current)

            return anyio.from_thread.run(awaited)

        return await anyio.to_thread.run_sync(self._tokens.update, change_on_the_loop)
