"""The formatter: one canonical layout for a `.circle` file, comments kept.

It works on the file's tokens, not its AST, so comments, blank lines and the
writer's choice of one-line blocks survive. It changes whitespace only, at
places where the grammar's tokens already end (between words, strings,
braces, parentheses and `;`), so a formatted file parses to the same tree:

- two spaces of indentation per block; one statement per line (`;` splits
  statements onto lines), one space between words, none inside parentheses;
- a block opens on its statement's line and closes on a line of its own,
  unless it was written on one line and fits in `LINE_WIDTH`: then it stays
  `{ a; b }`;
- at most one blank line between statements, none at a block's edges;
- a comment on its own line takes the indentation of what follows; a trailing
  comment sits two spaces after its line;
- a continued statement (a line starting with `|` or `"`) keeps its line
  breaks, each continuation indented two levels;
- the file ends with exactly one newline.

`format_source` checks the text parses first, and raises CompileError
(with the syntax error, positioned) when it does not: a broken file is never
rewritten.
"""

from __future__ import annotations

import difflib
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harmonlang.parser import parse_source

INDENT = "  "
CONTINUATION = INDENT * 2
LINE_WIDTH = 120  # as the project's Python: the stdlib's one-line role blocks fit

# Whitespace, comments, strings, the brackets and `;`, and words: maximal runs of anything else. `#` starts a
# comment only where a token may start (after whitespace, a bracket or `;`), as in the grammar.
_TOKEN = re.compile(
    r"""
    (?P<newline>\r?\n)
  | (?P<space>[\t \f]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"[^"\n]*"?)
  | (?P<punct>[{}();])
  | (?P<word>[^\s"{}();]+)
    """,
    re.VERBOSE,
)


# `=`, `|` and `:` are tokens of their own wherever they stand in a word (`b="x"`, `keys:chords`, `}|thin`),
# so they are spaced like any other; but not the colon of a ratio (`3:4`), which is one token.
_OPERATOR = re.compile(r"([=|])")
_RATIO = re.compile(r"[0-9]+:[0-9]+")


def _split_word(word: str) -> list[str]:
    """A run of non-space characters as the grammar's tokens would split it at `=`, `|` and `:`."""
    words: list[str] = []
    for piece in _OPERATOR.split(word):
        while piece:
            ratio = _RATIO.match(piece)
            colon = piece.find(":", ratio.end() if ratio else 0)
            if colon < 0:
                words.append(piece)
                break
            words += [piece[:colon], ":"] if colon else [":"]
            piece = piece[colon + 1 :]
    return [word for word in words if word]


@dataclass
class _Token:
    kind: str  # newline, comment, string, punct or word
    text: str
    line: int


@dataclass
class _Block:
    items: list[_Statement | _Comment | None] = field(default_factory=list)  # None: a blank line
    one_line: bool = False  # written as `{ ... }` on one line
    opening_comment: str | None = None  # a comment after `{` on its line


@dataclass
class _Comment:
    text: str


@dataclass
class _Statement:
    # Words, strings and brackets as `_Token`s, nested blocks, "\n" where a continuation line starts, and
    # `_Comment`s that end a continued line.
    parts: list[_Token | _Block | _Comment | str] = field(default_factory=list)
    trailing: str | None = None


def _tokens(text: str) -> list[_Token]:
    tokens, line = [], 1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "word"
        if kind == "newline":
            tokens.append(_Token("newline", "\n", line))
            line += 1
        elif kind == "word":
            tokens += [_Token("word", word, line) for word in _split_word(match.group())]
        elif kind != "space":
            tokens.append(_Token(kind, match.group().rstrip() if kind == "comment" else match.group(), line))
    return tokens


def _continues(tokens: list[_Token], index: int) -> bool:
    """Whether the newline at `index` is followed (past blank lines) by `|` or `"`: the statement goes on."""
    for token in tokens[index + 1 :]:
        if token.kind != "newline":
            return token.kind == "string" or (token.kind == "word" and token.text.startswith("|"))
    return False


