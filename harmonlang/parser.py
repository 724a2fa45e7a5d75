"""Stage 1, parse: source text to an AST (`parse_source`, `parse_file`).

The grammar is `grammar/harmon.lark`, shipped inside the package and loaded
with Lark's LALR parser (cached between runs to keep start-up quick).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from harmonlang import nodes as n
from harmonlang.diagnostics import CompileError, Diagnostics, Span
from harmonlang.lexer import SharedScannerLexer
from harmonlang.syntax_errors import braces, explain_syntax_error


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("harmonlang.grammar").joinpath("harmon.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def grammar_digest() -> str:
    return hashlib.sha256(grammar_text().encode()).hexdigest()


@lru_cache(maxsize=1)
def grammar_parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        cache=True,
        _plugins={"ContextualLexer": SharedScannerLexer},
    )


_NUMBER = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(%|dB|db|st|bpm|x)?$")


def _span_of(file: str, item: Any) -> Span:
    """Span of a Token or of a Tree's meta."""
    return Span.model_construct(
        file=file,
        line=item.line,
        col=item.column,
        end_line=item.end_line,
        end_col=item.end_column,
    )


def _section_builder(kind: str) -> Callable[..., n.Section]:
    @v_args(meta=True)
    def build(self: _Builder, meta: Any, children: list[Any]) -> n.Section:
        return self._section(kind, meta, children)

    return build


