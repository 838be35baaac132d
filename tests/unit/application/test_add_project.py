"""AddProject: names and paths are checked before the config file is touched."""

from __future__ import annotations

from application.add_project import AddProject
from domain.errors import InvalidProjectName, InvalidProjectPath
from tests.unit.application.project_setup import Setup

# What Python makes of `bm project add x $'\xff\xfe'`: bytes that are not UTF-8 become lone
# surrogates, which no UTF-8 file can hold.
NOT_UTF8 = b"/tmp/\xff\xfe".decode("utf-8", "surrogateescape")


def test_a_path_that_is_not_utf8_is_refused_before_the_file_is_touched() -> None:
    setup = Setup()

    assert AddProject(setup.config).execute("docs", NOT_UTF8).failure() == InvalidProjectPath()
    assert setup.config.writes == 0


def test_a_name_that_is_not_utf8_is_an_invalid_name() -> None:
    setup = Setup()
    name = b"\xff\xfe".decode("utf-8", "surrogateescape")

    assert AddProject(setup.config).execute(name, "/d").failure() == InvalidProjectName(name)
    assert setup.config.writes == 0
