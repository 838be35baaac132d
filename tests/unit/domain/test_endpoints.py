"""Cloud endpoints: the https/loopback rule and env > config > default precedence (SPEC §2)."""

from __future__ import annotations

import pytest
from returns.pipeline import is_successful

from domain.endpoints import (
    CLIENT_ID_VARIABLE,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLOUD_DOMAIN,
    DEFAULT_CLOUD_HOST,
    DOMAIN_VARIABLE,
    HOST_VARIABLE,
    CloudEndpoints,
    resolve_endpoints,
    validate_base_url,
)
from domain.errors import InsecureHost

ACCEPTED_URLS = [
    pytest.param("https://cloud.example.com", "https://cloud.example.com", id="https"),
    pytest.param("https://cloud.example.com/", "https://cloud.example.com", id="trailing-slash"),
    pytest.param("https://cloud.example.com///", "https://cloud.example.com", id="many-slashes"),
    pytest.param("https://cloud.example.com:8443", "https://cloud.example.com:8443", id="port"),
    pytest.param("https://example.com/api/", "https://example.com/api", id="path-slash-dropped"),
    pytest.param("  https://cloud.example.com \n", "https://cloud.example.com", id="whitespace"),
    pytest.param("https://10.0.0.8", "https://10.0.0.8", id="https-private-ip"),
    pytest.param("http://127.0.0.1", "http://127.0.0.1", id="http-127.0.0.1"),
    pytest.param("http://127.0.0.1:8080/", "http://127.0.0.1:8080", id="http-loopback-port"),
    pytest.param("http://127.0.0.5:9000", "http://127.0.0.5:9000", id="http-127.0.0.5"),
    pytest.param("http://localhost:8080", "http://localhost:8080", id="http-localhost"),
    pytest.param("http://LOCALHOST:8080", "http://LOCALHOST:8080", id="http-localhost-upper"),
    pytest.param("http://[::1]:8080", "http://[::1]:8080", id="http-ipv6-loopback"),
    pytest.param("http://[::1]", "http://[::1]", id="http-ipv6-loopback-no-port"),
]


@pytest.mark.parametrize(("url", "cleaned"), ACCEPTED_URLS)
def test_accepted_urls(url: str, cleaned: str) -> None:
    assert validate_base_url("BASIC_MEMORY_CLOUD_HOST", url).unwrap() == cleaned


REFUSED_URLS = [
    pytest.param("http://cloud.example.com", id="http-remote"),
    pytest.param("http://10.0.0.8:8080", id="http-private-ip"),
    pytest.param("http://0.0.0.0:8080", id="http-any-address"),
    pytest.param("http://localhost.example.com", id="http-localhost-lookalike"),
    pytest.param("http://[::2]", id="http-ipv6-not-loopback"),
    pytest.param("ftp://cloud.example.com", id="ftp"),
    pytest.param("file:///etc/passwd", id="file"),
    pytest.param("ws://127.0.0.1", id="ws-on-loopback"),
    pytest.param("cloud.example.com", id="no-scheme"),
    pytest.param("//cloud.example.com", id="scheme-relative"),
    pytest.param("https://", id="missing-host"),
    pytest.param("https:///path", id="missing-host-with-path"),
    pytest.param("https://:443", id="port-without-host"),
    pytest.param("", id="empty"),
    pytest.param("https://user@cloud.example.com", id="userinfo-user"),
    pytest.param("https://user:pw@cloud.example.com", id="userinfo-password"),
    pytest.param("https://cloud.example.com?x=1", id="query"),
    pytest.param("https://cloud.example.com/?x=1", id="query-after-slash"),
    pytest.param("https://cloud.example.com#frag", id="fragment"),
    pytest.param("https://cloud.example.com:abc", id="malformed-port-letters"),
    pytest.param("https://cloud.example.com:99999", id="port-out-of-range"),
    pytest.param("https://cloud.example.com:-1", id="negative-port"),
    pytest.param("https://[::1", id="unclosed-ipv6-bracket"),
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refused_urls_name_the_setting(url: str) -> None:
    failure = validate_base_url("BASIC_MEMORY_CLOUD_HOST", url).failure()

    assert isinstance(failure, InsecureHost)
    assert failure.setting == "BASIC_MEMORY_CLOUD_HOST"
    # A user name or password in the URL is never echoed back.
    assert failure.url == url.replace("user:pw@", "…@").replace("user@", "…@")
    assert failure.message.startswith("BASIC_MEMORY_CLOUD_HOST ")
    assert "https://" in failure.message
    assert "\n" not in failure.message


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1.nip.io", id="loopback-prefixed-dns-name"),
        pytest.param("http://127.attacker.example:8080", id="127-dot-dns-name"),
    ],
)
def test_dns_names_that_look_like_loopback_are_refused(url: str) -> None:
    assert not is_successful(validate_base_url("BASIC_MEMORY_CLOUD_HOST", url))


def test_refusal_does_not_echo_a_password_in_the_url() -> None:
    failure = validate_base_url("BASIC_MEMORY_CLOUD_HOST", "https://me:hunter22@example.com")

    assert "hunter22" not in failure.failure().message


