"""HS256 JSON Web Tokens (RFC 7519) for the emulator's access tokens, standard library only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # JWTs drop base64 padding (RFC 7515 §2); the decoder wants it back.
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(signing_input: str, secret: bytes) -> str:
    return _b64encode(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def encode(claims: Mapping[str, object], secret: bytes) -> str:
    """Sign `claims` into a compact JWT.

    >>> token = encode({"sub": "user_1", "exp": 2000000000}, b"k")
    >>> token.count(".")
    2
    >>> decode(token, b"k")
    {'sub': 'user_1', 'exp': 2000000000}
    """
    header = _b64encode(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{_sign(signing_input, secret)}"


def decode(token: str, secret: bytes) -> dict[str, object] | None:
    """Return the claims of a token this secret signed, or None for anything else.

    Expiry is not checked here: the emulator tracks each token's lifetime itself, so it can
    also expire or revoke tokens early.

    >>> decode(encode({"sub": "u"}, b"k"), b"other") is None
    True
    >>> decode("not-a-jwt", b"k") is None
    True
    """
    parts = token.split(".")
    # Bearer values arrive as latin-1 text; anything non-ASCII cannot be one of our tokens.
    if len(parts) != 3 or not token.isascii():
        return None
    header_part, payload_part, signature = parts
    # Compare signatures in constant time; then trust nothing but HS256 (no "alg": "none").
    if not hmac.compare_digest(_sign(f"{header_part}.{payload_part}", secret), signature):
        return None
    try:
        header = json.loads(_b64decode(header_part))
        claims = json.loads(_b64decode(payload_part))
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return None
    if not isinstance(claims, dict):
        return None
    return claims
