"""The presenters: exit codes, status text and JSON."""

from __future__ import annotations

import json
import typing

import pytest
from pydantic import SecretStr

from application.ensure_fresh_session import EnsureFreshSession
from application.show_status import ShowStatus
from domain import errors
from domain.config import AppConfig
from domain.errors import AuthFailure, FailureValue
from domain.session import TokenSet
from entrypoints.cli_failures import CliFailure
from entrypoints.presenters import exit_code, status_dict, status_exit_code, status_lines
from tests.fakes import (
    FakeClock,
    FakeCloudApi,
    FakeIdentityProvider,
    InMemoryConfigStore,
    InMemoryTokenStore,
    InMemoryVault,
    file_store_choice,
)


def _sample(cls: type[FailureValue]) -> AuthFailure:
    values = {
        "int": 1,
        "float": 1.0,
        "str": "x",
        "tuple[str, ...]": ("a",),
        "bool": False,
        "str | None": None,
        "typing.Literal['not_logged_in', 'key_creation', 'project', 'global']": "project",
    }
    hints = typing.get_type_hints(cls)
    args = {
        name: values[str(hints[name]).replace("<class '", "").replace("'>", "")]
        for name in cls.FIELDS
    }
    return typing.cast(AuthFailure, cls(**args))


FAILURES = [
    _sample(cls) for cls in (*typing.get_args(errors.AuthFailure), *typing.get_args(CliFailure))
]
EXPECTED = {
    "ServiceUnreachable": 3,
    "ServerError": 3,
    "MalformedResponse": 3,
    "LoginCancelled": 130,
    "UnknownProject": 2,
    "InvalidProjectName": 2,
    "InvalidProjectPath": 2,
    "ConfirmationRequired": 2,
    "NoApiKeyInput": 2,
    "SeveralKeyLines": 2,
    "InvalidKeyName": 2,
    "UnknownWorkspace": 2,
    "AmbiguousWorkspace": 2,
}


@pytest.mark.parametrize("failure", FAILURES, ids=[type(f).__name__ for f in FAILURES])
def test_every_failure_has_its_exit_code(failure: AuthFailure) -> None:
    assert exit_code(failure) == EXPECTED.get(type(failure).__name__, 1)


def test_settings_that_stop_a_call_are_for_the_user_to_fix_not_a_network_outage() -> None:
    blocked = errors.ServiceUnreachable("the cloud API", "check HTTPS_PROXY.", settings=True)
    assert exit_code(blocked) == 1
    assert blocked.message == "Cannot reach the cloud API: check HTTPS_PROXY."
    outage = errors.ServiceUnreachable("the cloud API", "connection refused")
    assert exit_code(outage) == 3
    assert "try again" in outage.message


def _report(offline: bool, key: str | None = None, accept: bool = True):  # type: ignore[no-untyped-def]
    clock = FakeClock()
    tokens = InMemoryTokenStore()
    use_case = ShowStatus(
        InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr(key) if key else None)),
        tokens,
        lambda: FakeCloudApi(accepted={key} if key and accept else set()),
        clock,
        {},
        lambda: EnsureFreshSession(tokens, FakeIdentityProvider(clock), clock),
        store_choice=file_store_choice,
        keychain=InMemoryVault(),
    )
    return use_case.execute(offline=offline)


def test_status_exit_codes_follow_the_spec() -> None:
    assert status_exit_code(_report(offline=True)) == 1
    assert status_exit_code(_report(offline=True, key="bmc_abcdefgh12345678")) == 0
    assert status_exit_code(_report(offline=False, key="bmc_abcdefgh12345678")) == 0


def test_status_json_has_stable_keys_and_no_secret() -> None:
    key = "bmc_abcdefgh12345678"
    report = status_dict(_report(offline=False, key=key), "https://cloud.example.com")
    assert list(report) == [
        "ok",
        "session",
        "session_problem",
        "api_key",
        "api_key_problems",
        "credential",
        "credential_problem",
        "routing",
        "routing_problem",
        "config_problem",
        "projects",
        "cloud",
        "data_dir",
        "workspaces",
        "secrets",
    ]
    assert report["cloud"]["subscription"] == "active"
    assert key not in json.dumps(report)


