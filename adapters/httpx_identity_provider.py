"""IdentityProvider over httpx: WorkOS AuthKit's device authorization, token and revoke endpoints.

Protocols: RFC 8628 (device flow), RFC 7636 (PKCE, S256), RFC 6749 §5.2 (error bodies),
RFC 7009 (revocation). Every request is a form-encoded POST to `{cloud_domain}/oauth2/...`.

How answers map to results:
- 5xx and 429: ServerError (the caller backs off and retries); transport problems:
  ServiceUnreachable; a body that is not a JSON object, or lacks a required field:
  MalformedResponse naming the problem.
- An OAuth error body (`{"error": ..., "error_description": ...}`, whatever the status):
  the poll's own outcomes (AuthorizationPending, SlowDown, AccessDenied, DeviceCodeExpired),
  SessionExpired for `invalid_grant` on refresh, ProviderError for any other code.
- A token that could not go in an HTTP header (spaces, control or non-ASCII characters):
  MalformedResponse, so it is never stored, and never later quoted by httpx's header error.
- Any other non-2xx answer without an OAuth error body (a 404 from a wrong domain, a redirect,
  which is never followed): ProviderError("HTTP <status>"), which ends the flow instead of
  retrying for ten minutes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from returns.result import Failure, Result, Success

from adapters.http_transport import (
    DEFAULT_TIMEOUT,
    REQUEST_DEADLINE_SECONDS,
    Reply,
    ServiceConnection,
    SharedClient,
    TimeoutSetting,
    async_client_for,
    is_safe_web_url,
    json_object,
    send_async,
    shown_text,
    without_secrets,
)
from domain.errors import (
    AccessDenied,
    DeviceCodeExpired,
    MalformedResponse,
    ProviderError,
    ServerError,
    ServiceUnreachable,
    SessionExpired,
)
from domain.polling import AuthorizationPending, SlowDown
from domain.ports import (
    DeviceAuthorization,
    OAuthCallFailure,
    PollFailure,
    RefreshFailure,
)
from domain.session import TokenResponse, is_header_safe

if TYPE_CHECKING:
    import anyio
    import httpx

    from domain.endpoints import CloudEndpoints
    from domain.errors import AuthFailure

SERVICE = "the sign-in service"
SCOPE = "openid profile email offline_access"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Long enough for any real user code (WorkOS: 8 letters and a dash), short enough to show.
MAX_USER_CODE_LENGTH = 64
MAX_ERROR_CODE_LENGTH = 64

# Never quotes the token: saying which one is enough to report the server's fault.
_UNSENDABLE = (
    "the {name} it sent cannot be sent in a header (spaces, control or non-ASCII characters)"
)

_OAuthFailure = ProviderError | ServerError | MalformedResponse


def _forget(_: str) -> None:
    """The default for callers that print nothing (the library, tests)."""


class HttpxIdentityProvider:
    """The real identity provider, over HTTPS.

    Pass `client` (an httpx.Client or a SharedClient) to share one; its owner closes it, and
    its timeout then applies instead of `timeout`.
    """

    def __init__(
        self,
        endpoints: CloudEndpoints | Result[CloudEndpoints, AuthFailure],
        client: httpx.Client | SharedClient | None = None,
        timeout: TimeoutSetting = DEFAULT_TIMEOUT,
        remember: Callable[[str], None] | None = None,
    ) -> None:
        # Told every secret this provider is handed or makes (device code, code verifier,
        # new tokens), so the command line can keep them out of all it prints.
        self._remember = remember or _forget
        # Unusable settings (a damaged config.yaml) fail every call, naming the problem.
        settings = endpoints if isinstance(endpoints, Result) else Success(endpoints)
        self._connection = ServiceConnection(
            SERVICE, settings.map(lambda chosen: chosen.cloud_domain), client, timeout
        )
        self._client_id = settings.map(lambda chosen: chosen.client_id).value_or("")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> HttpxIdentityProvider:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start_device_authorization(
        self, code_challenge: str
    ) -> Result[DeviceAuthorization, OAuthCallFailure]:
        form = {
            "client_id": self._client_id,
            "scope": SCOPE,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        answer = self._post("/oauth2/device_authorization", form)
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        reply = answer.unwrap()
        if not reply.is_success:
            return Failure(_refusal(reply, ()))
        started = json_object(SERVICE, reply).bind(_device_authorization)
        if isinstance(started, Success):
            self._remember(started.unwrap().device_code.get_secret_value())
        return started

    def poll_device_token(
        self, device_code: SecretStr, code_verifier: str, within: float | None = None
    ) -> Result[TokenResponse, PollFailure]:
        secret = device_code.get_secret_value()
        form = {
            "grant_type": DEVICE_CODE_GRANT,
            "device_code": secret,
            "client_id": self._client_id,
            "code_verifier": code_verifier,
        }
        answer = self._connection.request("POST", "/oauth2/token", form=form, within=within)
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        self._remember(code_verifier)
        return self._issued(_token_answer(answer.unwrap(), (secret, code_verifier))).alt(
            _poll_outcome
        )

    def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        secret = refresh_token.get_secret_value()
        form = _refresh_form(secret, self._client_id)
        answer = self._post("/oauth2/token", form)
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        return self._issued(_token_answer(answer.unwrap(), (secret,))).alt(_refresh_outcome)

    def revoke(self, refresh_token: SecretStr) -> Result[None, OAuthCallFailure]:
        secret = refresh_token.get_secret_value()
        form = {
            "token": secret,
            "token_type_hint": "refresh_token",
            "client_id": self._client_id,
        }
        answer = self._post("/oauth2/revoke", form)
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        reply = answer.unwrap()
        # RFC 7009 §2.2: 200 with any body, including for a token that was already invalid.
        if reply.is_success:
            return Success(None)
        return Failure(_refusal(reply, (secret,)))

    def _issued(
        self, answer: Result[TokenResponse, _OAuthFailure]
    ) -> Result[TokenResponse, _OAuthFailure]:
        if isinstance(answer, Success):
            tokens = answer.unwrap()
            self._remember(tokens.access_token.get_secret_value())
            if tokens.refresh_token is not None:
                self._remember(tokens.refresh_token.get_secret_value())
        return answer

    def _post(
        self, path: str, form: dict[str, str]
    ) -> Result[Reply, ServiceUnreachable | MalformedResponse]:
        return self._connection.request("POST", path, form=form)


@cache
def _client_builders() -> anyio.CapacityLimiter:
    import anyio

    return anyio.CapacityLimiter(2)


class HttpxAsyncIdentityProvider:
    """The refresh grant for callers on an event loop (the library's async auth), over an
    `httpx.AsyncClient`, with the same answers as `HttpxIdentityProvider.refresh`.

    A client is built per refresh, in a worker thread (loading the CA certificates would
    stall the loop for tens of milliseconds), and closed after it: refreshes are rare, and a
    client belongs to the event loop it was used on.
    """

    def __init__(
        self,
        endpoints: CloudEndpoints | Result[CloudEndpoints, AuthFailure],
        timeout: TimeoutSetting = DEFAULT_TIMEOUT,
        deadline: float = REQUEST_DEADLINE_SECONDS,
    ) -> None:
        settings = endpoints if isinstance(endpoints, Result) else Success(endpoints)
        self._connection = ServiceConnection(
            SERVICE, settings.map(lambda chosen: chosen.cloud_domain)
        )
        self._client_id = settings.map(lambda chosen: chosen.client_id).value_or("")
        self._timeout = timeout
        self._deadline = deadline

    async def refresh(self, refresh_token: SecretStr) -> Result[TokenResponse, RefreshFailure]:
        import anyio

        url = self._connection.url("/oauth2/token")
        if isinstance(url, Failure):
            return Failure(url.failure())
        # A thread pool of its own: tasks waiting in worker threads for the token file's lock
        # (held for this very refresh) may fill anyio's default pool.
        built = await anyio.to_thread.run_sync(
            async_client_for, SERVICE, self._timeout, limiter=_client_builders()
        )
        if isinstance(built, Failure):
            return Failure(built.failure())
        secret = refresh_token.get_secret_value()
        form = _refresh_form(secret, self._client_id)
        async with built.unwrap() as client:
            answer = await send_async(
                client, SERVICE, "POST", url.unwrap(), form=form, deadline=self._deadline
            )
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        return _token_answer(answer.unwrap(), (secret,)).alt(_refresh_outcome)


def _refresh_form(refresh_token: str, client_id: str) -> dict[str, str]:
    """RFC 6749 §6: the refresh grant of a public client."""
    return {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}


def _oauth_error(body: dict[str, Any], secrets: tuple[str, ...]) -> ProviderError | None:
    """RFC 6749 §5.2's error body, cleaned for the terminal and of anything we sent."""
    code = body.get("error")
    if not isinstance(code, str) or not code:
        return None
    error = without_secrets(shown_text(code, MAX_ERROR_CODE_LENGTH), secrets)
    description = without_secrets(shown_text(body.get("error_description")), secrets)
    return ProviderError(error, description)


def _refusal(reply: Reply, secrets: tuple[str, ...]) -> _OAuthFailure:
    """What a non-2xx answer means; a ProviderError carries the OAuth error code, if any."""
    if reply.is_server_error:
        return ServerError(SERVICE, reply.status)
    parsed = json_object(SERVICE, reply)
    oauth_error = _oauth_error(parsed.unwrap(), secrets) if isinstance(parsed, Success) else None
    if oauth_error is not None:
        return oauth_error
    if 300 <= reply.status < 400:
        return ProviderError(f"HTTP {reply.status}", "a redirect, which is not followed")
    return ProviderError(f"HTTP {reply.status}")


def _token_answer(reply: Reply, secrets: tuple[str, ...]) -> Result[TokenResponse, _OAuthFailure]:
    if not reply.is_success:
        return Failure(_refusal(reply, secrets))
    parsed = json_object(SERVICE, reply)
    if isinstance(parsed, Failure):
        return Failure(parsed.failure())
    body = parsed.unwrap()
    # Some servers send an error body with a 200; without a token, believe the error.
    oauth_error = None if "access_token" in body else _oauth_error(body, secrets)
    return Failure(oauth_error) if oauth_error is not None else _token_response(body)


def _poll_outcome(failure: _OAuthFailure) -> PollFailure:
    if not isinstance(failure, ProviderError):
        return failure
    match failure.error:
        case "authorization_pending":
            return AuthorizationPending()
        case "slow_down":
            return SlowDown()
        case "access_denied":
            return AccessDenied()
        case "expired_token":
            return DeviceCodeExpired()
        case _:
            return failure


def _refresh_outcome(failure: _OAuthFailure) -> RefreshFailure:
    if isinstance(failure, ProviderError) and failure.error == "invalid_grant":
        return SessionExpired()
    return failure


def _required_text(body: dict[str, Any], name: str) -> Result[str, MalformedResponse]:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        return Failure(MalformedResponse(SERVICE, f"the answer has no {name}"))
    return Success(value.strip())


def _seconds(value: object, *, round_up: bool) -> int | None:
    """A JSON number of seconds (or a numeric string) as a whole number, or None.

    RFC 8628 says integers, but a fraction (the emulator's fast test settings) is rounded
    in the safe direction: up for a polling interval, so we never poll faster than asked.

    >>> [_seconds(v, round_up=True) for v in (5, 0.05, "7", True, -1.5, float("nan"), "x")]
    [5, 1, 7, None, -1, None, None]
    >>> _seconds(299.9, round_up=False)
    299
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value):
        return math.ceil(value) if round_up else math.floor(value)
    return None


def _device_authorization(
    body: dict[str, Any],
) -> Result[DeviceAuthorization, MalformedResponse]:
    """Validate RFC 8628 §3.2; optional fields with unusable values are treated as absent."""
    fields: dict[str, str] = {}
    for name in ("device_code", "user_code", "verification_uri"):
        found = _required_text(body, name)
        if isinstance(found, Failure):
            return Failure(found.failure())
        fields[name] = found.unwrap()
    if "expires_in" not in body:
        return Failure(MalformedResponse(SERVICE, "the answer has no expires_in"))
    # Rounded up: the flow then ends on the server's expired_token, not before it.
    expires_in = _seconds(body["expires_in"], round_up=True)
    if expires_in is None or expires_in <= 0:
        return Failure(MalformedResponse(SERVICE, "expires_in is not a positive number of seconds"))
    user_code = fields["user_code"]
    # Shown on the terminal: refuse control characters and screenfuls.
    if len(user_code) > MAX_USER_CODE_LENGTH or not user_code.isprintable():
        return Failure(MalformedResponse(SERVICE, "user_code is not a short printable code"))
    if not is_safe_web_url(fields["verification_uri"]):
        return Failure(MalformedResponse(SERVICE, "verification_uri is not an https:// URL"))
    complete = body.get("verification_uri_complete")
    interval = _seconds(body.get("interval"), round_up=True)
    return Success(
        DeviceAuthorization(
            device_code=SecretStr(fields["device_code"]),
            user_code=user_code,
            verification_uri=fields["verification_uri"],
            expires_in=expires_in,
            interval=interval if interval is not None and interval >= 0 else None,
            verification_uri_complete=(
                complete if isinstance(complete, str) and is_safe_web_url(complete) else None
            ),
        )
    )


def _optional_text(container: object, name: str) -> str | None:
    if not isinstance(container, dict):
        return None
    value = container.get(name)
    return value if isinstance(value, str) and value else None


def _shown_field(container: object, name: str) -> str | None:
    """An identity field that will be printed (user id, email): printable and short."""
    return shown_text(_optional_text(container, name)) or None


def _token_response(body: dict[str, Any]) -> Result[TokenResponse, MalformedResponse]:
    """Tolerant on purpose (SPEC §3.4): only `access_token` is required."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        return Failure(MalformedResponse(SERVICE, "the answer has no access_token"))
    refresh = _optional_text(body, "refresh_token")
    for name, token in (("access_token", access), ("refresh_token", refresh)):
        if token is not None and not is_header_safe(token):
            return Failure(MalformedResponse(SERVICE, _UNSENDABLE.format(name=name)))
    token_type = _shown_field(body, "token_type")
    user = body.get("user")
    id_token = _optional_text(body, "id_token")
    return Success(
        TokenResponse(
            access_token=SecretStr(access),
            refresh_token=SecretStr(refresh) if refresh else None,
            # Rounded down: never believe a token lives longer than it was said to.
            expires_in=_seconds(body.get("expires_in"), round_up=False),
            token_type=token_type or "Bearer",
            user_id=_shown_field(user, "id"),
            email=_shown_field(user, "email"),
            id_token=SecretStr(id_token) if id_token else None,
        )
    )
