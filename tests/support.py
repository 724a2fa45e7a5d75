"""Helpers shared by the runtime tests: the example songs, and notes read back from written files."""

from __future__ import annotations

import difflib
import os
import re
import shutil
from collections import defaultdict, deque
from pathlib import Path

import mido
import pytest

from harmonlang.ir import Score
from harmonlang.runtime.timeline import part_notes, playable

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The songs among the examples (a file without a `song` header is a library module, such as studio.circle).
SONG_NAMES = sorted(
    p.stem for p in EXAMPLES.glob("*.circle") if re.search(r"^song\s", p.read_text(encoding="utf-8"), re.M)
)

# A short song whose meter changes twice: 4/4, one scene of 3/4, then 7/8 from act III on.
METERS_SONG = (
    'song "Meters" { key A minor; tempo 120; sequences 1; scenes 2 }\n'
    "scene I.you.1b { meter 3/4 }\n"
    "act III { meter 7/8 }\n"
    'theme hero = "a4/8 c5/8 e5/4"\n'
    "part lead : protagonist plays hero\n"
)

Played = tuple[int, int, int, int, int]  # tick, duration, pitch, velocity, channel (1-16)


def require_tool(name: str) -> str:
    """The path of an external tool; skips without it, but fails under CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must provide it)")
        pytest.skip(message)
    return path


def score_notes(score: Score, index: int) -> list[Played]:
    """What part `index` plays, read straight off the score's cells, as every writer must reproduce it.

    The examples never strike a sounding key again on its channel, so no note needs cutting (checked here:
    the writers' own `playable` must leave these notes as they are).
    """
    part = score.parts[index]
    notes = sorted(
        (tick, dur, pitch, vel, cell.channel or part.channel)
        for scene in score.scenes
        for phrase in scene.phrases
        for cell in [phrase.cells[index]]
        for tick, dur, pitch, vel in cell.events
    )
    cut = sorted((n.tick, n.dur, n.pitch, n.velocity, n.channel) for n in playable(part_notes(score, index)))
    assert cut == notes, f"{part.name} strikes a sounding key again; compare with `playable` instead"
    return notes


def track_notes(track: mido.MidiTrack) -> list[Played]:
    """A MIDI track's notes, each Note On paired with the next Note Off of its channel and key."""
    waiting: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
    found: list[Played] = []
    tick = 0
    for message in track:
        tick += message.time
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            waiting[key].append((tick, message.velocity))
        else:
            start, velocity = waiting[key].popleft()
            found.append((start, tick - start, message.note, velocity, message.channel + 1))
    assert not any(waiting.values()), f"hanging notes in {track.name!r}"
    return sorted(found)


def compare_golden(path: Path, actual: str, update: bool) -> None:
    """`actual` against the golden file at `path`; with --update-goldens, rewrite it instead."""
    if update:
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"{path.parent.name}/{path.name} is missing: run pytest --update-goldens and review it", pytrace=False
        )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"{path.name} (expected)",
            f"{path.name} (actual)",
        )
        shown = "".join(list(diff)[:200])
        message = f"{path.parent.name}/{path.name} differs (run pytest --update-goldens to accept):\n{shown}"
        pytest.fail(message, pytrace=False)
