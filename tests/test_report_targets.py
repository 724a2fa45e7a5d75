"""The issue's acceptance figures: `examples/minimal.circle` filled in six genres meets its targets.

The report measures the filled music with music21's own key analysis, the
chord tones under the melody on strong beats, and the measured energy against
the story's arc. Nothing here is tuned to pass: the agents must earn it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonlang.compiler import compile_file
from harmonlang.report import build_report

MINIMAL = Path(__file__).resolve().parent.parent / "examples" / "minimal.circle"


@pytest.mark.parametrize("genre", ["pop", "jazz", "techno", "hip-hop", "classical", "ambient"])
def test_minimal_meets_the_targets_in(genre: str) -> None:
    result = compile_file(str(MINIMAL), genre=genre)
    report = build_report(result.filled)
    overall = report["overall"]
    assert overall["key_consistency"] >= 0.9, overall["key_consistency_by_step"]
    assert overall["chord_tone_ratio"] >= 0.75
    assert overall["energy_correlation"] >= 0.8
    assert all(report["passed"].values())
