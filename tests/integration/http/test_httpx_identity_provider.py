"""HttpxIdentityProvider against a scripted loopback server: what it sends, how answers map."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from adapters.httpx_identity_provider import (
    DEVICE_CODE_GRANT,
    SCOPE,
    SERVICE,
    HttpxIdentityProvider,
)
from domain.endpoints import CloudEndpoints
from domain.errors import (
    AccessDenied,
    DeviceCodeExpired,
    MalformedResponse,
    ProviderError,
    ServerError,
    ServiceUnreachable,
    SessionExpired,
)
from domain.pkce import s256_challenge
from domain.polling import AuthorizationPending, SlowDown
from domain.ports import DeviceAuthorization
from domain.session import TokenResponse
from tests.integration.http.scripted_server import Answer, Drop, Hang, ScriptedServer

CLIENT_ID = "client_test_123"
VERIFIER = "verifier-" + "v" * 40
DEVICE_CANARY = "CANARY-DEVICE-CODE-7f3a"
REFRESH_CANARY = "CANARY-REFRESH-TOKEN-91bd"
ACCESS_CANARY = "CANARY-ACCESS-TOKEN-55e2"
DEVICE = "/oauth2/device_authorization"
TOKEN = "/oauth2/token"
REVOKE = "/oauth2/revoke"

DEVICE_BODY: dict[str, Any] = {
    "device_code": DEVICE_CANARY,
    "user_code": "BCDF-GHJK",
    "verification_uri": "https://auth.example.com/device",
    "verification_uri_complete": "https://auth.example.com/device?user_code=BCDF-GHJK",
    "expires_in": 300,
    "interval": 5,
}


def _endpoints(base_url: str) -> CloudEndpoints:
    return CloudEndpoints(cloud_host=base_url, cloud_domain=base_url, client_id=CLIENT_ID)


@pytest.fixture
def provider(
    server: ScriptedServer, shared_client: httpx.Client
) -> Iterator[HttpxIdentityProvider]:
    with HttpxIdentityProvider(_endpoints(server.base_url), client=shared_client) as adapter:
        yield adapter


def _poll(provider: HttpxIdentityProvider) -> Any:
    return provider.poll_device_token(SecretStr(DEVICE_CANARY), VERIFIER)


def _assert_no_secret(failure: object) -> None:
    shown = f"{failure!s} {failure!r} {getattr(failure, 'message', '')}"
    for canary in (DEVICE_CANARY, REFRESH_CANARY, ACCESS_CANARY, VERIFIER):
        assert canary not in shown


# Device authorization -------------------------------------------------------------------------


def test_device_authorization_sends_client_scope_and_pkce(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(DEVICE, Answer(200, DEVICE_BODY))
    challenge = s256_challenge(VERIFIER)

    result = provider.start_device_authorization(challenge)

    assert result == Success(
        DeviceAuthorization(
            device_code=SecretStr(DEVICE_CANARY),
            user_code="BCDF-GHJK",
            verification_uri="https://auth.example.com/device",
            expires_in=300,
            interval=5,
            verification_uri_complete="https://auth.example.com/device?user_code=BCDF-GHJK",
        )
    )
    sent = server.last(DEVICE)
    assert sent.method == "POST"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.form == {
        "client_id": CLIENT_ID,
        "scope": SCOPE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    assert SCOPE == "openid profile email offline_access"


def test_device_authorization_optional_fields_may_be_absent(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    body = {
        k: v for k, v in DEVICE_BODY.items() if k not in ("interval", "verification_uri_complete")
    }
    server.script(DEVICE, Answer(200, body))

    authorization = provider.start_device_authorization("challenge").unwrap()

    assert authorization.interval is None
    assert authorization.verification_uri_complete is None
    assert authorization.url_to_open == "https://auth.example.com/device"


def test_fractional_seconds_are_rounded_the_safe_way(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(DEVICE, Answer(200, {**DEVICE_BODY, "interval": 0.05, "expires_in": "2.5"}))
    server.script(TOKEN, Answer(200, {"access_token": "a", "expires_in": 299.9}))

    authorization = provider.start_device_authorization("c").unwrap()
    tokens = _poll(provider).unwrap()

    assert (authorization.interval, authorization.expires_in) == (1, 3)
    assert tokens.expires_in == 299


@pytest.mark.parametrize("missing", ["device_code", "user_code", "verification_uri", "expires_in"])
def test_device_authorization_names_a_missing_field(
    server: ScriptedServer, provider: HttpxIdentityProvider, missing: str
) -> None:
    server.script(DEVICE, Answer(200, {k: v for k, v in DEVICE_BODY.items() if k != missing}))

    result = provider.start_device_authorization("challenge")

    assert result == Failure(MalformedResponse(SERVICE, f"the answer has no {missing}"))


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("device_code", 12345, "the answer has no device_code"),
        ("user_code", "", "the answer has no user_code"),
        ("expires_in", "soon", "expires_in is not a positive number of seconds"),
        ("expires_in", 0, "expires_in is not a positive number of seconds"),
        ("expires_in", True, "expires_in is not a positive number of seconds"),
        ("user_code", "AB\x1b[2JCD", "user_code is not a short printable code"),
        ("verification_uri", "file:///etc/passwd", "verification_uri is not an https:// URL"),
        ("verification_uri", "--proxy-server=evil", "verification_uri is not an https:// URL"),
        (
            "verification_uri",
            "http://auth.example.com/device",
            "verification_uri is not an https:// URL",
        ),
    ],
)
def test_device_authorization_refuses_unusable_values(
    server: ScriptedServer,
    provider: HttpxIdentityProvider,
    field: str,
    value: object,
    problem: str,
) -> None:
    server.script(DEVICE, Answer(200, {**DEVICE_BODY, field: value}))

    assert provider.start_device_authorization("c") == Failure(MalformedResponse(SERVICE, problem))


def test_device_authorization_ignores_unusable_optional_values(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    body = {**DEVICE_BODY, "interval": "fast", "verification_uri_complete": "javascript:alert(1)"}
    server.script(DEVICE, Answer(200, body))

    authorization = provider.start_device_authorization("c").unwrap()

    assert authorization.interval is None
    assert authorization.verification_uri_complete is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Answer(200, raw=b"<html>maintenance</html>"),
            MalformedResponse(SERVICE, "HTTP 200 with a body that is not JSON"),
        ),
        (
            Answer(200, ["device_code"]),
            MalformedResponse(SERVICE, "HTTP 200 with JSON that is not an object"),
        ),
        (Answer(503, raw=b"unavailable"), ServerError(SERVICE, 503)),
        (Answer(500, {"error": "server_error"}), ServerError(SERVICE, 500)),
        (Answer(429, raw=b""), ServerError(SERVICE, 429)),
        (
            Answer(400, {"error": "invalid_client", "error_description": "Unknown client"}),
            ProviderError("invalid_client", "Unknown client"),
        ),
        (Answer(404, raw=b"Not Found"), ProviderError("HTTP 404")),
        (
            Answer(301, raw=b"", headers=(("Location", "https://elsewhere.example"),)),
            ProviderError("HTTP 301", "a redirect, which is not followed"),
        ),
    ],
)
def test_device_authorization_failures(
    server: ScriptedServer, provider: HttpxIdentityProvider, answer: Answer, expected: object
) -> None:
    server.script(DEVICE, answer)

    assert provider.start_device_authorization("c") == Failure(expected)


# Polling the token endpoint --------------------------------------------------------------------


def test_poll_sends_the_device_code_grant(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(TOKEN, Answer(400, {"error": "authorization_pending"}))

    _poll(provider)

    assert server.last(TOKEN).form == {
        "grant_type": DEVICE_CODE_GRANT,
        "device_code": DEVICE_CANARY,
        "client_id": CLIENT_ID,
        "code_verifier": VERIFIER,
    }
    assert DEVICE_CODE_GRANT == "urn:ietf:params:oauth:grant-type:device_code"


@pytest.mark.parametrize("status", [400, 401, 403])
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("authorization_pending", AuthorizationPending()),
        ("slow_down", SlowDown()),
        ("access_denied", AccessDenied()),
        ("expired_token", DeviceCodeExpired()),
        ("invalid_grant", ProviderError("invalid_grant", "The code is wrong")),
        ("invalid_client", ProviderError("invalid_client", "The code is wrong")),
    ],
)
def test_poll_maps_oauth_error_codes(
    server: ScriptedServer,
    provider: HttpxIdentityProvider,
    status: int,
    code: str,
    expected: object,
) -> None:
    server.script(TOKEN, Answer(status, {"error": code, "error_description": "The code is wrong"}))

    assert _poll(provider) == Failure(expected)


def test_poll_error_in_a_200_body_is_believed(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(TOKEN, Answer(200, {"error": "authorization_pending"}))

    assert _poll(provider) == Failure(AuthorizationPending())


def test_poll_success_is_parsed_in_full(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    body = {
        "access_token": ACCESS_CANARY,
        "refresh_token": REFRESH_CANARY,
        "expires_in": 300,
        "token_type": "Bearer",
        "user": {"id": "user_01", "email": "alice@example.com", "first_name": "Alice"},
        "authentication_method": "GoogleOAuth",
    }
    server.script(TOKEN, Answer(200, body))

    assert _poll(provider) == Success(
        TokenResponse(
            access_token=SecretStr(ACCESS_CANARY),
            refresh_token=SecretStr(REFRESH_CANARY),
            expires_in=300,
            user_id="user_01",
            email="alice@example.com",
        )
    )


@pytest.mark.parametrize(
    "body",
    [
        {"access_token": "only-this"},
        {"access_token": "only-this", "refresh_token": None, "expires_in": "later", "user": "x"},
        {"access_token": "only-this", "refresh_token": "", "expires_in": None, "user": {"id": 7}},
        {"access_token": "only-this", "token_type": 3, "user": {"id": "\x1b", "email": ""}},
    ],
)
def test_poll_success_needs_only_an_access_token(
    server: ScriptedServer, provider: HttpxIdentityProvider, body: dict[str, Any]
) -> None:
    server.script(TOKEN, Answer(200, body))

    assert _poll(provider) == Success(TokenResponse(access_token=SecretStr("only-this")))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Answer(200, {"refresh_token": REFRESH_CANARY}),
            MalformedResponse(SERVICE, "the answer has no access_token"),
        ),
        (
            Answer(200, {"access_token": 42}),
            MalformedResponse(SERVICE, "the answer has no access_token"),
        ),
        (
            Answer(200, raw=b"{not json"),
            MalformedResponse(SERVICE, "HTTP 200 with a body that is not JSON"),
        ),
        (
            Answer(200, [ACCESS_CANARY]),
            MalformedResponse(SERVICE, "HTTP 200 with JSON that is not an object"),
        ),
        (Answer(502, raw=b"Bad Gateway"), ServerError(SERVICE, 502)),
        (Answer(504, {"error": "authorization_pending"}), ServerError(SERVICE, 504)),
        (Answer(400, raw=b"Bad Request"), ProviderError("HTTP 400")),
        (Answer(400, {"error": 5}), ProviderError("HTTP 400")),
    ],
)
def test_poll_failures(
    server: ScriptedServer, provider: HttpxIdentityProvider, answer: Answer, expected: object
) -> None:
    server.script(TOKEN, answer)

    assert _poll(provider) == Failure(expected)


def test_provider_error_text_is_printable_and_short(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    body = {"error": "weird\x1b[31m_error", "error_description": "\x07" + "d" * 500 + "\x1b[0m"}
    server.script(TOKEN, Answer(400, body))

    failure = _poll(provider).failure()

    assert isinstance(failure, ProviderError)
    assert failure.error == "weird[31m_error"
    assert len(failure.description) == 200
    assert failure.description.isprintable()
    assert failure.message.isprintable()


# Refresh and revoke ------------------------------------------------------------------------------


def test_refresh_sends_the_refresh_grant_and_reads_the_rotated_pair(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(
        TOKEN,
        Answer(200, {"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 300}),
    )

    result = provider.refresh(SecretStr(REFRESH_CANARY))

    assert result == Success(
        TokenResponse(
            access_token=SecretStr("access-2"),
            refresh_token=SecretStr("refresh-2"),
            expires_in=300,
        )
    )
    assert server.last(TOKEN).form == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_CANARY,
        "client_id": CLIENT_ID,
    }


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Answer(400, {"error": "invalid_grant", "error_description": "Refresh token reused"}),
            SessionExpired(),
        ),
        (Answer(401, {"error": "invalid_grant"}), SessionExpired()),
        (Answer(400, {"error": "invalid_client"}), ProviderError("invalid_client")),
        (Answer(500, raw=b""), ServerError(SERVICE, 500)),
        (
            Answer(200, {"token_type": "Bearer"}),
            MalformedResponse(SERVICE, "the answer has no access_token"),
        ),
    ],
)
def test_refresh_failures(
    server: ScriptedServer, provider: HttpxIdentityProvider, answer: Answer, expected: object
) -> None:
    server.script(TOKEN, answer)

    assert provider.refresh(SecretStr(REFRESH_CANARY)) == Failure(expected)


def test_revoke_sends_rfc_7009_fields(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(REVOKE, Answer(200, raw=b""))

    assert provider.revoke(SecretStr(REFRESH_CANARY)) == Success(None)
    assert server.last(REVOKE).form == {
        "token": REFRESH_CANARY,
        "token_type_hint": "refresh_token",
        "client_id": CLIENT_ID,
    }


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(400, {"error": "unsupported_token_type"}), ProviderError("unsupported_token_type")),
        (Answer(503, raw=b""), ServerError(SERVICE, 503)),
        (Answer(404, raw=b"nope"), ProviderError("HTTP 404")),
    ],
)
def test_revoke_failures(
    server: ScriptedServer, provider: HttpxIdentityProvider, answer: Answer, expected: object
) -> None:
    server.script(REVOKE, answer)

    assert provider.revoke(SecretStr(REFRESH_CANARY)) == Failure(expected)


# Transport faults -------------------------------------------------------------------------------


def test_connection_refused_is_service_unreachable(closed_port_url: str) -> None:
    with HttpxIdentityProvider(_endpoints(closed_port_url)) as adapter:
        assert adapter.start_device_authorization("c") == Failure(
            ServiceUnreachable(SERVICE, "connection refused")
        )
        assert adapter.refresh(SecretStr(REFRESH_CANARY)) == Failure(
            ServiceUnreachable(SERVICE, "connection refused")
        )


def test_dropped_connection_while_polling(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(TOKEN, Drop(), Answer(400, {"error": "authorization_pending"}))

    first = _poll(provider)
    second = _poll(provider)

    assert first == Failure(
        ServiceUnreachable(SERVICE, "the connection closed before a complete answer")
    )
    assert second == Failure(AuthorizationPending())


def test_a_silent_server_times_out_within_the_configured_timeout(server: ScriptedServer) -> None:
    server.script(TOKEN, Hang())
    started = time.monotonic()

    with HttpxIdentityProvider(_endpoints(server.base_url), timeout=0.5) as adapter:
        result = _poll(adapter)

    assert result == Failure(ServiceUnreachable(SERVICE, "timed out after 0.5s"))
    assert time.monotonic() - started < 5.0


def test_a_shared_client_is_used_and_left_open(server: ScriptedServer) -> None:
    server.script(REVOKE, Answer(200, {}))
    with httpx.Client(headers={"X-Shared": "yes"}) as client:
        with HttpxIdentityProvider(_endpoints(server.base_url), client=client) as adapter:
            assert adapter.revoke(SecretStr("r")) == Success(None)
        assert not client.is_closed
    assert server.last(REVOKE).headers["x-shared"] == "yes"


# Secrets and plain http -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 400, 401])
def test_a_secret_echoed_by_the_server_never_reaches_a_failure(
    server: ScriptedServer, provider: HttpxIdentityProvider, status: int
) -> None:
    # A server can only echo what it was sent: each call is checked for its own secrets.
    poll_echo = f"device code {DEVICE_CANARY} with verifier {VERIFIER} is unknown"
    server.script(
        TOKEN, Answer(status, {"error": f"odd_{DEVICE_CANARY}", "error_description": poll_echo})
    )
    poll_failure = _poll(provider).failure()
    refresh_echo = f"refresh token {REFRESH_CANARY} is unknown"
    server.script(
        TOKEN, Answer(status, {"error": "invalid_request", "error_description": refresh_echo})
    )
    server.script(REVOKE, Answer(400, {"error": REFRESH_CANARY, "error_description": refresh_echo}))
    refresh_failure = provider.refresh(SecretStr(REFRESH_CANARY)).failure()
    revoke_failure = provider.revoke(SecretStr(REFRESH_CANARY)).failure()

    assert poll_failure == ProviderError("odd_…", "device code … with verifier … is unknown")
    assert refresh_failure == ProviderError("invalid_request", "refresh token … is unknown")
    assert revoke_failure == ProviderError("…", "refresh token … is unknown")
    for failure in (poll_failure, refresh_failure, revoke_failure):
        _assert_no_secret(failure)


def test_successful_results_do_not_show_their_secrets(
    server: ScriptedServer, provider: HttpxIdentityProvider
) -> None:
    server.script(DEVICE, Answer(200, DEVICE_BODY))
    server.script(
        TOKEN, Answer(200, {"access_token": ACCESS_CANARY, "refresh_token": REFRESH_CANARY})
    )

    shown = repr(provider.start_device_authorization("c")) + repr(_poll(provider))

    _assert_no_secret(shown)


def test_every_fault_message_is_free_of_secrets(
    server: ScriptedServer, closed_port_url: str
) -> None:
    server.script(TOKEN, Drop(), Hang(), Answer(500, raw=REFRESH_CANARY.encode()))
    failures: list[object] = []
    with HttpxIdentityProvider(_endpoints(server.base_url), timeout=0.3) as adapter:
        failures += [adapter.refresh(SecretStr(REFRESH_CANARY)).failure() for _ in range(3)]
    with HttpxIdentityProvider(_endpoints(closed_port_url)) as adapter:
        failures.append(adapter.refresh(SecretStr(REFRESH_CANARY)).failure())

    assert len({type(failure) for failure in failures}) == 2
    for failure in failures:
        _assert_no_secret(failure)


def _refuse_every_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a request was attempted: {request.url}")


@pytest.mark.parametrize("domain", ["http://auth.example.com", "http://192.0.2.10:8080"])
def test_plain_http_to_a_remote_host_is_refused_before_any_connection(domain: str) -> None:
    refused = Failure(ServiceUnreachable(SERVICE, "refusing insecure http:// URL", settings=True))
    client = httpx.Client(transport=httpx.MockTransport(_refuse_every_request))
    with client, HttpxIdentityProvider(_endpoints(domain), client=client) as adapter:
        assert adapter.start_device_authorization("c") == refused
        assert _poll(adapter) == refused
        assert adapter.refresh(SecretStr(REFRESH_CANARY)) == refused
        assert adapter.revoke(SecretStr(REFRESH_CANARY)) == refused
