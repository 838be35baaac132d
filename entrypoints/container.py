"""The composition root: one container that assembles adapters and use cases for the CLI.

Start-up time is a feature of a command line, so the container imports almost nothing when
it is defined: each use case and adapter is named by its import path and imported when a
command first asks for it (`bm project list` never imports the login flow), and network
adapters are built on first use, so commands that never touch the network never import httpx.
The names under TYPE_CHECKING keep every provider typed for mypy.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers
from returns.result import Failure, Result, Success

from adapters.data_directory import (
    CONFIG_FILE_NAME,
    TOKEN_FILE_NAME,
    data_directory,
    untrusted_paths,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from adapters.atomic_files import LockWaitNotice
    from adapters.http_transport import SharedClient
    from adapters.json_file_token_store import JsonFileTokenStore
    from adapters.system_clock import SystemClock, SystemSleeper
    from adapters.yaml_config_store import YamlConfigStore
    from application.add_project import AddProject
    from application.create_api_key import CreateApiKey
    from application.ensure_fresh_session import EnsureFreshSession
    from application.list_projects import ListProjects
    from application.login_with_device_flow import LoginWithDeviceFlow
    from application.logout import Logout
    from application.obtain_credential import ObtainCredential
    from application.remove_api_key import RemoveApiKey
    from application.remove_project import RemoveProject
    from application.resolve_route import ResolveRoute
    from application.save_api_key import SaveApiKey
    from application.set_project_mode import SetProjectMode
    from application.show_status import ShowStatus
    from domain.endpoints import CloudEndpoints
    from domain.errors import AuthFailure
    from domain.ports import (
        Browser,
        Clock,
        CloudApi,
        ConfigStore,
        IdentityProvider,
        LoginDisplay,
    )


def deferred(path: str) -> Callable[..., Any]:
    """A constructor for `module:Name` that imports the module on its first call.

    >>> make_fraction = deferred("fractions:Fraction")
    >>> make_fraction(1, 4)
    Fraction(1, 4)
    """
    module_name, _, name = path.partition(":")

    def construct(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module_name), name)(*args, **kwargs)

    construct.__qualname__ = construct.__name__ = f"deferred({path!r})"
    return construct


def _endpoints(env: Mapping[str, str], config: ConfigStore) -> Result[CloudEndpoints, AuthFailure]:
    """Environment, then config.yaml, then defaults. An unreadable config.yaml is a failure:
    falling back to the defaults would silently send this machine's tokens elsewhere."""
    loaded = config.load()
    if isinstance(loaded, Failure):
        return Failure(loaded.failure())
    settings = loaded.unwrap()
    from domain.endpoints import resolve_endpoints

    return resolve_endpoints(
        env, settings.cloud_host, settings.cloud_domain, settings.cloud_client_id
    )


def _identity_provider(
    endpoints: Callable[[], Result[CloudEndpoints, AuthFailure]],
    http_client: Callable[[], SharedClient],
    seen: set[str],
) -> IdentityProvider:
    def build() -> IdentityProvider:
        resolved = endpoints()
        if isinstance(resolved, Failure):
            # Login checks the settings first; logout and library callers still get a
            # failure for each call (and logout removes the local session regardless).
            from entrypoints.lazy_network import UnconfiguredIdentityProvider

            return UnconfiguredIdentityProvider(resolved.failure().message)
        from adapters.httpx_identity_provider import HttpxIdentityProvider

        return HttpxIdentityProvider(resolved.unwrap(), client=http_client())

    from entrypoints.lazy_network import LazyIdentityProvider

    return LazyIdentityProvider(build, remember=seen.add)


def _cloud_api(
    endpoints: Callable[[], Result[CloudEndpoints, AuthFailure]],
    http_client: Callable[[], SharedClient],
    clock: Clock,
    seen: set[str],
) -> CloudApi:
    def build() -> CloudApi:
        resolved = endpoints()
        if isinstance(resolved, Failure):
            from entrypoints.lazy_network import UnconfiguredCloudApi

            return UnconfiguredCloudApi(resolved.failure().message)
        from adapters.httpx_cloud_api import HttpxCloudApi

        return HttpxCloudApi(resolved.unwrap().cloud_host, clock, client=http_client())

    from entrypoints.lazy_network import LazyCloudApi

    return LazyCloudApi(build, remember=seen.add)


def _known_secrets(env: Mapping[str, str], config: ConfigStore, seen: set[str]) -> frozenset[str]:
    """Every secret this command holds: the environment's API key, the stored key (read now),
    and what it has read from the token file or been handed by the services. The CLI's
    console removes them all from whatever it prints, so server text quoting any of them (not
    only the one sent with that request) is never shown. Revealed here only to compare.
    """
    from domain.credentials import API_KEY_VARIABLE

    found = set(seen)
    raw_key = env.get(API_KEY_VARIABLE)
    if raw_key:
        found.update((raw_key, raw_key.strip()))
    settings = config.load()
    if isinstance(settings, Success) and (stored := settings.unwrap().cloud_api_key) is not None:
        found.update((stored.get_secret_value(), stored.get_secret_value().strip()))
    return frozenset(found)


def _browser(env: Mapping[str, str]) -> Browser:
    from adapters.webbrowser_browser import WebbrowserBrowser

    return WebbrowserBrowser(env)


