"""HttpxCloudApi against a scripted loopback server: bearer header, statuses, key validation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from returns.result import Failure, Success

from adapters.httpx_cloud_api import DEFAULT_SUBSCRIBE_URL, SERVICE, HttpxCloudApi
from domain.api_key import parse_api_key
from domain.credentials import Credential, CredentialSource
from domain.errors import (
    CredentialRejected,
    MalformedResponse,
    ServerError,
    ServiceUnreachable,
    SubscriptionRequired,
)
from domain.ports import CreatedApiKey
from tests.fakes import FakeClock
from tests.integration.http.scripted_server import Answer, Drop, Hang, ScriptedServer

HEALTH = "/proxy/health"
KEYS = "/api/keys"
ACCESS_CANARY = "CANARY-ACCESS-TOKEN-3c9d"
KEY_CANARY = "bmc_CANARYnewkey0123456789"
OAUTH = Credential(CredentialSource.OAUTH_SESSION, SecretStr(ACCESS_CANARY))
API_KEY = Credential(CredentialSource.CONFIG_API_KEY, SecretStr("bmc_CANARYstoredkey98765"))


class SteppingClock(FakeClock):
    """Each monotonic read moves time on by 25 ms, so latency is exact and visible."""

    def monotonic(self) -> float:
        self.advance(0.025)
        return super().monotonic()


@pytest.fixture
def api(server: ScriptedServer, shared_client: httpx.Client) -> Iterator[HttpxCloudApi]:
    with HttpxCloudApi(server.base_url, FakeClock(), client=shared_client) as adapter:
        yield adapter


def _assert_no_secret(failure: object) -> None:
    shown = f"{failure!s} {failure!r} {getattr(failure, 'message', '')}"
    for canary in (ACCESS_CANARY, KEY_CANARY, API_KEY.secret.get_secret_value(), "CANARY"):
        assert canary not in shown


# Health -----------------------------------------------------------------------------------------


def test_health_sends_the_bearer_and_measures_latency_on_the_clock(
    server: ScriptedServer, shared_client: httpx.Client
) -> None:
    server.script(HEALTH, Answer(200, {"status": "ok"}))

    with HttpxCloudApi(server.base_url, SteppingClock(), client=shared_client) as adapter:
        result = adapter.check_health(OAUTH)

    assert result.unwrap().latency_ms == pytest.approx(25.0)
    sent = server.last(HEALTH)
    assert sent.method == "GET"
    assert sent.headers["authorization"] == f"Bearer {ACCESS_CANARY}"


def test_health_accepts_a_body_that_is_not_json(server: ScriptedServer, api: HttpxCloudApi) -> None:
    server.script(HEALTH, Answer(200, raw=b"OK"))

    assert isinstance(api.check_health(API_KEY), Success)
    assert server.last(HEALTH).headers["authorization"] == "Bearer bmc_CANARYstoredkey98765"


SUBSCRIBE = "https://basicmemory.com/subscribe?plan=pro"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(401, {"detail": "Invalid token"}), CredentialRejected("API key from config.yaml")),
        (Answer(401, raw=b""), CredentialRejected("API key from config.yaml")),
        (
            Answer(
                403,
                {
                    "detail": {
                        "error": "subscription_required",
                        "message": "Active subscription required",
                        "subscribe_url": SUBSCRIBE,
                    }
                },
            ),
            SubscriptionRequired(SUBSCRIBE, "Active subscription required"),
        ),
        (
            Answer(
                403,
                {
                    "error": "subscription_required",
                    "message": "Your trial ended",
                    "subscribe_url": SUBSCRIBE,
                },
            ),
            SubscriptionRequired(SUBSCRIBE, "Your trial ended"),
        ),
        (
            Answer(403, {"detail": {"error": "subscription_required"}}),
            SubscriptionRequired(DEFAULT_SUBSCRIBE_URL),
        ),
        (
            Answer(
                403,
                {"error": "subscription_required", "subscribe_url": "javascript:alert(1)"},
            ),
            SubscriptionRequired(DEFAULT_SUBSCRIBE_URL),
        ),
        (Answer(403, {"detail": "Forbidden"}), CredentialRejected("API key from config.yaml")),
        (
            Answer(403, {"detail": {"error": "banned"}}),
            CredentialRejected("API key from config.yaml"),
        ),
        (Answer(403, raw=b"<html>denied</html>"), CredentialRejected("API key from config.yaml")),
        (Answer(500, raw=b""), ServerError(SERVICE, 500)),
        (Answer(503, {"detail": "down"}), ServerError(SERVICE, 503)),
        (Answer(429, raw=b""), ServerError(SERVICE, 429)),
        (Answer(404, {"detail": "Not Found"}), MalformedResponse(SERVICE, "unexpected HTTP 404")),
        (
            Answer(307, raw=b"", headers=(("Location", "/login"),)),
            MalformedResponse(SERVICE, "unexpected HTTP 307"),
        ),
    ],
)
def test_health_failures(
    server: ScriptedServer, api: HttpxCloudApi, answer: Answer, expected: object
) -> None:
    server.script(HEALTH, answer)

    assert api.check_health(API_KEY) == Failure(expected)


def test_oauth_rejection_names_the_session(server: ScriptedServer, api: HttpxCloudApi) -> None:
    server.script(HEALTH, Answer(401, {}))

    assert api.check_health(OAUTH) == Failure(CredentialRejected("OAuth session"))


def test_subscription_message_is_printable_and_short(
    server: ScriptedServer, api: HttpxCloudApi
) -> None:
    message = "\x1b[2J" + "m" * 400
    server.script(
        HEALTH, Answer(403, {"detail": {"error": "subscription_required", "message": message}})
    )

    failure = api.check_health(OAUTH).failure()

    assert isinstance(failure, SubscriptionRequired)
    assert failure.detail.isprintable()
    assert len(failure.detail) == 200


def test_a_token_echoed_in_the_subscription_message_is_removed(
    server: ScriptedServer, api: HttpxCloudApi
) -> None:
    message = f"token {ACCESS_CANARY} has no subscription"
    server.script(HEALTH, Answer(403, {"error": "subscription_required", "message": message}))

    result = api.check_health(OAUTH)

    assert result == Failure(
        SubscriptionRequired(DEFAULT_SUBSCRIBE_URL, "token … has no subscription")
    )


# Creating an API key ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201])
def test_create_sends_the_name_with_the_oauth_bearer(
    server: ScriptedServer, api: HttpxCloudApi, status: int
) -> None:
    body = {
        "id": "key_01",
        "name": "laptop",
        "key": KEY_CANARY,
        "created_at": "2026-01-02T03:04:05Z",
    }
    server.script(KEYS, Answer(status, body))

    result = api.create_api_key(SecretStr(ACCESS_CANARY), "laptop")

    assert result == Success(
        CreatedApiKey(
            key=parse_api_key(KEY_CANARY).unwrap(),
            name="laptop",
            key_id="key_01",
            created_at="2026-01-02T03:04:05Z",
        )
    )
    sent = server.last(KEYS)
    assert sent.method == "POST"
    assert sent.headers["authorization"] == f"Bearer {ACCESS_CANARY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json == {"name": "laptop"}
    assert KEY_CANARY not in repr(result)


def test_create_tolerates_missing_optional_fields(
    server: ScriptedServer, api: HttpxCloudApi
) -> None:
    server.script(KEYS, Answer(201, {"key": KEY_CANARY, "id": 17}))

    created = api.create_api_key(SecretStr(ACCESS_CANARY), "ci").unwrap()

    assert (created.name, created.key_id, created.created_at) == ("ci", "17", None)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Answer(201, {"key": "sk_CANARYabcdefgh1234"}),
            MalformedResponse(SERVICE, "the new key does not start with 'bmc_'"),
        ),
        (
            Answer(201, {"key": "bmc_CANARY"}),
            MalformedResponse(
                SERVICE,
                "the new key is not a valid API key (it has fewer than 8 characters after 'bmc_')",
            ),
        ),
        (
            Answer(201, {"key": "bmc_CANARY with spaces"}),
            MalformedResponse(
                SERVICE,
                "the new key is not a valid API key (it contains characters other than A-Z, a-z, 0-9, '-' and '_')",
            ),
        ),
        (Answer(201, {"id": "key_01"}), MalformedResponse(SERVICE, "the answer has no key")),
        (
            Answer(201, raw=KEY_CANARY.encode()),
            MalformedResponse(SERVICE, "HTTP 201 with a body that is not JSON"),
        ),
        (
            Answer(201, [KEY_CANARY]),
            MalformedResponse(SERVICE, "HTTP 201 with JSON that is not an object"),
        ),
        (Answer(401, {"detail": "expired"}), CredentialRejected("OAuth session")),
        (Answer(403, {"detail": "Forbidden"}), CredentialRejected("OAuth session")),
        (
            Answer(403, {"detail": {"error": "subscription_required", "subscribe_url": SUBSCRIBE}}),
            SubscriptionRequired(SUBSCRIBE),
        ),
        (Answer(500, raw=KEY_CANARY.encode()), ServerError(SERVICE, 500)),
        (
            Answer(422, {"detail": "name too long"}),
            MalformedResponse(SERVICE, "unexpected HTTP 422"),
        ),
    ],
)
def test_create_failures_never_quote_the_key(
    server: ScriptedServer, api: HttpxCloudApi, answer: Answer, expected: object
) -> None:
    server.script(KEYS, answer)

    result = api.create_api_key(SecretStr(ACCESS_CANARY), "laptop")

    assert result == Failure(expected)
    _assert_no_secret(result.failure())


# Transport faults, secrets and plain http --------------------------------------------------------


def test_connection_refused(closed_port_url: str) -> None:
    with HttpxCloudApi(closed_port_url, FakeClock()) as adapter:
        assert adapter.check_health(OAUTH) == Failure(
            ServiceUnreachable(SERVICE, "connection refused")
        )


def test_dropped_connection(server: ScriptedServer, api: HttpxCloudApi) -> None:
    server.script(KEYS, Drop())

    assert api.create_api_key(SecretStr(ACCESS_CANARY), "x") == Failure(
        ServiceUnreachable(SERVICE, "the connection closed before a complete answer")
    )


def test_a_silent_server_times_out_within_the_configured_timeout(server: ScriptedServer) -> None:
    server.script(HEALTH, Hang())
    started = time.monotonic()

    with HttpxCloudApi(server.base_url, FakeClock(), timeout=0.5) as adapter:
        result = adapter.check_health(OAUTH)

    assert result == Failure(ServiceUnreachable(SERVICE, "timed out after 0.5s"))
    assert time.monotonic() - started < 5.0


def _refuse_every_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a request was attempted: {request.url}")


@pytest.fixture
def refusing_client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(_refuse_every_request)) as client:
        yield client


@pytest.mark.parametrize("secret", ["tök-CANARY", "CANARY with space", "CANARY\r\nX-Evil: 1", ""])
def test_a_token_unfit_for_a_header_is_rejected_without_sending_it(
    refusing_client: httpx.Client, secret: str
) -> None:
    adapter = HttpxCloudApi("http://127.0.0.1:9", FakeClock(), client=refusing_client)
    credential = Credential(CredentialSource.ENV_API_KEY, SecretStr(secret))

    health = adapter.check_health(credential)
    created = adapter.create_api_key(SecretStr(secret), "x")

    assert health == Failure(CredentialRejected("API key from BASIC_MEMORY_CLOUD_API_KEY"))
    assert created == Failure(CredentialRejected("OAuth session"))


@pytest.mark.parametrize("host", ["http://cloud.example.com", "http://192.0.2.10"])
def test_plain_http_to_a_remote_host_is_refused_before_any_connection(
    refusing_client: httpx.Client, host: str
) -> None:
    refused = Failure(ServiceUnreachable(SERVICE, "refusing insecure http:// URL", settings=True))
    adapter = HttpxCloudApi(host, FakeClock(), client=refusing_client)

    assert adapter.check_health(OAUTH) == refused
    assert adapter.create_api_key(SecretStr(ACCESS_CANARY), "x") == refused


def test_fault_messages_are_free_of_secrets(server: ScriptedServer, closed_port_url: str) -> None:
    echo: dict[str, Any] = {"detail": {"error": "subscription_required", "message": ACCESS_CANARY}}
    server.script(
        HEALTH, Drop(), Hang(), Answer(502, raw=ACCESS_CANARY.encode()), Answer(401, echo)
    )
    failures: list[object] = []
    with HttpxCloudApi(server.base_url, FakeClock(), timeout=0.3) as adapter:
        failures += [adapter.check_health(OAUTH).failure() for _ in range(4)]
    with HttpxCloudApi(closed_port_url, FakeClock()) as adapter:
        failures.append(adapter.check_health(OAUTH).failure())

    assert [type(failure) for failure in failures] == [
        ServiceUnreachable,
        ServiceUnreachable,
        ServerError,
        CredentialRejected,
        ServiceUnreachable,
    ]
    for failure in failures:
        _assert_no_secret(failure)
