"""API key validation, masking and secrecy (SPEC §5 "API key", §7)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from returns.pipeline import is_successful

from domain.api_key import ApiKey, mask_api_key, parse_api_key
from domain.errors import InvalidApiKey

BODY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

VALID_KEYS = [
    pytest.param("bmc_abcdefgh", "bmc_abcdefgh", id="exactly-8-body-chars"),
    pytest.param("bmc_AbC-9_zQ12345678", "bmc_AbC-9_zQ12345678", id="mixed-alphabet"),
    pytest.param("bmc_--------", "bmc_--------", id="only-dashes"),
    pytest.param("bmc_________", "bmc_________", id="only-underscores"),
    pytest.param("bmc_bmc_bmc_", "bmc_bmc_bmc_", id="body-repeats-prefix"),
    pytest.param("  bmc_abcdefgh1234  ", "bmc_abcdefgh1234", id="spaces-around-stripped"),
    pytest.param("\tbmc_abcdefgh1234\n", "bmc_abcdefgh1234", id="tab-newline-around-stripped"),
    pytest.param("\r\nbmc_abcdefgh1234\r\n", "bmc_abcdefgh1234", id="crlf-around-stripped"),
    pytest.param("bmc_" + "a" * 508, "bmc_" + "a" * 508, id="exactly-512-chars"),
]


@pytest.mark.parametrize(("raw", "expected"), VALID_KEYS)
def test_valid_keys_are_accepted_and_stripped(raw: str, expected: str) -> None:
    parsed = parse_api_key(raw)

    assert is_successful(parsed)
    assert parsed.unwrap().value.get_secret_value() == expected


INVALID_KEYS = [
    pytest.param("", id="empty"),
    pytest.param("   \t\n ", id="only-whitespace"),
    pytest.param("abcdefgh12345678", id="prefix-missing"),
    pytest.param("sk_abcdefgh12345678", id="other-vendor-prefix"),
    pytest.param("BMC_abcdefgh12345678", id="upper-case-prefix"),
    pytest.param("Bmc_abcdefgh12345678", id="mixed-case-prefix"),
    pytest.param("bmc-abcdefgh12345678", id="dash-instead-of-underscore"),
    pytest.param("bmcabcdefgh12345678", id="prefix-without-underscore"),
    pytest.param("bmc_", id="prefix-only"),
    pytest.param("bmc_abcdefg", id="body-7-chars"),
    pytest.param("bmc_abcd.efgh1234", id="dot-in-body"),
    pytest.param("bmc_abcd+efgh1234", id="plus-in-body"),
    pytest.param("bmc_abcd/efgh1234", id="slash-in-body"),
    pytest.param("bmc_abcd=efgh1234", id="equals-in-body"),
    pytest.param("bmc_abcd efgh1234", id="inner-space"),
    pytest.param("bmc_abcd\tefgh1234", id="inner-tab"),
    pytest.param("bmc_abcd\nefgh1234", id="inner-newline"),
    pytest.param("bmc _abcdefgh1234", id="space-inside-prefix"),
    pytest.param("bmc_abcd\u0430efgh1234", id="cyrillic-a-lookalike"),
    pytest.param("bmc_\u0430bcdefgh1234", id="cyrillic-a-first"),
    pytest.param("bmc_abcdefgh\uff11\uff12\uff13\uff14", id="fullwidth-digits"),
    pytest.param("\uff42mc_abcdefgh1234", id="fullwidth-b-in-prefix"),
    pytest.param("bmc_abcdefgh1234\u00e9", id="accented-letter"),
    pytest.param("bmc_abcd\x07efgh1234", id="bell-control-char"),
    pytest.param("bmc_abcd\x1befgh1234", id="escape-control-char"),
    pytest.param("bmc_abcd\x00efgh1234", id="nul-inside"),
    pytest.param("bmc_abcdefgh1234\x00", id="nul-at-end"),
    pytest.param("\x00bmc_abcdefgh1234", id="nul-at-start"),
    pytest.param("bmc_abcdefgh1234\u200b", id="zero-width-space-at-end"),
    pytest.param("bmc_" + "a" * 509, id="513-chars"),
    pytest.param("bmc_" + "a" * 10_000, id="very-long"),
]


@pytest.mark.parametrize("raw", INVALID_KEYS)
def test_invalid_keys_are_refused_with_the_spec_message(raw: str) -> None:
    parsed = parse_api_key(raw)

    assert not is_successful(parsed)
    failure = parsed.failure()
    assert isinstance(failure, InvalidApiKey)
    assert failure.message.startswith("Invalid API key: keys must start with 'bmc_'")
    assert "\n" not in failure.message


@pytest.mark.parametrize("raw", INVALID_KEYS)
def test_invalid_key_message_never_quotes_the_key(raw: str) -> None:
    body = raw.strip().removeprefix("bmc_")

    failure = parse_api_key(raw).failure()

    if len(body) >= 4:
        assert body not in failure.message
        assert body not in failure.reason
        assert body not in repr(failure)


@pytest.mark.parametrize(
    ("raw", "reason_word"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("sk_abcdefgh1234", "start", id="prefix"),
        pytest.param("bmc_abcdefg", "fewer", id="too-short"),
        pytest.param("bmc_abcd efgh", "characters", id="bad-character"),
        pytest.param("bmc_" + "a" * 600, "longer", id="too-long"),
    ],
)
def test_each_refusal_says_why(raw: str, reason_word: str) -> None:
    assert reason_word in parse_api_key(raw).failure().reason


MASKS = [
    pytest.param("bmc_abcdefgh", "bmc_…", id="8-body-chars-only-prefix"),
    pytest.param("bmc_abcdefghijk", "bmc_…", id="11-body-chars-only-prefix"),
    pytest.param("bmc_abcdefgh1234", "bmc_…1234", id="12-body-chars-shows-tail"),
    pytest.param("bmc_abcdefgh12345678", "bmc_…5678", id="16-body-chars"),
    pytest.param("bmc_" + "x" * 60 + "-_Zz", "bmc_…-_Zz", id="long-with-symbols"),
    pytest.param("bmc_abc", "bmc_…", id="invalid-short-input"),
    pytest.param("bmc_abcd efgh ijkl mnop", "bmc_…", id="invalid-characters-not-shown"),
    pytest.param("", "bmc_…", id="empty"),
]


@pytest.mark.parametrize(("key", "masked"), MASKS)
def test_mask_table(key: str, masked: str) -> None:
    assert mask_api_key(key) == masked


def test_parsed_key_exposes_the_masked_form() -> None:
    assert parse_api_key("bmc_abcdefgh12345678").unwrap().masked == "bmc_…5678"


SECRET = "bmc_s3cr3tS3CR3Tsecret"
SECRET_BODY = SECRET.removeprefix("bmc_")


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(repr, id="repr"),
        pytest.param(str, id="str"),
        pytest.param(lambda key: f"{key}", id="format"),
        pytest.param(lambda key: json.dumps(key.model_dump(mode="json")), id="model-dump-json"),
        pytest.param(lambda key: repr(key.model_dump()), id="model-dump-python"),
        pytest.param(lambda key: key.model_dump_json(), id="model-dump-json-method"),
    ],
)
def test_api_key_renderings_never_reveal_the_secret(render: Callable[[ApiKey], str]) -> None:
    key = parse_api_key(SECRET).unwrap()

    shown = render(key)

    assert SECRET_BODY not in shown
    assert SECRET_BODY[:8] not in shown


def test_api_key_is_frozen() -> None:
    key = parse_api_key(SECRET).unwrap()

    with pytest.raises(ValueError, match="frozen"):
        key.value = None  # type: ignore[misc]


# --- properties -------------------------------------------------------------------------------

bodies = st.text(alphabet=BODY_ALPHABET, min_size=8, max_size=200)
whitespace = st.text(alphabet=" \t\r\n", max_size=3)


@settings(max_examples=200)
@given(body=bodies)
def test_masked_key_shows_at_most_the_last_four_body_characters(body: str) -> None:
    key = parse_api_key("bmc_" + body).unwrap()

    masked = key.masked

    assert masked in ("bmc_…", "bmc_…" + body[-4:])
    longest_shown = max(
        (
            len(body[i:j])
            for i in range(len(body))
            for j in range(i + 1, i + 6)
            if body[i:j] in masked
        ),
        default=0,
    )
    assert longest_shown <= 4


@settings(max_examples=200)
@given(raw=st.text())
def test_validation_never_accepts_a_key_without_the_prefix(raw: str) -> None:
    parsed = parse_api_key(raw)

    if is_successful(parsed):
        assert raw.strip().startswith("bmc_")
    if not raw.strip().startswith("bmc_"):
        assert not is_successful(parsed)


@settings(max_examples=200)
@given(raw=st.text())
def test_validation_without_prefix_is_always_refused(raw: str) -> None:
    assert not is_successful(parse_api_key(raw.replace("bmc_", "")))


@settings(max_examples=200)
@given(before=whitespace, body=bodies, after=whitespace)
def test_every_accepted_key_round_trips(before: str, body: str, after: str) -> None:
    raw = before + "bmc_" + body + after

    parsed = parse_api_key(raw)

    assert is_successful(parsed)
    assert parsed.unwrap().value.get_secret_value() == raw.strip()


@settings(max_examples=200)
@given(raw=st.text() | st.builds(lambda tail: "bmc_" + tail, st.text()))
def test_validation_is_total_and_accepted_keys_round_trip(raw: str) -> None:
    parsed = parse_api_key(raw)  # must not raise on any text

    if is_successful(parsed):
        assert parsed.unwrap().value.get_secret_value() == raw.strip()
    else:
        assert isinstance(parsed.failure(), InvalidApiKey)


_ROT = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm5678901234",
)


@settings(max_examples=200)
@given(tail=st.text(max_size=40), prefixed=st.booleans())
def test_refusal_message_does_not_depend_on_the_key_characters(tail: str, prefixed: bool) -> None:
    # Rewriting every letter and digit keeps the refusal reason but changes any quoted text.
    prefix = "bmc_" if prefixed else ""
    raw, rotated = prefix + tail, prefix + tail.translate(_ROT)
    if not prefixed:
        # "ozp_" rotates to "bmc_": the prefix itself must not be rewritten.
        assume(not raw.strip().startswith("bmc_") and not rotated.strip().startswith("bmc_"))

    first, second = parse_api_key(raw), parse_api_key(rotated)

    assert is_successful(first) == is_successful(second)
    if not is_successful(first):
        assert first.failure().message == second.failure().message
