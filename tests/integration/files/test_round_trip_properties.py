"""Property tests: whatever the domain can hold, the files give back unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from returns.result import Result, Success

from adapters.json_file_token_store import JsonFileTokenStore
from adapters.yaml_config_store import YamlConfigStore
from domain.config import AppConfig, Project
from domain.errors import AuthFailure
from domain.routing import ProjectMode
from domain.session import TokenSet

# Any text, including surrogates, YAML look-alikes ("yes", "~", "1e3") and control characters.
text = st.text(max_size=20)
scalars = st.none() | st.booleans() | st.integers() | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
_TOKEN_FIELDS = set(TokenSet.model_fields)
_PROJECT_FIELDS = {"path", "mode"}
_CONFIG_FIELDS = set(AppConfig.model_fields)


# Tokens go in an Authorization header: the file refuses any other (visible ASCII only).
header_tokens = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
)


def _token_extra() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        text.filter(lambda key: key not in _TOKEN_FIELDS), json_values, max_size=3
    )


sessions = st.builds(
    TokenSet,
    access_token=header_tokens.map(SecretStr),
    refresh_token=st.none() | (st.just("") | header_tokens).map(SecretStr),
    expires_at=st.integers(min_value=-(2**63), max_value=2**63),
    token_type=text.filter(bool),  # an empty token type reads back as the default, Bearer
    user_id=st.none() | text,
    email=st.none() | text,
    session_id=st.none() | text,
    obtained_at=st.none() | st.integers(),
    extra=_token_extra(),
)

projects = st.builds(
    Project,
    path=text,
    mode=st.sampled_from(ProjectMode),
    extra=st.dictionaries(
        text.filter(lambda key: key not in _PROJECT_FIELDS), json_values, max_size=2
    ),
)

configs = st.builds(
    AppConfig,
    cloud_api_key=st.none() | text.filter(bool).map(SecretStr),
    cloud_host=st.none() | text,
    cloud_domain=st.none() | text,
    cloud_client_id=st.none() | text,
    projects=st.dictionaries(text, projects, max_size=3),
    extra=st.dictionaries(
        text.filter(lambda key: key not in _CONFIG_FIELDS), json_values, max_size=3
    ),
)


@settings(max_examples=60, deadline=None)
@given(session=sessions)
def test_any_session_round_trips_through_the_token_file(session: TokenSet) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = JsonFileTokenStore(Path(folder) / ".cloud_tokens.json")

        assert store.save(session) == Success(None)

        assert store.load() == Success(session)


@settings(max_examples=60, deadline=None)
@given(first=configs, second=configs)
def test_any_config_round_trips_through_the_yaml_file(first: AppConfig, second: AppConfig) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = YamlConfigStore(Path(folder) / "config.yaml")

        def replace_with(config: AppConfig) -> Any:
            def change(current: AppConfig) -> Result[tuple[AppConfig, None], AuthFailure]:
                return Success((config, None))

            return change

        # Writing one config over another exercises the merge with the re-read raw mapping.
        store.update(replace_with(first))
        store.update(replace_with(second))

        assert store.load() == Success(second)
