"""Collect the credentials this machine holds: the environment's key, the config's, the session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from domain.api_key import ApiKey, parse_api_key
from domain.credentials import API_KEY_VARIABLE, AvailableCredentials
from domain.errors import InvalidApiKey

if TYPE_CHECKING:
    from domain.config import AppConfig
    from domain.errors import StorageFailure
    from domain.ports import TokenStore

    GatherFailure = InvalidApiKey | StorageFailure

CONFIG_KEY_PLACE = "cloud_api_key in config.yaml"


def _checked(raw: str, where: str) -> Result[ApiKey | None, InvalidApiKey]:
    parsed = parse_api_key(raw)
    if isinstance(parsed, Failure):
        return Failure(InvalidApiKey(f"{parsed.failure().reason}; found in {where}"))
    return Success(parsed.unwrap())


def env_api_key(env: Mapping[str, str]) -> Result[ApiKey | None, InvalidApiKey]:
    """The key exported for this process; an empty variable counts as unset."""
    raw = env.get(API_KEY_VARIABLE)
    if raw is None or not raw.strip():
        return Success(None)
    return _checked(raw, API_KEY_VARIABLE)


def config_api_key(config: AppConfig) -> Result[ApiKey | None, InvalidApiKey]:
    if config.cloud_api_key is None:
        return Success(None)
    return _checked(config.cloud_api_key.get_secret_value(), CONFIG_KEY_PLACE)


def gather(
    env: Mapping[str, str], config: AppConfig, tokens: TokenStore
) -> Result[AvailableCredentials, GatherFailure]:
    """Everything usable; a malformed key is reported rather than silently skipped."""
    from_env = env_api_key(env)
    if isinstance(from_env, Failure):
        return Failure(from_env.failure())
    from_config = config_api_key(config)
    if isinstance(from_config, Failure):
        return Failure(from_config.failure())
    loaded = tokens.load()
    if isinstance(loaded, Failure):
        return Failure(loaded.failure())
    return Success(
        AvailableCredentials(
            env_api_key=from_env.unwrap(),
            config_api_key=from_config.unwrap(),
            session=loaded.unwrap(),
        )
    )