def _login_display() -> LoginDisplay:
    from entrypoints.console import TerminalLoginDisplay

    return TerminalLoginDisplay()


class Container(containers.DeclarativeContainer):
    env = providers.Object(os.environ)
    data_dir: providers.Provider[Path] = providers.Singleton(data_directory, env)
    token_path = providers.Callable(lambda folder: folder / TOKEN_FILE_NAME, data_dir)
    config_path = providers.Callable(lambda folder: folder / CONFIG_FILE_NAME, data_dir)
    # What another user could change on the way to the data files, looked at anew on each
    # call: commands and library calls ask before anything reads the files.
    untrusted = providers.Callable(untrusted_paths, data_dir, config_path, token_path)

    clock: providers.Singleton[SystemClock] = providers.Singleton(
        deferred("adapters.system_clock:SystemClock")
    )
    sleeper: providers.Singleton[SystemSleeper] = providers.Singleton(
        deferred("adapters.system_clock:SystemSleeper")
    )
    # Told when a file's lock is held by another command for longer than a write takes; the
    # CLI says so on stderr, library callers hear nothing.
    lock_wait_notice: providers.Object[LockWaitNotice | None] = providers.Object(None)
    # Secrets this command has read from the token file or been handed by the services (a
    # device code, new tokens, a new API key): kept even after the file is gone (logout).
    seen_secrets: providers.Singleton[set[str]] = providers.Singleton(set)
    tokens: providers.Singleton[JsonFileTokenStore] = providers.Singleton(
        deferred("adapters.json_file_token_store:JsonFileTokenStore"),
        token_path,
        on_lock_wait=lock_wait_notice,
        remember=seen_secrets.provided.add,
    )
    config: providers.Singleton[YamlConfigStore] = providers.Singleton(
        deferred("adapters.yaml_config_store:YamlConfigStore"),
        config_path,
        on_lock_wait=lock_wait_notice,
    )
    endpoints = providers.Singleton(_endpoints, env, config)

    # One client for the sign-in service and the cloud API: one TLS set-up per command. A
    # command's process closes it on exit; the library API closes it after each call.
    http_client: providers.Singleton[SharedClient] = providers.Singleton(
        deferred("adapters.http_transport:SharedClient")
    )
    identity = providers.Singleton(
        _identity_provider, endpoints.provider, http_client.provider, seen_secrets
    )
    cloud = providers.Singleton(
        _cloud_api, endpoints.provider, http_client.provider, clock, seen_secrets
    )
    # Read at each call: what the console must keep out of every line it prints.
    known_secrets = providers.Callable(_known_secrets, env, config, seen_secrets)
    browser = providers.Factory(_browser, env)
    # One display per command: the login use case draws on it, the command clears it on Ctrl-C.
    login_display = providers.Singleton(_login_display)

    fresh_session: providers.Factory[EnsureFreshSession] = providers.Factory(
        deferred("application.ensure_fresh_session:EnsureFreshSession"), tokens, identity, clock
    )
    login: providers.Factory[LoginWithDeviceFlow] = providers.Factory(
        deferred("application.login_with_device_flow:LoginWithDeviceFlow"),
        identity,
        tokens,
        cloud,
        clock,
        sleeper,
        browser,
        login_display,
        fresh_session,
    )
    logout: providers.Factory[Logout] = providers.Factory(
        deferred("application.logout:Logout"), tokens, config, identity, env
    )
    status: providers.Factory[ShowStatus] = providers.Factory(
        deferred("application.show_status:ShowStatus"),
        config,
        tokens,
        cloud,
        clock,
        env,
        fresh_session,
    )
    save_api_key: providers.Factory[SaveApiKey] = providers.Factory(
        deferred("application.save_api_key:SaveApiKey"), config, cloud
    )
    create_api_key: providers.Factory[CreateApiKey] = providers.Factory(
        deferred("application.create_api_key:CreateApiKey"), fresh_session, cloud, config
    )
    remove_api_key: providers.Factory[RemoveApiKey] = providers.Factory(
        deferred("application.remove_api_key:RemoveApiKey"), config, env
    )
    add_project: providers.Factory[AddProject] = providers.Factory(
        deferred("application.add_project:AddProject"), config
    )
    remove_project: providers.Factory[RemoveProject] = providers.Factory(
        deferred("application.remove_project:RemoveProject"), config
    )
    list_projects: providers.Factory[ListProjects] = providers.Factory(
        deferred("application.list_projects:ListProjects"), config, tokens, clock, env
    )
    set_project_mode: providers.Factory[SetProjectMode] = providers.Factory(
        deferred("application.set_project_mode:SetProjectMode"), config, tokens, clock, env
    )
    obtain_credential: providers.Factory[ObtainCredential] = providers.Factory(
        deferred("application.obtain_credential:ObtainCredential"),
        config,
        tokens,
        clock,
        env,
        fresh_session,
    )
    resolve_route: providers.Factory[ResolveRoute] = providers.Factory(
        deferred("application.resolve_route:ResolveRoute"), config, env, obtain_credential
    )


def build_container(
    env: Mapping[str, str] | None = None, *, on_lock_wait: LockWaitNotice | None = None
) -> Container:
    container = Container()
    if env is not None:
        container.env.override(providers.Object(env))
    if on_lock_wait is not None:
        container.lock_wait_notice.override(providers.Object(on_lock_wait))
    return container
