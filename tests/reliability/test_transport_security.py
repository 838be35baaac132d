"""Plain-http hosts off loopback are refused before any lookup or connection; TLS checks stay on."""

from __future__ import annotations

from pathlib import Path

import pytest

import domain.endpoints
from tests.reliability.probes import HOST_EXAMPLES
from tests.reliability.transport import (
    TEST_NET_HOST,
    TransportFigures,
    check_host,
    client_constructions,
    client_verifies_tls,
    insecure_hosts_probe,
    insecure_tls_lines,
    installed_refusal,
    tls_source_scan,
)

pytestmark = pytest.mark.reliability


def test_insecure_hosts_are_refused_before_any_connection(tmp_path: Path) -> None:
    figures = insecure_hosts_probe(tmp_path, HOST_EXAMPLES)

    print(figures.line)
    assert figures.attempts == []
    assert figures.problems == []


def test_the_guard_would_see_a_connection_if_the_https_rule_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation check: with every host taken for loopback, the probe reports the attempts
    (the guard refuses them, so still nothing leaves this machine)."""
    monkeypatch.setattr(domain.endpoints, "_is_loopback", lambda hostname: True)
    figures = TransportFigures()

    check_host(tmp_path, TEST_NET_HOST, figures)

    assert any("203.0.113.1" in attempt for attempt in figures.attempts)


def test_the_installed_bm_refuses_a_test_net_host_at_once(tmp_path: Path) -> None:
    seconds, problems = installed_refusal(tmp_path)

    assert problems == []
    assert seconds < 10


def test_no_product_code_turns_tls_verification_off() -> None:
    assert tls_source_scan() == []
    assert client_constructions() == []


@pytest.mark.parametrize(
    "source",
    [
        "httpx.Client(verify=False)",
        "ctx.check_hostname = False",
        "ctx.verify_mode = ssl.CERT_NONE",
        "ssl._create_unverified_context()",
        "os.environ['PYTHONHTTPSVERIFY'] = '0'",
    ],
)
def test_the_source_scan_sees_each_way_of_turning_verification_off(source: str) -> None:
    assert insecure_tls_lines("mutant.py", source) != []


def test_the_adapters_client_verifies_certificates_and_host_names() -> None:
    assert client_verifies_tls() == []