class _Builder(Transformer):  # type: ignore[type-arg]
    """Turns Lark's parse tree into `harmonlang.nodes`."""

    def __init__(self, file: str) -> None:
        super().__init__(visit_tokens=False)
        self.file = file

    def _span(self, item: Any) -> Span:
        return _span_of(self.file, item)

    def _name(self, token: Token) -> n.Name:
        return n.Name.model_construct(span=self._span(token), text=str(token))

    def _string(self, token: Token) -> n.StringLit:
        return n.StringLit.model_construct(span=self._span(token), text=str(token)[1:-1])

    def _value(self, item: Any) -> n.Value:
        if not isinstance(item, Token):
            return item  # already a Value
        span, text = self._span(item), str(item)
        kind_by_type = {"STRING": "string", "NAME": "name", "DOTTED": "dotted", "PITCHNAME": "pitch"}
        if item.type in kind_by_type:
            if item.type == "STRING":
                return n.Value.model_construct(span=span, kind="string", text=text[1:-1])
            return n.Value.model_construct(span=span, kind=kind_by_type[item.type], text=text)
        if item.type == "SCENE_LOCAL":
            return n.Value.model_construct(span=span, kind="scene", text=text)
        if item.type == "FRACTION":
            top, bottom = text.rstrip(".").split("/")
            return n.Value.model_construct(
                span=span, kind="fraction", text=text, number=float(top), second=float(bottom)
            )
        if item.type == "RATIO":
            left, right = text.split(":")
            return n.Value.model_construct(span=span, kind="ratio", text=text, number=float(left), second=float(right))
        if item.type == "RANGE":
            low, high = text.split("..")
            return n.Value.model_construct(span=span, kind="range", text=text, number=float(low), second=float(high))
        match = _NUMBER.match(text)
        assert match, text
        unit = match.group(2)
        return n.Value.model_construct(
            span=span,
            kind="number",
            text=text,
            number=float(match.group(1)),
            unit="dB" if unit == "db" else unit,
        )

    # ---- top level -------------------------------------------------------------
    @v_args(meta=True)
    def start(self, meta: Any, children: list[Any]) -> list[Any]:
        return [c for c in children if not isinstance(c, Token)]

    @v_args(meta=True)
    def block(self, meta: Any, children: list[Any]) -> n.Block:
        body = [c for c in children if not isinstance(c, Token)]
        return n.Block.model_construct(span=self._span(meta), body=body)

    @v_args(meta=True)
    def import_stmt(self, meta: Any, children: list[Any]) -> n.Import:
        (token,) = children
        if token.type == "STRING":
            return n.Import.model_construct(span=self._span(meta), path=str(token)[1:-1], stdlib=False)
        return n.Import.model_construct(span=self._span(meta), path=str(token), stdlib=True)

    @v_args(meta=True)
    def song(self, meta: Any, children: list[Any]) -> n.Song:
        title = self._string(children[0]) if len(children) == 2 else None
        return n.Song.model_construct(span=self._span(meta), title=title, block=children[-1])

    # ---- material -----------------------------------------------------------------
    @v_args(meta=True)
    def material(self, meta: Any, children: list[Any]) -> n.Material:
        kind, name, expr = children
        return n.Material.model_construct(span=self._span(meta), kind=kind, name=self._name(name), expr=expr)

    def material_kind(self, children: list[Token]) -> str:
        return str(children[0])

    @v_args(meta=True)
    def expr(self, meta: Any, children: list[Any]) -> n.Expr:
        base, *transforms = children
        return n.Expr.model_construct(span=self._span(meta), base=base, transforms=transforms)

    @v_args(meta=True)
    def strings(self, meta: Any, children: list[Token]) -> n.Strings:
        return n.Strings.model_construct(span=self._span(meta), parts=[self._string(t) for t in children])

    @v_args(meta=True)
    def ref(self, meta: Any, children: list[Token]) -> n.Ref:
        return n.Ref.model_construct(span=self._span(meta), name=str(children[0]))

    @v_args(meta=True)
    def pipe_step(self, meta: Any, children: list[Any]) -> n.Transform:
        name, *args = children
        return n.Transform.model_construct(
            span=self._span(meta), name=self._name(name), args=[self._value(a) for a in args]
        )

    # ---- parts -------------------------------------------------------------------
    @v_args(meta=True)
    def part(self, meta: Any, children: list[Any]) -> n.Part:
        name, role, *rest = children
        fields: dict[str, Any] = {}
        for item in rest:
            key = {n.Expr: "plays", n.Target: "target", n.Block: "block"}[type(item)]
            fields[key] = item
        return n.Part.model_construct(span=self._span(meta), name=self._name(name), role=self._name(role), **fields)

    @v_args(meta=True)
    def plays(self, meta: Any, children: list[Any]) -> n.Expr:
        (item,) = children
        return item if isinstance(item, n.Expr) else n.Expr.model_construct(span=item.span, base=item)

    def target(self, children: list[Any]) -> n.Target:
        return children[0]

    @v_args(meta=True)
    def device_ref(self, meta: Any, children: list[Any]) -> n.Target:
        device, *options = children
        return n.Target.model_construct(
            span=self._span(meta), device=self._name(device), options=[self._value(o) for o in options]
        )

    # ---- the circle --------------------------------------------------------------
    def _section(self, kind: str, meta: Any, children: list[Any]) -> n.Section:
        address = self._name(children[0]) if len(children) == 2 else None
        return n.Section.model_construct(span=self._span(meta), kind=kind, address=address, block=children[-1])

    @v_args(meta=True)
    def phrase_group(self, meta: Any, children: list[Any]) -> n.Section:
        kind, block = children
        return n.Section.model_construct(span=self._span(meta), kind=kind, address=None, block=block)

    # `act I { ... }`, `step need { ... }` and so on: one builder each, from one template.
    act = _section_builder("act")
    step = _section_builder("step")
    sequence = _section_builder("sequence")
    scene = _section_builder("scene")
    phrase = _section_builder("phrase")

    def phrase_group_kind(self, children: list[Token]) -> str:
        return str(children[0])

    # ---- definitions and settings ---------------------------------------------------
    def def_kind(self, children: list[Token]) -> Token:
        return children[0]

    @v_args(meta=True)
    def definition(self, meta: Any, children: list[Any]) -> n.Definition:
        kind, *rest = children
        name = self._name(rest[0]) if len(rest) == 2 else None
        return n.Definition.model_construct(span=self._span(meta), kind=str(kind), name=name, block=rest[-1])

    @v_args(meta=True)
    def setting(self, meta: Any, children: list[Any]) -> n.Setting:
        name, *rest = children
        block = rest.pop() if rest and isinstance(rest[-1], n.Block) else None
        values = [self._value(v) for v in rest]
        return n.Setting.model_construct(span=self._span(meta), name=self._name(name), values=values, block=block)

    @v_args(meta=True)
    def kind_setting(self, meta: Any, children: list[Any]) -> n.Setting:
        kind, value = children
        return n.Setting.model_construct(span=self._span(meta), name=self._name(kind), values=[self._value(value)])

    @v_args(meta=True)
    def scene_length(self, meta: Any, children: list[Any]) -> n.Setting:
        # `scene 8 bars` in a header is the scene length.
        values = [self._value(v) for v in children]
        name = n.Name.model_construct(
            span=self._span(meta).model_copy(update={"end_col": meta.column + 5}), text="length"
        )
        return n.Setting.model_construct(span=self._span(meta), name=name, values=values)

    @v_args(meta=True)
    def part_override(self, meta: Any, children: list[Any]) -> n.PartOverride:
        part, *rest = children
        fields: dict[str, Any] = {}
        for item in rest:
            fields["plays" if isinstance(item, n.Expr) else "target"] = item
        return n.PartOverride.model_construct(span=self._span(meta), part=self._name(part), **fields)


