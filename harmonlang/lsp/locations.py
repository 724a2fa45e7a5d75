"""Where things are: document URIs and paths, the compiler's file labels, and spans as LSP ranges.

The compiler names files by label: the entry file by the path it was given (the server passes an
absolute path), an imported file by `harmonlang.resolve.display_label` (relative to the working
directory when it lies below it), a stdlib file as `<stdlib>/FOLDER/NAME.circle`. Spans count
characters from 1; LSP ranges count lines from 0 and columns in the client's code units
(UTF-16 unless the client chose another encoding), so every conversion needs the line's text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec

from harmonlang.diagnostics import Span
from harmonlang.resolve import STDLIB_LABEL, stdlib_root

UNTITLED = "untitled.circle"  # the name a buffer without a file compiles under, in the working directory


def uri_path(uri: str) -> Path:
    """The file a document URI names; a buffer without one compiles as if it stood in the working directory."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if path:
        return Path(path)
    name = uri.rstrip("/").rsplit("/", 1)[-1] or UNTITLED
    return Path.cwd() / (name if name.endswith(".circle") else UNTITLED)


def path_uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def stdlib_file(relative: str) -> Path | None:
    """A stdlib module as a file on disk (`genres/house.circle`), when the package is installed as files."""
    resource = stdlib_root().joinpath(*relative.split("/"))
    try:
        path = Path(str(resource))
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


def label_path(label: str, known: dict[str, Path] | None = None) -> Path | None:
    """The file a diagnostic label names: as the compile loaded it, else read back as the label was made."""
    if known and label in known:
        return known[label]
    if label.startswith(STDLIB_LABEL + "/"):
        return stdlib_file(label[len(STDLIB_LABEL) + 1 :])
    if label.startswith("<"):
        return None
    return Path(os.path.abspath(label))


def same_file(a: Path, b: Path) -> bool:
    try:
        return a == b or a.resolve() == b.resolve()
    except OSError:
        return False


class Lines:
    """A text's lines, for turning character columns into the client's code units and back."""

    def __init__(self, text: str, codec: PositionCodec) -> None:
        self.lines: Sequence[str] = text.split("\n")
        self.codec = codec

    def line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def position(self, line: int, col: int) -> types.Position:
        """A 1-based line and character column as an LSP position."""
        index = max(line - 1, 0)
        if index >= len(self.lines):
            return types.Position(line=len(self.lines) - 1, character=self.codec.client_num_units(self.lines[-1]))
        text = self.lines[index]
        return types.Position(line=index, character=self.codec.client_num_units(text[: max(col - 1, 0)]))

    def range(self, span: Span | None) -> types.Range:
        if span is None:
            start = types.Position(line=0, character=0)
            return types.Range(start=start, end=start)
        start = self.position(span.line, span.col)
        end = self.position(span.end_line, span.end_col)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)

    def whole(self) -> types.Range:
        last = len(self.lines) - 1
        end = types.Position(line=last, character=self.codec.client_num_units(self.lines[last]))
        return types.Range(start=types.Position(line=0, character=0), end=end)

    def column(self, position: types.Position) -> tuple[int, int]:
        """An LSP position as a 1-based line and character column."""
        text = self.line(position.line)
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return position.line + 1, index + 1
            units += self.codec.client_num_units(char)
        return position.line + 1, len(text) + 1
