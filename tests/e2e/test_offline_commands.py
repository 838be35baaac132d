"""The installed `bm` without the network: version, help, keys, projects and routing."""

from __future__ import annotations

import itertools
import json
import os
import stat
from pathlib import Path

import pytest

from tests.e2e.conftest import BmRunner

KEY = "bmc_abcdefgh12345678"
ENV_KEY = "bmc_envenvenv87654321"


def test_version_is_our_distribution_version(bm: BmRunner) -> None:
    from importlib.metadata import version

    run = bm("--version")
    assert run.code == 0
    assert run.stdout.strip() == version("basic-memory-cloud-auth")


@pytest.mark.parametrize(
    "args",
    [("--help",), ("cloud", "--help"), ("cloud", "api-key", "--help"), ("project", "--help")],
)
def test_help_works(bm: BmRunner, args: tuple[str, ...]) -> None:
    run = bm(*args)
    assert run.code == 0
    assert "Usage: bm" in run.stdout


def test_usage_errors_exit_2(bm: BmRunner) -> None:
    assert bm("cloud", "login", "--bogus").code == 2
    assert bm("cloud", "nope").code == 2


def test_key_saved_from_stdin_is_stored_privately_and_shown_masked(
    bm: BmRunner, tmp_path: Path
) -> None:
    run = bm("cloud", "api-key", "save", input=KEY + "\n")
    assert run.code == 0, run.output
    assert "bmc_…5678" in run.stdout
    assert KEY not in run.output
    config = tmp_path / "data" / "config.yaml"
    assert KEY in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700


def test_invalid_key_is_refused_and_existing_config_survives(bm: BmRunner, tmp_path: Path) -> None:
    assert bm("cloud", "api-key", "save", "-", input=KEY).code == 0
    config = tmp_path / "data" / "config.yaml"
    before = config.read_bytes()
    run = bm("cloud", "api-key", "save", "-", input="sk_not_a_basic_memory_key")
    assert run.code == 1
    assert run.stderr.count("\n") == 1
    assert "Invalid API key" in run.stderr
    assert "Traceback" not in run.output
    assert config.read_bytes() == before


def test_no_key_on_empty_stdin_is_a_usage_error(bm: BmRunner) -> None:
    run = bm("cloud", "api-key", "save", input="")
    assert run.code == 2
    assert "No API key given" in run.stderr


def test_remove_key(bm: BmRunner) -> None:
    bm("cloud", "api-key", "save", "-", input=KEY)
    run = bm("cloud", "api-key", "remove")
    assert run.code == 0
    assert "bmc_…5678" in run.stdout
    assert "API key:   none" in bm("cloud", "status", "--offline").stdout


def test_create_requires_oauth_even_with_a_key(bm: BmRunner) -> None:
    bm("cloud", "api-key", "save", "-", input=KEY)
    run = bm("cloud", "api-key", "create", "desktop-work")
    assert run.code == 1
    assert "requires an OAuth session" in run.stderr


def test_status_offline_logged_out_exits_1(bm: BmRunner) -> None:
    run = bm("cloud", "status", "--offline")
    assert run.code == 1
    assert "not logged in" in run.stdout


