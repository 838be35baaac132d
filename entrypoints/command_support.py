"""What every command does first: build the container, refuse a data folder that others can
change, warn about loose file modes, and check the settings a network command depends on."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from dependency_injector import providers
from returns.result import Failure

from adapters.data_directory import ensure_data_directory, loose_permission_warnings
from entrypoints.console import err, lock_wait_notice, scrub_secrets_known_to
from entrypoints.container import Container, build_container
from entrypoints.presenters import fail

if TYPE_CHECKING:
    from domain.errors import AuthFailure

# Says what went wrong (stderr, or a JSON event too) and gives the exit code.
Report = Callable[["AuthFailure"], int]


def prepare(*, network: bool = False, writes: bool = False, on_failure: Report = fail) -> Container:
    """A ready container; a failure is reported (by `on_failure`, which gives the exit code)
    and ends the command (SystemExit), so a command reads as its happy path.

    The trust check comes first, before anything reads the data files: a planted
    config.yaml could otherwise send the session to another user's host.
    """
    container = build_container(on_lock_wait=lock_wait_notice)
    untrusted = container.untrusted()
    if untrusted:
        raise SystemExit(on_failure(untrusted[0]))
    return _ready(container, network=network, writes=writes, on_failure=on_failure)


def prepare_logout(*, remove_api_key: bool) -> Container:
    """`prepare()` for logout, which must still be able to remove a session from a trusted
    folder whose config.yaml or token file another user can change.

    Then nothing is sent anywhere: the endpoints are treated as unusable settings, so the
    refresh token never reaches a host another user may have planted, and the logout says
    the server was not asked. An untrusted folder (or a folder above it, or a lock file) is
    refused: removing and locking files where another user can swap them is not safe. With
    --all an untrusted config.yaml is refused too: rewriting it would make a planted file ours.
    """
    container = build_container(on_lock_wait=lock_wait_notice)
    config, tokens = container.config_path(), container.token_path()
    untrusted = container.untrusted()
    removable = {str(tokens)} | (set() if remove_api_key else {os.path.realpath(config)})
    refused = [problem for problem in untrusted if problem.path not in removable]
    if refused:
        raise SystemExit(fail(refused[0]))
    if untrusted:
        container.endpoints.override(providers.Object(Failure(untrusted[0])))
    return _ready(container)


def _ready(
    container: Container, *, network: bool = False, writes: bool = False, on_failure: Report = fail
) -> Container:
    scrub_secrets_known_to(container.known_secrets)
    for warning in loose_permission_warnings(
        config=container.config_path(), tokens=container.token_path()
    ):
        err(warning)
    if writes:
        created = ensure_data_directory(container.data_dir())
        if isinstance(created, Failure):
            raise SystemExit(on_failure(created.failure()))
    if network:
        endpoints = container.endpoints()
        if isinstance(endpoints, Failure):
            raise SystemExit(on_failure(endpoints.failure()))
    return container


def cloud_host(container: Container) -> str | None:
    return container.endpoints().map(lambda endpoints: endpoints.cloud_host).value_or(None)