@pytest.mark.parametrize("offline_or_failing", ["offline", "rejected", "accepted"])
def test_the_cloud_object_has_the_same_keys_whether_or_not_it_was_asked(
    offline_or_failing: str,
) -> None:
    key = "bmc_abcdefgh12345678"
    report = _report(
        offline=offline_or_failing == "offline", key=key, accept=offline_or_failing != "rejected"
    )
    cloud = status_dict(report, None)["cloud"]
    assert list(cloud) == [
        "checked",
        "host",
        "credential",
        "reachable",
        "latency_ms",
        "subscription",
        "problem",
    ]
    assert cloud["checked"] is (offline_or_failing != "offline")
    assert (cloud["problem"] is None) is (offline_or_failing != "rejected")


def test_status_text_names_the_key_source() -> None:
    lines = status_lines(_report(offline=True, key="bmc_abcdefgh12345678"), None)
    assert "  API key:   bmc_…5678 from config.yaml" in lines
    assert any("not checked (--offline)" in line for line in lines)


def _status_with(env: dict[str, str], broken_config: bool = False):  # type: ignore[no-untyped-def]
    from domain.config import Project
    from domain.errors import CorruptFile
    from domain.routing import ProjectMode

    clock = FakeClock()
    tokens = InMemoryTokenStore()
    config = InMemoryConfigStore(
        AppConfig(
            cloud_api_key=SecretStr("bmc_abcdefgh12345678"),
            projects={"research": Project(path="/r", mode=ProjectMode.CLOUD)},
        )
    )
    if broken_config:
        config.broken = CorruptFile("/x/config.yaml", "invalid YAML at line 1, column 3")
    use_case = ShowStatus(
        config,
        tokens,
        lambda: FakeCloudApi(accepted={"bmc_abcdefgh12345678"}),
        clock,
        env,
        lambda: EnsureFreshSession(tokens, FakeIdentityProvider(clock), clock),
        store_choice=file_store_choice,
        keychain=InMemoryVault(),
    )
    return use_case.execute(offline=True)


def test_status_with_a_bad_routing_variable_exits_1_and_hides_projects() -> None:
    report = _status_with({"BASIC_MEMORY_FORCE_CLOUD": "maybe"})
    assert status_exit_code(report) == 1
    assert "  Projects:  not shown until the problem above is fixed" in status_lines(report, None)


def test_status_with_a_damaged_config_exits_1() -> None:
    report = _status_with({}, broken_config=True)
    assert status_exit_code(report) == 1
    assert status_dict(report, None)["ok"] is False


def test_status_with_a_malformed_env_key_marks_cloud_routes_as_errors() -> None:
    report = _status_with({"BASIC_MEMORY_CLOUD_API_KEY": "not-a-key"})
    (route,) = report.projects
    assert route.credential is None
    assert route.problem is not None
    assert "BASIC_MEMORY_CLOUD_API_KEY" in route.problem
    assert status_exit_code(report) == 1


def _offline_cloud_line(env: dict[str, str]) -> str:
    clock = FakeClock()
    tokens = InMemoryTokenStore(
        TokenSet(access_token=SecretStr("access-0"), expires_at=int(clock.now()) + 3600)
    )
    config = InMemoryConfigStore(AppConfig(cloud_api_key=SecretStr("bmc_abcdefgh12345678")))
    use_case = ShowStatus(
        config,
        tokens,
        FakeCloudApi,
        clock,
        env,
        lambda: EnsureFreshSession(tokens, FakeIdentityProvider(clock), clock),
        store_choice=file_store_choice,
        keychain=InMemoryVault(),
    )
    report = use_case.execute(offline=True)
    (line,) = [line for line in status_lines(report, None) if line.startswith("  Cloud:")]
    return line


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"BASIC_MEMORY_CLOUD_API_KEY": "bmc_bad"}, "a malformed API key (above) stops every"),
        (
            {"BASIC_MEMORY_FORCE_LOCAL": "1", "BASIC_MEMORY_FORCE_CLOUD": "1"},
            "no project can route until the routing setting above is fixed",
        ),
        ({"BASIC_MEMORY_FORCE_CLOUD": "maybe"}, "no project can route until"),
        ({"BASIC_MEMORY_FORCE_LOCAL": "on"}, "BASIC_MEMORY_FORCE_LOCAL is on, so every project"),
    ],
    ids=["malformed-key", "conflicting", "bad-boolean", "force-local"],
)
def test_offline_status_never_says_it_would_use_what_routing_refuses(
    env: dict[str, str], says: str
) -> None:
    line = _offline_cloud_line(env)
    assert says in line
    assert "would use" not in line


def test_offline_status_says_what_it_would_use_when_nothing_stands_in_the_way() -> None:
    assert "would use the OAuth session" in _offline_cloud_line({})
