"""Hostile files, keys and environment values against every command: no traceback, overwrite or echo.

Most runs are in-process (the cyclopts app, as the style guide allows) for speed; a few go
through the installed bm to show the real standard input and environment behave the same.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from returns.pipeline import is_successful

from adapters.json_file_token_store import JsonFileTokenStore
from adapters.yaml_config_store import YamlConfigStore
from tests.reliability.harness import (
    Run,
    base_environment,
    control_characters,
    loopback_only,
    run_in_process,
    secret_leaks,
    snapshot,
    write_private,
)

FileKind = Literal["tokens", "config"]

CANARY_ACCESS = "canaryAccessToken-7f3a9c1e5b2d4068aa"
CANARY_REFRESH = "canaryRefreshToken-0e9d8c7b6a5f4e3dbb"
CANARY_KEY = "bmc_canaryConfigKey7a6b5c4d3e2f1g0h"
CANARIES = {"access_token": CANARY_ACCESS, "refresh_token": CANARY_REFRESH, "api_key": CANARY_KEY}
SAVED_KEY = "bmc_freshlySavedKey0123456789ab"

VALID_TOKENS: dict[str, object] = {
    "access_token": CANARY_ACCESS,
    "refresh_token": CANARY_REFRESH,
    "expires_at": 4_000_000_000,
    "token_type": "Bearer",
    "email": "alice@example.com",
    "user_id": "user_01",
    "unknown_field": {"kept": [1, 2, 3]},
}
VALID_TOKENS_BYTES = json.dumps(VALID_TOKENS, indent=2).encode()
VALID_CONFIG_BYTES = (
    f"cloud_api_key: {CANARY_KEY}\n"
    "projects:\n"
    "  p1: {path: /srv/p1, mode: cloud}\n"
    "  p2: {path: /srv/p2, mode: local, colour: blue}\n"
    "editor: vim\n"
    "nested: {a: [1, 2, {b: c}]}\n"
).encode()

# Every command, with the standard input it reads. Network commands meet a closed loopback
# port (and the loopback-only guard), so they fail fast and send nothing anywhere.
COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("cloud", "status", "--offline"), ""),
    (("cloud", "status", "--offline", "--json"), ""),
    (("cloud", "status"), ""),
    (("cloud", "status", "--json"), ""),
    (("cloud", "login", "--no-browser"), ""),
    (("cloud", "logout"), ""),
    (("cloud", "logout", "--all", "--yes"), ""),
    (("cloud", "api-key", "save", "-"), SAVED_KEY + "\n"),
    (("cloud", "api-key", "create", "laptop"), ""),
    (("cloud", "api-key", "remove"), ""),
    (("project", "list"), ""),
    (("project", "list", "--json"), ""),
    (("project", "add", "fresh", "/srv/fresh"), ""),
    (("project", "remove", "p2"), ""),
    (("project", "set-cloud", "p2"), ""),
    (("project", "set-local", "p1"), ""),
)
# For generated damage (many inputs): every command that reads or writes either file, offline
# and online, without the slower network commands that only repeat what `status` proves.
QUICK_COMMANDS = tuple(
    command
    for command in COMMANDS
    if command[0][:2] not in (("cloud", "login"),)
    and command[0] not in (("cloud", "status", "--json"), ("cloud", "api-key", "create", "laptop"))
)
STATUS_COMMANDS = {("cloud", "status", "--offline"), ("cloud", "status", "--offline", "--json")}
# Logout may remove a damaged token file, saying so (SPEC §1): the one allowed change.
DAMAGED_TOKENS_REMOVED = "Removed a damaged token file"


@dataclass
class HostileFigures:
    """Inputs tried, command runs made, and every broken rule (with the input that broke it)."""

    name: str
    inputs: int = 0
    runs: int = 0
    damaged: int = 0
    blocked: int = 0
    problems: list[str] = field(default_factory=list)
    # Inputs that hit a defect the suite knows about (and reports), by label.
    known_defects: dict[str, str] = field(default_factory=dict)

    def line(self, what: str) -> str:
        if self.problems:
            return (
                f"{self.name}: {self.inputs} inputs, {len(self.problems)} PROBLEMS: "
                + "; ".join(self.problems[:2])
            )
        text = (
            f"{self.name}: {self.inputs} inputs tried ({what}), {self.runs} command runs, "
            "0 tracebacks, 0 silent overwrites, 0 secrets echoed"
        )
        if self.known_defects:
            text += f"; {len(self.known_defects)} KNOWN DEFECT(S): " + ", ".join(
                sorted(self.known_defects)
            )
        return text


class Sandbox:
    """A data folder for in-process runs, reset before every command."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.env = base_environment(self.data, root, root / "blocked.log")
        self.env.pop("PYTHONPATH", None)

    @property
    def tokens(self) -> Path:
        return self.data / ".cloud_tokens.json"

    @property
    def config(self) -> Path:
        return self.data / "config.yaml"

    def path_of(self, kind: FileKind) -> Path:
        return self.tokens if kind == "tokens" else self.config

    def clear(self) -> None:
        for entry in self.data.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                for inner in entry.iterdir():
                    inner.unlink()
                entry.rmdir()
            else:
                entry.unlink()

    def reset(self, kind: FileKind, damaged: bytes | Callable[[Path], None]) -> None:
        """The damaged file of `kind` (bytes, or a setup that makes it) and the other one valid."""
        self.clear()
        other: FileKind = "config" if kind == "tokens" else "tokens"
        write_private(
            self.path_of(other), VALID_CONFIG_BYTES if other == "config" else VALID_TOKENS_BYTES
        )
        if callable(damaged):
            damaged(self.path_of(kind))
        else:
            write_private(self.path_of(kind), damaged)

    def run(
        self, argv: Iterable[str], stdin: str = "", env: Mapping[str, str] | None = None
    ) -> Run:
        merged = dict(self.env)
        merged.update(env or {})
        return run_in_process(list(argv), merged, stdin)