class _Reader:
    """Tokens into blocks of statements, comments and blank lines."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.index = tokens, 0

    def block(self, opened_on: int | None) -> _Block:
        block = _Block()
        current: _Statement | None = None
        ended: _Statement | None = None  # the statement a `;` ended on this line
        newlines = 0
        while self.index < len(self.tokens):
            token = self.tokens[self.index]
            self.index += 1
            if token.kind == "newline":
                if current is not None and _continues(self.tokens, self.index - 1):
                    if current.parts[-1] != "\n":  # blank lines inside a statement go
                        current.parts.append("\n")
                    continue
                current = ended = None
                newlines += 1
                continue
            if newlines >= 2 and block.items:
                block.items.append(None)
            newlines = 0
            if token.kind == "punct" and token.text == "}":
                if opened_on is not None:
                    block.one_line = token.line == opened_on
                return block
            if token.kind == "punct" and token.text == ";":
                current, ended = None, current  # a comment later on this line still belongs to it
            elif token.kind == "comment":
                if current is None and ended is not None and ended.trailing is None:
                    ended.trailing = token.text
                elif current is not None:
                    if self.index < len(self.tokens) and _continues(self.tokens, self.index):
                        current.parts.append(_Comment(token.text))
                    else:
                        current.trailing = token.text
                elif opened_on is not None and not block.items and token.line == opened_on:
                    block.opening_comment = token.text
                else:
                    block.items.append(_Comment(token.text))
            else:
                if current is None:
                    current = _Statement()
                    block.items.append(current)
                if token.kind == "punct" and token.text == "{":
                    current.parts.append(self.block(token.line))
                else:
                    current.parts.append(token)
        return block


def _inline(block: _Block) -> str | None:
    """`{ a; b }`, when the block was written on one line and holds nothing that needs lines."""
    if not block.one_line or block.opening_comment is not None:
        return None
    statements = []
    for item in block.items:
        if not isinstance(item, _Statement) or item.trailing is not None:
            return None
        text = _statement_line(item)
        if text is None:
            return None
        statements.append(text)
    return "{ " + "; ".join(statements) + " }" if statements else "{ }"


def _statement_line(statement: _Statement) -> str | None:
    """The statement on one line, or None when it has continuation lines or blocks that need lines."""
    out: list[str] = []
    for part in statement.parts:
        if isinstance(part, _Block):
            text = _inline(part)
            if text is None:
                return None
            out.append(text)
        elif isinstance(part, _Token):
            out.append(part.text)
        else:
            return None
    return _join(out)


def _join(words: list[str]) -> str:
    line = ""
    for word in words:
        if line and not line.endswith("(") and word != ")":
            line += " "
        line += word
    return line


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def block(self, block: _Block, depth: int) -> None:
        items = list(block.items)
        while items and items[-1] is None:
            items.pop()
        run: list[tuple[int, _Statement]] = []  # one-line statements in a row, as (line index, statement)
        for item in items:
            if not isinstance(item, _Statement):
                _align(self.lines, run, INDENT * depth)
                run = []
            if item is None:
                if self.lines and self.lines[-1] != "":
                    self.lines.append("")
            elif isinstance(item, _Comment):
                self.lines.append(INDENT * depth + item.text)
            else:
                before = len(self.lines)
                self.statement(item, depth)
                head = _head(item)
                if len(self.lines) == before + 1 and head is not None:
                    if run and _shape(head) != _shape(_head(run[0][1]) or []):  # a table holds one kind of line
                        _align(self.lines, run, INDENT * depth)
                        run = []
                    run.append((before, item))
                else:
                    _align(self.lines, run, INDENT * depth)
                    run = []
        _align(self.lines, run, INDENT * depth)

    def statement(self, statement: _Statement, depth: int) -> None:
        indent = INDENT * depth
        line = indent
        words: list[str] = []

        def flush() -> str:
            text = _join(words)
            words.clear()
            return text

        hanging: int | None = None  # the column of the first line's first string
        for index, part in enumerate(statement.parts):
            if isinstance(part, _Token):
                words.append(part.text)
            elif isinstance(part, _Comment):
                line = _glue(line, flush()) + "  " + part.text
            elif isinstance(part, str):  # a continuation line
                self.lines.append(_glue(line, flush()).rstrip())
                hanging = hanging if hanging is not None else self.lines[-1].find('"', len(indent))
                following = statement.parts[index + 1 :]
                starts_string = bool(following) and isinstance(following[0], _Token) and following[0].kind == "string"
                # A string that goes on lines up under the first; anything else hangs two levels in.
                line = " " * hanging if starts_string and hanging >= 0 else indent + CONTINUATION
            else:
                text = _inline(part)
                width = len(_glue(line, _join([*words, text]))) if text is not None else 0
                if text is not None and width <= LINE_WIDTH:
                    words.append(text)
                    continue
                opening = _glue(line, _join([*words, "{"]))
                words.clear()
                if part.opening_comment is not None:
                    opening += "  " + part.opening_comment
                self.lines.append(opening)
                self.block(part, depth + 1)
                line = indent + "}"
        line = _glue(line, flush())
        if statement.trailing is not None:
            line += "  " + statement.trailing
        self.lines.append(line.rstrip())


def _head(statement: _Statement) -> list[str] | None:
    """The first three parts of a statement that starts with two plain tokens (a block shown as `{`)."""
    first = statement.parts[:3]
    if len(first) < 2 or not all(isinstance(part, _Token) and part.text not in "()" for part in first[:2]):
        return None
    words = [part.text if isinstance(part, _Token) else "{" for part in first]
    return words if all(isinstance(part, (_Token, _Block)) for part in first) else None


def _shape(head: list[str]) -> str:
    """What kind of line a table row is: naming something (`=`, `:`, `{` third) or a setting's values."""
    return head[2] if len(head) == 3 and head[2] in ("=", ":", "{") else "values"


