"""OAuth session rules: leeway, state, JWT claims, expiry precedence, rotation (SPEC §3.4-5, §5)."""

from __future__ import annotations

import base64
import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from domain.session import (
    SessionState,
    TokenResponse,
    TokenSet,
    account_named_by,
    decode_jwt_claims,
    expiry_for,
    session_from_response,
)

EXPIRES_AT = 1_800_000_000
NOW = 1_700_000_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def jwt(claims: Any, header: dict[str, str] | None = None) -> str:
    """A compact JWS with an unverified signature, as the tests need no more."""
    head = b64url(json.dumps(header or {"alg": "RS256", "typ": "JWT"}).encode())
    return f"{head}.{b64url(json.dumps(claims).encode())}.c2lnbmF0dXJl"


def jwt_raw_payload(payload: str) -> str:
    return f"e30.{b64url(payload.encode())}.sig"


def session(
    expires_at: int = EXPIRES_AT, refresh: str | None = "refresh-1", **fields: Any
) -> TokenSet:
    return TokenSet(
        access_token=SecretStr("access-1"),
        refresh_token=None if refresh is None else SecretStr(refresh),
        expires_at=expires_at,
        **fields,
    )


# --- validity and state ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "valid"),
    [
        pytest.param(EXPIRES_AT - 3600, True, id="an-hour-left"),
        pytest.param(EXPIRES_AT - 61, True, id="61s-left"),
        pytest.param(EXPIRES_AT - 60.5, True, id="60.5s-left"),
        pytest.param(EXPIRES_AT - 60, False, id="exactly-60s-left"),
        pytest.param(EXPIRES_AT - 59, False, id="59s-left"),
        pytest.param(EXPIRES_AT, False, id="at-expiry"),
        pytest.param(EXPIRES_AT + 1, False, id="after-expiry"),
    ],
)
def test_is_valid_with_sixty_second_leeway(now: float, valid: bool) -> None:
    assert session().is_valid(now) is valid


@pytest.mark.parametrize(
    ("now", "refresh", "state", "usable"),
    [
        pytest.param(EXPIRES_AT - 61, "r", SessionState.VALID, True, id="valid-with-refresh"),
        pytest.param(EXPIRES_AT - 61, None, SessionState.VALID, True, id="valid-without-refresh"),
        pytest.param(EXPIRES_AT - 60, "r", SessionState.REFRESHABLE, True, id="leeway-refresh"),
        pytest.param(EXPIRES_AT - 60, None, SessionState.EXPIRED, False, id="leeway-no-refresh"),
        pytest.param(EXPIRES_AT + 99, "r", SessionState.REFRESHABLE, True, id="expired-refresh"),
        pytest.param(EXPIRES_AT + 99, "", SessionState.EXPIRED, False, id="expired-empty-refresh"),
        pytest.param(EXPIRES_AT + 99, None, SessionState.EXPIRED, False, id="expired-no-refresh"),
    ],
)
def test_state_and_usable(
    now: float, refresh: str | None, state: SessionState, usable: bool
) -> None:
    tokens = session(refresh=refresh)

    assert tokens.state(now) is state
    assert tokens.usable(now) is usable


@pytest.mark.parametrize(
    ("refresh", "expected"),
    [
        pytest.param(None, False, id="none"),
        pytest.param("", False, id="empty"),
        pytest.param("r", True, id="one-char"),
        pytest.param("refresh-token-value", True, id="normal"),
    ],
)
def test_can_refresh(refresh: str | None, expected: bool) -> None:
    assert session(refresh=refresh).can_refresh is expected


@pytest.mark.parametrize(
    ("now", "left"),
    [
        pytest.param(EXPIRES_AT - 100, 100, id="before"),
        pytest.param(EXPIRES_AT - 0.5, 0, id="half-second"),
        pytest.param(EXPIRES_AT, 0, id="at"),
        pytest.param(EXPIRES_AT + 100, 0, id="after-never-negative"),
    ],
)
def test_seconds_left(now: float, left: int) -> None:
    assert session().seconds_left(now) == left


def test_state_labels_match_status_wording() -> None:
    assert [state.value for state in SessionState] == ["valid", "expired, refreshable", "expired"]


