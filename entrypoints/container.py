"""The composition root: one container that assembles the adapters and use cases of `bm`.

Each provider names the class it builds, or the small typed function that imports and builds
it, and wires it by keyword, so go-to-definition leads from here to the code. Commands ask
for a use case (`container.login()`) and call `execute`. Start-up stays small without
machinery here: what only some commands use is imported when a command first builds it,
the HTTP transport imports httpx only when a request is sent, and use cases that go online
only sometimes are handed the provider of their network side (`cloud.provider`), so a
command that stays offline never builds it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers
from returns.result import Failure, Result

from adapters.data_directory import (
    CONFIG_FILE_NAME,
    TOKEN_FILE_NAME,
    data_directory,
    untrusted_paths,
)
from adapters.json_file_token_store import JsonFileTokenStore
from adapters.system_clock import SystemClock, SystemSleeper
from adapters.yaml_config_store import YamlConfigStore
from domain.credentials import API_KEY_VARIABLE
from domain.endpoints import resolve_endpoints
from entrypoints.console import TerminalLoginDisplay

if TYPE_CHECKING:
    from pathlib import Path

    from adapters.atomic_files import LockWaitNotice
    from adapters.http_transport import SharedClient
    from adapters.httpx_cloud_api import HttpxCloudApi
    from adapters.httpx_identity_provider import HttpxAsyncIdentityProvider, HttpxIdentityProvider
    from adapters.keyring_vault import KeyringVault
    from adapters.webbrowser_browser import WebbrowserBrowser
    from adapters.worker_threads import ThreadedTokenStore
    from application.add_project import AddProject
    from application.create_api_key import CreateApiKey
    from application.ensure_fresh_session import EnsureFreshSession, EnsureFreshSessionAsync
    from application.list_projects import ListProjects
    from application.list_workspaces import ListWorkspaces
    from application.login_with_device_flow import LoginWithDeviceFlow
    from application.logout import Logout
    from application.move_credentials import MoveCredentials
    from application.obtain_credential import ObtainCredential, ObtainCredentialAsync
    from application.pin_project_workspace import PinProjectWorkspace
    from application.remove_api_key import RemoveApiKey
    from application.remove_project import RemoveProject
    from application.resolve_route import ResolveRoute
    from application.resolve_workspace import ResolveWorkspace
    from application.save_api_key import SaveApiKey
    from application.set_project_mode import SetProjectMode
    from application.show_status import ShowStatus
    from application.use_workspace import UseWorkspace
    from domain.endpoints import CloudEndpoints
    from domain.errors import AuthFailure
    from domain.ports import ConfigStore


def cloud_endpoints(
    env: Mapping[str, str], config: ConfigStore
) -> Result[CloudEndpoints, AuthFailure]:
    """Environment, then config.yaml, then defaults. An unreadable config.yaml is a failure:
    falling back to the defaults would silently send this machine's tokens elsewhere."""
    loaded = config.load()
    if isinstance(loaded, Failure):
        return Failure(loaded.failure())
    settings = loaded.unwrap()
    return resolve_endpoints(
        env, settings.cloud_host, settings.cloud_domain, settings.cloud_client_id
    )


def _secrets_of(env: Mapping[str, str]) -> set[str]:
    """The secrets this command holds, starting with the environment's API key; the stores
    and the services add each one they read or are handed (a device code, new tokens, a new
    key). The CLI's console removes them all from whatever it prints, so server text quoting
    any of them, not only the one sent with that request, is never shown."""
    raw = env.get(API_KEY_VARIABLE, "")
    return {raw, raw.strip()} - {""}


def _cloud_host(endpoints: Result[CloudEndpoints, AuthFailure]) -> Result[str, AuthFailure]:
    return endpoints.map(lambda chosen: chosen.cloud_host)


def keychain_service(folder: Path) -> str:
    """The keychain entries' service name: one per data folder, so two folders (a test's,
    a second account's) never read each other's secrets."""
    return f"basic-memory-cloud:{folder}"


def _keychain(**wiring: Any) -> KeyringVault:
    # Built by every command, but the keyring library is imported only by a call into it:
    # people who keep their secrets in files never load it.
    from adapters.keyring_vault import KeyringVault

    return KeyringVault(**wiring)


# The network side (the HTTP adapters and the use cases that refresh or pick a credential)
# is built by the commands that may go online; the offline ones never import it.


def _http_client() -> SharedClient:
    from adapters.http_transport import SharedClient

    return SharedClient()


def _identity(**wiring: Any) -> HttpxIdentityProvider:
    from adapters.httpx_identity_provider import HttpxIdentityProvider

    return HttpxIdentityProvider(**wiring)


def _cloud(**wiring: Any) -> HttpxCloudApi:
    from adapters.httpx_cloud_api import HttpxCloudApi

    return HttpxCloudApi(**wiring)


def _browser(**wiring: Any) -> WebbrowserBrowser:
    # Only login opens a browser. Importing the adapter brings in the ports' value types and
    # the polling rules: `bm project list` ran 2 % more instructions with it (bench/compare.py).
    from adapters.webbrowser_browser import WebbrowserBrowser

    return WebbrowserBrowser(**wiring)


