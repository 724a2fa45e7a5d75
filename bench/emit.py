"""How long the runtime takes to write each output of a whole 48-scene song.

This prints numbers; it gates nothing (it exits 0 whether or not a target is met).

    python bench/emit.py                          # digital-dreams, 10 runs (3 for MusicXML)
    python bench/emit.py --song examples/rig.circle --runs 20

The song is compiled and filled once, untimed: what is timed is each writer on
the filled score, as `harmonc build --emit KIND` runs it (the MIDI writer reads
the validated score, then serializes the SMF; MusicXML builds music21 objects
and exports them; DAWproject writes the XML and zips it). The first MusicXML run
also pays for importing music21, which is shown apart.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SONG = REPO / "examples" / "digital-dreams.circle"
MIDI_TARGET_S = 0.2  # from the runtime issue; reported against, never adjusted


def timed(make: Callable[[], object], runs: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = make()
        times.append(time.perf_counter() - started)
    return times, result


def peak_mib(make: Callable[[], object]) -> float:
    tracemalloc.start()
    make()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--song", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--musicxml-runs", type=int, default=3)
    args = parser.parse_args()

    os.environ.setdefault("HARMONLANG_CACHE_DIR", "off")  # compile and fill afresh, as a first build does
    from harmonlang.compiler import compile_file

    result = compile_file(str(args.song))
    score = result.filled_score
    notes = sum(len(c.events) for s in score.scenes for p in s.phrases for c in p.cells)
    print(f"song: {args.song.name}: {len(score.scenes)} scenes, {len(score.parts)} parts, {notes} notes")
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")

    from harmonlang.ir import Score
    from harmonlang.runtime.dawproject import dawproject_bytes
    from harmonlang.runtime.events import dump_midi
    from harmonlang.runtime.logic import layout, template_midi
    from harmonlang.runtime.midi import midi_bytes

    filled = result.filled  # the JSON-ready score, as the fill stage hands it on
    gc.freeze()  # as `harmonc build` does once the song is filled (see command_build)

    def midi_from_filled() -> bytes:
        return midi_bytes(Score.model_validate(filled))

    rows: list[tuple[str, list[float], int, str]] = []

    def measure(label: str, make: Callable[[], object], runs: int, target: str = "") -> None:
        times, data = timed(make, runs)
        rows.append((label, times, len(data) if isinstance(data, bytes | str) else 0, target))

    # The writers that `--emit midi,events,dawproject` runs, before music21 is loaded: a build that asks for
    # none of music21's outputs never imports it.
    measure("MIDI (validate + write)", midi_from_filled, args.runs, f"target {MIDI_TARGET_S:.1f} s")
    measure("MIDI (write)", lambda: midi_bytes(score), args.runs)
    measure("events dump", lambda: dump_midi(data=midi_bytes(score)), args.runs)
    measure("DAWproject", lambda: dawproject_bytes(score), args.runs)
    measure("Logic template SMF", lambda: template_midi(score, layout(score)), args.runs)
    started = time.perf_counter()
    from harmonlang.runtime.musicxml import musicxml_bytes  # imports music21

    music21_import = time.perf_counter() - started
    measure("MusicXML", lambda: musicxml_bytes(score), args.musicxml_runs)

    print(f"\n{'output':<26} {'median':>9} {'min':>9} {'max':>9} {'size':>10}")
    for label, times, size, target in rows:
        median, fastest, slowest = statistics.median(times), min(times), max(times)
        line = f"{label:<26} {median:>8.3f}s {fastest:>8.3f}s {slowest:>8.3f}s {size / 1024:>8.0f}KB"
        if target:
            verdict = "met" if median <= MIDI_TARGET_S else "MISSED"
            line += f"  ({target}: {verdict})"
        print(line)
    print(f"{'import music21 (once)':<26} {music21_import:>8.3f}s")
    print(
        f"\npeak traced memory: MIDI {peak_mib(lambda: midi_bytes(score)):.0f} MiB, "
        f"DAWproject {peak_mib(lambda: dawproject_bytes(score)):.0f} MiB, "
        f"MusicXML {peak_mib(lambda: musicxml_bytes(score)):.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
