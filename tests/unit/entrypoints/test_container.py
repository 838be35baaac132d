"""The container names its use cases and adapters by import path: every path must resolve,
to the class its provider is annotated with, and build with the real wiring."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest
from dependency_injector import providers

from entrypoints import container as composition
from entrypoints.container import Container, build_container, deferred


def deferred_providers() -> list[tuple[str, str]]:
    """(attribute, 'module:Name') for every provider built through `deferred`."""
    found = []
    for name, provider in Container.cls_providers.items():
        provides = getattr(provider, "provides", None)
        label = getattr(provides, "__qualname__", "")
        if label.startswith("deferred("):
            found.append((name, label[len("deferred('") : -len("')")]))
    return sorted(found)


def test_the_container_defers_its_use_cases_and_stores() -> None:
    names = {name for name, _ in deferred_providers()}
    assert {"login", "logout", "status", "list_projects", "tokens", "config"} <= names


@pytest.mark.parametrize(("attribute", "path"), deferred_providers())
def test_each_deferred_path_names_the_annotated_class(attribute: str, path: str) -> None:
    """The annotation (what mypy checks callers against) and the import mypy resolves it by
    must name the class the path builds at run time."""
    module_name, _, class_name = path.partition(":")
    assert isinstance(getattr(import_module(module_name), class_name), type)
    annotation = Container.__annotations__[attribute]
    kind = type(Container.cls_providers[attribute]).__name__
    assert annotation == f"providers.{kind}[{class_name}]"
    source = Path(composition.__file__).read_text()
    assert re.search(rf"from {re.escape(module_name)} import [^\n]*\b{class_name}\b", source)


def test_a_deferred_constructor_imports_its_module_only_when_called() -> None:
    make = deferred("tests.no_such_module:Anything")  # naming it imports nothing
    with pytest.raises(ModuleNotFoundError):
        make()


def test_every_use_case_builds_with_the_real_wiring(tmp_path: Path) -> None:
    container = build_container({"BASIC_MEMORY_CONFIG_DIR": str(tmp_path), "HOME": str(tmp_path)})
    for name, provider in Container.cls_providers.items():
        if isinstance(provider, providers.Factory) and name != "browser":
            built = getattr(container, name)()
            assert callable(built.execute), name
    assert not list(tmp_path.iterdir())  # building touches no file
