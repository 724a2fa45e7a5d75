"""Compiler diagnostics as LSP diagnostics, each sent to the document it belongs to.

A diagnostic's message is what `harmonc check` prints: the message, then `hint: ...`. One in the
compiled file goes to that file's document. One in another file goes to that file's document when it
is open and holds the text the compile read; otherwise it is shown on the line of the compiled file
that leads there (the import, or the `genre`/`on` naming a stdlib file), prefixed with where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostic, SourceCache, Span
from harmonlang.lsp.locations import Lines, label_path, path_uri
from harmonlang.lsp.names import import_label, stdlib_import
from harmonlang.lsp.syntax import parse_quietly, targets, walk
from harmonlang.resolve import STDLIB_LABEL

SOURCE = "harmonc"
SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}


def message_of(diagnostic: Diagnostic) -> str:
    """As `harmonc check` renders it: unprintable characters escaped, the hint on a line of its own."""
    message = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in diagnostic.message)
    return message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")


@dataclass
class Compiled:
    """What one compile saw: the entry file (its label, path, text and syntax tree) and every file it read."""

    label: str
    path: Path
    text: str
    sources: SourceCache
    module: n.Module | None  # the entry's syntax tree, when it parsed
    modules: dict[str, n.Module] = field(default_factory=dict)  # other user files by label, when they parsed
    files: dict[str, Path] = field(default_factory=dict)  # label -> file, as the compile loaded them

    def module_of(self, label: str) -> n.Module | None:
        if label == self.label:
            return self.module
        if label not in self.modules and label in self.sources.texts and not label.startswith("<"):
            module = parse_quietly(self.sources.texts[label], label)
            if module is not None:
                self.modules[label] = module
        return self.modules.get(label)

    def path_of(self, label: str) -> Path | None:
        return self.path if label == self.label else label_path(label, self.files)


def _imports(compiled: Compiled, label: str) -> list[tuple[n.Import, str]]:
    """A file's imports, each with the label of the file it names."""
    module = compiled.module_of(label)
    importer = compiled.path_of(label)
    found: list[tuple[n.Import, str]] = []
    for statement in module.body if module is not None else []:
        if not isinstance(statement, n.Import):
            continue
        if statement.stdlib:
            target = stdlib_import(statement.path)
        elif importer is not None and statement.path.endswith(".circle"):
            try:
                target = import_label(importer, statement.path)
            except (OSError, ValueError):
                target = None
        else:
            target = None
        if target is not None:
            found.append((statement, target))
    return found


def anchor(compiled: Compiled, label: str) -> Span | None:
    """The place in the entry file that leads to the file `label`: an import (maybe through others), else a name."""
    for statement, target in _imports(compiled, compiled.label):
        seen, frontier = {compiled.label}, [target]
        while frontier:
            current = frontier.pop()
            if current == label:
                return statement.span
            if current in seen:
                continue
            seen.add(current)
            frontier += [each for _, each in _imports(compiled, current)]
    module = compiled.module
    if module is None or not label.startswith(STDLIB_LABEL + "/"):
        return None
    folder, _, name = label[len(STDLIB_LABEL) + 1 :].removesuffix(".circle").partition("/")
    if folder == "devices":
        for target in targets(module.body):
            if target.device.text.split(".")[0] == name:
                return target.device.span
    word = {"genres": "genre", "circle": "circle"}.get(folder)
    for statement in walk(module.body):
        if isinstance(statement, n.Setting) and statement.name.text == word and statement.values:
            if statement.values[0].text == name:
                return statement.values[0].span
    return None


OpenText = Callable[[Path], tuple[str, str] | None]  # a file -> (its open document's URI, the buffer's text)


class Placer:
    """Turns one compile's diagnostics into LSP diagnostics by document URI."""

    def __init__(self, compiled: Compiled, uri: str, codec: PositionCodec, open_text: OpenText, related: bool) -> None:
        self.compiled, self.uri, self.codec, self.open_text, self.related = compiled, uri, codec, open_text, related
        self.lines: dict[str, Lines] = {compiled.label: Lines(compiled.text, codec)}

    def lines_of(self, label: str) -> Lines:
        if label not in self.lines:
            self.lines[label] = Lines(self.compiled.sources.texts.get(label, ""), self.codec)
        return self.lines[label]

    def uri_of(self, label: str) -> str | None:
        if label == self.compiled.label:
            return self.uri
        path = self.compiled.path_of(label)
        return path_uri(path) if path is not None else None

    def open_uri(self, label: str) -> str | None:
        """The open document of a file other than the entry, if it holds the text this compile read."""
        path = self.compiled.path_of(label)
        if path is None or label == self.compiled.label:
            return None
        found = self.open_text(path)
        if found is None or found[1] != self.compiled.sources.texts.get(label):
            return None
        return found[0]

    def place(self, diagnostics: list[Diagnostic]) -> dict[str, list[types.Diagnostic]]:
        placed: dict[str, list[types.Diagnostic]] = {self.uri: []}
        for diagnostic in diagnostics:
            uri, converted = self.convert(diagnostic)
            placed.setdefault(uri, []).append(converted)
        return placed

    def convert(self, diagnostic: Diagnostic) -> tuple[str, types.Diagnostic]:
        span = diagnostic.span
        message = message_of(diagnostic)
        related: list[types.DiagnosticRelatedInformation] = []
        for text, note_span in diagnostic.notes:
            location = self.location(note_span) if note_span is not None else None
            if location is not None and self.related:
                related.append(types.DiagnosticRelatedInformation(location=location, message=text))
            else:
                message += f"\nnote: {note_span.label() + ': ' if note_span else ''}{text}"
        uri, where = self.uri, self.lines_of(self.compiled.label).range(None)
        if span is not None and span.file == self.compiled.label:
            where = self.lines_of(span.file).range(span)
        elif span is not None:
            open_uri = self.open_uri(span.file)
            if open_uri is not None:
                uri, where = open_uri, self.lines_of(span.file).range(span)
            else:
                place = anchor(self.compiled, span.file)
                where = self.lines_of(self.compiled.label).range(place)
                message = f"{span.label()}: {message}"
                location = self.location(span)
                if location is not None and self.related:
                    related.insert(0, types.DiagnosticRelatedInformation(location=location, message="here"))
        converted = types.Diagnostic(
            range=where,
            message=message,
            severity=SEVERITIES.get(diagnostic.severity, types.DiagnosticSeverity.Error),
            source=SOURCE,
            related_information=related or None,
        )
        return uri, converted

    def location(self, span: Span) -> types.Location | None:
        uri = self.uri_of(span.file)
        if uri is None:
            return None
        return types.Location(uri=uri, range=self.lines_of(span.file).range(span))


def internal_error(message: str) -> types.Diagnostic:
    start = types.Position(line=0, character=0)
    return types.Diagnostic(
        range=types.Range(start=start, end=start),
        message=f"harmonc failed on this file (a bug, not your mistake): {message}",
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


def merged(contributions: dict[str, list[types.Diagnostic]], own: str) -> list[types.Diagnostic]:
    """One document's diagnostics from every compile that reported on it (its own first), each once."""
    out: list[types.Diagnostic] = []
    seen: set[tuple[int, int, int, int, str, int | None]] = set()
    for _, diagnostics in sorted(contributions.items(), key=lambda item: (item[0] != own, item[0])):
        for each in diagnostics:
            start, end = each.range.start, each.range.end
            key = (start.line, start.character, end.line, end.character, each.message, each.severity)
            if key not in seen:
                seen.add(key)
                out.append(each)
    return out
