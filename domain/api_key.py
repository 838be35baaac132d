"""The `bmc_` API key: validation and the masked form that is safe to show."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, SecretStr
from returns.result import Failure, Result, Success

from domain.errors import InvalidApiKey

API_KEY_PREFIX = "bmc_"
MIN_BODY_LENGTH = 8
# Long enough for any real key, short enough that a pasted file is not taken for one.
MAX_KEY_LENGTH = 512
# Below this body length, showing four characters would reveal too large a share of the key.
MIN_BODY_LENGTH_TO_SHOW_TAIL = 12
_BODY = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)


def mask_api_key(value: str) -> str:
    """Show a key as `bmc_…` plus its last 4 characters, or only `bmc_…` when it is short.

    >>> mask_api_key("bmc_abcdefgh12345678")
    'bmc_…5678'
    >>> mask_api_key("bmc_abcdefgh")
    'bmc_…'
    """
    body = value.removeprefix(API_KEY_PREFIX)
    if len(body) < MIN_BODY_LENGTH_TO_SHOW_TAIL or not _BODY.fullmatch(body):
        return f"{API_KEY_PREFIX}…"
    return f"{API_KEY_PREFIX}…{body[-4:]}"


class ApiKey(BaseModel):
    """A validated key; the secret is revealed only by the adapter that stores or sends it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    value: SecretStr

    @property
    def masked(self) -> str:
        return mask_api_key(self.value.get_secret_value())


def parse_api_key(raw: str) -> Result[ApiKey, InvalidApiKey]:
    """Validate a key as typed or pasted: whitespace around it is dropped.

    >>> parse_api_key("  bmc_abcdefgh1234 ").unwrap().masked
    'bmc_…1234'
    >>> parse_api_key("sk_abcdefgh1234").failure().reason
    "it does not start with 'bmc_'"
    """
    candidate = raw.strip()
    if not candidate:
        return Failure(InvalidApiKey("the key is empty"))
    if len(candidate) > MAX_KEY_LENGTH:
        return Failure(InvalidApiKey(f"it is longer than {MAX_KEY_LENGTH} characters"))
    if not candidate.startswith(API_KEY_PREFIX):
        return Failure(InvalidApiKey("it does not start with 'bmc_'"))
    body = candidate[len(API_KEY_PREFIX) :]
    if len(body) < MIN_BODY_LENGTH:
        return Failure(
            InvalidApiKey(f"it has fewer than {MIN_BODY_LENGTH} characters after 'bmc_'")
        )
    if not _BODY.fullmatch(body):
        return Failure(
            InvalidApiKey("it contains characters other than A-Z, a-z, 0-9, '-' and '_'")
        )
    return Success(ApiKey(value=SecretStr(candidate)))
