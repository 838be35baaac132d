"""`httpx.Auth` for library users: the right bearer and workspace on every request, one
refresh on a 401, and a clear error for a workspace the cloud refuses (403)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator

import httpx
from pydantic import SecretStr
from returns.result import Failure, Result

from domain.credentials import Credential
from domain.errors import AuthFailure, WorkspaceForbidden
from domain.workspaces import WORKSPACE_HEADER

CredentialSupplier = Callable[[SecretStr | None], Result[Credential, AuthFailure]]
AsyncCredentialSupplier = Callable[[SecretStr | None], Awaitable[Result[Credential, AuthFailure]]]
# The workspace for a credential: (tenant id, which rule chose it), or None to send no header.
ChosenWorkspace = tuple[str, str] | None
WorkspaceSupplier = Callable[[Credential], Result[ChosenWorkspace, AuthFailure]]
AsyncWorkspaceSupplier = Callable[[Credential], Awaitable[Result[ChosenWorkspace, AuthFailure]]]


class CloudAuthError(Exception):
    """No usable credential, or the cloud refused an API key; `failure` says which.

    The message is the failure's user-facing text, which never holds a secret.
    """

    def __init__(self, failure: AuthFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class BasicMemoryCloudAuth(httpx.Auth):
    """Adds `Authorization: Bearer …` from a credential supplier.

    The supplier is given None first; after a 401 it is given the refused secret, so an OAuth
    session is refreshed once and the request retried, while a refused API key raises
    CloudAuthError (a key cannot be refreshed). A second 401 is returned to the caller, and so
    is a 401 from another origin than the one the credential was sent to (after a redirect):
    it says nothing about our credential, which httpx does not forward across origins.
    The supplier is called from whichever thread sends the request, so it must be safe to
    call from several threads at once.
    """

    def __init__(
        self,
        supplier: CredentialSupplier,
        async_supplier: AsyncCredentialSupplier,
        workspace: WorkspaceSupplier | None = None,
        async_workspace: AsyncWorkspaceSupplier | None = None,
    ) -> None:
        self._supplier = supplier
        self._async_supplier = async_supplier
        self._workspace = workspace
        self._async_workspace = async_workspace

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        credential = _credential(self._supplier(None))
        request.headers["Authorization"] = _bearer(credential.secret)
        chosen = _chosen(self._workspace(credential)) if self._workspace else None
        _set_workspace(request, chosen)
        response = yield request
        if _refused_here(request, response):
            retried = _credential(self._supplier(credential.secret))
            request.headers["Authorization"] = _bearer(retried.secret)
            response = yield request
        if chosen is not None and response.status_code == httpx.codes.FORBIDDEN:
            response.read()
            _raise_if_workspace_refused(response, chosen)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The same for `httpx.AsyncClient`: files and lock waits in worker threads and the
        refresh over an asynchronous client, so the caller's event loop never waits on them."""
        credential = _credential(await self._async_supplier(None))
        request.headers["Authorization"] = _bearer(credential.secret)
        chosen = _chosen(await self._async_workspace(credential)) if self._async_workspace else None
        _set_workspace(request, chosen)
        response = yield request
        if _refused_here(request, response):
            retried = _credential(await self._async_supplier(credential.secret))
            request.headers["Authorization"] = _bearer(retried.secret)
            response = yield request
        if chosen is not None and response.status_code == httpx.codes.FORBIDDEN:
            await response.aread()
            _raise_if_workspace_refused(response, chosen)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _credential(supplied: Result[Credential, AuthFailure]) -> Credential:
    if isinstance(supplied, Failure):
        raise CloudAuthError(supplied.failure())
    return supplied.unwrap()


def _chosen(supplied: Result[ChosenWorkspace, AuthFailure]) -> ChosenWorkspace:
    if isinstance(supplied, Failure):
        raise CloudAuthError(supplied.failure())
    return supplied.unwrap()


def _set_workspace(request: httpx.Request, chosen: ChosenWorkspace) -> None:
    # A header the caller set on purpose wins: the library never overrides an explicit choice.
    if chosen is not None and WORKSPACE_HEADER not in request.headers:
        request.headers[WORKSPACE_HEADER] = chosen[0]


def _raise_if_workspace_refused(response: httpx.Response, chosen: tuple[str, str]) -> None:
    """A 403 `workspace_forbidden` for the workspace we sent becomes a CloudAuthError naming
    it, where it came from and the fix; any other 403 is the caller's to read."""
    try:
        body = response.json()
    except ValueError:
        return
    detail = body.get("detail") if isinstance(body, dict) else None
    fields = detail if isinstance(detail, dict) else body
    if isinstance(fields, dict) and fields.get("error") == "workspace_forbidden":
        sent = response.request.headers.get(WORKSPACE_HEADER, chosen[0])
        origin = chosen[1] if sent == chosen[0] else "request's own header"
        raise CloudAuthError(WorkspaceForbidden(sent, origin))


def _refused_here(request: httpx.Request, response: httpx.Response) -> bool:
    """A 401 from the origin the credential was sent to: a 401 from elsewhere (after a
    redirect, which never carries the credential) says nothing about it."""
    return response.status_code == httpx.codes.UNAUTHORIZED and _same_origin(
        response.request.url, request.url
    )


def _same_origin(left: httpx.URL, right: httpx.URL) -> bool:
    """Scheme, host and port alike (RFC 6454), a missing port read as the scheme's default.

    >>> _same_origin(httpx.URL("https://a.example/x"), httpx.URL("https://a.example:443/y"))
    True
    >>> _same_origin(httpx.URL("http://127.0.0.1:8000/"), httpx.URL("http://127.0.0.1:8001/"))
    False
    """
    return _origin(left) == _origin(right)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _bearer(secret: SecretStr) -> str:
    return f"Bearer {secret.get_secret_value()}"