def test_status_json_names_the_key_source_and_holds_no_secret(bm: BmRunner) -> None:
    bm("cloud", "api-key", "save", "-", input=KEY)
    run = bm("cloud", "status", "--offline", "--json", env={"BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY})
    assert run.code == 0, run.output
    report = json.loads(run.stdout)
    assert report["api_key"] == {"masked": "bmc_…4321", "source": "BASIC_MEMORY_CLOUD_API_KEY"}
    assert KEY not in run.output
    assert ENV_KEY not in run.output


def test_project_lifecycle(bm: BmRunner, tmp_path: Path) -> None:
    assert bm("project", "add", "notes", str(tmp_path / "notes")).code == 0
    assert bm("project", "add", "notes", str(tmp_path / "other")).code == 1
    unknown = bm("project", "set-cloud", "nope")
    assert unknown.code == 2
    assert "Known projects: notes" in unknown.stderr
    no_credential = bm("project", "set-cloud", "notes")
    assert no_credential.code == 1
    assert "bm cloud login" in no_credential.stderr
    assert "bm cloud api-key save" in no_credential.stderr
    bm("cloud", "api-key", "save", "-", input=KEY)
    switched = bm("project", "set-cloud", "notes")
    assert switched.code == 0
    assert "API key from config.yaml" in switched.stdout
    listed = json.loads(bm("project", "list", "--json").stdout)
    assert listed[0]["route"] == "cloud"
    assert bm("project", "remove", "notes").code == 0
    assert "No projects" in bm("project", "list").stdout


@pytest.mark.parametrize(
    ("name", "path"),
    [("x", b"/tmp/\xff\xfe"), (b"\xff\xfe", b"/tmp/notes")],
    ids=["path", "name"],
)
def test_a_name_or_path_that_is_not_utf8_is_a_usage_error(
    bm: BmRunner, tmp_path: Path, name: str | bytes, path: bytes
) -> None:
    """`bm project add x $'\\xff\\xfe'`: one line, exit 2, no internal error, no file."""
    # os.fsdecode gives the surrogate-escaped text that Python makes of such an argument.
    shown = [os.fsdecode(value) for value in (name, path)]

    run = bm("project", "add", *shown)

    assert run.code == 2, run.output
    assert run.stderr.count("\n") == 1
    assert "internal error" not in run.stderr
    assert not (tmp_path / "data" / "config.yaml").exists()


def test_unknown_config_keys_survive_commands(bm: BmRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "config.yaml").write_text("theme: dark\nsync:\n  interval: 30\n")
    (data / "config.yaml").chmod(0o600)
    bm("cloud", "api-key", "save", "-", input=KEY)
    bm("project", "add", "notes", str(tmp_path))
    text = (data / "config.yaml").read_text()
    assert "theme: dark" in text
    assert "interval: 30" in text


def test_loose_permissions_warn_with_the_chmod_fix(bm: BmRunner, tmp_path: Path) -> None:
    bm("cloud", "api-key", "save", "-", input=KEY)
    config = tmp_path / "data" / "config.yaml"
    config.chmod(0o644)
    run = bm("cloud", "status", "--offline")
    assert f"chmod 600 {config}" in run.stderr


def test_a_config_others_can_write_is_refused_and_left_alone(bm: BmRunner, tmp_path: Path) -> None:
    """Readable keeps the warning; writable by group or others is refused before any read."""
    bm("cloud", "api-key", "save", "-", input=KEY)
    config = tmp_path / "data" / "config.yaml"
    config.chmod(0o664)
    before = config.read_bytes()

    run = bm("project", "add", "notes", str(tmp_path))

    assert run.code == 1, run.output
    assert run.stderr.count("\n") == 1
    assert f"Refusing to use {config}: it is writable by other users" in run.stderr
    assert f"chmod 600 {config}" in run.stderr
    assert config.read_bytes() == before


def test_a_corrupt_config_is_named_and_not_overwritten(bm: BmRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    config = data / "config.yaml"
    config.write_bytes(b"projects: [unclosed\n")
    run = bm("cloud", "api-key", "save", "-", input=KEY)
    assert run.code == 1
    assert str(config) in run.stderr
    assert "Traceback" not in run.output
    assert config.read_bytes() == b"projects: [unclosed\n"


def test_a_config_with_a_key_twice_is_damaged_not_rewritten(bm: BmRunner, tmp_path: Path) -> None:
    """Last-wins would silently drop the first `projects:` at the next write."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    config = data / "config.yaml"
    content = b"projects:\n  notes: {path: /n}\nprojects:\n  research: {path: /r}\n"
    config.write_bytes(content)

    run = bm("project", "add", "docs", str(tmp_path))

    assert run.code == 1, run.output
    assert str(config) in run.stderr
    assert "'projects' appears twice" in run.stderr
    assert config.read_bytes() == content


ROUTING = ("BASIC_MEMORY_FORCE_LOCAL", "BASIC_MEMORY_FORCE_CLOUD", "BASIC_MEMORY_EXPLICIT_ROUTING")


def _expected(force_local: bool, force_cloud: bool, explicit: bool, mode: str | None) -> str:
    if force_local and force_cloud:
        return "error"
    if force_local:
        return "local"
    if force_cloud:
        return "cloud"
    if explicit:
        return "local"
    return mode or "local"


@pytest.fixture
def routed_projects(bm: BmRunner, tmp_path: Path) -> BmRunner:
    bm("cloud", "api-key", "save", "-", input=KEY)
    bm("project", "add", "notes", str(tmp_path / "n"))
    bm("project", "add", "research", str(tmp_path / "r"))
    bm("project", "set-cloud", "research")
    return bm


def test_every_routing_row_through_the_installed_command(routed_projects: BmRunner) -> None:
    """All 8 variable combinations x both modes, read back from `bm project list --json`."""
    for values in itertools.product((False, True), repeat=3):
        env = {name: ("true" if on else "false") for name, on in zip(ROUTING, values, strict=True)}
        run = routed_projects("project", "list", "--json", env=env)
        if values[0] and values[1]:
            assert run.code == 1, env
            assert "BASIC_MEMORY_FORCE_LOCAL" in run.stderr
            assert "BASIC_MEMORY_FORCE_CLOUD" in run.stderr
            continue
        assert run.code == 0, (env, run.output)
        routes = {entry["name"]: entry["route"] for entry in json.loads(run.stdout)}
        assert routes == {
            "notes": _expected(*values, "local"),
            "research": _expected(*values, "cloud"),
        }, env


def test_an_invalid_boolean_names_the_variable(routed_projects: BmRunner) -> None:
    run = routed_projects("project", "list", env={"BASIC_MEMORY_FORCE_CLOUD": "sometimes"})
    assert run.code == 1
    assert "BASIC_MEMORY_FORCE_CLOUD" in run.stderr


def test_insecure_host_is_refused_before_any_connection(bm: BmRunner) -> None:
    run = bm(
        "cloud",
        "login",
        "--no-browser",
        env={"BASIC_MEMORY_CLOUD_HOST": "http://cloud.example.com"},
    )
    assert run.code == 1
    assert "https://" in run.stderr
    assert "Traceback" not in run.output


def _damaged_tokens(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    tokens = data / ".cloud_tokens.json"
    tokens.write_bytes(b'{"access_token": "canary-access-token-1234", "expires_at": ')
    tokens.chmod(0o600)
    return tokens


def test_a_damaged_token_file_is_reported_by_status_and_login(bm: BmRunner, tmp_path: Path) -> None:
    tokens = _damaged_tokens(tmp_path)
    before = tokens.read_bytes()
    status = bm("cloud", "status", "--offline")
    assert status.code == 1
    assert str(tokens) in status.stdout
    login = bm(
        "cloud", "login", "--no-browser", env={"BASIC_MEMORY_CLOUD_DOMAIN": "http://127.0.0.1:9"}
    )
    assert login.code == 1
    assert str(tokens) in login.stderr
    assert login.stderr.count("\n") == 1
    for run in (status, login):
        assert "canary-access-token-1234" not in run.output
        assert "Traceback" not in run.output
    assert tokens.read_bytes() == before


def test_a_damaged_token_file_fails_status_even_when_an_api_key_works(
    bm: BmRunner, tmp_path: Path
) -> None:
    tokens = _damaged_tokens(tmp_path)
    for env in ({"BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY}, {}):
        if not env:
            assert bm("cloud", "api-key", "save", "-", input=KEY).code == 0
        status = bm("cloud", "status", "--offline", env=env)
        assert status.code == 1, status.output
        assert str(tokens) in status.stdout
        assert "API key" in status.stdout


def test_logout_removes_a_damaged_token_file_and_says_so(bm: BmRunner, tmp_path: Path) -> None:
    tokens = _damaged_tokens(tmp_path)
    run = bm("cloud", "logout")
    assert run.code == 0, run.output
    assert "damaged token file" in run.stdout
    assert not tokens.exists()


@pytest.mark.parametrize(
    "stdin", [f"{KEY}\n{ENV_KEY}\n", f"\n{KEY}\n\n  \n{KEY}\n"], ids=["two-keys", "twice"]
)
def test_several_lines_on_stdin_are_refused_not_guessed(
    bm: BmRunner, tmp_path: Path, stdin: str
) -> None:
    run = bm("cloud", "api-key", "save", "-", input=stdin)
    assert run.code == 2, run.output
    assert (
        run.stderr == "Error: Standard input holds 2 lines; give exactly one API key "
        "(`bm cloud api-key save` prompts for it, or `bm cloud api-key save - < FILE`).\n"
    )
    assert not (tmp_path / "data" / "config.yaml").exists()


def test_a_second_key_beyond_what_is_read_is_not_missed(bm: BmRunner, tmp_path: Path) -> None:
    run = bm("cloud", "api-key", "save", "-", input=f"{KEY}\n" + " " * 5000 + f"\n{ENV_KEY}\n")
    assert run.code == 1, run.output
    assert "over 4096 characters" in run.stderr
    assert KEY not in run.output
    assert not (tmp_path / "data" / "config.yaml").exists()


def test_blank_lines_around_one_key_are_fine(bm: BmRunner) -> None:
    run = bm("cloud", "api-key", "save", "-", input=f"\n\n{KEY}\n\n")
    assert run.code == 0, run.output


def test_logout_names_the_way_to_stop_each_key_that_remains(bm: BmRunner) -> None:
    assert bm("cloud", "api-key", "save", "-", input=KEY).code == 0
    env = {"BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY}
    both = bm("cloud", "logout", env=env)
    assert both.code == 0, both.output
    assert "BASIC_MEMORY_CLOUD_API_KEY is still in force" in both.stdout
    assert "unset that variable" in both.stdout
    assert "saved in config.yaml remains available" in both.stdout
    everything = bm("cloud", "logout", "--all", "--yes", env=env)
    assert everything.code == 0, everything.output
    assert "The stored API key was removed." in everything.stdout
    assert "unset that variable" in everything.stdout
    # The saved key is gone, so nothing suggests removing it again.
    assert "bm cloud logout --all" not in everything.stdout
    assert ENV_KEY not in everything.output


def test_logout_all_needs_yes_outside_a_terminal(bm: BmRunner, tmp_path: Path) -> None:
    bm("cloud", "api-key", "save", "-", input=KEY)
    refused = bm("cloud", "logout", "--all")
    assert refused.code == 2
    assert "--yes" in refused.stderr
    assert KEY in (tmp_path / "data" / "config.yaml").read_text()
    done = bm("cloud", "logout", "--all", "--yes")
    assert done.code == 0
    assert "The stored API key was removed." in done.stdout
    assert KEY not in (tmp_path / "data" / "config.yaml").read_text()


def test_a_terminal_that_cannot_encode_unicode_gets_escapes_not_a_crash(bm: BmRunner) -> None:
    bm("cloud", "api-key", "save", "-", input=KEY)
    run = bm("cloud", "status", "--offline", env={"PYTHONIOENCODING": "ascii"})
    assert run.code == 0, run.output
    assert "bmc_\\u20265678" in run.stdout
    assert "internal error" not in run.stderr


@pytest.mark.parametrize(
    "command",
    [("cloud", "status"), ("cloud", "api-key", "save", "--verify", "-"), ("cloud", "login")],
)
def test_unusable_certificate_settings_are_for_the_user_to_fix(
    bm: BmRunner, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Exit 1 with the variables to check, not 3 ("try again later"): retrying cannot help."""
    not_a_certificate = tmp_path / "ca.pem"
    not_a_certificate.write_text("not a certificate\n")
    run = bm(
        *command,
        input=ENV_KEY + "\n",
        env={"SSL_CERT_FILE": str(not_a_certificate), "BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY},
    )
    assert run.code == 1, run.output
    assert "Cannot reach" in run.output
    assert "SSL_CERT_FILE" in run.output
    assert "try again" not in run.output
    assert ENV_KEY not in run.output


def test_status_json_does_not_call_a_cloud_it_never_tried_unreachable(
    bm: BmRunner, tmp_path: Path
) -> None:
    not_a_certificate = tmp_path / "ca.pem"
    not_a_certificate.write_text("not a certificate\n")
    env = {"SSL_CERT_FILE": str(not_a_certificate), "BASIC_MEMORY_CLOUD_API_KEY": ENV_KEY}
    run = bm("cloud", "status", "--json", env=env)
    assert run.code == 1, run.output
    cloud = json.loads(run.stdout)["cloud"]
    assert cloud["checked"] is True
    assert cloud["reachable"] is None
    assert "SSL_CERT_FILE" in cloud["problem"]
