"""HttpxCloudApi's workspace calls against the emulator: the list, the header on each call
(read back from the emulator's request log), per-workspace subscriptions and the 403."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from adapters.httpx_cloud_api import HttpxCloudApi
from adapters.system_clock import SystemClock
from domain.credentials import Credential, CredentialSource
from domain.errors import SubscriptionRequired, WorkspaceForbidden
from emulator import CloudEmulator, EmulatorSettings
from emulator.settings import ALICE_EMAIL, BOB_EMAIL
from emulator.state import personal_tenant_id


@pytest.fixture
def emulator() -> Iterator[CloudEmulator]:
    with CloudEmulator(EmulatorSettings(interval=0.05)) as running:
        yield running


def _session(emulator: CloudEmulator, email: str = ALICE_EMAIL) -> Credential:
    token = emulator.issue_session(email)["access_token"]
    assert isinstance(token, str)
    return Credential(CredentialSource.OAUTH_SESSION, SecretStr(token))


def test_list_names_every_workspace_and_the_default(emulator: CloudEmulator) -> None:
    acme = emulator.add_workspace(ALICE_EMAIL, "Acme", slug="acme", subscribed=False)
    with HttpxCloudApi(emulator.base_url, SystemClock()) as cloud:
        listing = cloud.list_workspaces(_session(emulator)).unwrap()
    assert {w.tenant_id for w in listing.workspaces} == {personal_tenant_id(ALICE_EMAIL), acme}
    assert listing.default_workspace_id == personal_tenant_id(ALICE_EMAIL)
    found = listing.find(acme)
    assert found is not None
    assert (found.slug, found.workspace_type, found.role) == ("acme", "organization", "member")
    assert found.has_active_subscription is False
    assert emulator.request_log()[-1].path == "/workspaces/"


def test_each_call_carries_the_header_and_subscriptions_are_per_workspace(
    emulator: CloudEmulator,
) -> None:
    acme = emulator.add_workspace(ALICE_EMAIL, "Acme", slug="acme", subscribed=False)
    credential = _session(emulator)
    with HttpxCloudApi(emulator.base_url, SystemClock()) as cloud:
        assert cloud.check_health(credential).unwrap()
        assert isinstance(cloud.check_health(credential, acme).failure(), SubscriptionRequired)
        emulator.set_workspace_subscription(acme, True)
        assert cloud.check_health(credential, acme).unwrap()
    sent = [(entry.path, entry.workspace) for entry in emulator.request_log()]
    assert sent == [("/proxy/health", None), ("/proxy/health", acme), ("/proxy/health", acme)]


def test_a_workspace_of_another_account_is_forbidden(emulator: CloudEmulator) -> None:
    bobs = emulator.add_workspace(BOB_EMAIL, "Bob Co", slug="bobco")
    with HttpxCloudApi(emulator.base_url, SystemClock()) as cloud:
        failure = cloud.check_health(_session(emulator), bobs).failure()
        created = cloud.create_api_key(_session(emulator).secret, "k", bobs).failure()
    assert failure == WorkspaceForbidden(bobs)
    assert created == WorkspaceForbidden(bobs)
    assert bobs in failure.message
    assert "bm cloud workspace" in failure.message


def test_a_key_created_in_a_workspace_works_there_only(emulator: CloudEmulator) -> None:
    acme = emulator.add_workspace(ALICE_EMAIL, "Acme", slug="acme")
    with HttpxCloudApi(emulator.base_url, SystemClock()) as cloud:
        created = cloud.create_api_key(_session(emulator).secret, "ci", acme).unwrap()
        key = Credential(CredentialSource.CONFIG_API_KEY, created.key.value)
        assert cloud.check_health(key, acme).unwrap()
        other = personal_tenant_id(ALICE_EMAIL)
        assert cloud.check_health(key, other).failure() == WorkspaceForbidden(other)
    assert [e.workspace for e in emulator.request_log()] == [acme, acme, other]
