"""The emulator's state machine: users, device codes, sessions, API keys, faults and request log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from emulator import jwt
from emulator.settings import ALICE_EMAIL, BOB_EMAIL, EmulatorSettings

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
# RFC 8628 §6.1: consonants only, so codes spell no words and survive being read aloud.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOG_LIMIT = 10_000

Clock = Callable[[], float]


@dataclass(frozen=True)
class Answer:
    """An HTTP status and the JSON object to send with it (the HTTP layer makes a `Response`)."""

    status: int
    body: dict[str, object]


def oauth_error(error: str, description: str, status: int = 400) -> Answer:
    """The RFC 6749 §5.2 error body."""
    return Answer(status, {"error": error, "error_description": description})


def normalize_user_code(raw: str) -> str | None:
    """Return the canonical `XXXX-XXXX` form of a typed user code, or None if it cannot be one.

    People type codes in any case, with or without the hyphen (RFC 8628 §6.1).

    >>> normalize_user_code(" bcdf-ghjk "), normalize_user_code("BCDFGHJK")
    ('BCDF-GHJK', 'BCDF-GHJK')
    >>> normalize_user_code("ABCD-EFGH") is None
    True
    """
    compact = "".join(raw.split()).replace("-", "").upper()
    if len(compact) != 8 or any(char not in USER_CODE_ALPHABET for char in compact):
        return None
    return f"{compact[:4]}-{compact[4:]}"


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 §4.2).

    >>> s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_id(prefix: str, wall_seconds: float) -> str:
    """A WorkOS-style identifier: prefix, underscore, then a ULID (time-ordered, random tail).

    >>> ident = new_id("user", 1_760_000_000.0)
    >>> ident.startswith("user_01K"), len(ident)
    (True, 31)
    """
    value = (int(wall_seconds * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def _number(value: float) -> float | int:
    # JSON clients expect whole seconds as integers (RFC 8628 uses integers); tests use fractions.
    return int(value) if float(value).is_integer() else value


class CodeStatus(StrEnum):
    """Where a device code is in its life."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CONSUMED = "consumed"
    EXPIRED = "expired"


class Decision(StrEnum):
    """The outcome of approving or denying a user code."""

    DONE = "done"
    UNKNOWN_CODE = "unknown_code"
    EXPIRED = "expired"
    ALREADY_DECIDED = "already_decided"
    UNKNOWN_USER = "unknown_user"


class FaultKind(StrEnum):
    """What an injected fault does to a request."""

    STATUS = "status"  # answer with a 5xx status, skipping the real handler
    DELAY = "delay"  # wait, then answer normally
    DROP = "drop"  # close the connection without a response
    HANG = "hang"  # hold the request unanswered, then close the connection
    # answer normally, but send the body one byte every `seconds` after the headers: each
    # read succeeds, so only a client's whole-request deadline ends the wait
    TRICKLE = "trickle"


@dataclass(frozen=True)
class Fault:
    """One injected fault; `path` is an exact request path, or `*` for every non-control path."""

    path: str
    kind: FaultKind
    status: int = 503
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.path != "*" and not self.path.startswith("/"):
            raise ValueError("fault path must start with '/' or be '*'")
        if self.path.startswith("/_emulator"):
            raise ValueError("the control API cannot be faulted")
        if self.kind is FaultKind.STATUS and not 500 <= self.status <= 599:
            raise ValueError("fault status must be a 5xx code")
        if self.seconds < 0:
            raise ValueError("fault seconds must not be negative")
        if self.kind is FaultKind.TRICKLE and self.seconds <= 0:
            raise ValueError("a trickle needs 'seconds' between bytes above 0")


@dataclass(frozen=True)
class User:
    """A person who can sign in."""

    id: str
    email: str
    first_name: str
    last_name: str
    subscribed: bool

    def as_json(self) -> dict[str, object]:
        """The `user` object of a WorkOS token response."""
        return {
            "id": self.id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
        }


@dataclass(frozen=True)
class LogEntry:
    """One answered (or deliberately unanswered) request. Holds no token, code, key or verifier."""

    method: str
    path: str
    status: int | None
    grant_type: str | None
    error: str | None
    fault: str | None
    monotonic: float
    wall: float
    # The `X-Workspace-ID` the request sent (an id, not a secret); None when it sent none.
    workspace: str | None = None

    def as_json(self) -> dict[str, object]:
        """The entry as the control API returns it."""
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "grant_type": self.grant_type,
            "error": self.error,
            "fault": self.fault,
            "monotonic": self.monotonic,
            "wall": self.wall,
            "workspace": self.workspace,
        }


