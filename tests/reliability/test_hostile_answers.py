"""Tokens no HTTP header can carry, from the sign-in service or a hand-edited token file: refused
where they arrive, named, never stored, never quoted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.httpx_identity_provider import HttpxIdentityProvider
from domain.endpoints import CloudEndpoints
from domain.errors import CorruptFile, MalformedResponse
from entrypoints.library import CloudAuthError, cloud_auth
from entrypoints.presenters import EXIT_CLOUD_UNAVAILABLE, exit_code
from tests.integration.http.scripted_server import Answer, ScriptedServer, running_server
from tests.reliability.harness import TOKEN_FILE, Workspace, run_in_process

pytestmark = pytest.mark.reliability

GOOD = "good-token-0123456789"
# Each would make httpx raise an exception quoting the whole Authorization header.
UNSENDABLE = {
    "space": "tok en-0123456789",
    "newline": "token-0123456789\n",
    "carriage return and header": "token-0123456789\r\nX-Evil: 1",
    "nul": "token-0123456789\x00",
    "delete": "token-0123456789\x7f",
    "non-ASCII": "tökén-0123456789",
    "only spaces": "      ",
}
DEVICE_BODY: dict[str, Any] = {
    "device_code": "device-code-0123456789",
    "user_code": "BCDF-GHJK",
    "verification_uri": "http://127.0.0.1/device",
    "expires_in": 30,
    "interval": 0.01,
}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with running_server() as scripted:
        yield scripted


def _provider(server: ScriptedServer) -> HttpxIdentityProvider:
    return HttpxIdentityProvider(CloudEndpoints(server.base_url, server.base_url, "client_1"))


@pytest.mark.parametrize("field", ["access_token", "refresh_token"])
@pytest.mark.parametrize("grant", ["device_code", "refresh_token"])
@pytest.mark.parametrize("value", list(UNSENDABLE.values()), ids=list(UNSENDABLE))
def test_a_token_answer_no_header_can_carry_is_refused(
    server: ScriptedServer, grant: str, field: str, value: str
) -> None:
    body = {"access_token": GOOD, "refresh_token": GOOD, "expires_in": 3600, field: value}
    server.script("/oauth2/token", Answer(200, body))

    with _provider(server) as provider:
        if grant == "device_code":
            answer = provider.poll_device_token(SecretStr("device-code"), "verifier")
        else:
            answer = provider.refresh(SecretStr("old-refresh-token"))

    failure = answer.failure()
    assert isinstance(failure, MalformedResponse)
    assert f"the {field} it sent cannot be sent in a header" in failure.message
    assert "the sign-in service" in failure.message
    assert exit_code(failure) == EXIT_CLOUD_UNAVAILABLE
    assert "0123456789" not in f"{failure.message} {failure!r}"


def test_login_refuses_such_a_token_and_stores_nothing(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.script("/oauth2/device_authorization", Answer(200, DEVICE_BODY))
    server.script("/oauth2/token", Answer(200, {"access_token": UNSENDABLE["space"]}))
    workspace = Workspace(tmp_path)
    workspace.point_at(server.base_url)

    run = run_in_process(["cloud", "login", "--no-browser"], workspace.env)

    assert run.code == EXIT_CLOUD_UNAVAILABLE, run.describe()
    assert "cannot be sent in a header" in run.stderr
    assert UNSENDABLE["space"] not in run.output
    assert not workspace.tokens.exists()


def _hand_edited(workspace: Workspace, field: str, value: str) -> None:
    workspace.data.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = {"access_token": GOOD, "refresh_token": GOOD, "expires_at": 4_000_000_000}
    document[field] = value
    workspace.tokens.write_text(json.dumps(document))
    workspace.tokens.chmod(0o600)


@pytest.mark.parametrize("field", ["access_token", "refresh_token"])
@pytest.mark.parametrize("value", list(UNSENDABLE.values()), ids=list(UNSENDABLE))
def test_a_hand_edited_token_no_header_can_carry_is_a_damaged_file(
    tmp_path: Path, field: str, value: str
) -> None:
    workspace = Workspace(tmp_path)
    _hand_edited(workspace, field, value)

    run = run_in_process(["cloud", "status", "--offline"], workspace.env)

    assert run.code == 1, run.describe()
    assert str(workspace.tokens) in run.output
    assert "0123456789" not in run.output


def test_the_library_never_gets_such_a_token_to_send(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    _hand_edited(workspace, "access_token", UNSENDABLE["carriage return and header"])
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    env = {**workspace.env, "BASIC_MEMORY_CLOUD_API_KEY": ""}
    with (
        httpx.Client(transport=httpx.MockTransport(record), auth=cloud_auth(env=env)) as client,
        pytest.raises(CloudAuthError) as raised,
    ):
        client.get("http://127.0.0.1/proxy/health")

    assert sent == []
    assert isinstance(raised.value.failure, CorruptFile)
    assert raised.value.failure.path == str(workspace.tokens)
    assert "token-0123456789" not in str(raised.value)


# Server text quoting a secret the command holds, other than the one that request carried ---

ENV_KEY = "bmc_envKEY0123456789"
STORED_KEY = "bmc_storedKEY0123456789"
ACCESS = "stored-access-token-ABCDEF"
REFRESH = "stored-refresh-token-GHIJKL"
HELD = (ENV_KEY, STORED_KEY, ACCESS, REFRESH)
ECHO = {
    "error": "invalid_request",
    "error_description": f"seen {ENV_KEY} {STORED_KEY} {ACCESS} {REFRESH}",
}


def _holding_every_secret(workspace: Workspace, expires_at: int) -> None:
    workspace.data.mkdir(parents=True, exist_ok=True, mode=0o700)
    workspace.config.write_text(f"cloud_api_key: {STORED_KEY}\n")
    workspace.config.chmod(0o600)
    document = {"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": expires_at}
    workspace.tokens.write_text(json.dumps(document))
    workspace.tokens.chmod(0o600)
    workspace.env["BASIC_MEMORY_CLOUD_API_KEY"] = ENV_KEY


@pytest.mark.parametrize(
    ("argv", "path", "expires_at", "shown"),
    [
        # The revocation carried only the refresh token.
        (["cloud", "logout"], "/oauth2/revoke", 4_000_000_000, "revocation failed"),
        # The refresh carried only the refresh token; the answer is shown as the session's problem.
        (["cloud", "status"], "/oauth2/token", 1, "invalid_request"),
        (["cloud", "status", "--json"], "/oauth2/token", 1, "invalid_request"),
    ],
    ids=["logout", "status", "status-json"],
)
def test_server_text_never_shows_a_secret_the_command_holds(
    server: ScriptedServer,
    tmp_path: Path,
    argv: list[str],
    path: str,
    expires_at: int,
    shown: str,
) -> None:
    server.script(path, Answer(400, ECHO))
    server.script("/proxy/health", Answer(200, {}))
    workspace = Workspace(tmp_path)
    workspace.point_at(server.base_url)
    _holding_every_secret(workspace, expires_at)

    run = run_in_process(argv, workspace.env)

    assert shown in run.output, run.describe()
    assert "seen" in run.output
    for secret in HELD:
        assert secret not in run.output, f"{secret} in {run.output!r}"


def test_login_never_shows_the_device_code_or_a_stored_key_quoted_by_the_server(
    server: ScriptedServer, tmp_path: Path
) -> None:
    device_code = DEVICE_BODY["device_code"]
    server.script("/oauth2/device_authorization", Answer(200, DEVICE_BODY))
    echo = {"error": "odd_error", "error_description": f"seen {device_code} {STORED_KEY} {ENV_KEY}"}
    server.script("/oauth2/token", Answer(400, echo))
    workspace = Workspace(tmp_path)
    workspace.point_at(server.base_url)
    _holding_every_secret(workspace, 1)
    (workspace.data / TOKEN_FILE).unlink()

    run = run_in_process(["cloud", "login", "--no-browser", "--force"], workspace.env)

    assert run.code == 1, run.describe()
    assert "odd_error" in run.stderr
    assert "seen" in run.stderr
    for secret in (device_code, STORED_KEY, ENV_KEY):
        assert secret not in run.output
