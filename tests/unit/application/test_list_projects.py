"""ListProjects: every project with its route, after adding and removing some."""

from __future__ import annotations

from application.add_project import AddProject
from application.list_projects import ListProjects
from application.remove_project import RemoveProject
from domain.errors import ProjectExists, UnknownProject
from domain.routing import Route
from tests.unit.application.project_setup import Setup


def test_add_list_remove() -> None:
    setup = Setup()
    AddProject(setup.config).execute("docs", "/d").unwrap()
    assert AddProject(setup.config).execute("docs", "/d2").failure() == ProjectExists("docs", "/d")
    routes = ListProjects(setup.config, setup.tokens, setup.clock, setup.env).execute().unwrap()
    assert [(r.name, r.route) for r in routes] == [
        ("docs", Route.LOCAL),
        ("notes", Route.LOCAL),
        ("research", Route.CLOUD),
    ]
    assert routes[2].problem is not None  # cloud without any credential
    RemoveProject(setup.config).execute("docs").unwrap()
    failure = RemoveProject(setup.config).execute("docs").failure()
    assert failure == UnknownProject("docs", ("notes", "research"))
