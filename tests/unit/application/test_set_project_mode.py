"""SetProjectMode: a cloud route needs a credential and says which; a local one needs none."""

from __future__ import annotations

from application.set_project_mode import SetProjectMode
from domain.credentials import CredentialSource
from domain.errors import NoCredential, UnknownProject
from domain.routing import ProjectMode, Route
from tests.unit.application.project_setup import KEY, Setup


def test_set_cloud_needs_a_credential_and_writes_nothing_without_one() -> None:
    setup = Setup()
    before = setup.config.config
    result = SetProjectMode(setup.config, setup.tokens, setup.clock, {}).execute(
        "notes", ProjectMode.CLOUD
    )
    assert result.failure() == NoCredential("project", "notes")
    assert setup.config.config is before


def test_set_cloud_says_which_credential_will_be_used() -> None:
    setup = Setup(session=True)
    changed = (
        SetProjectMode(setup.config, setup.tokens, setup.clock, {})
        .execute("notes", ProjectMode.CLOUD)
        .unwrap()
    )
    assert changed.credential is not None
    assert changed.credential.source is CredentialSource.OAUTH_SESSION
    assert setup.config.config.projects["notes"].mode is ProjectMode.CLOUD


def test_set_local_needs_no_credential_and_reports_a_forced_route() -> None:
    setup = Setup(env={"BASIC_MEMORY_FORCE_CLOUD": "on"}, key=KEY)
    changed = (
        SetProjectMode(setup.config, setup.tokens, setup.clock, setup.env)
        .execute("research", ProjectMode.LOCAL)
        .unwrap()
    )
    assert setup.config.config.projects["research"].mode is ProjectMode.LOCAL
    assert changed.effective.route is Route.CLOUD


def test_set_mode_on_an_unknown_project_lists_the_known_ones() -> None:
    setup = Setup(key=KEY)
    failure = (
        SetProjectMode(setup.config, setup.tokens, setup.clock, {})
        .execute("nope", ProjectMode.CLOUD)
        .failure()
    )
    assert failure == UnknownProject("nope", ("notes", "research"))
