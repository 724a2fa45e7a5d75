"""Diagnostics: positions, messages, hints, and the single `fail()` chokepoint.

Every stage reports problems through a `Diagnostics` collector so a run can
show several errors at once; `fail()` raises when a stage cannot go on.
Rendering follows the `file:line:col: error: message` convention with the
source line, a caret underline and an optional hint.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning", "note"]


class Span(BaseModel):
    """A region of a source file: 1-based lines and columns, end exclusive."""

    model_config = ConfigDict(defer_build=True)
    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def at(self, offset: int, length: int = 1) -> Span:
        """A sub-span `offset` characters into a single-line span."""
        col = self.col + offset
        return Span.model_construct(file=self.file, line=self.line, col=col, end_line=self.line, end_col=col + length)

    def label(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Diagnostic:
    severity: Severity
    message: str
    span: Span | None
    hint: str | None = None
    notes: list[tuple[str, Span | None]] = field(default_factory=list)


class CompileError(Exception):
    """Raised by `fail()`; carries every diagnostic gathered so far."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


class Diagnostics:
    """Collects diagnostics for one compilation."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def error(self, message: str, span: Span | None, hint: str | None = None) -> Diagnostic:
        diagnostic = Diagnostic("error", message, span, hint)
        self.items.append(diagnostic)
        return diagnostic

    def warning(self, message: str, span: Span | None, hint: str | None = None) -> Diagnostic:
        diagnostic = Diagnostic("warning", message, span, hint)
        self.items.append(diagnostic)
        return diagnostic

    def fail(self, message: str, span: Span | None, hint: str | None = None) -> CompileError:
        """Record an error and return the exception that stops the stage."""
        self.error(message, span, hint)
        return CompileError(self.items)

    def stop_if_errors(self) -> None:
        if self.has_errors:
            raise CompileError(self.items)


def in_source_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, files in the order they first appear; unplaced ones first."""
    files: dict[str, int] = {}
    for diagnostic in diagnostics:
        if diagnostic.span is not None:
            files.setdefault(diagnostic.span.file, len(files))

    def position(diagnostic: Diagnostic) -> tuple[int, int, int]:
        span = diagnostic.span
        return (-1, 0, 0) if span is None else (files[span.file], span.line, span.col)

    return sorted(diagnostics, key=position)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest known word, if any is close enough."""
    pool = list(choices)
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f"did you mean `{close[0]}`?" if close else None


def one_of(choices: Iterable[str], limit: int = 12) -> str:
    names = sorted(set(choices))
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# ---- rendering ---------------------------------------------------------------

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "note": "\033[1;36m"}
_BOLD, _BLUE, _RESET = "\033[1m", "\033[1;34m", "\033[0m"


class SourceCache:
    """Source text by file label, so diagnostics can quote lines."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def add(self, label: str, text: str) -> None:
        self.texts[label] = text

    def line(self, label: str, number: int) -> str | None:
        text = self.texts.get(label)
        if text is None:
            return None
        lines = text.split("\n")
        return lines[number - 1] if 0 < number <= len(lines) else ""


def render(diagnostic: Diagnostic, sources: SourceCache, colour: bool = False) -> str:
    paint = (lambda code, s: f"{code}{s}{_RESET}") if colour else (lambda code, s: s)
    span = diagnostic.span
    where = f"{span.label()}: " if span else ""
    head = paint(_BOLD, where) + paint(_COLOURS[diagnostic.severity], f"{diagnostic.severity}:")
    message = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in diagnostic.message)
    out = [f"{head} {paint(_BOLD, message)}"]
    if span is not None:
        out += _quote(span, sources, paint)
    for text, note_span in diagnostic.notes:
        label = f"{note_span.label()}: " if note_span else ""
        out.append(f"{paint(_COLOURS['note'], 'note:')} {label}{text}")
        if note_span is not None:
            out += _quote(note_span, sources, paint)
    if diagnostic.hint:
        gutter = " " * (len(str(span.line)) if span else 1)
        out.append(f"{gutter} {paint(_BLUE, '=')} hint: {diagnostic.hint}")
    return "\n".join(out)


QUOTE_WIDTH = 160


def _quote(span: Span, sources: SourceCache, paint: Callable[[str, str], str]) -> list[str]:
    line = sources.line(span.file, span.line)
    if line is None:
        return []
    # One visible character per source character keeps the caret aligned.
    line = "".join(ch if ch.isprintable() or ch == "\t" else "\ufffd" for ch in line)
    number = str(span.line)
    gutter = " " * len(number)
    start = max(span.col - 1, 0)
    end = span.end_col - 1 if span.end_line == span.line else len(line)
    if len(line) > QUOTE_WIDTH:
        # Show a window of a very long line around the span, marked with ellipses.
        left = max(0, min(start - QUOTE_WIDTH // 3, len(line) - QUOTE_WIDTH))
        shown = line[left : left + QUOTE_WIDTH]
        line = ("…" if left else "") + shown + ("…" if left + QUOTE_WIDTH < len(line) else "")
        offset = left - (1 if left else 0)
        start, end = start - offset, min(end - offset, len(line))
    width = max(end - start, 1)
    # Tabs keep their width under the caret by being copied, not replaced.
    pad = "".join("\t" if ch == "\t" else " " for ch in line[:start])
    return [
        f"{paint(_BLUE, gutter + ' |')}",
        f"{paint(_BLUE, number + ' |')} {line}",
        f"{paint(_BLUE, gutter + ' |')} {pad}{paint(_COLOURS['error'], '^' * width)}",
    ]


def render_all(diagnostics: list[Diagnostic], sources: SourceCache, colour: bool | None = None) -> str:
    if colour is None:
        colour = False
    blocks = [render(d, sources, colour) for d in diagnostics]
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    summary = []
    if errors:
        summary.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        summary.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    tail = [", ".join(summary) + " generated"] if summary else []
    return "\n\n".join(blocks) + ("\n\n" if blocks else "") + "\n".join(tail)


def wants_colour(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())
