"""HttpxIdentityProvider hands a token answer's OpenID Connect id_token to the domain (SPEC §9)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from returns.result import Success

from adapters.httpx_identity_provider import HttpxIdentityProvider
from domain.endpoints import CloudEndpoints
from domain.session import TokenResponse
from tests.integration.http.scripted_server import Answer, ScriptedServer

ID_TOKEN = "e30.eyJzdWIiOiJ1MSIsImVtYWlsIjoiYUBleGFtcGxlLmNvbSJ9.c2ln"


@pytest.fixture
def provider(
    server: ScriptedServer, shared_client: httpx.Client
) -> Iterator[HttpxIdentityProvider]:
    endpoints = CloudEndpoints(
        cloud_host=server.base_url, cloud_domain=server.base_url, client_id="client_test"
    )
    with HttpxIdentityProvider(endpoints, client=shared_client) as adapter:
        yield adapter


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"id_token": ID_TOKEN}, SecretStr(ID_TOKEN)),
        ({"id_token": ""}, None),
        ({"id_token": 7}, None),
        ({}, None),
    ],
)
def test_the_id_token_is_passed_on_when_it_is_a_string(
    server: ScriptedServer,
    provider: HttpxIdentityProvider,
    extra: dict[str, object],
    expected: SecretStr | None,
) -> None:
    server.script("/oauth2/token", Answer(200, {"access_token": "opaque", **extra}))

    answer = provider.refresh(SecretStr("refresh"))

    assert answer == Success(TokenResponse(access_token=SecretStr("opaque"), id_token=expected))