def is_damaged(kind: FileKind, path: Path) -> bool:
    """Whether the store refuses the file (a store that crashes on it counts as refusing;
    the command runs report the crash)."""
    try:
        if kind == "tokens":
            return not is_successful(JsonFileTokenStore(path).load())
        return not is_successful(YamlConfigStore(path).load())
    except Exception:
        return True


def check_damaged_file(
    sandbox: Sandbox,
    kind: FileKind,
    damaged: bytes | Callable[[Path], None],
    label: str,
    figures: HostileFigures,
    commands: Iterable[tuple[tuple[str, ...], str]] = COMMANDS,
) -> list[str]:
    """Run every command against one damaged file; return what went wrong."""
    problems: list[str] = []
    sandbox.reset(kind, damaged)
    path = sandbox.path_of(kind)
    unreadable = is_damaged(kind, path)
    figures.inputs += 1
    figures.damaged += unreadable
    for argv, stdin in commands:
        sandbox.reset(kind, damaged)
        before = snapshot([path])
        run = sandbox.run(argv, stdin)
        figures.runs += 1
        # A file the store accepts may hold control characters in fields that are shown
        # (an email, a project name): the hand-picked SHOWN_FIELD_CASES prove those are
        # made printable, so they are not judged again here.
        hygiene = run.hygiene_problems(control=unreadable)
        problems.extend(f"[{label}] {problem}" for problem in hygiene)
        if not unreadable:
            continue  # still a good file (a harmless mutation): commands may rewrite it
        after = snapshot([path])
        removed_on_logout = (
            kind == "tokens" and argv[:2] == ("cloud", "logout") and after[path.name] is None
        )
        if removed_on_logout:
            if DAMAGED_TOKENS_REMOVED not in run.output:
                problems.append(f"[{label}] logout removed the file without saying so")
        elif after != before:
            problems.append(f"[{label}] damaged {path.name} changed: {run.describe()}")
        leaked = secret_leaks(run.output, CANARIES)
        if leaked:
            problems.append(f"[{label}] file content echoed ({leaked}): {run.describe()}")
        if argv in STATUS_COMMANDS and str(path) not in run.output:
            problems.append(f"[{label}] status does not name {path}: {run.describe()}")
    return problems


# -- generated damage --------------------------------------------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def byte_damage(draw: st.DrawFn, valid: bytes) -> tuple[str, bytes]:
    """Truncation, overwritten or inserted bytes, or plain binary."""
    how = draw(st.sampled_from(["truncate", "overwrite", "insert", "binary", "prefix"]))
    if how == "truncate":
        cut = draw(st.integers(0, len(valid) - 1))
        return f"truncated at {cut}", valid[:cut]
    if how == "binary":
        return "binary", draw(st.binary(min_size=1, max_size=300))
    at = draw(st.integers(0, len(valid) - 1))
    junk = draw(st.binary(min_size=1, max_size=12))
    if how == "overwrite":
        return f"overwritten at {at}", valid[:at] + junk + valid[at + len(junk) :]
    if how == "prefix":
        return "binary prefix", junk + valid
    return f"inserted at {at}", valid[:at] + junk + valid[at:]


