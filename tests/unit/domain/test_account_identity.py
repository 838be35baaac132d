"""Which account a token response names: access token, then id_token, then `user` (SPEC §9)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import SecretStr

from domain.session import TokenResponse, TokenSet, account_named_by, session_from_response

NOW = 1_700_000_000


def jwt(claims: dict[str, Any]) -> SecretStr:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return SecretStr(f"e30.{payload}.c2ln")


OPAQUE = SecretStr("opaque-access-token")
AT = {"sub": "at-sub", "email": "at@example.com"}
ID = {"sub": "id-sub", "email": "id@example.com"}
USER = {"user_id": "user-sub", "email": "user@example.com"}


@pytest.mark.parametrize(
    ("access", "id_token", "user", "expected"),
    [
        (jwt(AT), jwt(ID), USER, ("at-sub", "at@example.com")),
        (OPAQUE, jwt(ID), USER, ("id-sub", "id@example.com")),
        (OPAQUE, None, USER, ("user-sub", "user@example.com")),
        (OPAQUE, jwt({}), USER, ("user-sub", "user@example.com")),
        (OPAQUE, SecretStr("not-a-jwt"), USER, ("user-sub", "user@example.com")),
        # Field by field: an access token with only a subject still shows the id_token's email.
        (jwt({"sub": "at-sub"}), jwt(ID), {}, ("at-sub", "id@example.com")),
        (OPAQUE, jwt({"email": "id@example.com", "sub": 7}), USER, ("user-sub", "id@example.com")),
        (OPAQUE, None, {}, (None, None)),
    ],
    ids=[
        "access-token-first",
        "id-token-when-opaque",
        "user-object-last",
        "empty-id-token",
        "malformed-id-token",
        "per-field",
        "non-string-claim",
        "nothing",
    ],
)
def test_account_comes_from_the_first_source_that_names_it(
    access: SecretStr,
    id_token: SecretStr | None,
    user: dict[str, str],
    expected: tuple[str | None, str | None],
) -> None:
    response = TokenResponse(access_token=access, id_token=id_token, **user)

    assert account_named_by(response) == expected


def test_a_refresh_without_an_id_token_keeps_the_account() -> None:
    first = session_from_response(TokenResponse(access_token=OPAQUE, id_token=jwt(ID)), NOW)
    refreshed = session_from_response(TokenResponse(access_token=OPAQUE), NOW + 60, first)

    assert (refreshed.user_id, refreshed.email) == ("id-sub", "id@example.com")


def test_the_id_token_stays_out_of_reprs_and_the_stored_session() -> None:
    secret = "e30.eyJzdWIiOiJDQU5BUlktSUQtVE9LRU4ifQ.sig"
    response = TokenResponse(access_token=OPAQUE, id_token=SecretStr(secret))
    session = session_from_response(response, NOW)

    assert secret not in repr(response)
    assert "id_token" not in TokenSet.model_fields
    assert secret not in session.model_dump_json()