# --- JWT claims --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "claims"),
    [
        pytest.param(
            jwt({"exp": 1234, "sub": "user_1", "email": "a@b.c", "sid": "s1"}),
            {"exp": 1234, "sub": "user_1", "email": "a@b.c", "sid": "s1"},
            id="valid-jwt",
        ),
        # JSON of 8, 9 and 10 bytes: the unpadded base64url lacks 1, 0 and 2 '=' characters.
        pytest.param(jwt({"a": 1}), {"a": 1}, id="payload-missing-one-pad"),
        pytest.param(jwt({"ab": 1}), {"ab": 1}, id="payload-needs-no-pad"),
        pytest.param(jwt({"abc": 1}), {"abc": 1}, id="payload-missing-two-pads"),
        # Encodes to "...Ij8_Pz4-PiJ9": both url-safe characters '-' and '_'.
        pytest.param(jwt({"name": "???>>>"}), {"name": "???>>>"}, id="url-safe-alphabet"),
        pytest.param("e30." + b64url(b'{"x": 1}') + "=.s", {"x": 1}, id="padded-payload"),
        pytest.param(jwt({}), {}, id="empty-object"),
        pytest.param(jwt_raw_payload("not json"), {}, id="non-json"),
        pytest.param(jwt_raw_payload("[1, 2, 3]"), {}, id="json-array"),
        pytest.param(jwt_raw_payload('"just a string"'), {}, id="json-string"),
        pytest.param(jwt_raw_payload("42"), {}, id="json-number"),
        pytest.param(jwt_raw_payload("null"), {}, id="json-null"),
        pytest.param("e30.!!!!.sig", {}, id="not-base64"),
        pytest.param("e30.é.sig", {}, id="non-ascii-payload"),
        pytest.param("e30.\udcff.sig", {}, id="lone-surrogate"),
        pytest.param("e30." + b64url(b"\xff\xfe\x00") + ".sig", {}, id="binary-payload"),
        pytest.param("e30." + b64url(b'{"a":1}'), {}, id="two-parts"),
        pytest.param("a.b.c.d", {}, id="four-parts"),
        pytest.param("opaque-access-token", {}, id="opaque"),
        pytest.param("", {}, id="empty"),
        pytest.param("..", {}, id="empty-parts"),
    ],
)
def test_decode_jwt_claims(token: str, claims: dict[str, Any]) -> None:
    assert decode_jwt_claims(token) == claims


def test_decode_jwt_claims_survives_deeply_nested_payload() -> None:
    assert decode_jwt_claims(jwt_raw_payload("[" * 100_000)) == {}


@settings(max_examples=200)
@given(token=st.text())
def test_decode_jwt_claims_is_total_on_text(token: str) -> None:
    assert isinstance(decode_jwt_claims(token), dict)


@settings(max_examples=200)
@given(
    claims=st.dictionaries(
        st.text(max_size=10),
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        max_size=6,
    )
)
def test_decode_jwt_claims_reads_back_any_json_object(claims: dict[str, Any]) -> None:
    assert decode_jwt_claims(jwt(claims)) == claims


# --- expiry precedence -------------------------------------------------------------------------


def response(token: str, expires_in: int | None = None, **fields: Any) -> TokenResponse:
    return TokenResponse(access_token=SecretStr(token), expires_in=expires_in, **fields)


@pytest.mark.parametrize(
    ("token", "expires_in", "expected"),
    [
        pytest.param(jwt({"exp": NOW + 900}), 120, NOW + 900, id="jwt-exp-beats-expires-in"),
        pytest.param(jwt({"exp": NOW + 900}), None, NOW + 900, id="jwt-exp-alone"),
        pytest.param(jwt({"exp": NOW - 10}), 120, NOW - 10, id="jwt-exp-in-past-still-wins"),
        pytest.param(jwt({"exp": float(NOW + 30)}), 120, NOW + 30, id="jwt-float-exp"),
        pytest.param(jwt({"exp": True}), 120, NOW + 120, id="bool-exp-ignored"),
        pytest.param(jwt({"exp": False}), None, NOW + 3600, id="bool-false-exp-ignored"),
        pytest.param(jwt({"exp": str(NOW + 900)}), 120, NOW + 120, id="string-exp-ignored"),
        pytest.param(jwt({"exp": None}), 120, NOW + 120, id="null-exp-ignored"),
        pytest.param(jwt({"sub": "u"}), 120, NOW + 120, id="jwt-without-exp"),
        pytest.param("opaque", 120, NOW + 120, id="opaque-expires-in"),
        pytest.param("opaque", 0, NOW, id="expires-in-zero"),
        pytest.param("opaque", None, NOW + 3600, id="default-hour"),
        pytest.param("opaque", -5, NOW + 3600, id="negative-expires-in-ignored"),
        pytest.param(jwt({"sub": "u"}), None, NOW + 3600, id="jwt-nothing-default"),
    ],
)
def test_expiry_precedence(token: str, expires_in: int | None, expected: int) -> None:
    assert expiry_for(response(token, expires_in), NOW) == expected


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_exp_is_ignored(literal: str) -> None:
    token = jwt_raw_payload(f'{{"exp": {literal}}}')

    assert expiry_for(response(token, 120), NOW) == NOW + 120


