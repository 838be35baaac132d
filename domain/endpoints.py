"""Where the cloud lives: host, identity-provider domain and client id, and the https rule."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from returns.result import Failure, Result, Success

from domain.errors import InsecureHost

DEFAULT_CLOUD_HOST = "https://cloud.basicmemory.com"
DEFAULT_CLOUD_DOMAIN = "https://eloquent-lotus-05.authkit.app"
DEFAULT_CLIENT_ID = "client_01K6KWQPW6J1M8VV7R3TZP5A6M"

HOST_VARIABLE = "BASIC_MEMORY_CLOUD_HOST"
DOMAIN_VARIABLE = "BASIC_MEMORY_CLOUD_DOMAIN"
CLIENT_ID_VARIABLE = "BASIC_MEMORY_CLOUD_CLIENT_ID"


def _is_loopback(hostname: str) -> bool:
    """Only `localhost` and literal loopback addresses: a DNS name such as
    `127.0.0.1.example.com` can point anywhere.

    >>> [_is_loopback(h) for h in ("localhost", "127.0.0.5", "::1", "127.0.0.1.nip.io")]
    [True, True, True, False]
    """
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def validate_base_url(setting: str, url: str) -> Result[str, InsecureHost]:
    """Accept https:// anywhere and http:// only on loopback; drop a trailing slash.

    >>> validate_base_url("host", "https://cloud.example.com/").unwrap()
    'https://cloud.example.com'
    >>> validate_base_url("host", "http://127.0.0.1:8080").unwrap()
    'http://127.0.0.1:8080'
    >>> validate_base_url("host", "http://cloud.example.com").failure().url
    'http://cloud.example.com'
    """
    cleaned = url.strip().rstrip("/")
    shown = _without_userinfo(url.strip())
    try:
        parts = urlsplit(cleaned)
        hostname = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return Failure(InsecureHost(setting, shown))
    if not hostname or parts.query or parts.fragment or parts.username or parts.password:
        return Failure(InsecureHost(setting, shown))
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(hostname)):
        return Success(cleaned)
    return Failure(InsecureHost(setting, shown))


def _without_userinfo(url: str) -> str:
    """The URL as it may be shown: a password typed into it must never be echoed.

    >>> _without_userinfo("https://me:secret@host.example/x")
    'https://…@host.example/x'
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "…@" + authority.rpartition("@")[2]
    return f"{scheme}://{authority}{slash}{path}"


@dataclass(frozen=True)
class CloudEndpoints:
    """The three settings every network command needs."""

    cloud_host: str
    cloud_domain: str
    client_id: str


def resolve_endpoints(
    env: Mapping[str, str],
    config_host: str | None = None,
    config_domain: str | None = None,
    config_client_id: str | None = None,
) -> Result[CloudEndpoints, InsecureHost]:
    """Environment beats config, config beats the built-in defaults (SPEC §2)."""
    host_setting, host = _pick(env, HOST_VARIABLE, config_host, "cloud_host", DEFAULT_CLOUD_HOST)
    domain_setting, domain = _pick(
        env, DOMAIN_VARIABLE, config_domain, "cloud_domain", DEFAULT_CLOUD_DOMAIN
    )
    client_id = (
        (env.get(CLIENT_ID_VARIABLE) or "").strip()
        or (config_client_id or "").strip()
        or DEFAULT_CLIENT_ID
    )
    return validate_base_url(host_setting, host).bind(
        lambda good_host: validate_base_url(domain_setting, domain).map(
            lambda good_domain: CloudEndpoints(good_host, good_domain, client_id)
        )
    )


def _pick(
    env: Mapping[str, str], variable: str, configured: str | None, key: str, default: str
) -> tuple[str, str]:
    if env.get(variable):
        return variable, env[variable]
    if configured:
        return f"{key} in config.yaml", configured
    return key, default