@st.composite
def token_type_damage(draw: st.DrawFn) -> tuple[str, bytes]:
    """A well-formed JSON document with wrong types in known fields, or not an object."""
    document: object = dict(VALID_TOKENS)
    assert isinstance(document, dict)
    if draw(st.booleans()):
        name = draw(st.sampled_from([*VALID_TOKENS, "obtained_at", "session_id"]))
        document[name] = draw(_JSON_VALUES)
        label = f"{name} replaced"
    else:
        document = draw(_JSON_VALUES)
        label = "not an object"
    return label, json.dumps(document, allow_nan=True).encode()


@st.composite
def config_type_damage(draw: st.DrawFn) -> tuple[str, bytes]:
    """A well-formed YAML document with wrong types where the settings and projects go."""
    import yaml

    document: dict[object, object] = {
        "cloud_api_key": CANARY_KEY,
        "projects": {"p1": {"path": "/srv/p1", "mode": "cloud"}, "p2": {"path": "/srv/p2"}},
    }
    where = draw(
        st.sampled_from(
            ["cloud_api_key", "cloud_host", "projects", "p1", "path", "mode", "name", "top"]
        )
    )
    value = draw(_JSON_VALUES)
    projects = document["projects"]
    assert isinstance(projects, dict)
    if where in ("cloud_api_key", "cloud_host", "projects"):
        document[where] = value
    elif where == "p1":
        projects["p1"] = value
    elif where in ("path", "mode"):
        projects["p1"][where] = value
    elif where == "name":
        projects[draw(st.integers() | st.booleans() | st.none())] = {"path": "/x"}
    else:
        return "top level replaced", yaml.safe_dump(value).encode()
    return f"{where} replaced", yaml.safe_dump(document, allow_unicode=True).encode()


def _damage_check(
    sandbox: Sandbox,
    kind: FileKind,
    strategy: st.SearchStrategy[tuple[str, bytes]],
    figures: HostileFigures,
    examples: int,
) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def check(case: tuple[str, bytes]) -> None:
        label, data = case
        problems = check_damaged_file(
            sandbox, kind, data, f"{kind} {label}", figures, QUICK_COMMANDS
        )
        assert not problems, problems

    return check  # type: ignore[no-any-return]


def damaged_files_probe(root: Path, examples: int) -> HostileFigures:
    """Hypothesis-made damage to both files, `examples` each (bytes and types)."""
    figures = HostileFigures("hostile files (generated)")
    sandbox = Sandbox(root)
    strategies: list[tuple[FileKind, st.SearchStrategy[tuple[str, bytes]]]] = [
        ("tokens", byte_damage(VALID_TOKENS_BYTES)),
        ("tokens", token_type_damage()),
        ("config", byte_damage(VALID_CONFIG_BYTES)),
        ("config", config_type_damage()),
    ]
    for kind, strategy in strategies:
        check = _damage_check(sandbox, kind, strategy, figures, examples)
        try:
            with loopback_only() as guard:
                check()
        except AssertionError as failure:
            figures.problems.append(f"{kind}: {failure}")
        figures.problems.extend(f"non-loopback: {attempt}" for attempt in guard.attempts)
    return figures


# -- hand-picked damage ------------------------------------------------------------------------


def _symlink_to(target: Callable[[Path], Path]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.symlink_to(target(path))

    return make


def _elsewhere_valid(kind: FileKind) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        other = path.parent.parent / f"elsewhere-{path.name}"
        write_private(other, VALID_TOKENS_BYTES if kind == "tokens" else VALID_CONFIG_BYTES)
        return other

    return make


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "inside").write_text("x")


def _fifo(path: Path) -> None:
    os.mkfifo(path, 0o600)


