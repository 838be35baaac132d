"""CloudApi over httpx: health check, API key creation and workspaces (SPEC §4, §9).

How answers map to results:
- 401: CredentialRejected naming the credential (never quoting it).
- 403 whose body says `subscription_required` (under `detail` or at top level):
  SubscriptionRequired; `workspace_forbidden`: WorkspaceForbidden naming the workspace sent;
  any other 403: CredentialRejected.
- 5xx and 429: ServerError; transport problems: ServiceUnreachable.
- Any other unexpected status, or a body that is not what the endpoint promises:
  MalformedResponse, which never quotes a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from returns.result import Failure, Result, Success

from adapters.http_transport import (
    DEFAULT_TIMEOUT,
    Reply,
    ServiceConnection,
    SharedClient,
    TimeoutSetting,
    is_safe_web_url,
    json_object,
    shown_text,
    without_secrets,
)
from domain.api_key import API_KEY_PREFIX, parse_api_key
from domain.credentials import Credential, CredentialSource, describe_source
from domain.errors import (
    CredentialRejected,
    MalformedResponse,
    ServerError,
    ServiceUnreachable,
    SubscriptionRequired,
    WorkspaceForbidden,
)
from domain.ports import Clock, CloudFailure, CreatedApiKey, HealthReport
from domain.session import is_header_safe
from domain.workspaces import WORKSPACE_HEADER, Workspace, WorkspaceList

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr

    from domain.errors import AuthFailure

SERVICE = "the cloud API"
DEFAULT_SUBSCRIBE_URL = "https://basicmemory.com/subscribe"
OAUTH_SESSION = describe_source(CredentialSource.OAUTH_SESSION)


class HttpxCloudApi:
    """The real cloud API, over HTTPS.

    Pass `client` (an httpx.Client or a SharedClient) to share one; its owner closes it, and
    its timeout then applies instead of `timeout`.
    """

    def __init__(
        self,
        cloud_host: str | Result[str, AuthFailure],
        clock: Clock,
        client: httpx.Client | SharedClient | None = None,
        timeout: TimeoutSetting = DEFAULT_TIMEOUT,
        remember: Callable[[str], None] | None = None,
    ) -> None:
        self._connection = ServiceConnection(SERVICE, cloud_host, client, timeout)
        # Told each API key the cloud creates, so the command line keeps it out of all it prints.
        self._remember = remember
        self._clock = clock

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> HttpxCloudApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def check_health(
        self, credential: Credential, workspace: str | None = None
    ) -> Result[HealthReport, CloudFailure]:
        started = self._clock.monotonic()
        answer = self._call(
            "GET", "/proxy/health", credential.secret, credential.description, workspace=workspace
        )
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        reply = answer.unwrap()
        if reply.is_success:
            return Success(HealthReport(latency_ms=(self._clock.monotonic() - started) * 1000))
        return Failure(_refusal(reply, credential.description, credential.secret, workspace))

    def create_api_key(
        self, access_token: SecretStr, name: str, workspace: str | None = None
    ) -> Result[CreatedApiKey, CloudFailure]:
        answer = self._call(
            "POST", "/api/keys", access_token, OAUTH_SESSION, {"name": name}, workspace=workspace
        )
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        reply = answer.unwrap()
        if not reply.is_success:
            return Failure(_refusal(reply, OAUTH_SESSION, access_token, workspace))
        parsed = json_object(SERVICE, reply)
        if isinstance(parsed, Failure):
            return Failure(parsed.failure())
        created = _created_key(parsed.unwrap(), name)
        if self._remember is not None and isinstance(created, Success):
            self._remember(created.unwrap().key.value.get_secret_value())
        return created

    def list_workspaces(self, credential: Credential) -> Result[WorkspaceList, CloudFailure]:
        answer = self._call("GET", "/workspaces/", credential.secret, credential.description)
        if isinstance(answer, Failure):
            return Failure(answer.failure())
        reply = answer.unwrap()
        if not reply.is_success:
            return Failure(_refusal(reply, credential.description, credential.secret))
        parsed = json_object(SERVICE, reply)
        if isinstance(parsed, Failure):
            return Failure(parsed.failure())
        return _workspace_list(parsed.unwrap())

    def _call(
        self,
        method: str,
        path: str,
        secret: SecretStr,
        description: str,
        json_body: dict[str, Any] | None = None,
        workspace: str | None = None,
    ) -> Result[Reply, CloudFailure]:
        token = secret.get_secret_value()
        # A token with spaces, control or non-ASCII characters cannot be a valid bearer
        # token, and httpx's error for it would quote the header; the cloud would reject it.
        if not is_header_safe(token):
            return Failure(CredentialRejected(description))
        headers = {"Authorization": f"Bearer {token}"}
        if workspace is not None:
            # Ids come from the cloud or config.yaml; one that cannot be a header is refused
            # by the cloud anyway, so say so before httpx's error could quote the headers.
            if not is_header_safe(workspace):
                return Failure(WorkspaceForbidden(shown_text(workspace)))
            headers[WORKSPACE_HEADER] = workspace
        answer: Result[Reply, ServiceUnreachable | MalformedResponse] = self._connection.request(
            method, path, headers=headers, json_body=json_body
        )
        return answer


def _refusal(
    reply: Reply, credential: str, secret: SecretStr, workspace: str | None = None
) -> CloudFailure:
    if reply.is_server_error:
        return ServerError(SERVICE, reply.status)
    if reply.status == 401:
        return CredentialRejected(credential)
    if reply.status == 403:
        if _error_code(reply) == "workspace_forbidden":
            return WorkspaceForbidden(workspace or "(the cloud's default)")
        return _subscription_required(reply, secret) or CredentialRejected(credential)
    return MalformedResponse(SERVICE, f"unexpected HTTP {reply.status}")


def _error_code(reply: Reply) -> object:
    parsed = json_object(SERVICE, reply)
    if isinstance(parsed, Failure):
        return None
    body = parsed.unwrap()
    detail = body.get("detail")
    return (detail if isinstance(detail, dict) else body).get("error")


def _workspace_list(body: dict[str, Any]) -> Result[WorkspaceList, CloudFailure]:
    """Tolerant of extra fields; an entry without an id is a malformed answer."""
    raw = body.get("workspaces")
    if not isinstance(raw, list):
        return Failure(MalformedResponse(SERVICE, "the answer has no list of workspaces"))
    found: list[Workspace] = []
    for entry in raw:
        tenant = entry.get("tenant_id") if isinstance(entry, dict) else None
        if not isinstance(tenant, str) or not tenant.strip() or not is_header_safe(tenant):
            return Failure(MalformedResponse(SERVICE, "a workspace has no usable tenant_id"))
        assert isinstance(entry, dict)
        organization = entry.get("organization_id")
        found.append(
            Workspace(
                tenant_id=tenant,
                workspace_type=shown_text(entry.get("workspace_type")) or "unknown",
                slug=shown_text(entry.get("slug")) or tenant,
                name=shown_text(entry.get("name")) or shown_text(entry.get("slug")) or tenant,
                role=shown_text(entry.get("role")) or "unknown",
                is_default=entry.get("is_default") is True,
                organization_id=shown_text(organization) if organization else None,
                has_active_subscription=entry.get("has_active_subscription") is True,
            )
        )
    default = body.get("default_workspace_id")
    current = body.get("current_workspace_id")
    return Success(
        WorkspaceList(
            tuple(found),
            default if isinstance(default, str) and default else None,
            current if isinstance(current, str) and current else None,
        )
    )


def _subscription_required(reply: Reply, secret: SecretStr) -> SubscriptionRequired | None:
    """The 403 body, `{"detail": {...}}` (FastAPI's HTTPException) or the same at top level."""
    parsed = json_object(SERVICE, reply)
    if isinstance(parsed, Failure):
        return None
    body = parsed.unwrap()
    detail = body.get("detail")
    fields = detail if isinstance(detail, dict) else body
    if fields.get("error") != "subscription_required":
        return None
    url = fields.get("subscribe_url")
    # The URL is shown to the user and may be opened: only a web URL will do, and never one
    # that quotes the credential we sent.
    shown = isinstance(url, str) and is_safe_web_url(url) and secret.get_secret_value() not in url
    subscribe_url = url if shown and isinstance(url, str) else DEFAULT_SUBSCRIBE_URL
    message = without_secrets(shown_text(fields.get("message")), (secret.get_secret_value(),))
    if message:
        return SubscriptionRequired(subscribe_url, message)
    return SubscriptionRequired(subscribe_url)


def _created_key(body: dict[str, Any], requested_name: str) -> Result[CreatedApiKey, CloudFailure]:
    raw = body.get("key")
    if not isinstance(raw, str) or not raw.strip():
        return Failure(MalformedResponse(SERVICE, "the answer has no key"))
    parsed = parse_api_key(raw)
    if isinstance(parsed, Failure):
        # The reason never quotes the key; neither does this message.
        problem = (
            f"the new key does not start with '{API_KEY_PREFIX}'"
            if not raw.strip().startswith(API_KEY_PREFIX)
            else f"the new key is not a valid API key ({parsed.failure().reason})"
        )
        return Failure(MalformedResponse(SERVICE, problem))
    key_id = body.get("id")
    if isinstance(key_id, int) and not isinstance(key_id, bool):
        key_id = str(key_id)
    return Success(
        CreatedApiKey(
            key=parsed.unwrap(),
            name=shown_text(body.get("name")) or requested_name,
            key_id=shown_text(key_id) or None,
            created_at=shown_text(body.get("created_at")) or None,
        )
    )
