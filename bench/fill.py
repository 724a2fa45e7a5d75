"""How long the agents take to fill a whole song, and to refill it after one scene's edit.

This prints numbers; it is not a test and it gates nothing (it exits 0 whether
or not the targets are met). Run it from anywhere:

    python bench/fill.py                       # examples/minimal.circle, 7 runs each
    python bench/fill.py --song examples/digital-dreams.circle --runs 11

full:   `fill(ir)` with no cache: every scene composed, N candidates each, the critic
        scoring them all (the compile before it is not counted).
refill: a cache holds the song's scenes; one scene's directives change (as an edit
        of that scene in the source would change them) and `fill` runs again: one
        scene is composed, the other 47 come from the cache by content hash.
        Each run edits a different scene, so nothing is reused by accident.
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harmonlang.agents import DEFAULT_CANDIDATES, FillCache, fill  # noqa: E402
from harmonlang.compiler import compile_file  # noqa: E402

FULL_TARGET_S = 1.5
REFILL_TARGET_MS = 50.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--song", default=str(REPO / "examples" / "minimal.circle"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ir = compile_file(args.song).ir
    scenes = len(ir["scenes"])
    print(f"song: {args.song}: {scenes} scenes, {DEFAULT_CANDIDATES} candidates per scene")
    print(f"python {platform.python_version()} on {platform.machine()}")

    fill(ir)  # warm the imports
    full = []
    for _ in range(args.runs):
        start = time.perf_counter()
        fill(ir)
        full.append(time.perf_counter() - start)

    cache = FillCache()
    fill(ir, cache=cache)
    refill = []
    for run in range(args.runs):
        edited = copy.deepcopy(ir)
        scene = edited["scenes"][(run * 7 + 3) % scenes]
        for phrase in scene["phrases"]:
            phrase["directives"]["syncopation"] = 0.31 + run / 100  # a new value: the scene must be composed
        misses = cache.misses
        start = time.perf_counter()
        fill(edited, cache=cache)
        refill.append(time.perf_counter() - start)
        assert cache.misses == misses + 1, "exactly the edited scene is composed again"

    full_median = statistics.median(full)
    refill_median = statistics.median(refill) * 1000
    print(f"full fill:  median {full_median:.3f} s, best {min(full):.3f} s (target <= {FULL_TARGET_S} s)")
    print(
        f"refill one: median {refill_median:.1f} ms, best {min(refill) * 1000:.1f} ms (target <= {REFILL_TARGET_MS} ms)"
    )
    print(f"per scene:  {full_median / scenes * 1000:.1f} ms for {DEFAULT_CANDIDATES} candidates")
    verdict = "met" if full_median <= FULL_TARGET_S and refill_median <= REFILL_TARGET_MS else "NOT met"
    print(f"targets {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