@dataclass(frozen=True)
class DeviceCodeInfo:
    """What tests may know about an issued device code (never the device code itself)."""

    user_code: str
    status: CodeStatus
    client_id: str
    interval: float
    expires_in: float

    def as_json(self) -> dict[str, object]:
        """The entry as the control API returns it."""
        return {
            "user_code": self.user_code,
            "status": str(self.status),
            "client_id": self.client_id,
            "interval": self.interval,
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True)
class SessionInfo:
    """What tests may know about a session (never its tokens)."""

    session_id: str
    email: str
    client_id: str
    active: bool

    def as_json(self) -> dict[str, object]:
        """The entry as the control API returns it."""
        return {
            "session_id": self.session_id,
            "email": self.email,
            "client_id": self.client_id,
            "active": self.active,
        }


@dataclass
class _DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    code_challenge: str | None
    issued_at: float
    expires_at: float
    interval: float
    last_poll: float | None = None
    decision: CodeStatus = CodeStatus.PENDING
    email: str | None = None


@dataclass
class _Session:
    sid: str
    email: str
    client_id: str
    refresh_token: str
    revoked: bool = False
    access_ids: list[str] = field(default_factory=list)


@dataclass
class _Access:
    sid: str
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class _ApiKey:
    id: str
    name: str
    email: str
    created_at: str
    # The workspace the key was created in (its `X-Workspace-ID`); None: the owner's default.
    workspace: str | None = None


@dataclass
class _Workspace:
    tenant_id: str
    workspace_type: str
    slug: str
    name: str
    organization_id: str | None
    subscribed: bool
    members: dict[str, str] = field(default_factory=dict)  # email -> role