def _fresh_session(**wiring: Any) -> EnsureFreshSession:
    from application.ensure_fresh_session import EnsureFreshSession

    return EnsureFreshSession(**wiring)


def _obtain_credential(**wiring: Any) -> ObtainCredential:
    from application.obtain_credential import ObtainCredential

    return ObtainCredential(**wiring)


def _async_tokens(**wiring: Any) -> ThreadedTokenStore:
    from adapters.worker_threads import ThreadedTokenStore

    return ThreadedTokenStore(**wiring)


def _async_identity(**wiring: Any) -> HttpxAsyncIdentityProvider:
    from adapters.httpx_identity_provider import HttpxAsyncIdentityProvider

    return HttpxAsyncIdentityProvider(**wiring)


def _fresh_session_async(**wiring: Any) -> EnsureFreshSessionAsync:
    from application.ensure_fresh_session import EnsureFreshSessionAsync

    return EnsureFreshSessionAsync(**wiring)


def _obtain_credential_async(**wiring: Any) -> ObtainCredentialAsync:
    from adapters.worker_threads import offload
    from application.obtain_credential import ObtainCredentialAsync

    return ObtainCredentialAsync(offload=offload, **wiring)


# Every use case is imported when a command first builds one: a command runs one or two of
# them, and each pulls in modules others do not need (the device flow, the status report,
# the workspace rules). Measured with bench/compare.py: importing the device flow, status,
# logout, key creation and workspaces up front made offline commands 5-8 % dearer, and the
# project, key and routing use cases 1.4-2.5 % more.


def _login(**wiring: Any) -> LoginWithDeviceFlow:
    from application.login_with_device_flow import LoginWithDeviceFlow

    return LoginWithDeviceFlow(**wiring)


def _logout(**wiring: Any) -> Logout:
    from application.logout import Logout

    return Logout(**wiring)


def _status(**wiring: Any) -> ShowStatus:
    from application.show_status import ShowStatus

    return ShowStatus(**wiring)


def _save_api_key(**wiring: Any) -> SaveApiKey:
    from application.save_api_key import SaveApiKey

    return SaveApiKey(**wiring)


def _create_api_key(**wiring: Any) -> CreateApiKey:
    from application.create_api_key import CreateApiKey

    return CreateApiKey(**wiring)


def _remove_api_key(**wiring: Any) -> RemoveApiKey:
    from application.remove_api_key import RemoveApiKey

    return RemoveApiKey(**wiring)


def _add_project(**wiring: Any) -> AddProject:
    from application.add_project import AddProject

    return AddProject(**wiring)


def _remove_project(**wiring: Any) -> RemoveProject:
    from application.remove_project import RemoveProject

    return RemoveProject(**wiring)


def _list_projects(**wiring: Any) -> ListProjects:
    from application.list_projects import ListProjects

    return ListProjects(**wiring)


def _set_project_mode(**wiring: Any) -> SetProjectMode:
    from application.set_project_mode import SetProjectMode

    return SetProjectMode(**wiring)


def _resolve_workspace(**wiring: Any) -> ResolveWorkspace:
    from application.resolve_workspace import ResolveWorkspace

    return ResolveWorkspace(**wiring)


def _resolve_route(**wiring: Any) -> ResolveRoute:
    from application.resolve_route import ResolveRoute

    return ResolveRoute(**wiring)


def _list_workspaces(**wiring: Any) -> ListWorkspaces:
    from application.list_workspaces import ListWorkspaces

    return ListWorkspaces(**wiring)


def _pin_project_workspace(**wiring: Any) -> PinProjectWorkspace:
    from application.pin_project_workspace import PinProjectWorkspace

    return PinProjectWorkspace(**wiring)


def _move_credentials(**wiring: Any) -> MoveCredentials:
    from application.move_credentials import MoveCredentials

    return MoveCredentials(**wiring)


def _use_workspace(**wiring: Any) -> UseWorkspace:
    from application.use_workspace import UseWorkspace

    return UseWorkspace(**wiring)


