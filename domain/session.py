"""The OAuth session: expiry from the access token, validity with leeway, refresh and rotation."""

from __future__ import annotations

import base64
import binascii
import json
import math
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

# A token this close to expiry is treated as expired, so it cannot lapse mid-request.
EXPIRY_LEEWAY_SECONDS = 60
DEFAULT_LIFETIME_SECONDS = 3600
MAX_JWT_PAYLOAD_CHARS = 16_384


def is_header_safe(token: str) -> bool:
    """Whether a token can go in an Authorization header: visible ASCII only, not empty.

    A token that cannot is refused where it arrives (a token answer, the token file): sent
    later, httpx would raise an exception whose text quotes the header, token and all.

    >>> [is_header_safe(s) for s in ("abc.DEF-_~+/=", "tök", "a b", "a\\nb", "")]
    [True, False, False, False, False]
    """
    return bool(token) and all("!" <= char <= "~" for char in token)


class TokenResponse(BaseModel):
    """What the identity provider returned for a device-code or refresh grant."""

    # defer_build (on every domain model): a schema is built when first used, so a command
    # pays start-up time only for the models it touches.
    model_config = ConfigDict(frozen=True, defer_build=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_in: int | None = None
    token_type: str = "Bearer"
    user_id: str | None = None
    email: str | None = None
    # OpenID Connect's id_token, read only to name the account (see `account_named_by`).
    id_token: SecretStr | None = None


class SessionState(StrEnum):
    VALID = "valid"
    REFRESHABLE = "expired, refreshable"
    EXPIRED = "expired"


class TokenSet(BaseModel):
    """The stored session (`.cloud_tokens.json`); `extra` keeps fields we do not know."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: int
    token_type: str = "Bearer"
    user_id: str | None = None
    email: str | None = None
    session_id: str | None = None
    obtained_at: int | None = None
    # Fields we do not know (another tool's id_token, say) may be secrets: never in a repr.
    extra: dict[str, Any] = Field(default_factory=dict, repr=False)

    def is_valid(self, now: float) -> bool:
        """Usable as is: more than the leeway remains.

        >>> TokenSet(access_token=SecretStr("t"), expires_at=1000).is_valid(939)
        True
        >>> TokenSet(access_token=SecretStr("t"), expires_at=1000).is_valid(940)
        False
        """
        return now < self.expires_at - EXPIRY_LEEWAY_SECONDS

    @property
    def can_refresh(self) -> bool:
        return self.refresh_token is not None and bool(self.refresh_token.get_secret_value())

    def state(self, now: float) -> SessionState:
        if self.is_valid(now):
            return SessionState.VALID
        return SessionState.REFRESHABLE if self.can_refresh else SessionState.EXPIRED

    def usable(self, now: float) -> bool:
        """Valid now, or can become valid by a refresh."""
        return self.state(now) is not SessionState.EXPIRED

    def seconds_left(self, now: float) -> int:
        return max(0, int(self.expires_at - now))


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """Read a JWT's claims without verifying it (the server verifies; we only read `exp`).

    Anything that is not a well-formed JWT yields no claims rather than an error.

    >>> decode_jwt_claims("e30.eyJleHAiOjEyMywic3ViIjoidSJ9.sig")
    {'exp': 123, 'sub': 'u'}
    >>> decode_jwt_claims("opaque-token")
    {}
    """
    parts = token.split(".")
    # Real access tokens are a few KB; a huge payload is not a token we can use.
    if len(parts) != 3 or len(parts[1]) > MAX_JWT_PAYLOAD_CHARS:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _int_claim(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # JSON allows NaN, Infinity and 1e400, none of which is a moment in time.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value)


def _str_claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def expiry_for(response: TokenResponse, now: int) -> int:
    """JWT `exp` if present, else now + `expires_in`, else now + one hour (SPEC §3.4).

    >>> expiry_for(TokenResponse(access_token=SecretStr("opaque"), expires_in=120), 1000)
    1120
    >>> expiry_for(TokenResponse(access_token=SecretStr("opaque")), 1000)
    4600
    """
    exp = _int_claim(decode_jwt_claims(response.access_token.get_secret_value()), "exp")
    if exp is not None:
        return exp
    if response.expires_in is not None and response.expires_in >= 0:
        return now + response.expires_in
    return now + DEFAULT_LIFETIME_SECONDS


def account_named_by(response: TokenResponse) -> tuple[str | None, str | None]:
    """The account (subject, email) a token response names, each from the first source that has it:

    1. the access token's claims (WorkOS AuthKit's JWTs carry `sub` and `email`);
    2. the id_token's claims (a standard OpenID Connect provider may issue opaque access
       tokens and name the account only there);
    3. the response's `user` object.

    The id_token's signature is not checked: the name is only shown to the person (status,
    "Logged in as"), never used to decide anything, and the token came straight from the
    provider over the connection we opened.

    >>> opaque = SecretStr("opaque")
    >>> id_token = SecretStr("e30.eyJzdWIiOiJ1MSIsImVtYWlsIjoiYUBleC5vcmcifQ.sig")
    >>> account_named_by(TokenResponse(access_token=opaque, id_token=id_token, email="b@ex.org"))
    ('u1', 'a@ex.org')
    >>> account_named_by(TokenResponse(access_token=opaque, user_id="u2", email="b@ex.org"))
    ('u2', 'b@ex.org')
    """
    access = decode_jwt_claims(response.access_token.get_secret_value())
    identity = decode_jwt_claims(response.id_token.get_secret_value()) if response.id_token else {}
    user_id = _str_claim(access, "sub") or _str_claim(identity, "sub") or response.user_id
    email = _str_claim(access, "email") or _str_claim(identity, "email") or response.email
    return user_id, email


def session_from_response(
    response: TokenResponse, now: int, previous: TokenSet | None = None
) -> TokenSet:
    """Build the session to store; a response without a refresh token keeps the old one.

    Identity fields come from `account_named_by`, then the previous session, so a refresh
    never forgets who is signed in.
    """
    claims = decode_jwt_claims(response.access_token.get_secret_value())
    user_id, email = account_named_by(response)
    earlier_user_id = previous.user_id if previous else None
    earlier_email = previous.email if previous else None
    earlier_session_id = previous.session_id if previous else None
    refresh = response.refresh_token or (previous.refresh_token if previous else None)
    return TokenSet(
        access_token=response.access_token,
        refresh_token=refresh,
        expires_at=expiry_for(response, now),
        token_type=response.token_type or "Bearer",
        user_id=user_id or earlier_user_id,
        email=email or earlier_email,
        session_id=_str_claim(claims, "sid") or earlier_session_id,
        obtained_at=now,
        extra=dict(previous.extra) if previous else {},
    )