def _align(lines: list[str], run: list[tuple[int, _Statement]], indent: str) -> None:
    """Line up a run of one-line statements as a table: the values after the first words (a groove's drum
    steps, a header's settings) and, where every line names something (`theme x =`, `part x :`, `role x {`),
    what follows the names."""
    if len(run) < 2:
        return
    heads = [_head(statement) or [] for _, statement in run]
    first = max(len(head[0]) for head in heads)
    named = all(len(head) == 3 and head[2] in ("=", ":", "{") for head in heads)
    second = max(len(head[1]) for head in heads) if named else 0
    for (index, _), head in zip(run, heads, strict=True):
        rest = lines[index][len(indent) + len(head[0]) + 1 :]
        if named:
            rest = head[1].ljust(second) + rest[len(head[1]) :]
        lines[index] = indent + head[0].ljust(first) + " " + rest


def _glue(line: str, text: str) -> str:
    """`text` after what is on the line already (its indentation, or a closing brace)."""
    if not text:
        return line
    if not line.strip() or line.endswith("("):
        return line + text
    return line + ("" if text.startswith(")") else " ") + text


def format_source(text: str, file: str = "<text>") -> str:
    """The text in the canonical layout. Raises harmonlang.diagnostics.CompileError on a syntax error."""
    if text.startswith("\ufeff"):
        text = text[1:]
    parse_source(text, file)
    writer = _Writer()
    writer.block(_Reader(_tokens(text)).block(None), 0)
    lines = writer.lines
    while lines and lines[0] == "":
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else ""


def run_fmt(files: list[str], check: bool = False, diff: bool = False) -> int:
    """`harmonc fmt`: format in place (or `--check`, `--diff`); 1 when a file has errors or, checking, would
    change; 0 otherwise."""
    from harmonlang.cli import _report
    from harmonlang.diagnostics import CompileError, SourceCache
    from harmonlang.output import write_atomic

    status = 0
    for name in files:
        label = "<stdin>" if name == "-" else name
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            print(f"harmonc: error: cannot read {name}: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
            status = 1
            continue
        try:
            formatted = format_source(text, label)
            if "\r\n" in text:  # a file with Windows line ends keeps them
                formatted = formatted.replace("\n", "\r\n")
        except CompileError as error:
            sources = SourceCache()
            sources.texts[label] = text
            _report(error.diagnostics, sources)
            print(f"harmonc: {label} has errors; left as it is", file=sys.stderr)
            status = 1
            continue
        if name == "-" and not (check or diff):
            sys.stdout.write(formatted)
            continue
        if formatted == text:
            continue
        if diff:
            before, after = text.splitlines(keepends=True), formatted.splitlines(keepends=True)
            for line in difflib.unified_diff(before, after, label, f"{label} (formatted)"):
                sys.stdout.write(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        if check or diff:
            print(f"would reformat {label}", file=sys.stderr)
            status = 1 if check else status
            continue
        target = Path(name).resolve()  # through a symbolic link, to the file itself, keeping its permissions
        write_atomic(target, formatted, stat.S_IMODE(target.stat().st_mode))
        print(f"reformatted {label}", file=sys.stderr)
    return status