def personal_tenant_id(email: str) -> str:
    """The fixed id of a user's personal workspace, so tests and the README can name it.

    >>> personal_tenant_id("alice@example.com")
    '0e15e83e-7611-5289-b78e-0b1e3b6d2f4c'
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bm-emulator:personal:{email}"))


@dataclass
class _FaultSlot:
    fault: Fault
    remaining: int


@dataclass(frozen=True)
class Caller:
    """Who a bearer credential belongs to, and whether it is an OAuth token or an API key."""

    user: User
    is_api_key: bool
    # For an API key: the workspace it was created in, the only one it works in.
    key_workspace: str | None = None


def _seed_users(settings: EmulatorSettings) -> dict[str, User]:
    # Fixed ids, so tests and the README can name them.
    users = [
        User("user_01K6KWR2A7M9ZQ3C5D8E0F1G2H", ALICE_EMAIL, "Alice", "Example", True),
        User("user_01K6KWR2B0B9ZQ3C5D8E0F1G2J", BOB_EMAIL, "Bob", "Example", False),
    ]
    seeded = {user.email: user for user in users}
    default = seeded.get(settings.default_email)
    if default is None:
        default = User(new_id("user", time.time()), settings.default_email, "Default", "User", True)
    seeded[default.email] = replace(default, subscribed=settings.default_user_subscribed)
    return seeded


class EmulatorState:
    """Everything the emulator knows, behind one lock; the HTTP layer only parses and writes.

    Methods that answer protocol requests return a `Answer`; control methods return plain values.
    `monotonic` drives code lifetimes and polling intervals, `wall` the token times, so tests
    may pass their own clocks.
    """

    def __init__(
        self,
        settings: EmulatorSettings,
        *,
        monotonic: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self.settings = settings
        self._monotonic = monotonic
        self._wall = wall
        self._secret = settings.jwt_secret or secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._token_ttl = self.settings.token_ttl
        self._users = _seed_users(self.settings)
        self._codes: dict[str, _DeviceCode] = {}
        self._codes_by_user_code: dict[str, _DeviceCode] = {}
        self._sessions: dict[str, _Session] = {}
        # Every refresh token ever issued points at its session, so a spent one is recognised
        # and its reuse can revoke the family.
        self._refresh_owner: dict[str, str] = {}
        self._access: dict[str, _Access] = {}
        self._keys: dict[str, _ApiKey] = {}
        self._workspaces: dict[str, _Workspace] = {}
        for user in self._users.values():
            self._add_personal(user)
        self._faults: list[_FaultSlot] = []
        self._log: deque[LogEntry] = deque(maxlen=_LOG_LIMIT)
        self._refresh_count = 0

    # -- clocks -------------------------------------------------------------------------------

    def monotonic(self) -> float:
        """The emulator's monotonic clock."""
        return self._monotonic()

    def wall(self) -> float:
        """The emulator's wall clock (Unix seconds)."""
        return self._wall()

    # -- identity provider --------------------------------------------------------------------

    def _check_client(self, form: Mapping[str, str]) -> Answer | None:
        client_id = form.get("client_id")
        if not client_id:
            return oauth_error("invalid_request", "client_id is required")
        if client_id not in self.settings.client_ids:
            return oauth_error("invalid_client", "unknown client_id")
        return None

    def device_authorization(self, form: Mapping[str, str], base_url: str) -> Answer:
        """RFC 8628 §3.1–3.2: issue a device code and user code."""
        problem = self._check_client(form)
        if problem is not None:
            return problem
        challenge = form.get("code_challenge") or None
        method = form.get("code_challenge_method")
        if challenge is None and method:
            return oauth_error("invalid_request", "code_challenge_method without code_challenge")
        if challenge is not None:
            # RFC 7636 defaults the method to plain, which leaks the verifier; refuse it.
            if method != "S256":
                return oauth_error("invalid_request", "code_challenge_method must be S256")
            if len(challenge) != 43 or not _is_base64url(challenge):
                return oauth_error("invalid_request", "code_challenge is not an S256 challenge")
        with self._lock:
            now = self._monotonic()
            user_code = self._new_user_code()
            code = _DeviceCode(
                device_code=secrets.token_urlsafe(32),
                user_code=user_code,
                client_id=form["client_id"],
                code_challenge=challenge,
                issued_at=now,
                expires_at=now + self.settings.code_ttl,
                interval=self.settings.interval,
            )
            self._codes[code.device_code] = code
            self._codes_by_user_code[user_code] = code
        return Answer(
            200,
            {
                "device_code": code.device_code,
                "user_code": user_code,
                "verification_uri": f"{base_url}/device",
                "verification_uri_complete": f"{base_url}/device?user_code={user_code}",
                "expires_in": _number(self.settings.code_ttl),
                "interval": _number(self.settings.interval),
            },
        )

    def _new_user_code(self) -> str:
        while True:
            raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
            user_code = f"{raw[:4]}-{raw[4:]}"
            if user_code not in self._codes_by_user_code:
                return user_code

    def _status(self, code: _DeviceCode, now: float) -> CodeStatus:
        """The code's status now, applying auto-approval and expiry lazily (no timer threads)."""
        if code.decision is CodeStatus.CONSUMED:
            return CodeStatus.CONSUMED
        if now >= code.expires_at:
            return CodeStatus.EXPIRED
        auto = self.settings.auto_approve_after
        if (
            code.decision is CodeStatus.PENDING
            and auto is not None
            and now >= code.issued_at + auto
        ):
            code.decision = CodeStatus.APPROVED
            code.email = self.settings.default_email
        return code.decision

    def token(self, form: Mapping[str, str]) -> Answer:
        """RFC 6749 §5 token endpoint: the device code grant and the refresh grant."""
        grant_type = form.get("grant_type")
        if not grant_type:
            return oauth_error("invalid_request", "grant_type is required")
        problem = self._check_client(form)
        if problem is not None:
            return problem
        if grant_type == DEVICE_GRANT:
            return self._device_grant(form)
        if grant_type == REFRESH_GRANT:
            return self._refresh_grant(form)
        return oauth_error("unsupported_grant_type", "use the device_code or refresh_token grant")

    def _device_grant(self, form: Mapping[str, str]) -> Answer:
        device_code = form.get("device_code")
        if not device_code:
            return oauth_error("invalid_request", "device_code is required")
        with self._lock:
            now = self._monotonic()
            code = self._codes.get(device_code)
            if code is None or code.client_id != form["client_id"]:
                return oauth_error("invalid_grant", "unknown device code")
            status = self._status(code, now)
            if status is CodeStatus.CONSUMED:
                return oauth_error("invalid_grant", "device code already used")
            if status is CodeStatus.EXPIRED:
                return oauth_error("expired_token", "the device code has expired")
            previous, code.last_poll = code.last_poll, now
            tolerance = min(self.settings.poll_tolerance, code.interval / 5)
            if previous is not None and now - previous < code.interval - tolerance:
                code.interval += self.settings.slow_down_step
                return oauth_error(
                    "slow_down", f"poll at most every {_number(code.interval)} seconds"
                )
            if status is CodeStatus.DENIED:
                return oauth_error("access_denied", "the user denied the request")
            if status is CodeStatus.PENDING:
                return oauth_error("authorization_pending", "waiting for the user")
            if code.code_challenge is not None:
                verifier = form.get("code_verifier", "")
                if not hmac.compare_digest(s256(verifier), code.code_challenge):
                    return oauth_error("invalid_grant", "PKCE verification failed")
            code.decision = CodeStatus.CONSUMED
            assert code.email is not None
            return Answer(200, self._open_session(code.email, code.client_id))

    def _open_session(self, email: str, client_id: str) -> dict[str, object]:
        refresh_token = secrets.token_urlsafe(32)
        session = _Session(new_id("session", self._wall()), email, client_id, refresh_token)
        self._sessions[session.sid] = session
        self._refresh_owner[refresh_token] = session.sid
        return self._token_body(session)

    def _token_body(self, session: _Session) -> dict[str, object]:
        user = self._users[session.email]
        now = self._wall()
        expires_at = now + self._token_ttl
        jti = secrets.token_urlsafe(12)
        claims = {
            "sub": user.id,
            "sid": session.sid,
            "email": user.email,
            "iat": int(now),
            # Rounded down: a client trusting `exp` then refreshes a little early, never late.
            "exp": int(expires_at),
            "jti": jti,
        }
        self._access[jti] = _Access(session.sid, expires_at)
        session.access_ids.append(jti)
        return {
            "access_token": jwt.encode(claims, self._secret),
            "refresh_token": session.refresh_token,
            "token_type": "Bearer",
            "expires_in": _number(self._token_ttl),
            "user": user.as_json(),
        }

    def _refresh_grant(self, form: Mapping[str, str]) -> Answer:
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return oauth_error("invalid_request", "refresh_token is required")
        with self._lock:
            sid = self._refresh_owner.get(refresh_token)
            session = self._sessions.get(sid) if sid is not None else None
            if session is None or session.client_id != form["client_id"]:
                return oauth_error("invalid_grant", "unknown refresh token")
            if session.revoked:
                return oauth_error("invalid_grant", "the session has ended")
            if refresh_token != session.refresh_token:
                # A spent token came back: someone holds a copy. RFC 9700 §4.14.2: end the
                # whole family so neither copy keeps working.
                session.revoked = True
                return oauth_error("invalid_grant", "refresh token reused; session revoked")
            session.refresh_token = secrets.token_urlsafe(32)
            self._refresh_owner[session.refresh_token] = session.sid
            self._refresh_count += 1
            return Answer(200, self._token_body(session))

    def revoke(self, form: Mapping[str, str]) -> Answer:
        """RFC 7009: revoke a refresh token (ending its session) or one access token."""
        token = form.get("token")
        if not token:
            return oauth_error("invalid_request", "token is required")
        problem = self._check_client(form)
        if problem is not None:
            return problem
        with self._lock:
            sid = self._refresh_owner.get(token)
            session = self._sessions.get(sid) if sid is not None else None
            if session is not None and session.client_id == form["client_id"]:
                session.revoked = True
            else:
                claims = jwt.decode(token, self._secret)
                jti = claims.get("jti") if claims is not None else None
                access = self._access.get(jti) if isinstance(jti, str) else None
                if access is not None:
                    access.revoked = True
        # RFC 7009 §2.2: unknown tokens get 200 too, so the answer reveals nothing.
        return Answer(200, {})

    # -- the device page ----------------------------------------------------------------------

    def _pending(self, user_code: str) -> _DeviceCode | Decision:
        """The pending code a person typed (any case, hyphen optional), or why there is none."""
        normalized = normalize_user_code(user_code)
        code = self._codes_by_user_code.get(normalized) if normalized else None
        if code is None:
            return Decision.UNKNOWN_CODE
        status = self._status(code, self._monotonic())
        if status is CodeStatus.EXPIRED:
            return Decision.EXPIRED
        if status is not CodeStatus.PENDING:
            return Decision.ALREADY_DECIDED
        return code

    def pending_user_code(self, user_code: str) -> str | Decision:
        """The canonical form of a typed user code that awaits a decision, or why it does not."""
        with self._lock:
            code = self._pending(user_code)
            return code if isinstance(code, Decision) else code.user_code

    def decide(self, user_code: str, *, approve: bool, email: str | None = None) -> Decision:
        """Approve (as `email`, default user if None) or deny a pending user code."""
        with self._lock:
            code = self._pending(user_code)
            if isinstance(code, Decision):
                return code
            chosen = (email or self.settings.default_email).strip().lower()
            if approve and chosen not in self._users:
                return Decision.UNKNOWN_USER
            code.decision = CodeStatus.APPROVED if approve else CodeStatus.DENIED
            code.email = chosen if approve else None
            return Decision.DONE

    # -- cloud API ----------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Caller | None:
        """Who an `Authorization` header value belongs to, or None if it is not valid now."""
        if authorization is None:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return None
        with self._lock:
            if value.startswith("bmc_"):
                key = self._keys.get(value)
                if key is None:
                    return None
                return Caller(self._users[key.email], True, key.workspace)
            claims = jwt.decode(value, self._secret)
            jti = claims.get("jti") if claims is not None else None
            access = self._access.get(jti) if isinstance(jti, str) else None
            if access is None or access.revoked or self._wall() >= access.expires_at:
                return None
            session = self._sessions[access.sid]
            if session.revoked:
                return None
            return Caller(self._users[session.email], False)

    # -- workspaces ---------------------------------------------------------------------------

    def _add_personal(self, user: User) -> None:
        tenant = personal_tenant_id(user.email)
        slug = user.email.split("@")[0]
        self._workspaces[tenant] = _Workspace(
            tenant,
            "personal",
            slug,
            f"{user.first_name}'s workspace",
            None,
            user.subscribed,
            {user.email: "owner"},
        )

    def _workspace_of(self, caller: Caller, header: str | None) -> str | Answer:
        """The workspace a request works in, or the 403 when the caller may not use it."""
        personal = personal_tenant_id(caller.user.email)
        if header is None:
            return caller.key_workspace or personal
        tenant = header.strip()
        with self._lock:
            workspace = self._workspaces.get(tenant)
            member = workspace is not None and caller.user.email in workspace.members
        if not member or (caller.key_workspace is not None and caller.key_workspace != tenant):
            return Answer(
                403,
                {
                    "detail": {
                        "error": "workspace_forbidden",
                        "message": "You are not a member of this workspace",
                        "workspace_id": tenant[:64],
                    }
                },
            )
        return tenant

    def _subscribed(self, caller: Caller, tenant: str) -> bool:
        with self._lock:
            if tenant == personal_tenant_id(caller.user.email):
                return self._users[caller.user.email].subscribed
            workspace = self._workspaces.get(tenant)
            return workspace is not None and workspace.subscribed

    def list_workspaces(self, authorization: str | None, header: str | None) -> Answer:
        """`GET /workspaces/`: the caller's workspaces; its personal one is the default."""
        caller = self.authenticate(authorization)
        if caller is None:
            return Answer(401, {"detail": "Invalid or expired credentials"})
        current = self._workspace_of(caller, header)
        if isinstance(current, Answer):
            return current
        email = caller.user.email
        default = personal_tenant_id(email)
        with self._lock:
            mine = [w for w in self._workspaces.values() if email in w.members]
            entries: list[object] = [
                {
                    "tenant_id": w.tenant_id,
                    "workspace_type": w.workspace_type,
                    "slug": w.slug,
                    "name": w.name,
                    "role": w.members[email],
                    "is_default": w.tenant_id == default,
                    "organization_id": w.organization_id,
                    "has_active_subscription": (
                        self._users[email].subscribed if w.tenant_id == default else w.subscribed
                    ),
                }
                for w in mine
            ]
        return Answer(
            200,
            {
                "workspaces": entries,
                "count": len(entries),
                "default_workspace_id": default,
                "current_workspace_id": current,
            },
        )

    def add_workspace(
        self,
        email: str,
        name: str,
        *,
        slug: str | None = None,
        workspace_type: str = "organization",
        role: str = "member",
        subscribed: bool = True,
        tenant_id: str | None = None,
    ) -> str:
        """Make `email` a member of a workspace (a new one, or `tenant_id` if it exists);
        returns its tenant id. Raises LookupError for an unknown user."""
        if workspace_type not in ("personal", "organization"):
            raise ValueError("workspace_type must be personal or organization")
        with self._lock:
            user = self._user(email)
            tenant = tenant_id or str(uuid.uuid4())
            workspace = self._workspaces.get(tenant)
            if workspace is None:
                workspace = _Workspace(
                    tenant,
                    workspace_type,
                    slug or name.strip().lower().replace(" ", "-"),
                    name,
                    None if workspace_type == "personal" else new_id("org", self._wall()),
                    subscribed,
                )
                self._workspaces[tenant] = workspace
            workspace.members[user.email] = role
            return tenant

    def set_workspace_subscription(self, tenant_id: str, active: bool) -> None:
        """Give or take away one workspace's subscription; LookupError for an unknown one."""
        with self._lock:
            workspace = self._workspaces.get(tenant_id)
            if workspace is None:
                raise LookupError(f"unknown workspace {tenant_id!r}")
            workspace.subscribed = active
            for email in workspace.members:
                if personal_tenant_id(email) == tenant_id:
                    self._users[email] = replace(self._users[email], subscribed=active)

    def health(
        self, authorization: str | None, base_url: str, workspace: str | None = None
    ) -> Answer:
        """`GET /proxy/health`: 200 subscribed, 403 not subscribed or not a member of the
        `X-Workspace-ID` workspace, 401 bad credential. Subscriptions are per workspace."""
        caller = self.authenticate(authorization)
        if caller is None:
            return Answer(401, {"detail": "Invalid or expired credentials"})
        tenant = self._workspace_of(caller, workspace)
        if isinstance(tenant, Answer):
            return tenant
        if not self._subscribed(caller, tenant):
            return Answer(
                403,
                {
                    "detail": {
                        "error": "subscription_required",
                        "message": "Active subscription required",
                        "subscribe_url": f"{base_url}/subscribe",
                    }
                },
            )
        return Answer(200, {"status": "ok"})

    def create_api_key(
        self, authorization: str | None, payload: object, workspace: str | None = None
    ) -> Answer:
        """`POST /api/keys`: a new `bmc_` key for the OAuth user, in the `X-Workspace-ID`
        workspace when one is sent; API keys cannot mint keys."""
        caller = self.authenticate(authorization)
        if caller is None:
            return Answer(401, {"detail": "Invalid or expired credentials"})
        tenant = self._workspace_of(caller, workspace)
        if isinstance(tenant, Answer):
            return tenant
        if caller.is_api_key:
            return Answer(403, {"detail": "API keys cannot create API keys; sign in with OAuth"})
        name = payload.get("name") if isinstance(payload, dict) else None
        if not isinstance(name, str) or not name.strip():
            return Answer(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "name"],
                            "msg": "a non-empty string is required",
                            "type": "missing" if name is None else "string_type",
                        }
                    ]
                },
            )
        with self._lock:
            return Answer(
                201, self._issue_key(caller.user.email, name.strip(), workspace and tenant)
            )

    def _issue_key(self, email: str, name: str, workspace: str | None = None) -> dict[str, object]:
        now = self._wall()
        secret = "bmc_" + secrets.token_urlsafe(24)
        key = _ApiKey(
            id=new_id("key", now),
            name=name,
            email=email,
            created_at=datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
            workspace=workspace,
        )
        self._keys[secret] = key
        return {"id": key.id, "name": key.name, "key": secret, "created_at": key.created_at}

    # -- control ------------------------------------------------------------------------------

    def _user(self, email: str) -> User:
        user = self._users.get(email.strip().lower())
        if user is None:
            raise LookupError(f"unknown user {email!r}")
        return user

    def set_subscription(self, email: str, active: bool) -> None:
        """Give or take away a user's subscription. Raises LookupError for an unknown user."""
        with self._lock:
            user = self._user(email)
            self._users[user.email] = replace(user, subscribed=active)

    def expire_sessions(self, *, email: str | None = None, session_id: str | None = None) -> int:
        """Make the access tokens of matching sessions expired now; return how many sessions."""
        with self._lock:
            now = self._wall()
            matched = [
                session
                for session in self._sessions.values()
                if (email is None or session.email == email.strip().lower())
                and (session_id is None or session.sid == session_id)
            ]
            for session in matched:
                for jti in session.access_ids:
                    access = self._access[jti]
                    access.expires_at = min(access.expires_at, now)
            return len(matched)

    def refuse_access_token(self, access_token: str) -> bool:
        """Refuse one access token from now on although it has not expired (as a cloud does
        after a server-side revocation); its session and refresh token stay usable.
        Returns whether the token was one this emulator issued."""
        with self._lock:
            claims = jwt.decode(access_token, self._secret)
            jti = claims.get("jti") if claims is not None else None
            access = self._access.get(jti) if isinstance(jti, str) else None
            if access is None:
                return False
            access.revoked = True
            return True

    def is_current_refresh_token(self, refresh_token: str) -> bool:
        """Whether this refresh token is the live one of an active session (not spent)."""
        with self._lock:
            sid = self._refresh_owner.get(refresh_token)
            session = self._sessions.get(sid) if sid is not None else None
            return (
                session is not None
                and not session.revoked
                and session.refresh_token == refresh_token
            )

    def set_token_ttl(self, seconds: float) -> None:
        """Lifetime of access tokens issued from now on."""
        if seconds < 0:
            raise ValueError("token ttl must not be negative")
        with self._lock:
            self._token_ttl = seconds

    def issue_session(self, email: str, client_id: str | None = None) -> dict[str, object]:
        """Sign a user in without the device flow; returns the token response body."""
        with self._lock:
            user = self._user(email)
            return self._open_session(user.email, client_id or self.settings.client_ids[0])

    def issue_api_key(self, email: str, name: str = "test") -> dict[str, object]:
        """Create an API key for a user without OAuth; returns the `/api/keys` response body."""
        with self._lock:
            return self._issue_key(self._user(email).email, name)

    def add_fault(self, fault: Fault, count: int = 1) -> None:
        """Apply `fault` to the next `count` requests of its path."""
        if count < 1:
            raise ValueError("fault count must be at least 1")
        with self._lock:
            self._faults.append(_FaultSlot(fault, count))

    def clear_faults(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._faults.clear()

    def take_fault(self, path: str) -> Fault | None:
        """The fault for a request to `path`, if one is pending; uses up one of its count."""
        if path.startswith("/_emulator"):
            return None
        with self._lock:
            for slot in self._faults:
                if slot.fault.path in (path, "*"):
                    slot.remaining -= 1
                    if slot.remaining == 0:
                        self._faults.remove(slot)
                    return slot.fault
            return None

    def record(self, entry: LogEntry) -> None:
        """Append to the request log."""
        with self._lock:
            self._log.append(entry)

    def request_log(self) -> list[LogEntry]:
        """The requests so far, oldest first (the last 10 000)."""
        with self._lock:
            return list(self._log)

    def refresh_count(self) -> int:
        """How many refresh grants succeeded."""
        with self._lock:
            return self._refresh_count

    def device_codes(self) -> list[DeviceCodeInfo]:
        """Issued device codes, oldest first."""
        with self._lock:
            now = self._monotonic()
            return [
                DeviceCodeInfo(
                    code.user_code,
                    self._status(code, now),
                    code.client_id,
                    code.interval,
                    max(0.0, code.expires_at - now),
                )
                for code in self._codes.values()
            ]

    def users(self) -> list[User]:
        """The known users."""
        with self._lock:
            return list(self._users.values())

    def sessions(self) -> list[SessionInfo]:
        """Sessions so far, oldest first."""
        with self._lock:
            return [
                SessionInfo(session.sid, session.email, session.client_id, not session.revoked)
                for session in self._sessions.values()
            ]

    def reset(self) -> None:
        """Back to the state at start-up (same signing secret)."""
        with self._lock:
            self._reset()


def _is_base64url(text: str) -> bool:
    return all(char.isascii() and (char.isalnum() or char in "-_") for char in text)