@settings(max_examples=200)
@given(now=st.integers(0, 2**40), expires_in=st.integers(0, 2**31))
def test_opaque_token_expiry_is_now_plus_expires_in(now: int, expires_in: int) -> None:
    assert expiry_for(response("opaque", expires_in), now) == now + expires_in


@settings(max_examples=200)
@given(
    expires_at=st.integers(0, 2**40),
    now=st.integers(-(2**40), 2**41) | st.floats(0, 2**41, allow_nan=False),
)
def test_is_valid_iff_more_than_sixty_seconds_remain(expires_at: int, now: float) -> None:
    tokens = session(expires_at=expires_at)

    # Exact arithmetic: a float subtraction could round across the boundary.
    assert tokens.is_valid(now) == (Fraction(expires_at) - Fraction(now) > 60)


# --- building the stored session ----------------------------------------------------------------


def test_new_session_from_device_flow_response() -> None:
    token = jwt({"exp": NOW + 900, "sub": "user_1", "email": "a@example.com", "sid": "sess_1"})

    built = session_from_response(response(token, 3600, refresh_token=SecretStr("r-new")), NOW)

    assert built.access_token.get_secret_value() == token
    assert built.refresh_token is not None
    assert built.refresh_token.get_secret_value() == "r-new"
    assert built.expires_at == NOW + 900
    assert (built.user_id, built.email, built.session_id) == ("user_1", "a@example.com", "sess_1")
    assert built.obtained_at == NOW
    assert built.token_type == "Bearer"
    assert built.extra == {}


@pytest.mark.parametrize(
    ("new_refresh", "old_refresh", "kept"),
    [
        pytest.param("r-new", "r-old", "r-new", id="rotated-takes-new"),
        pytest.param(None, "r-old", "r-old", id="none-keeps-old"),
        pytest.param("", "r-old", "r-old", id="empty-keeps-old"),
        pytest.param("r-new", None, "r-new", id="new-where-none-before"),
        pytest.param(None, None, None, id="none-anywhere"),
    ],
)
def test_refresh_token_rotation(
    new_refresh: str | None, old_refresh: str | None, kept: str | None
) -> None:
    previous = session(refresh=old_refresh)
    refreshed = response(
        "access-2", 600, refresh_token=None if new_refresh is None else SecretStr(new_refresh)
    )

    built = session_from_response(refreshed, NOW, previous)

    shown = None if built.refresh_token is None else built.refresh_token.get_secret_value()
    assert shown == kept
    assert built.access_token.get_secret_value() == "access-2"
    assert built.expires_at == NOW + 600


PREVIOUS_IDENTITY = {"user_id": "old-user", "email": "old@example.com", "session_id": "old-sid"}


@pytest.mark.parametrize(
    ("claims", "response_fields", "previous", "expected"),
    [
        pytest.param(
            {"sub": "claim-user", "email": "claim@example.com", "sid": "claim-sid"},
            {"user_id": "resp-user", "email": "resp@example.com"},
            PREVIOUS_IDENTITY,
            ("claim-user", "claim@example.com", "claim-sid"),
            id="claims-win",
        ),
        pytest.param(
            {},
            {"user_id": "resp-user", "email": "resp@example.com"},
            PREVIOUS_IDENTITY,
            ("resp-user", "resp@example.com", "old-sid"),
            id="response-then-previous-sid",
        ),
        pytest.param(
            {},
            {},
            PREVIOUS_IDENTITY,
            ("old-user", "old@example.com", "old-sid"),
            id="previous-remembered",
        ),
        pytest.param({}, {}, None, (None, None, None), id="nothing-known"),
        pytest.param(
            {"sub": "", "email": 7, "sid": None},
            {"email": "resp@example.com"},
            PREVIOUS_IDENTITY,
            ("old-user", "resp@example.com", "old-sid"),
            id="empty-or-wrong-type-claims-skipped",
        ),
        pytest.param(
            {"sub": "claim-user"},
            {},
            None,
            ("claim-user", None, None),
            id="partial-claims-no-previous",
        ),
    ],
)
def test_identity_precedence(
    claims: dict[str, Any],
    response_fields: dict[str, str],
    previous: dict[str, str] | None,
    expected: tuple[str | None, str | None, str | None],
) -> None:
    before = session(**previous) if previous is not None else None

    built = session_from_response(response(jwt(claims), 600, **response_fields), NOW, before)

    assert (built.user_id, built.email, built.session_id) == expected


