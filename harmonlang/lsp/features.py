"""Hover, go to definition, document symbols and formatting, on one view of a document.

A `View` is the document's current text, its syntax tree when the text parses (else the last one that
did) and the last compile of it that succeeded: positions come from the tree, meaning (scenes, times,
devices, the genre's materials) from the compile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from harmonlang import nodes as n
from harmonlang.compiler import CompileResult
from harmonlang.diagnostics import CompileError, Span
from harmonlang.lsp.locations import Lines, label_path, path_uri, stdlib_file
from harmonlang.lsp.names import (
    DEVICE_WORDS,
    Defined,
    Word,
    definitions,
    device_markdown,
    genre_markdown,
    import_target,
    stdlib_definition,
    stdlib_import,
    word_at,
)
from harmonlang.lsp.outline import circle_symbols, describe_block, statement_symbols
from harmonlang.lsp.syntax import header_contains, place_sections
from harmonlang.resolve import STDLIB_LABEL, stdlib_names
from harmonlang.settings import SETTINGS


@dataclass
class View:
    uri: str
    path: Path
    text: str
    lines: Lines
    module: n.Module | None  # the tree of `text`, else of the last text that parsed
    result: CompileResult | None  # the last compile that succeeded
    root: Path | None = None  # the workspace's folder

    @property
    def label(self) -> str:
        return str(self.path)

    def defined(self) -> dict[str, Defined]:
        return definitions(self.module, self.label, self.text, self.result, self.path)

    def files(self) -> dict[str, Path]:
        if self.result is None:
            return {}
        return {m.label: m.path for m in self.result.program.user_modules if m.path is not None}

    def location(self, defined: Defined, span: Span | None = None) -> types.Location | None:
        span = span or defined.name_span
        if defined.label == self.label:
            return types.Location(uri=self.uri, range=self.lines.range(span))
        path = label_path(defined.label, self.files())
        if path is None:
            return None
        return types.Location(uri=path_uri(path), range=Lines(defined.text, self.lines.codec).range(span))

    def word(self, line: int, col: int) -> Word | None:
        return word_at(self.lines.line(line - 1), col)

    def shown_name(self, label: str) -> str:
        """A file as a hover names it: from the document's folder, else from the workspace's, else in full."""
        if label == self.label:
            return self.path.name
        path = None if label.startswith("<") else label_path(label, self.files())
        if path is None:
            return label
        for folder in (self.path.parent, self.root):
            if folder is not None and path.is_relative_to(folder):
                return path.relative_to(folder).as_posix()
        return str(path)


# ---- hover ---------------------------------------------------------------------------------


def hover(view: View, line: int, col: int) -> types.Hover | None:
    text = _block_hover(view, line, col)
    word = view.word(line, col)
    if text is None and word is not None:
        text = _word_hover(view, word)
    if text is None:
        return None
    where = None
    if word is not None and text is not None:
        where = view.lines.range(Span(file=view.label, line=line, col=word.col, end_line=line, end_col=word.end))
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=where)


def _block_hover(view: View, line: int, col: int) -> str | None:
    if view.module is None or view.result is None:
        return None
    structure = view.result.checked.structure
    placed = [p for p in place_sections(view.module, structure) if header_contains(p.section, line, col)]
    if not placed:
        return None
    innermost = max(placed, key=lambda p: (p.section.span.line, p.section.span.col))
    return describe_block(innermost, view.result.ir)


def _word_hover(view: View, word: Word) -> str | None:
    program = view.result.program if view.result else None
    if word.before == "genre":
        return _genre_hover(view, word.text)
    if word.before in DEVICE_WORDS:
        return _device_hover(view, word.text)
    defined = view.defined()
    found = defined.get(word.text)
    if found is not None:
        return _definition_hover(view, found)
    if word.head in stdlib_names("devices") or f"device:{word.head}" in defined:
        return device_markdown(word.text, program)
    if word.text in stdlib_names("genres") or f"genre:{word.text}" in defined:
        return _genre_hover(view, word.text)
    spec = SETTINGS.get(word.text)
    if spec is not None and word.before == "":
        return f"**{word.text}**: {spec.summary}\n\n```harmon\n{spec.example}\n```"
    return None


def _genre_hover(view: View, name: str) -> str | None:
    own = view.defined().get(f"genre:{name}")
    if own is not None:
        return _definition_hover(view, own)
    return genre_markdown(name)


def _device_hover(view: View, name: str) -> str | None:
    return device_markdown(name, view.result.program if view.result else None)


def _definition_hover(view: View, defined: Defined) -> str:
    text = f"{defined.kind} **{defined.name}** ({view.shown_name(defined.label)}:{defined.span.line})"
    text += f"\n\n```harmon\n{defined.source_lines()}\n```"
    part = view.result.checked.parts.get(defined.name) if view.result and defined.kind == "part" else None
    if part is not None and part.routing is not None:
        routing = part.routing
        text += f"\n\n{part.role} on {routing.device}.{routing.output}, channel {routing.channel}"
        if part.material_name:
            text += f", plays {part.material_name}"
    return text


# ---- go to definition ------------------------------------------------------------------------


def definition(view: View, line: int, col: int) -> list[types.Location]:
    source_line = view.lines.line(line - 1)
    imported = import_target(source_line)
    if imported is not None:
        return _import_definition(view, *imported)
    word = view.word(line, col)
    if word is None:
        return []
    defined = view.defined()
    if word.before == "genre" or (word.text not in defined and word.text in stdlib_names("genres")):
        return _kind_definition(view, "genre", word.text, defined)
    if word.before in DEVICE_WORDS or (word.text not in defined and word.head in stdlib_names("devices")):
        return _kind_definition(view, "device", word.head, defined)
    if word.before == "circle":
        return _kind_definition(view, "circle", word.text, defined)
    found = defined.get(word.text)
    location = view.location(found) if found is not None else None
    return [location] if location is not None else []


def _import_definition(view: View, path: str, stdlib: bool) -> list[types.Location]:
    start = types.Position(line=0, character=0)
    if stdlib:
        label = stdlib_import(path)
        file = stdlib_file(label[len(STDLIB_LABEL) + 1 :]) if label else None
    else:
        file = (view.path.parent / path).resolve() if path.endswith(".circle") else None
    if file is None or not file.is_file():
        return []
    return [types.Location(uri=path_uri(file), range=types.Range(start=start, end=start))]


def _kind_definition(view: View, kind: str, name: str, defined: dict[str, Defined]) -> list[types.Location]:
    found = defined.get(f"{kind}:{name}") or stdlib_definition(kind, name)
    location = view.location(found) if found is not None else None
    return [location] if location is not None else []


# ---- document symbols ------------------------------------------------------------------------


def symbols(view: View) -> list[types.DocumentSymbol]:
    if view.module is None:
        return []
    out, header = statement_symbols(view.module, view.lines)
    if view.result is not None:
        placed = place_sections(view.module, view.result.checked.structure)
        out += circle_symbols(view.result.ir, placed, view.lines, header)
    return out


# ---- formatting ----------------------------------------------------------------------------------


def formatting(view: View) -> list[types.TextEdit]:
    """One edit replacing the whole document with its canonical layout; none when it is already so or does not parse."""
    from harmonlang.fmt import format_source

    try:
        formatted = format_source(view.text, view.label)
    except CompileError:
        return []
    if formatted == view.text:
        return []
    return [types.TextEdit(range=view.lines.whole(), new_text=formatted)]
