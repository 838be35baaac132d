"""Network ports that build their httpx adapter on first use, so offline commands never
import httpx (it costs more start-up time than the whole rest of an offline command)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from pydantic import SecretStr
from returns.result import Result

from domain.credentials import Credential
from domain.ports import (
    CloudApi,
    CloudFailure,
    CreatedApiKey,
    DeviceAuthorization,
    DeviceStartFailure,
    HealthReport,
    IdentityProvider,
    PollFailure,
    RefreshFailure,
)
from domain.session import TokenResponse


class LazyIdentityProvider:
    def __init__(self, build: Callable[[], IdentityProvider]) -> None:
        self._build = build

    @cached_property
    def _real(self) -> IdentityProvider:
        return self._build()

    def start_device_authorization(
        self, code_challenge: str
    ) -> Result[DeviceAuthorization, DeviceStartFailure]:
        return self._real.start_device_authorization(code_challenge)

    def poll_device_token(
        self, device_code: SecretStr, code_verifier: str
    ) -> Result[TokenResponse, PollFailure]:
        return self._real.poll_device_token(device_code, code_verifier)

    def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        return self._real.refresh(refresh_token)

    def revoke(self, refresh_token: SecretStr) -> Result[None, DeviceStartFailure]:
        return self._real.revoke(refresh_token)


class LazyCloudApi:
    def __init__(self, build: Callable[[], CloudApi]) -> None:
        self._build = build

    @cached_property
    def _real(self) -> CloudApi:
        return self._build()

    def check_health(self, credential: Credential) -> Result[HealthReport, CloudFailure]:
        return self._real.check_health(credential)

    def create_api_key(
        self, access_token: SecretStr, name: str
    ) -> Result[CreatedApiKey, CloudFailure]:
        return self._real.create_api_key(access_token, name)
