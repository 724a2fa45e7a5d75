"""Friendly syntax errors: what was expected, and a table of common mistakes.

Lark reports the parser state where it stopped; `match_examples` compares it
with the states that known mistakes produce, so each gets its own message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from harmonlang.diagnostics import Diagnostics, Span

STATEMENT_KEYWORDS = (
    "import song theme prog groove part act step sequence scene phrase chorus bridge transition genre device circle"
).split()

# label -> (message, hint, examples that reach the same parser state)
COMMON_MISTAKES: dict[str, tuple[str, str | None, list[str]]] = {
    "equals-in-setting": (
        "a setting takes its values without `=`",
        "write `tempo 120`, not `tempo = 120`",
        ["tempo = 120", "song { tempo = 120 }", "act I { tempo = 1 }"],
    ),
    "part-needs-role": (
        "a part needs a role after a colon",
        "write `part lead : protagonist`; roles are protagonist, antagonist, chords, bass, drums and samples",
        ["part lead protagonist", "part lead\n", "part lead plays x", "part lead on s1"],
    ),
    "material-needs-equals": (
        "a named theme, prog or groove needs `=` before its value",
        'write `theme hero = "a4/8 c5/8"`',
        ['theme hero "a4"', 'prog p "I"', "groove g {}", "theme hero hero2"],
    ),
    "material-needs-name": (
        "a theme, prog or groove needs a name",
        'write `theme hero = "a4/8 c5/8"`',
        ['theme = "a4"', 'prog = "I"', "groove = {}", 'theme "a4"'],
    ),
    "pipeline-in-plays": (
        "a pipeline after `plays` must be in parentheses",
        "write `plays (hero | invert)`, or name it first: `theme mirror = hero | invert`",
        ["part a : protagonist plays hero | invert", "lead plays hero | invert"],
    ),
    "section-needs-block": (
        "a section needs a block in braces",
        "write `act I { ... }`: settings for that part of the circle go inside the braces",
        ["act I tempo 120", "step need tempo 1", "act I\n", "step need\n", "sequence 2\n", "phrase A\n"],
    ),
    "act-needs-name": (
        "an act needs its name: I, IIa, IIb or III",
        "write `act IIa { ... }`",
        ["act { }", "act 1 { }"],
    ),
    "step-needs-name": (
        "a step needs its name: you, need, go, search, find, take, return or change",
        "write `step search { ... }`",
        ["step { }", "step 1 { }"],
    ),
    "scene-address": (
        "a scene is addressed by sequence and letter, or by its full id",
        "write `scene 2b { ... }` inside a step, or `scene IIa.search.2b { ... }`",
        ["scene { }", "scene 2 { }", "scene 2 x"],
    ),
    "music-in-quotes": (
        "notes and chords go in quotes",
        'write `theme hero = "a4/8 c5/8 e5/4"` or `prog home = "i VI III VII"`',
        ["theme x = a4/4", "theme x = a4 c5", "prog p = i VI", "prog p = Am F", "theme x = a4/4 c5/4"],
    ),
    "device-after-on": (
        "`on` needs a device",
        'write `on s1`, `on t8.bass`, `on gm "String Ensemble 1"` or `on sp404mk2 bank A`',
        ["part x : bass on\n", "part x : bass plays b on\n", "lead on\n", "part x : bass on {", "part x : bass on"],
    ),
    "transform-needs-name": (
        "`|` must be followed by a transform",
        "transforms are transpose, invert, retrograde, augment, diminish, displace, thin, repeat and octave",
        ['theme a = "a4" |', 'theme a = "a4" |\n', 'theme a = "a4" | 3', "theme a = b | }"],
    ),
}

_FRIENDLY = {
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "FRACTION": "a fraction such as `4/4`",
    "RATIO": "a ratio such as `3:4`",
    "RANGE": "a range such as `120..128`",
    "DOTTED": "a dotted name",
    "PITCHNAME": "a pitch name",
    "SCENE_LOCAL": "a scene such as `2b`",
    "_NL": "a new line",
    "$END": "the end of the file",
}


def describe_terminal(name: str, parser: Lark) -> str:
    if name in _FRIENDLY:
        return _FRIENDLY[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if isinstance(pattern, PatternStr):
        return f"`{pattern.value}`"
    return name.lower()


def describe_expected(expected: set[str], parser: Lark) -> str:
    described = sorted({describe_terminal(e, parser) for e in expected if e not in {"SEMICOLON"}})
    keywords = [d for d in described if d.startswith("`")]
    others = [d for d in described if not d.startswith("`")]
    items = others + keywords
    if len(items) > 8:
        items = items[:8] + ["..."]
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _token_span(file: str, token: Any, text: str) -> Span:
    if getattr(token, "line", None) in (None, -1) or token.type == "$END":
        lines = text.split("\n") or [""]
        return Span(file=file, line=len(lines), col=len(lines[-1]) + 1, end_line=len(lines), end_col=len(lines[-1]) + 2)
    end_col = token.end_column if token.end_line == token.line else token.column + 1
    return Span(
        file=file, line=token.line, col=token.column, end_line=token.line, end_col=max(end_col, token.column + 1)
    )


def braces(text: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, brace) for every `{` and `}` outside strings and comments."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        in_string = False
        for col, ch in enumerate(line, start=1):
            if ch == '"':
                in_string = not in_string
            elif in_string:
                continue
            elif ch == "#":
                break
            elif ch in "{}":
                yield line_no, col, ch


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    """Line and column of the innermost `{` never closed."""
    stack: list[tuple[int, int]] = []
    for line, col, brace in braces(text):
        if brace == "{":
            stack.append((line, col))
        elif stack:
            stack.pop()
    return stack[-1] if stack else None


def _first_word_hint(text: str, line: int) -> str | None:
    lines = text.split("\n")
    if not 0 < line <= len(lines):
        return None
    words = lines[line - 1].split()
    if not words or words[0] in STATEMENT_KEYWORDS:
        return None
    close = difflib.get_close_matches(words[0], STATEMENT_KEYWORDS, n=1, cutoff=0.75)
    return f"did you mean `{close[0]}`?" if close else None


def explain_syntax_error(error: UnexpectedInput, text: str, file: str, parser: Lark, diagnostics: Diagnostics) -> None:
    """Turn a Lark exception into one diagnostic."""
    if isinstance(error, UnexpectedCharacters):
        span = Span(file=file, line=error.line, col=error.column, end_line=error.line, end_col=error.column + 1)
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        if char == '"':
            diagnostics.error("this string is never closed", span, 'a string ends with `"` on the same line')
            return
        label = match_mistake(error, parser)
        if label is not None:
            message, hint, _ = COMMON_MISTAKES[label]
            diagnostics.error(message, span, hint)
            return
        shown = char if char.isprintable() else repr(char)[1:-1]
        diagnostics.error(
            f"unexpected character `{shown}`",
            span,
            f"expected {describe_expected(set(error.allowed or ()), parser)}" if error.allowed else None,
        )
        return

    token = error.token if isinstance(error, UnexpectedToken) else None
    expected: set[str] = set(getattr(error, "expected", None) or ())
    if isinstance(error, UnexpectedToken):
        expected = set(error.accepts or error.expected)
    at_end = isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END")
    if at_end:
        brace = _unclosed_brace(text)
        if brace is not None:
            line, col = brace
            span = Span(file=file, line=line, col=col, end_line=line, end_col=col + 1)
            diagnostics.error("this `{` is never closed", span, "add a `}` where the block ends")
            return
    span = _token_span(file, token, text) if token is not None else _token_span(file, None, text)
    if token is not None and token.type == "RBRACE" and "RBRACE" not in expected and _unclosed_brace(text) is None:
        diagnostics.error("this `}` closes no block", span, "remove it, or add the `{` it belongs to")
        return
    keyword_hint = _first_word_hint(text, span.line)
    if keyword_hint:
        # `thme hero = ...`: the real mistake is the first word, not where parsing stopped.
        line_text = text.split("\n")[span.line - 1]
        word = line_text.split()[0]
        col = line_text.index(word) + 1
        word_span = Span(file=file, line=span.line, col=col, end_line=span.line, end_col=col + len(word))
        diagnostics.error(f"unknown keyword `{word}`", word_span, keyword_hint)
        return
    label = match_mistake(error, parser)
    if label is not None:
        message, hint, _ = COMMON_MISTAKES[label]
        diagnostics.error(message, span, hint)
        return
    if at_end:
        message = "the file ends in the middle of a statement"
    elif token is not None and token.type == "_NL":
        message = "this line ends too soon"
    else:
        message = f"unexpected `{token}`" if token is not None else "unexpected input"
    hint = f"expected {describe_expected(expected, parser)}" if expected else None
    diagnostics.error(message, span, hint)


def _signature(error: UnexpectedInput) -> tuple[int | None, str]:
    """The LALR state a mistake leaves the parser in, and what it stumbled on.

    Unlike Lark's own `match_examples`, the nesting depth does not count, so a
    mistake is recognised inside blocks and after other statements too.
    """
    state = getattr(error, "state", None)
    position = getattr(state, "position", None)
    if isinstance(error, UnexpectedToken):
        return position, error.token.type
    return position, "<char>"


_KNOWN: dict[tuple[int | None, str], str] | None = None


def match_mistake(error: UnexpectedInput, parser: Lark) -> str | None:
    global _KNOWN
    if _KNOWN is None:
        _KNOWN = {}
        for label, (_, _, examples) in COMMON_MISTAKES.items():
            for example in examples:
                try:
                    parser.parse(example)
                except UnexpectedInput as known:
                    _KNOWN.setdefault(_signature(known), label)
    return _KNOWN.get(_signature(error))
