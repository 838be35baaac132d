"""PKCE (RFC 7636) S256: the challenge derived from a verifier."""

from __future__ import annotations

import base64
import hashlib


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding: always 43 URL-safe characters.

    >>> s256_challenge("abc")
    'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0'
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
