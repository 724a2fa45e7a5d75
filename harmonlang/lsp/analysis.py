"""One diagnostic round: compile a buffer's text and place what the compiler said.

Runs on the server's one worker thread (all of the compiler's work does, one job at a time). The
cyclic garbage collector is held off during a compile: a compile leaves tens of thousands of new
containers alive, enough to set off full collections that walk the whole heap for nothing; the
server collects when it is idle instead (see `harmonlang.lsp.server`).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from harmonlang import nodes as n
from harmonlang.compiler import CompileFailure, CompileResult, compile_file
from harmonlang.diagnostics import Diagnostic, SourceCache
from harmonlang.lsp.locations import label_path
from harmonlang.lsp.publish import Compiled, OpenText, Placer, internal_error
from harmonlang.lsp.syntax import parse_quietly
from harmonlang.memory import paused_gc


@dataclass
class Analysis:
    """A compile of one version of a document, and its diagnostics placed by document URI."""

    uri: str
    generation: int  # the server's count of the document's changes when the text was taken
    version: int | None  # the client's version of the text
    compiled: Compiled
    result: CompileResult | None  # None when the compile failed
    diagnostics: list[Diagnostic]
    placed: dict[str, list[types.Diagnostic]] = field(default_factory=dict)
    seconds: float = 0.0
    crash: str | None = None  # a traceback, when the compiler itself failed

    @property
    def module(self) -> n.Module | None:
        return self.compiled.module


def compile_text(path: Path, text: str) -> tuple[CompileResult | None, list[Diagnostic], SourceCache, str | None]:
    """The compile, its diagnostics and sources; a crash of the compiler is caught and returned as a traceback."""
    try:
        result = compile_file(str(path), text=text, library_ok=True)
        return result, result.diagnostics, result.program.sources, None
    except CompileFailure as failure:
        return None, failure.diagnostics, failure.sources, None
    except Exception:  # a bug in the compiler (or a RecursionError on absurd input) must never stop the server
        return None, [], SourceCache(), traceback.format_exc()


def analyse(
    uri: str,
    path: Path,
    text: str,
    generation: int,
    version: int | None,
    codec: PositionCodec,
    open_text: OpenText,
    related: bool,
) -> Analysis:
    started = time.perf_counter()
    with paused_gc():
        result, diagnostics, sources, crash = compile_text(path, text)
        label = str(path)
        compiled = Compiled(label, path, text, sources, result.program.entry.module if result else None)
        if result is not None:
            for loaded in result.program.user_modules:
                if loaded.path is not None:
                    compiled.files[loaded.label] = loaded.path
                if loaded.label != label:
                    compiled.modules[loaded.label] = loaded.module
        else:
            # The files a failed compile read count as a good one's do: a change to one compiles this file again.
            for read in sources.texts:
                found = path if read == label else None if read.startswith("<") else label_path(read)
                if found is not None:
                    compiled.files[read] = found
            if any(d.span is not None and d.span.file != label for d in diagnostics):
                compiled.module = parse_quietly(text, label)  # to find the import that leads to them
        analysis = Analysis(uri, generation, version, compiled, result, diagnostics, crash=crash)
        analysis.placed = Placer(compiled, uri, codec, open_text, related).place(diagnostics)
        if crash is not None:
            analysis.placed[uri].append(internal_error(crash.strip().splitlines()[-1]))
    analysis.seconds = time.perf_counter() - started
    return analysis
