"""The VS Code extension's TextMate grammar: scope snapshots of every example (vscode-tmgrammar-snap;
committed under editors/vscode/test/snapshots/, rewritten by `pytest --update-goldens tests/test_vscode_grammar.py`),
and its scopes checked against the compiler's own lexer, music inside strings included.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from editor_support import (
    CHECKED_NAMES,
    CONSTANTS,
    EXAMPLE_NAMES,
    KEYWORDS,
    MUSIC_SCOPES,
    REGENERATE,
    SNAPSHOTS,
    VSCODE,
    has_scope,
    lexed,
    music_strings,
    output,
    run,
    scopes_at,
    source_text,
    tmgrammar_snap,
)
from lark import Token
from support import EXAMPLES, require_tool

# ---- VS Code: the grammar --------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_grammar_snapshot(name: str, node_modules: Path, tmp_path: Path, update_goldens: bool) -> None:
    """The scopes of every token of every example are those in its committed snapshot."""
    example = EXAMPLES / name
    copy, snap = SNAPSHOTS / name, SNAPSHOTS / f"{name}.snap"
    if update_goldens:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(example, copy)
        snap.unlink(missing_ok=True)
        result = tmgrammar_snap(node_modules, [copy])  # with no .snap, the tool writes it
        assert result.returncode == 0 and snap.exists(), output(result)
    assert snap.exists(), f"editors/vscode/test/snapshots/{name}.snap is missing; {REGENERATE}"
    # The current example next to the committed snapshot: a changed example or grammar fails here.
    shutil.copyfile(example, tmp_path / name)
    shutil.copyfile(snap, tmp_path / f"{name}.snap")
    result = tmgrammar_snap(node_modules, [tmp_path / name])
    assert result.returncode == 0, f"examples/{name} no longer scopes as its snapshot; {REGENERATE}\n{output(result)}"
    # `npm run test:grammar` runs on the copies next to the snapshots: they must be the examples themselves.
    assert copy.read_bytes() == example.read_bytes(), f"editors/vscode/test/snapshots/{name} is stale; {REGENERATE}"


def test_snapshots_are_only_the_examples(update_goldens: bool) -> None:
    """No snapshot (or copy) is left over from an example that is gone."""
    wanted = {*EXAMPLE_NAMES, *(f"{name}.snap" for name in EXAMPLE_NAMES)}
    strays = sorted(p.name for p in SNAPSHOTS.iterdir() if p.name not in wanted)
    if update_goldens:
        for stray in strays:
            (SNAPSHOTS / stray).unlink()
        strays = []
    assert not strays, f"snapshots of no example in editors/vscode/test/snapshots: {strays}; {REGENERATE}"


def test_npm_grammar_script(node_modules: Path) -> None:
    """`npm run test:grammar`, as the extension's README says, passes on the committed snapshots."""
    result = run([require_tool("npm"), "run", "--silent", "test:grammar"], cwd=VSCODE)
    assert result.returncode == 0, output(result)
    assert result.stdout.count("run successfully") == len(EXAMPLE_NAMES), output(result)


@pytest.mark.parametrize("name", CHECKED_NAMES)
def test_grammar_agrees_with_the_lexer(name: str, example_scopes: dict[str, list]) -> None:
    """Every token of every example (and of a line-up of sharps) is scoped as what the compiler's lexer says it
    is: comments, strings, keywords, numbers, pipes, braces, defined names; nothing else is a comment."""
    lines = example_scopes[name]
    tokens = lexed(source_text(name))
    problems: list[str] = []
    comment_columns: set[tuple[int, int]] = set()

    def expect(token: Token, ok: bool, what: str) -> None:
        if not ok:
            scopes = scopes_at(lines, token.line - 1, token.column - 1)
            problems.append(f"{token.line}:{token.column} {token.value!r} ({token.type}) is not {what}: {scopes}")

    for index, token in enumerate(tokens):
        line, column = token.line - 1, token.column - 1
        at = scopes_at(lines, line, column)
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.type == "COMMENT":
            columns = range(column, column + len(token.value))
            comment_columns.update((line, c) for c in columns)
            inside = all(has_scope(scopes_at(lines, line, c), "comment.line.number-sign") for c in columns)
            expect(token, inside, "a comment throughout")
        elif token.type == "STRING":
            columns = range(column, column + len(token.value))
            expect(
                token, all(has_scope(scopes_at(lines, line, c), "string.quoted.double") for c in columns), "a string"
            )
        elif token.type in KEYWORDS:
            expect(token, has_scope(at, "keyword.", "storage.type."), "a keyword")
        elif token.type in CONSTANTS:
            expect(token, has_scope(at, "constant."), "a constant")
        elif token.type == "VBAR":
            expect(token, has_scope(at, "keyword.operator.pipe"), "a pipe")
        elif token.type in ("LBRACE", "RBRACE"):
            expect(token, has_scope(at, "punctuation.section.block"), "a brace")
        elif token.type == "NAME":
            expect(token, not has_scope(at, "comment", "string", "keyword.control", "storage.type"), "a plain name")
        # what a definition defines is named as such
        if following is not None and following.type == "NAME" and token.type in ("THEME", "PROG", "GROOVE", "PART"):
            named = scopes_at(lines, following.line - 1, following.column - 1)
            kind = "entity.name.variable.part" if token.type == "PART" else "entity.name.type."
            expect(following, has_scope(named, kind), "a defined name")
    for number, (_, scoped) in enumerate(lines):
        for start, end, scopes in scoped:
            stray = [c for c in range(start, end) if (number, c) not in comment_columns]
            if has_scope(scopes, "comment") and stray:
                problems.append(f"{number + 1}:{stray[0] + 1} is scoped as a comment, which the lexer does not say")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", CHECKED_NAMES)
def test_music_inside_strings_is_scoped(name: str, example_scopes: dict[str, list]) -> None:
    """Inside the strings of music, notes, chords and drum steps have scopes of their own, and no example is
    left all plain: it shows comments, keywords and strings (when it has them) with their scopes."""
    lines = example_scopes[name]
    tokens = lexed(source_text(name))
    for kind, token in music_strings(tokens):
        inner = [scopes_at(lines, token.line - 1, c) for c in range(token.column, token.column + len(token.value) - 2)]
        expected = MUSIC_SCOPES[kind]
        assert any(has_scope(s, expected) for s in inner), f"{token.line}: {token.value} has no {expected}"
        assert all(has_scope(s, f"string.quoted.double.{kind}") for s in inner), f"{token.line}: {token.value}"
    every = {scope for _, scoped in lines for _, _, scopes in scoped for scope in scopes} - {"source.harmonlang"}
    assert every, f"{name} is all plain"
    kinds = {token.type for token in tokens}
    if "COMMENT" in kinds:
        assert any(s.startswith("comment.line") for s in every)
    if kinds & KEYWORDS:
        assert any(s.startswith(("keyword.control", "storage.type")) for s in every)
    if "STRING" in kinds:
        assert any(s.startswith("string.quoted") for s in every)


def test_music_strings_found_in_the_examples() -> None:
    """The music test above has something to check: the examples hold notes, chords and drum steps."""
    kinds = {kind for name in EXAMPLE_NAMES for kind, _ in music_strings(lexed((EXAMPLES / name).read_text()))}
    assert kinds == {"notes", "chords", "steps"}