def test_extra_fields_survive_a_refresh() -> None:
    previous = session(extra={"future_field": [1, 2], "plan": "pro"})

    built = session_from_response(response("access-2", 600), NOW, previous)

    assert built.extra == {"future_field": [1, 2], "plan": "pro"}


def test_obtained_at_and_token_type_come_from_the_new_response() -> None:
    previous = session(obtained_at=NOW - 10_000, token_type="Bearer")

    built = session_from_response(response("access-2", 600, token_type="DPoP"), NOW, previous)

    assert built.obtained_at == NOW
    assert built.token_type == "DPoP"


def test_empty_token_type_falls_back_to_bearer() -> None:
    assert session_from_response(response("a", 600, token_type=""), NOW).token_type == "Bearer"


# --- secrecy -----------------------------------------------------------------------------------


ACCESS_SECRET = "acc3ss-SECRET-value"
REFRESH_SECRET = "r3fresh-SECRET-value"


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(repr, id="repr"),
        pytest.param(str, id="str"),
        pytest.param(lambda value: json.dumps(value.model_dump(mode="json")), id="dump-json"),
        pytest.param(lambda value: value.model_dump_json(), id="model-dump-json"),
        pytest.param(lambda value: repr(value.model_dump()), id="dump-python"),
    ],
)
@pytest.mark.parametrize("model", ["TokenSet", "TokenResponse"])
def test_tokens_never_shown(model: str, render: Any) -> None:
    value: TokenSet | TokenResponse
    if model == "TokenSet":
        value = TokenSet(
            access_token=SecretStr(ACCESS_SECRET),
            refresh_token=SecretStr(REFRESH_SECRET),
            expires_at=EXPIRES_AT,
        )
    else:
        value = TokenResponse(
            access_token=SecretStr(ACCESS_SECRET), refresh_token=SecretStr(REFRESH_SECRET)
        )

    shown = render(value)

    assert "SECRET" not in shown
    assert "acc3ss" not in shown
    assert "r3fresh" not in shown


def test_token_set_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        session().expires_at = 0  # type: ignore[misc]


# Which account a token response names: access token, then id_token, then `user` (SPEC §9).


def jwt_secret(claims: dict[str, Any]) -> SecretStr:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return SecretStr(f"e30.{payload}.c2ln")


OPAQUE = SecretStr("opaque-access-token")
AT = {"sub": "at-sub", "email": "at@example.com"}
ID = {"sub": "id-sub", "email": "id@example.com"}
USER = {"user_id": "user-sub", "email": "user@example.com"}


@pytest.mark.parametrize(
    ("access", "id_token", "user", "expected"),
    [
        (jwt_secret(AT), jwt_secret(ID), USER, ("at-sub", "at@example.com")),
        (OPAQUE, jwt_secret(ID), USER, ("id-sub", "id@example.com")),
        (OPAQUE, None, USER, ("user-sub", "user@example.com")),
        (OPAQUE, jwt_secret({}), USER, ("user-sub", "user@example.com")),
        (OPAQUE, SecretStr("not-a-jwt"), USER, ("user-sub", "user@example.com")),
        # Field by field: an access token with only a subject still shows the id_token's email.
        (jwt_secret({"sub": "at-sub"}), jwt_secret(ID), {}, ("at-sub", "id@example.com")),
        (
            OPAQUE,
            jwt_secret({"email": "id@example.com", "sub": 7}),
            USER,
            ("user-sub", "id@example.com"),
        ),
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
    first = session_from_response(TokenResponse(access_token=OPAQUE, id_token=jwt_secret(ID)), NOW)
    refreshed = session_from_response(TokenResponse(access_token=OPAQUE), NOW + 60, first)

    assert (refreshed.user_id, refreshed.email) == ("id-sub", "id@example.com")


def test_the_id_token_stays_out_of_reprs_and_the_stored_session() -> None:
    secret = "e30.eyJzdWIiOiJDQU5BUlktSUQtVE9LRU4ifQ.sig"
    response = TokenResponse(access_token=OPAQUE, id_token=SecretStr(secret))
    session = session_from_response(response, NOW)

    assert secret not in repr(response)
    assert "id_token" not in TokenSet.model_fields
    assert secret not in session.model_dump_json()
