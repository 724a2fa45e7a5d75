"""What the editor tests share: the examples as the lexer reads them, the npm tools of editors/vscode
(installed once a session), and the grammar's scope snapshots.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lark import Token
from support import EXAMPLES, require_tool

from harmonlang.parser import grammar_parser

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
VIM = ROOT / "editors" / "vim"
SNAPSHOTS = VSCODE / "test" / "snapshots"
PACKAGE_JSON = VSCODE / "package.json"
PACKAGE = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.glob("*.circle"))
# `#` starts a comment only after whitespace, `;` or a bracket: elsewhere it is a sharp, in strings and out.
SHARPS_NAME = "sharps.test.circle"
SHARPS = (
    'song "Sharps" { key F# minor; tempo 96 }  # F# is a pitch\n'
    'theme hero = "f#4/8 a4/8 c#5/4 | f#5/2"  # notes\n'
    "theme mirror = hero | invert f#4  # the pivot, f#4\n"
    "part lead : protagonist plays (hero | transpose -12) on s1 #1: a comment\n"
    "scene IIa.search.1a { lift +1; meter 7/8 }\n"
)
CHECKED_NAMES = [*EXAMPLE_NAMES, SHARPS_NAME]


def source_text(name: str) -> str:
    return SHARPS if name == SHARPS_NAME else (EXAMPLES / name).read_text(encoding="utf-8")


REGENERATE = "regenerate with `pytest --update-goldens tests/test_vscode_grammar.py`"
# Debian bookworm's nodejs, which .ci/run installs when a machine has no npm.
DEBIAN_NODE = "18.19.0"
# Quiet, colourless tools.
TOOL_ENV = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "npm_config_update_notifier": "false"}

KEYWORDS = {
    "IMPORT", "SONG", "THEME", "PROG", "GROOVE", "PART", "PLAYS", "ON", "GENRE", "DEVICE", "CIRCLE",
    "_ACT", "_STEP", "_SEQUENCE", "_SCENE", "_PHRASE", "CHORUS", "BRIDGE", "TRANSITION",
}  # fmt: skip
CONSTANTS = {"NUMBER", "FRACTION", "RATIO", "RANGE", "SCENE_LOCAL", "PITCHNAME"}


def run(command: list[str], cwd: Path = ROOT, timeout: float = 600, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=TOOL_ENV, check=False, **kwargs
    )


def output(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def lexed(text: str) -> list[Token]:
    """The compiler's own tokens for `text`, comments included, whitespace and newlines left out."""
    return [
        token
        for token in grammar_parser().lex(text, dont_ignore=True)
        if not token.type.startswith("__") and token.type not in ("_NL", "_CONTINUE")
    ]


# ---- VS Code: the tools ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """`npm ci` in editors/vscode, once per session: the pinned vsce, vscode-tmgrammar-test and language client."""
    npm = require_tool("npm")
    require_tool("node")
    result = run([npm, "ci", "--no-audit", "--no-fund"], cwd=VSCODE, timeout=900)
    assert result.returncode == 0, f"npm ci failed in editors/vscode\n{output(result)}"
    return VSCODE / "node_modules"


def tmgrammar_snap(modules: Path, cases: list[Path], *options: str) -> subprocess.CompletedProcess:
    """vscode-tmgrammar-snap on `cases`, with the grammar that package.json contributes. It writes `CASE.snap` where
    there is none, and otherwise compares the case's scopes with its `.snap`."""
    tool = modules / "vscode-tmgrammar-test" / "dist" / "snapshot.js"
    return run([require_tool("node"), str(tool), "--config", str(PACKAGE_JSON), *options, *map(str, cases)])


Scoped = list[tuple[int, int, tuple[str, ...]]]  # (start, end, scopes) for each token of a line


def parse_snap(text: str) -> list[tuple[str, Scoped]]:
    """A .snap file: each source line (`>line`) and its tokens (`#   ^^^ scope scope`, columns as in the line)."""
    lines: list[tuple[str, Scoped]] = []
    for raw in text.split("\n"):
        if raw.startswith(">"):
            lines.append((raw[1:], []))
        elif raw.startswith("#") and lines:
            match = re.fullmatch(r"#( *)(\^+) (.*)", raw)
            assert match, f"not a scope line: {raw!r}"
            start = len(match.group(1))
            lines[-1][1].append((start, start + len(match.group(2)), tuple(match.group(3).split())))
    return lines


def scopes_at(lines: list[tuple[str, Scoped]], line: int, column: int) -> tuple[str, ...]:
    """The scopes at 0-based `line` and `column`."""
    for start, end, scopes in lines[line][1]:
        if start <= column < end:
            return scopes
    raise AssertionError(f"no token at line {line + 1}, column {column + 1}")


def has_scope(scopes: tuple[str, ...], *prefixes: str) -> bool:
    return any(scope.startswith(prefix) for scope in scopes for prefix in prefixes)


@pytest.fixture(scope="session")
def example_scopes(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """The grammar's scopes for every example as it is now: fresh snapshots in a temporary folder."""
    work = tmp_path_factory.mktemp("tm-scopes")
    for name in CHECKED_NAMES:
        (work / name).write_text(source_text(name), encoding="utf-8")
    result = tmgrammar_snap(node_modules, [work / name for name in CHECKED_NAMES])
    assert result.returncode == 0, output(result)
    return {name: parse_snap((work / f"{name}.snap").read_text(encoding="utf-8")) for name in CHECKED_NAMES}


def music_strings(tokens: list[Token]) -> Iterator[tuple[str, Token]]:
    """Each string of music, with its kind: a theme's notes, a prog's chords, a groove's drum steps."""
    depth, groove_depth = 0, None
    for index, token in enumerate(tokens):
        if token.type == "LBRACE":
            depth += 1
            if groove_depth is None and index >= 3 and tokens[index - 3].type == "GROOVE":
                groove_depth = depth
        elif token.type == "RBRACE":
            if depth == groove_depth:
                groove_depth = None
            depth -= 1
        elif token.type == "STRING":
            if index >= 3 and tokens[index - 3].type == "THEME":
                yield "notes", token
            elif index >= 3 and tokens[index - 3].type == "PROG":
                yield "chords", token
            elif groove_depth is not None and tokens[index - 1].type == "NAME":
                before = tokens[index - 2]  # the voice's name starts a statement
                if before.line < token.line or before.type in ("LBRACE", "SEMICOLON"):
                    yield "steps", token


MUSIC_SCOPES = {"notes": "constant.other.note", "chords": "constant.other.chord", "steps": "constant.character.step"}
