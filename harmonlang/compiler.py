"""The pipeline in one place: parse -> resolve -> check -> lower.

`compile_file` runs every stage and returns what each produced; each stage
also has its own public entry point (`parse_source`, `resolve`, `check`,
`lower`). Nothing here imports the heavy libraries of later stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmonlang.check import CheckedSong, check
from harmonlang.diagnostics import CompileError, Diagnostic, Diagnostics, SourceCache, in_source_order
from harmonlang.nodes import Module
from harmonlang.resolve import Program, resolve
from harmonlang.song_info import lower

if TYPE_CHECKING:
    from harmonlang.ir import Score
    from harmonlang.output import Blob


@dataclass
class CompileResult:
    program: Program
    checked: CheckedSong
    ir: dict[str, Any]  # the Score IR as JSON-ready data
    diagnostics: list[Diagnostic]
    _score: Score | None = field(default=None, repr=False)
    rendered: dict[str, bytes] = field(default_factory=dict, repr=False)  # outputs made once per result
    rendered_audio: dict[Path, Blob] = field(default_factory=dict, repr=False)  # the audio kinds' staged files
    rendered_stems: dict[str, Blob] | None = field(default=None, repr=False)  # for the Logic template
    stem: str = "song"  # the name outputs are written under
    seed: int | None = None  # the agents' seed, when not the song's own
    reseed: dict[str, int] = field(default_factory=dict)  # scene id -> reseed number (`--reseed`)
    _filled: dict[str, Any] | None = field(default=None, repr=False)
    _filled_score: Score | None = field(default=None, repr=False)

    @property
    def ast(self) -> Module:
        return self.program.entry.module

    @property
    def score(self) -> Score:
        """The IR validated into its pydantic models (built on first use: it costs a schema build)."""
        if self._score is None:
            from harmonlang.ir import Score

            self._score = Score.model_validate(self.ir)
        return self._score

    @property
    def filled(self) -> dict[str, Any]:
        """The score with every hole filled by the agents (stage 5), made once per result."""
        if self._filled is None:
            from harmonlang.agents import fill

            self._filled = fill(self.ir, seed=self.seed, reseed=self.reseed)
        return self._filled

    @property
    def was_filled(self) -> bool:
        return self._filled is not None

    @property
    def filled_score(self) -> Score:
        if self._filled_score is None:
            from harmonlang.ir import Score

            self._filled_score = Score.model_validate(self.filled)
        return self._filled_score

    def adopt_fill(self, filled: dict[str, Any], score: Score) -> None:
        """Take a fill made elsewhere (the incremental builder's, from its caches) as this result's own.

        The caller vouches that `filled` equals what `filled` would compute and `score` its validation.
        """
        self._filled, self._filled_score = filled, score


class CompileFailure(Exception):
    def __init__(self, diagnostics: list[Diagnostic], sources: SourceCache) -> None:
        super().__init__(f"{sum(d.severity == 'error' for d in diagnostics)} error(s)")
        self.diagnostics, self.sources = diagnostics, sources


def compile_file(
    path: str, text: str | None = None, library_ok: bool = False, genre: str | None = None
) -> CompileResult:
    """Compile one song to the Score IR. Raises CompileFailure with every diagnostic.

    With `library_ok`, a file without a song header (one meant to be imported) is
    checked too; its IR is the template's defaults around its parts. `genre`
    re-renders the song in another genre, keeping its themes and form.
    """
    diagnostics = Diagnostics()
    sources = SourceCache()
    try:
        program = resolve(path, diagnostics, text, sources)
        checked = check(program, diagnostics, library_ok, genre)
        ir = lower(checked, diagnostics)
    except CompileError:
        raise CompileFailure(in_source_order(diagnostics.items), sources) from None
    return CompileResult(program, checked, ir, in_source_order(diagnostics.items))
