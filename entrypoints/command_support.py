"""What every command does first: build the container, warn about loose file modes, and
check the settings a network command depends on."""

from __future__ import annotations

from returns.result import Failure

from adapters.data_directory import ensure_data_directory, loose_permission_warnings
from entrypoints.console import err, lock_wait_notice, scrub_secrets_known_to
from entrypoints.container import Container, build_container
from entrypoints.presenters import fail


def prepare(*, network: bool = False, writes: bool = False) -> Container | int:
    """A ready container, or the exit code of a failure already reported."""
    container = build_container(on_lock_wait=lock_wait_notice)
    scrub_secrets_known_to(container.known_secrets)
    for warning in loose_permission_warnings([container.token_path(), container.config_path()]):
        err(warning)
    if writes:
        created = ensure_data_directory(container.data_dir())
        if isinstance(created, Failure):
            return fail(created.failure())
    if network:
        endpoints = container.endpoints()
        if isinstance(endpoints, Failure):
            return fail(endpoints.failure())
    return container


def cloud_host(container: Container) -> str | None:
    return container.endpoints().map(lambda endpoints: endpoints.cloud_host).value_or(None)
