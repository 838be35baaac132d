"""PKCE S256 challenge (RFC 7636 §4.2): shape, the RFC's test vector, determinism."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.pkce import s256_challenge

BASE64URL_43 = re.compile(r"[A-Za-z0-9_-]{43}")
# RFC 7636 §4.1: unreserved characters, 43 to 128 of them.
verifiers = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
    min_size=43,
    max_size=128,
)


@pytest.mark.parametrize(
    ("verifier", "challenge"),
    [
        # RFC 7636 Appendix B.
        pytest.param(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            id="rfc7636-appendix-b",
        ),
    ],
)
def test_known_vector(verifier: str, challenge: str) -> None:
    assert s256_challenge(verifier) == challenge


@settings(max_examples=100)
@given(verifier=verifiers)
def test_challenge_is_43_base64url_chars_without_padding(verifier: str) -> None:
    challenge = s256_challenge(verifier)

    assert BASE64URL_43.fullmatch(challenge)
    assert "=" not in challenge


@settings(max_examples=100)
@given(verifier=verifiers)
def test_challenge_is_deterministic(verifier: str) -> None:
    copy = "".join(list(verifier))

    assert s256_challenge(verifier) == s256_challenge(copy)


@settings(max_examples=100)
@given(first=verifiers, second=verifiers)
def test_different_verifiers_give_different_challenges(first: str, second: str) -> None:
    assume(first != second)

    assert s256_challenge(first) != s256_challenge(second)


@settings(max_examples=100)
@given(verifier=verifiers, position=st.integers(0, 127), replacement=st.sampled_from("aZ9-._~"))
def test_one_character_changes_the_challenge(
    verifier: str, position: int, replacement: str
) -> None:
    position %= len(verifier)
    assume(verifier[position] != replacement)
    changed = verifier[:position] + replacement + verifier[position + 1 :]

    assert s256_challenge(changed) != s256_challenge(verifier)
