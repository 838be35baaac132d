"""Network ports that build their httpx adapter on first use, so offline commands never
import httpx (it costs more start-up time than the whole rest of an offline command), and
stand-ins for when the settings do not allow any network call.

The lazy ports also tell `remember` every secret the services hand this process (a device
code, new tokens, a new API key), so the console can keep them out of anything it prints
even before, or without, their being saved.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from returns.result import Failure, Result, Success

from domain.errors import ServiceUnreachable

if TYPE_CHECKING:
    from pydantic import SecretStr

    from domain.credentials import Credential
    from domain.ports import (
        CloudApi,
        CloudFailure,
        CreatedApiKey,
        DeviceAuthorization,
        HealthReport,
        IdentityProvider,
        OAuthCallFailure,
        PollFailure,
        RefreshFailure,
    )
    from domain.session import TokenResponse


Remember = Callable[[str], None]
_F = TypeVar("_F")


def _forget(_: str) -> None:
    """The default `remember`: callers that print nothing (the library) need no list."""


class LazyIdentityProvider:
    def __init__(self, build: Callable[[], IdentityProvider], remember: Remember = _forget) -> None:
        self._build = build
        self._remember = remember

    @cached_property
    def _real(self) -> IdentityProvider:
        return self._build()

    def start_device_authorization(
        self, code_challenge: str
    ) -> Result[DeviceAuthorization, OAuthCallFailure]:
        started = self._real.start_device_authorization(code_challenge)
        if isinstance(started, Success):
            self._remember(started.unwrap().device_code.get_secret_value())
        return started

    def poll_device_token(
        self, device_code: SecretStr, code_verifier: str, within: float | None = None
    ) -> Result[TokenResponse, PollFailure]:
        self._remember(code_verifier)
        return self._issued(self._real.poll_device_token(device_code, code_verifier, within))

    def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        return self._issued(self._real.refresh(refresh_token))

    def revoke(self, refresh_token: SecretStr) -> Result[None, OAuthCallFailure]:
        return self._real.revoke(refresh_token)

    def _issued(self, answer: Result[TokenResponse, _F]) -> Result[TokenResponse, _F]:
        if isinstance(answer, Success):
            tokens = answer.unwrap()
            self._remember(tokens.access_token.get_secret_value())
            if tokens.refresh_token is not None:
                self._remember(tokens.refresh_token.get_secret_value())
        return answer


class LazyCloudApi:
    def __init__(self, build: Callable[[], CloudApi], remember: Remember = _forget) -> None:
        self._build = build
        self._remember = remember

    @cached_property
    def _real(self) -> CloudApi:
        return self._build()

    def check_health(self, credential: Credential) -> Result[HealthReport, CloudFailure]:
        return self._real.check_health(credential)

    def create_api_key(
        self, access_token: SecretStr, name: str
    ) -> Result[CreatedApiKey, CloudFailure]:
        created = self._real.create_api_key(access_token, name)
        if isinstance(created, Success):
            self._remember(created.unwrap().key.value.get_secret_value())
        return created


class UnconfiguredIdentityProvider:
    """Stands in when the settings are unusable: every call fails, naming the setting."""

    SERVICE = "the sign-in service"

    def __init__(self, problem: str) -> None:
        self._failure = ServiceUnreachable(self.SERVICE, f"not contacted: {problem}", settings=True)

    def start_device_authorization(
        self, code_challenge: str
    ) -> Result[DeviceAuthorization, OAuthCallFailure]:
        return Failure(self._failure)

    def poll_device_token(
        self, device_code: SecretStr, code_verifier: str, within: float | None = None
    ) -> Result[TokenResponse, PollFailure]:
        return Failure(self._failure)

    def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        return Failure(self._failure)

    def revoke(self, refresh_token: SecretStr) -> Result[None, OAuthCallFailure]:
        return Failure(self._failure)


class UnconfiguredCloudApi:
    """Stands in when the settings are unusable: every call fails, naming the setting."""

    def __init__(self, problem: str) -> None:
        self._failure = ServiceUnreachable(
            "the cloud API", f"not contacted: {problem}", settings=True
        )

    def check_health(self, credential: Credential) -> Result[HealthReport, CloudFailure]:
        return Failure(self._failure)

    def create_api_key(
        self, access_token: SecretStr, name: str
    ) -> Result[CreatedApiKey, CloudFailure]:
        return Failure(self._failure)