class Container(containers.DeclarativeContainer):
    env: providers.Provider[Mapping[str, str]] = providers.Object(os.environ)
    data_dir: providers.Provider[Path] = providers.Singleton(data_directory, env=env)
    token_path = providers.Callable(lambda folder: folder / TOKEN_FILE_NAME, data_dir)
    config_path = providers.Callable(lambda folder: folder / CONFIG_FILE_NAME, data_dir)
    # What another user could change on the way to the data files, looked at anew on each
    # call: commands and library calls ask before anything reads the files.
    untrusted = providers.Callable(
        untrusted_paths, folder=data_dir, config=config_path, tokens=token_path
    )

    # Grows as the command runs; a secret since removed (logout) stays known.
    known_secrets = providers.Singleton(_secrets_of, env=env)
    remember = known_secrets.provided.add

    clock = providers.Singleton(SystemClock)
    sleeper = providers.Singleton(SystemSleeper)
    # Told when a file's lock is held by another command for longer than a write takes; the
    # CLI says so on stderr, library callers hear nothing.
    lock_wait_notice: providers.Provider[LockWaitNotice | None] = providers.Object(None)
    keychain = providers.Singleton(
        _keychain, service=providers.Callable(keychain_service, data_dir), remember=remember
    )
    config = providers.Singleton(
        YamlConfigStore,
        path=config_path,
        on_lock_wait=lock_wait_notice,
        remember=remember,
        vault=keychain,
        env=env,
    )
    # Where new secrets go, asked on each write (reads config.yaml, never the keychain).
    store_choice = config.provided.chosen_store
    tokens = providers.Singleton(
        JsonFileTokenStore,
        path=token_path,
        on_lock_wait=lock_wait_notice,
        remember=remember,
        vault=keychain,
        choose=store_choice,
    )
    endpoints = providers.Singleton(cloud_endpoints, env=env, config=config)

    # One HTTP client per command (per thread, for library callers) for the sign-in service
    # and the cloud API: one TLS set-up. A command's process closes it on exit; the library
    # API closes it after each call.
    http_client = providers.Singleton(_http_client)
    identity = providers.Singleton(
        _identity, endpoints=endpoints, client=http_client, remember=remember
    )
    cloud = providers.Singleton(
        _cloud,
        cloud_host=providers.Callable(_cloud_host, endpoints),
        clock=clock,
        client=http_client,
        remember=remember,
    )
    browser = providers.Factory(_browser, env=env)
    # One display per command: the login use case draws on it, the command clears it on Ctrl-C.
    login_display = providers.Singleton(TerminalLoginDisplay)

    fresh_session = providers.Factory(_fresh_session, tokens=tokens, identity=identity, clock=clock)
    login = providers.Factory(
        _login,
        identity=identity,
        tokens=tokens,
        cloud=cloud,
        clock=clock,
        sleeper=sleeper,
        browser=browser,
        display=login_display,
        fresh_session=fresh_session,
    )
    logout = providers.Factory(_logout, tokens=tokens, config=config, identity=identity, env=env)
    # `.provider` hands over the provider itself, called only when the use case goes online:
    # `status --offline` and a save without --verify build no HTTP adapter (3 % fewer
    # instructions, bench/compare.py).
    status = providers.Factory(
        _status,
        config=config,
        tokens=tokens,
        cloud=cloud.provider,
        clock=clock,
        env=env,
        fresh_session=fresh_session.provider,
        store_choice=store_choice,
        keychain=keychain,
    )
    save_api_key = providers.Factory(_save_api_key, config=config, cloud=cloud.provider)
    create_api_key = providers.Factory(
        _create_api_key, fresh_session=fresh_session, cloud=cloud, config=config
    )
    remove_api_key = providers.Factory(_remove_api_key, config=config, env=env)
    add_project = providers.Factory(_add_project, config=config)
    remove_project = providers.Factory(_remove_project, config=config)
    list_projects = providers.Factory(
        _list_projects, config=config, tokens=tokens, clock=clock, env=env
    )
    set_project_mode = providers.Factory(
        _set_project_mode, config=config, tokens=tokens, clock=clock, env=env
    )
    obtain_credential = providers.Factory(
        _obtain_credential,
        config=config,
        tokens=tokens,
        clock=clock,
        env=env,
        fresh_session=fresh_session,
    )
    # The library's async auth: the same files and rules for a caller on an event loop.
    async_tokens = providers.Singleton(_async_tokens, tokens=tokens)
    async_identity = providers.Singleton(_async_identity, endpoints=endpoints)
    fresh_session_async = providers.Factory(
        _fresh_session_async, tokens=async_tokens, identity=async_identity, clock=clock
    )
    obtain_credential_async = providers.Factory(
        _obtain_credential_async,
        config=config,
        credentials=obtain_credential,
        fresh_session=fresh_session_async,
    )
    resolve_workspace = providers.Factory(_resolve_workspace, tokens=tokens, cloud=cloud)
    resolve_route = providers.Factory(
        _resolve_route,
        config=config,
        env=env,
        credentials=obtain_credential,
        workspaces=resolve_workspace,
    )
    list_workspaces = providers.Factory(
        _list_workspaces,
        config=config,
        tokens=tokens,
        cloud=cloud,
        credentials=obtain_credential,
        env=env,
    )
    pin_project_workspace = providers.Factory(
        _pin_project_workspace, config=config, cloud=cloud, credentials=obtain_credential
    )
    use_workspace = providers.Factory(
        _use_workspace, fresh_session=fresh_session, cloud=cloud, config=config
    )
    move_credentials = providers.Factory(_move_credentials, tokens=tokens, config=config, env=env)


def build_container(
    env: Mapping[str, str] | None = None, *, on_lock_wait: LockWaitNotice | None = None
) -> Container:
    container = Container()
    if env is not None:
        container.env.override(providers.Object(env))
    if on_lock_wait is not None:
        container.lock_wait_notice.override(providers.Object(on_lock_wait))
    return container
