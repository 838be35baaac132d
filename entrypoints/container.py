"""The composition root: one container that assembles adapters and use cases for the CLI.

Network adapters are built by small functions that import them on first use, so commands
that never touch the network never import httpx.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from dependency_injector import containers, providers
from returns.result import Failure, Result

from adapters.data_directory import CONFIG_FILE_NAME, TOKEN_FILE_NAME, data_directory
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
from domain.endpoints import CloudEndpoints, resolve_endpoints
from domain.errors import AuthFailure
from domain.ports import Browser, Clock, CloudApi, ConfigStore, IdentityProvider, LoginDisplay
from entrypoints.lazy_network import (
    LazyCloudApi,
    LazyIdentityProvider,
    UnconfiguredCloudApi,
    UnconfiguredIdentityProvider,
)


def _endpoints(env: Mapping[str, str], config: ConfigStore) -> Result[CloudEndpoints, AuthFailure]:
    """Environment, then config.yaml, then defaults. An unreadable config.yaml is a failure:
    falling back to the defaults would silently send this machine's tokens elsewhere."""
    loaded = config.load()
    if isinstance(loaded, Failure):
        return Failure(loaded.failure())
    settings = loaded.unwrap()
    return resolve_endpoints(
        env, settings.cloud_host, settings.cloud_domain, settings.cloud_client_id
    )


def _identity_provider(
    endpoints: Callable[[], Result[CloudEndpoints, AuthFailure]],
) -> IdentityProvider:
    def build() -> IdentityProvider:
        resolved = endpoints()
        if isinstance(resolved, Failure):
            # Login checks the settings first; logout and library callers still get a
            # failure for each call (and logout removes the local session regardless).
            return UnconfiguredIdentityProvider(resolved.failure().message)
        from adapters.httpx_identity_provider import HttpxIdentityProvider

        return HttpxIdentityProvider(resolved.unwrap())

    return LazyIdentityProvider(build)


def _cloud_api(
    endpoints: Callable[[], Result[CloudEndpoints, AuthFailure]], clock: Clock
) -> CloudApi:
    def build() -> CloudApi:
        resolved = endpoints()
        if isinstance(resolved, Failure):
            return UnconfiguredCloudApi(resolved.failure().message)
        from adapters.httpx_cloud_api import HttpxCloudApi

        return HttpxCloudApi(resolved.unwrap().cloud_host, clock)

    return LazyCloudApi(build)


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

    clock = providers.Singleton(SystemClock)
    sleeper = providers.Singleton(SystemSleeper)
    tokens = providers.Singleton(JsonFileTokenStore, token_path)
    config = providers.Singleton(YamlConfigStore, config_path)
    endpoints = providers.Singleton(_endpoints, env, config)

    identity = providers.Singleton(_identity_provider, endpoints.provider)
    cloud = providers.Singleton(_cloud_api, endpoints.provider, clock)
    browser = providers.Factory(_browser, env)
    # One display per command: the login use case draws on it, the command clears it on Ctrl-C.
    login_display = providers.Singleton(_login_display)

    fresh_session = providers.Factory(EnsureFreshSession, tokens, identity, clock)
    login = providers.Factory(
        LoginWithDeviceFlow,
        identity,
        tokens,
        cloud,
        clock,
        sleeper,
        browser,
        login_display,
        fresh_session,
    )
    logout = providers.Factory(Logout, tokens, config, identity, env)
    status = providers.Factory(ShowStatus, config, tokens, cloud, clock, env, fresh_session)
    save_api_key = providers.Factory(SaveApiKey, config, cloud)
    create_api_key = providers.Factory(CreateApiKey, fresh_session, cloud, config)
    remove_api_key = providers.Factory(RemoveApiKey, config, env)
    add_project = providers.Factory(AddProject, config)
    remove_project = providers.Factory(RemoveProject, config)
    list_projects = providers.Factory(ListProjects, config, tokens, clock, env)
    set_project_mode = providers.Factory(SetProjectMode, config, tokens, clock, env)
    obtain_credential = providers.Factory(
        ObtainCredential, config, tokens, clock, env, fresh_session
    )
    resolve_route = providers.Factory(ResolveRoute, config, env, obtain_credential)


def build_container(env: Mapping[str, str] | None = None) -> Container:
    container = Container()
    if env is not None:
        container.env.override(providers.Object(env))
    return container