MAX_SYNTAX_ERRORS = 10
MAX_DEPTH = 64  # far beyond any song, far below Python's recursion limit in the tree builder


def _too_deep(text: str) -> tuple[int, int] | None:
    """Where a `{` opens block number MAX_DEPTH + 1."""
    depth = 0
    for line, col, brace in braces(text):
        depth = depth + 1 if brace == "{" else max(depth - 1, 0)
        if depth > MAX_DEPTH:
            return line, col
    return None


def _error_line(error: UnexpectedInput) -> int | None:
    line = getattr(error, "line", None)
    if isinstance(error, UnexpectedToken) and error.token.type == "$END":
        return None
    return line if isinstance(line, int) and line > 0 else None


def _more_syntax_errors(text: str, file: str, first: UnexpectedInput, parser: Lark, diagnostics: Diagnostics) -> None:
    """Find later syntax errors by blanking each bad line and parsing again.

    Only a line whose braces balance is blanked, so the blocks around it stay
    intact and no error is an echo of an earlier one.
    """
    lines = text.split("\n")
    error: UnexpectedInput = first
    for _ in range(MAX_SYNTAX_ERRORS - 1):
        line = _error_line(error)
        if line is None or line > len(lines):
            return
        bad = lines[line - 1].split("#")[0]
        if bad.count("{") != bad.count("}") or bad.count('"') % 2:
            return
        lines[line - 1] = ""
        try:
            parser.parse("\n".join(lines))
            return
        except UnexpectedInput as later:
            later_line = _error_line(later)
            if later_line is None or later_line <= line:
                return
            explain_syntax_error(later, "\n".join(lines), file, parser, diagnostics)
            error = later


def parse_source(text: str, file: str, diagnostics: Diagnostics | None = None) -> n.Module:
    """Parse one file's text. Raises CompileError with a friendly syntax error."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    parser = grammar_parser()
    if text.startswith("\ufeff"):
        text = text[1:]
    too_deep = _too_deep(text)
    if too_deep is not None:
        line, col = too_deep
        span = Span(file=file, line=line, col=col, end_line=line, end_col=col + 1)
        hint = f"a song needs at most 6 levels (act, step, sequence, scene, phrase); {MAX_DEPTH} is the limit"
        diagnostics.error("blocks are nested too deeply here", span, hint)
        raise CompileError(diagnostics.items)
    try:
        tree = parser.parse(text)
    except UnexpectedInput as error:
        explain_syntax_error(error, text, file, parser, diagnostics)
        _more_syntax_errors(text, file, error, parser, diagnostics)
        raise CompileError(diagnostics.items) from None
    try:
        body = _Builder(file).transform(tree)
    except VisitError as error:  # a bug in the builder, never the user's fault
        raise error.orig_exc from None
    lines = text.split("\n")
    span = Span.model_construct(file=file, line=1, col=1, end_line=len(lines), end_col=len(lines[-1]) + 1)
    return n.Module.model_construct(path=file, span=span, body=body)


__all__ = ["parse_source", "grammar_parser", "UnexpectedCharacters", "UnexpectedToken"]