def _sparse(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with open(path, "wb") as file:
            file.truncate(size)
        path.chmod(0o600)

    return make


def _loop(path: Path) -> None:
    path.symlink_to(path.name)


def unreadable(data: bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        write_private(path, data)
        path.chmod(0)

    return make


HUGE_INT = b"1" + b"0" * 5000


# Fields read from files and shown by status and project list: they must reach the terminal
# without control characters or forged lines (entrypoints.console.printable).
SHOWN_FIELD_CASES: frozenset[str] = frozenset(
    {
        "tokens: email with a terminal escape",
        "tokens: email with a newline",
        "tokens: email a lone surrogate",
        "tokens: user_id with a NUL",
        "config: a project name with a terminal escape",
        "config: a project name with a newline",
        "config: a project name with a NUL",
        "config: a project name in right-to-left override",
    }
)


def hand_picked(kind: FileKind) -> list[tuple[str, bytes | Callable[[Path], None]]]:
    """Damage worth naming: each a label and the bytes (or a setup making the path)."""
    valid = VALID_TOKENS_BYTES if kind == "tokens" else VALID_CONFIG_BYTES
    common: list[tuple[str, bytes | Callable[[Path], None]]] = [
        ("empty", b""),
        ("whitespace only", b" \n\t\n"),
        ("a BOM only", b"\xef\xbb\xbf"),
        ("NUL bytes", b"\x00" * 64),
        ("half a file", valid[: len(valid) // 2]),
        ("latin-1 bytes", valid.replace(b"alice", b"al\xefce").replace(b"vim", b"v\xefm")),
        ("UTF-16", valid.decode().encode("utf-16")),
        ("over 1 MiB", valid + b" " * (1024 * 1024)),
        ("1 GiB sparse", _sparse(1024**3)),
        ("deeply nested", b"[" * 100_000 + b"]" * 100_000),
        ("a directory in its place", _directory),
        ("a FIFO in its place (would hang a naive reader)", _fifo),
        ("a symlink to /dev/zero", _symlink_to(lambda path: Path("/dev/zero"))),
        ("a symlink to itself", _loop),
        ("a dangling symlink", _symlink_to(lambda path: path.parent / "missing-target")),
        ("a terminal escape", b"\x1b[2J\x1b[31m" + valid),
    ]
    if os.geteuid() != 0:  # root reads a chmod 000 file anyway
        common.append(("unreadable (mode 000)", unreadable(valid)))
    if kind == "tokens":
        return [
            *common,
            ("a JSON list", b"[]"),
            ("null", b"null"),
            ("expires_at a string", _json(expires_at="soon")),
            ("expires_at true", _json(expires_at=True)),
            ("expires_at NaN", _json_text('"expires_at": NaN')),
            ("expires_at 1e400", _json_text('"expires_at": 1e400')),
            ("expires_at with 5000 digits", _json_text('"expires_at": ' + HUGE_INT.decode())),
            ("access_token empty", _json(access_token="")),
            ("access_token a number", _json(access_token=12345)),
            ("refresh_token an object", _json(refresh_token={"t": CANARY_REFRESH})),
            ("email with a terminal escape", _json(email="\x1b[31mroot@evil\x1b[0m")),
            ("email with a newline", _json(email="a@example.com\nFAKE: line")),
            ("email a lone surrogate", _json_text('"email": "\\udc80\\ud800"')),
            ("user_id with a NUL", _json(user_id="user\u0000id")),
            ("a symlink to a valid token file elsewhere", _symlink_to(_elsewhere_valid(kind))),
            ("duplicate keys", _json_text(f'"access_token": "{CANARY_ACCESS}x"')),
        ]
    return [
        *common,
        ("a YAML list", b"- a\n- b\n"),
        ("a scalar", b"just text"),
        ("a python tag", b"!!python/object/apply:os.system ['echo pwned']\n"),
        ("a billion-laughs alias bomb", _billion_laughs()),
        (
            "an integer with 5000 digits",
            b"cloud_api_key: " + CANARY_KEY.encode() + b"\nbig: " + HUGE_INT,
        ),
        ("an impossible date", b"cloud_api_key: " + CANARY_KEY.encode() + b"\nsince: 2001-02-30\n"),
        ("tabs for indentation", b"projects:\n\tp1: {path: /x}\n"),
        ("an unhashable key", b"? [1, 2]\n: x\n"),
        ("cloud_api_key a list", b"cloud_api_key: [" + CANARY_KEY.encode() + b"]\n"),
        ("projects a list", b"projects: [p1, p2]\n"),
        ("a project without a path", b"projects: {p1: {mode: cloud}}\n"),
        ("a project mode 'CLOUD!'", b"projects: {p1: {path: /x, mode: CLOUD!}}\n"),
        ("a project name with a terminal escape", b'projects: {"\\e[31mred": {path: /x}}\n'),
        ("a project name with a newline", b'projects: {"a\\nFAKE  line": {path: /x}}\n'),
        ("a project name with a NUL", b'projects: {"a\\0b": {path: /x}}\n'),
        ("a project name in right-to-left override", b'projects: {"a\\u202eb": {path: /x}}\n'),
        ("control characters", b"cloud_api_key: bmc_\x07\x08abc\n"),
    ]


def _json(**changes: object) -> bytes:
    return json.dumps({**VALID_TOKENS, **changes}).encode()


def _json_text(member: str) -> bytes:
    """A valid document with one member spelled out as raw JSON text (NaN, huge numbers)."""
    return ("{" + f'"access_token": "{CANARY_ACCESS}", "expires_at": 1, ' + member + "}").encode()


def _billion_laughs() -> bytes:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [" + ", ".join([previous] * 9) + "]")
    lines.append(f"cloud_api_key: {CANARY_KEY}")
    return ("\n".join(lines) + "\n").encode()


def hand_picked_probe(root: Path) -> HostileFigures:
    figures = HostileFigures("hostile files (hand-picked)")
    sandbox = Sandbox(root)
    kinds: tuple[FileKind, ...] = ("tokens", "config")
    with loopback_only() as guard:
        for kind in kinds:
            for label, damage in hand_picked(kind):
                name = f"{kind}: {label}"
                problems = check_damaged_file(sandbox, kind, damage, name, figures)
                if name in SHOWN_FIELD_CASES:
                    problems = escapes_shown(sandbox, kind, damage, name) + problems
                figures.problems.extend(problems)
        figures.problems.extend(_symlinked_config(sandbox, figures))
    figures.problems.extend(f"non-loopback: {attempt}" for attempt in guard.attempts)
    return figures


def escapes_shown(
    sandbox: Sandbox, kind: FileKind, damage: bytes | Callable[[Path], None], label: str
) -> list[str]:
    """Does a file the store accepts put control characters (or a forged line) on the
    terminal? Judged on the commands that show identities and names."""
    problems: list[str] = []
    for argv in (("cloud", "status", "--offline"), ("project", "list")):
        sandbox.reset(kind, damage)
        run = sandbox.run(argv)
        forged = any(line.startswith("FAKE") for line in run.output.splitlines())
        shown = control_characters(run.output) | ({"newline"} if forged else set())
        if shown:
            problems.append(f"[{label}] {sorted(shown)} shown by bm {' '.join(argv)}")
    return problems


def _symlinked_config(sandbox: Sandbox, figures: HostileFigures) -> list[str]:
    """A symlinked config.yaml (dotfile managers) is written through; the link stays a link."""
    problems: list[str] = []
    sandbox.clear()
    target = sandbox.root / "dotfiles" / "config.yaml"
    write_private(target, VALID_CONFIG_BYTES)
    sandbox.config.symlink_to(target)
    run = sandbox.run(["project", "add", "through-link", "/srv/link"])
    figures.inputs += 1
    figures.runs += 1
    problems.extend(run.hygiene_problems())
    if run.code != 0 or not sandbox.config.is_symlink():
        problems.append(
            f"symlinked config: {run.describe()}, link kept: {sandbox.config.is_symlink()}"
        )
    elif b"through-link" not in target.read_bytes():
        problems.append("symlinked config: the target was not updated")
    elif stat.S_IMODE(target.stat().st_mode) != 0o600:
        problems.append("symlinked config: the target lost mode 0600")
    return problems


# -- hostile keys ------------------------------------------------------------------------------

KEY_RULE = re.compile(r"bmc_[A-Za-z0-9_-]{8,}", re.ASCII)
MAX_STDIN_CHARS = 4096  # entrypoints/api_key_commands.py refuses standard input longer than this
HOSTILE_KEY_PIECES = [
    "\x00",
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\r",
    "\x08\x08\x08\x08",
    "\u202e",
    "\u200b",
    "\ufeff",
    "ｂｍｃ_",
    "bmс_",  # Cyrillic es
    "\u0430",
    "é",
    "🔑",
    " ",
    "\t",
    "\n",
    "\u2028",
    "\x85",
    "\udc80",
    "'",
    '"',
    "$(id)",
    "`id`",
    "%s%n",
    "\\",
]
_CANARY_BODY = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=12, max_size=12)


def expected_key(stdin: str) -> str | None:
    """The key a correct `api-key save -` stores for this input, or None if it must refuse.

    SPEC §5: `bmc_` then 8+ of [A-Za-z0-9_-], whitespace around it dropped; at most 512
    characters (README); standard input must hold exactly one non-blank line, the key
    (README: several lines are refused, not guessed between).
    """
    if len(stdin) > MAX_STDIN_CHARS:
        return None  # more than any key: refused whole, whatever comes first
    lines = [line for line in stdin.splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    candidate = lines[0].strip()
    return candidate if KEY_RULE.fullmatch(candidate) and len(candidate) <= 512 else None


def check_key(sandbox: Sandbox, stdin: str, canary: str) -> list[str]:
    """Save a hostile key through standard input; judge exit, file and output."""
    sandbox.clear()
    write_private(sandbox.config, VALID_CONFIG_BYTES)
    before = snapshot([sandbox.config])
    run = sandbox.run(["cloud", "api-key", "save", "-"], stdin)
    problems = run.hygiene_problems()
    expected = expected_key(stdin)
    stored = YamlConfigStore(sandbox.config).load()
    stored_key = (
        stored.unwrap().cloud_api_key.get_secret_value()  # type: ignore[union-attr]
        if is_successful(stored) and stored.unwrap().cloud_api_key
        else None
    )
    if expected is not None:
        if run.code != 0 or stored_key != expected:
            problems.append(f"a valid key was not saved as typed: {run.describe()}")
    else:
        if run.code not in (1, 2):
            problems.append(f"an invalid key was not refused with exit 1 or 2: {run.describe()}")
        if snapshot([sandbox.config]) != before:
            problems.append(f"config.yaml changed on a refused key: {run.describe()}")
    if canary in run.output:
        problems.append(f"the key was echoed: {run.describe()}")
    return problems


def hostile_keys_probe(root: Path, examples: int) -> HostileFigures:
    """Hand-picked pieces around a canary, then hypothesis mixes of them."""
    figures = HostileFigures("hostile API keys (bm cloud api-key save -)")
    sandbox = Sandbox(root)
    body = "CANARYKEYBODY23"
    fixed = [f"bmc_{body}{piece}" for piece in HOSTILE_KEY_PIECES]
    fixed += [f"{piece}bmc_{body}" for piece in HOSTILE_KEY_PIECES]
    fixed += [
        "bmc_" + body + "A" * 600,  # longer than 512
        "bmc_" + body + "A" * 5000,  # longer than what is read
        "\n" * 5000 + "bmc_" + body,  # the key beyond the read limit
        f"bmc_{body}\nsecond line",
        f"  bmc_{body}Zz-_  \n",
        f"BMC_{body}",
        f"bmc-{body}",
        f"bmc_{body[:4]}",
    ]
    with loopback_only() as guard:
        for key in fixed:
            figures.inputs += 1
            figures.runs += 1
            figures.problems.extend(check_key(sandbox, key, body))

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            _CANARY_BODY,
            st.lists(st.sampled_from(HOSTILE_KEY_PIECES) | st.text(max_size=3), max_size=4),
            st.integers(0, 3),
        )
        def check(canary: str, pieces: list[str], where: int) -> None:
            parts = ["bmc_", canary, *pieces]
            parts.insert(min(where, len(parts)), pieces[0] if pieces else "")
            key = "".join(parts)
            figures.inputs += 1
            figures.runs += 1
            problems = check_key(sandbox, key, canary)
            assert not problems, problems

        try:
            check()
        except AssertionError as failure:
            figures.problems.append(str(failure))
    figures.problems.extend(f"non-loopback: {attempt}" for attempt in guard.attempts)
    return figures


# -- hostile environment -----------------------------------------------------------------------

ENV_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("cloud", "status", "--offline", "--json"),
    ("cloud", "status"),
    ("cloud", "login", "--force", "--no-browser"),
    ("project", "list"),
    ("project", "add", "fresh", "/srv/fresh"),
    ("project", "set-cloud", "p1"),
)
ROUTING_VARIABLES = (
    "BASIC_MEMORY_FORCE_LOCAL",
    "BASIC_MEMORY_FORCE_CLOUD",
    "BASIC_MEMORY_EXPLICIT_ROUTING",
)
_ENV_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)


def hand_picked_environments(root: Path) -> list[tuple[str, dict[str, str]]]:
    a_file = root / "a-file"
    a_file.write_text("not a folder")
    huge = "y" * 1_000_000
    env: list[tuple[str, dict[str, str]]] = [
        ("FORCE_CLOUD with an escape", {"BASIC_MEMORY_FORCE_CLOUD": "yes\x1b[31m"}),
        ("FORCE_LOCAL huge", {"BASIC_MEMORY_FORCE_LOCAL": huge}),
        ("EXPLICIT_ROUTING look-alike", {"BASIC_MEMORY_EXPLICIT_ROUTING": "ｔｒｕｅ"}),
        (
            "both FORCE variables on",
            {"BASIC_MEMORY_FORCE_LOCAL": "1", "BASIC_MEMORY_FORCE_CLOUD": "ON"},
        ),
        ("CONFIG_DIR is a file", {"BASIC_MEMORY_CONFIG_DIR": str(a_file)}),
        ("CONFIG_DIR inside a file", {"BASIC_MEMORY_CONFIG_DIR": str(a_file / "sub")}),
        ("CONFIG_DIR is /dev/null", {"BASIC_MEMORY_CONFIG_DIR": "/dev/null"}),
        ("CONFIG_DIR too long", {"BASIC_MEMORY_CONFIG_DIR": str(root / ("d" * 5000))}),
        ("CONFIG_DIR with an escape", {"BASIC_MEMORY_CONFIG_DIR": str(root / "\x1b[31mdir")}),
        ("HOST evil over http", {"BASIC_MEMORY_CLOUD_HOST": "http://evil.example"}),
        ("DOMAIN evil over http", {"BASIC_MEMORY_CLOUD_DOMAIN": "http://evil.example"}),
        ("HOST with an escape", {"BASIC_MEMORY_CLOUD_HOST": "http://evil\x1b[31m.example"}),
        (
            "HOST with a password",
            {"BASIC_MEMORY_CLOUD_HOST": "https://me:" + CANARY_ACCESS + "@evil.example"},
        ),
        ("HOST huge", {"BASIC_MEMORY_CLOUD_HOST": "https://" + huge}),
        ("HOST not a URL", {"BASIC_MEMORY_CLOUD_HOST": "\u202e//:sptth"}),
        ("HOST punycode junk", {"BASIC_MEMORY_CLOUD_HOST": "https://xn--"}),
        ("HOST with a bidi override", {"BASIC_MEMORY_CLOUD_HOST": "https://a\u202eb.example"}),
        ("API_KEY with an escape", {"BASIC_MEMORY_CLOUD_API_KEY": CANARY_KEY + "\x1b[31m"}),
        ("API_KEY huge", {"BASIC_MEMORY_CLOUD_API_KEY": "bmc_" + huge}),
        ("API_KEY spaces", {"BASIC_MEMORY_CLOUD_API_KEY": "   "}),
        ("CLIENT_ID with escapes", {"BASIC_MEMORY_CLOUD_CLIENT_ID": "\x1b[31m\n" * 3}),
        ("HTTPS_PROXY with an escape", {"HTTPS_PROXY": "\x1b[31m"}),
        (
            "HTTPS_PROXY socks without socksio",
            {"HTTPS_PROXY": "socks5://127.0.0.1:1", "ALL_PROXY": "socks5://127.0.0.1:1"},
        ),
        ("HTTP_PROXY unknown scheme", {"HTTP_PROXY": "ftp://x", "ALL_PROXY": "ftp://x"}),
        ("NO_PROXY huge", {"NO_PROXY": "x" * 100_000}),
        ("SSL_CERT_FILE missing", {"SSL_CERT_FILE": str(root / "missing.pem")}),
        ("SSL_CERT_FILE not a certificate", {"SSL_CERT_FILE": str(a_file)}),
        (
            "HOME unset and CONFIG_DIR empty",
            {"BASIC_MEMORY_CONFIG_DIR": "", "HOME": str(root / "home")},
        ),
    ]
    return env


def check_environment(sandbox: Sandbox, label: str, changes: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    for argv in ENV_COMMANDS:
        sandbox.clear()
        write_private(sandbox.config, VALID_CONFIG_BYTES)
        run = sandbox.run(argv, env=changes)
        problems.extend(f"[{label}] {problem}" for problem in run.hygiene_problems())
        leaked = secret_leaks(run.output, CANARIES)
        if leaked:
            problems.append(f"[{label}] secret echoed ({leaked}): {run.describe()}")
    return problems


def hostile_environment_probe(root: Path, examples: int) -> HostileFigures:
    figures = HostileFigures("hostile environment values")
    sandbox = Sandbox(root / "sandbox")
    with loopback_only() as guard:
        for label, changes in hand_picked_environments(root):
            figures.inputs += 1
            figures.runs += len(ENV_COMMANDS)
            figures.problems.extend(check_environment(sandbox, label, changes))

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            st.dictionaries(
                st.sampled_from(
                    [
                        *ROUTING_VARIABLES,
                        "BASIC_MEMORY_CLOUD_HOST",
                        "BASIC_MEMORY_CLOUD_DOMAIN",
                        "BASIC_MEMORY_CLOUD_CLIENT_ID",
                        "BASIC_MEMORY_CLOUD_API_KEY",
                    ]
                ),
                _ENV_TEXT
                | st.sampled_from(["http://", "https://", "bmc_", "yes", "0"]).flatmap(
                    lambda prefix: _ENV_TEXT.map(lambda rest: prefix + rest)
                ),
                min_size=1,
                max_size=3,
            )
        )
        def check(changes: dict[str, str]) -> None:
            figures.inputs += 1
            figures.runs += len(ENV_COMMANDS)
            problems = check_environment(sandbox, repr(changes), changes)
            assert not problems, problems

        try:
            check()
        except AssertionError as failure:
            figures.problems.append(str(failure))
    # https:// hosts that are not loopback were looked up, and refused by the guard: nothing
    # left this machine. That http:// ones are never even looked up is transport.py's proof.
    figures.blocked = len(guard.attempts)
    return figures


# -- the same through the installed bm ---------------------------------------------------------

INSTALLED_KEYS: tuple[tuple[str, bytes, int], ...] = (
    ("a NUL inside", b"bmc_CANARYKEYBODY23\x00tail\n", 1),
    ("bytes that are not UTF-8", b"bmc_CANARYKEYBODY23\xff\xfe\n", 1),
    ("an ANSI escape", b"bmc_CANARYKEYBODY23\x1b[31m\n", 1),
    ("a megabyte of key", b"bmc_CANARYKEYBODY23" + b"A" * 1_000_000, 1),
    ("only blank lines", b"\n\n  \n", 2),
)
INSTALLED_ENVIRONMENTS: tuple[tuple[str, dict[str, str], tuple[str, ...], str], ...] = (
    (
        "FORCE_CLOUD with an escape",
        {"BASIC_MEMORY_FORCE_CLOUD": "yes\x1b[31m"},
        ("project", "list"),
        "BASIC_MEMORY_FORCE_CLOUD must be",
    ),
    (
        "FORCE_LOCAL of 100 kB",
        {"BASIC_MEMORY_FORCE_LOCAL": "x" * 100_000},
        ("project", "list"),
        "BASIC_MEMORY_FORCE_LOCAL must be",
    ),
    (
        "HOST over http",
        {"BASIC_MEMORY_CLOUD_HOST": "http://evil.example"},
        ("cloud", "status"),
        "https://",
    ),
)


def installed_probe(root: Path) -> HostileFigures:
    """Raw bytes on the real standard input, and real environment variables: the installed
    bm behaves as the in-process runs said."""
    from tests.reliability.harness import Workspace

    figures = HostileFigures("hostile stdin bytes and environment through the installed bm")
    workspace = Workspace(root, "installed")
    for label, data, code in INSTALLED_KEYS:
        workspace.write_config(VALID_CONFIG_BYTES)
        before = workspace.snapshot()
        run = workspace.bm("cloud", "api-key", "save", "-", input=data)
        figures.inputs += 1
        figures.runs += 1
        figures.problems.extend(f"[{label}] {problem}" for problem in run.hygiene_problems())
        if run.code != code or workspace.snapshot() != before or "CANARYKEY" in run.output:
            figures.problems.append(f"[{label}] {run.describe()}")
    folder_file = root / "a-file"
    folder_file.write_text("not a folder")
    environments = (
        *INSTALLED_ENVIRONMENTS,
        (
            "CONFIG_DIR is a file",
            {"BASIC_MEMORY_CONFIG_DIR": str(folder_file)},
            ("project", "add", "fresh", str(root)),
            str(folder_file),
        ),
    )
    for label, changes, argv, text in environments:
        run = workspace.bm(*argv, env=changes)
        figures.inputs += 1
        figures.runs += 1
        figures.problems.extend(f"[{label}] {problem}" for problem in run.hygiene_problems())
        if run.code != 1 or text not in run.stderr:
            figures.problems.append(f"[{label}] {run.describe()}")
    figures.problems.extend(workspace.blocked_connections())
    return figures