# --- precedence --------------------------------------------------------------------------------

ENV_HOST, CONFIG_HOST = "https://env-host.example", "https://config-host.example"
ENV_DOMAIN, CONFIG_DOMAIN = "https://env-auth.example", "https://config-auth.example"
ENV_CLIENT, CONFIG_CLIENT = "client_env", "client_config"


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [
        pytest.param(
            {},
            (None, None, None),
            CloudEndpoints(DEFAULT_CLOUD_HOST, DEFAULT_CLOUD_DOMAIN, DEFAULT_CLIENT_ID),
            id="defaults",
        ),
        pytest.param(
            {},
            (CONFIG_HOST, CONFIG_DOMAIN, CONFIG_CLIENT),
            CloudEndpoints(CONFIG_HOST, CONFIG_DOMAIN, CONFIG_CLIENT),
            id="config-beats-default",
        ),
        pytest.param(
            {HOST_VARIABLE: ENV_HOST, DOMAIN_VARIABLE: ENV_DOMAIN, CLIENT_ID_VARIABLE: ENV_CLIENT},
            (CONFIG_HOST, CONFIG_DOMAIN, CONFIG_CLIENT),
            CloudEndpoints(ENV_HOST, ENV_DOMAIN, ENV_CLIENT),
            id="env-beats-config",
        ),
        pytest.param(
            {HOST_VARIABLE: ENV_HOST},
            (None, CONFIG_DOMAIN, None),
            CloudEndpoints(ENV_HOST, CONFIG_DOMAIN, DEFAULT_CLIENT_ID),
            id="each-setting-resolved-on-its-own",
        ),
        pytest.param(
            {HOST_VARIABLE: "", DOMAIN_VARIABLE: "", CLIENT_ID_VARIABLE: ""},
            (CONFIG_HOST, None, None),
            CloudEndpoints(CONFIG_HOST, DEFAULT_CLOUD_DOMAIN, DEFAULT_CLIENT_ID),
            id="empty-env-counts-as-unset",
        ),
        pytest.param(
            {},
            ("", "", ""),
            CloudEndpoints(DEFAULT_CLOUD_HOST, DEFAULT_CLOUD_DOMAIN, DEFAULT_CLIENT_ID),
            id="empty-config-counts-as-unset",
        ),
        pytest.param(
            {HOST_VARIABLE: "http://127.0.0.1:4567/", DOMAIN_VARIABLE: "http://localhost:4567"},
            (None, None, None),
            CloudEndpoints("http://127.0.0.1:4567", "http://localhost:4567", DEFAULT_CLIENT_ID),
            id="emulator-on-loopback",
        ),
        pytest.param(
            {HOST_VARIABLE: ENV_HOST},
            ("http://ignored.example.com", None, None),
            CloudEndpoints(ENV_HOST, DEFAULT_CLOUD_DOMAIN, DEFAULT_CLIENT_ID),
            id="bad-config-host-shadowed-by-env",
        ),
        pytest.param(
            {CLIENT_ID_VARIABLE: "  client_padded \n"},
            (None, None, None),
            CloudEndpoints(DEFAULT_CLOUD_HOST, DEFAULT_CLOUD_DOMAIN, "client_padded"),
            id="client-id-stripped",
        ),
    ],
)
def test_resolve_endpoints_precedence(
    env: dict[str, str], config: tuple[str | None, str | None, str | None], expected: CloudEndpoints
) -> None:
    host, domain, client_id = config

    assert resolve_endpoints(env, host, domain, client_id).unwrap() == expected


@pytest.mark.parametrize(
    ("env", "config", "setting", "url"),
    [
        pytest.param(
            {HOST_VARIABLE: "http://cloud.example.com"},
            (CONFIG_HOST, None),
            HOST_VARIABLE,
            "http://cloud.example.com",
            id="bad-env-host-names-variable",
        ),
        pytest.param(
            {DOMAIN_VARIABLE: "http://auth.example.com"},
            (None, CONFIG_DOMAIN),
            DOMAIN_VARIABLE,
            "http://auth.example.com",
            id="bad-env-domain-names-variable",
        ),
        pytest.param(
            {},
            ("http://cloud.example.com", None),
            "cloud_host in config.yaml",
            "http://cloud.example.com",
            id="bad-config-host-names-setting",
        ),
        pytest.param(
            {},
            (None, "ftp://auth.example.com"),
            "cloud_domain in config.yaml",
            "ftp://auth.example.com",
            id="bad-config-domain-names-setting",
        ),
        pytest.param(
            {HOST_VARIABLE: "http://a.example", DOMAIN_VARIABLE: "http://b.example"},
            (None, None),
            HOST_VARIABLE,
            "http://a.example",
            id="both-bad-host-reported-first",
        ),
    ],
)
def test_resolve_endpoints_failure_names_the_source(
    env: dict[str, str],
    config: tuple[str | None, str | None],
    setting: str,
    url: str,
) -> None:
    failure = resolve_endpoints(env, *config).failure()

    assert failure == InsecureHost(setting, url)
    assert setting in failure.message
