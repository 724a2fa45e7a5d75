"""Golden event dumps of the examples: `harmonc build --emit events` for every song in examples/.

The dump is the written MIDI read back (see runtime/events.py), so any change to what a song
plays, to the agents' choices or to the MIDI writer shows here as a reviewable diff.
`pytest --update-goldens` rewrites them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import EXAMPLES, SONG_NAMES, compare_golden

from harmonlang.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden_examples"


@pytest.mark.parametrize("name", SONG_NAMES)
def test_example_events(name: str, tmp_path: Path, update_goldens: bool) -> None:
    assert main(["build", str(EXAMPLES / f"{name}.circle"), "-o", str(tmp_path), "--emit", "events", "-q"]) == 0
    GOLDEN.mkdir(exist_ok=True)
    compare_golden(
        GOLDEN / f"{name}.events.txt", (tmp_path / f"{name}.events.txt").read_text(encoding="utf-8"), update_goldens
    )


def test_every_golden_has_its_example() -> None:
    assert sorted(p.name.removesuffix(".events.txt") for p in GOLDEN.glob("*.events.txt")) == SONG_NAMES
