"""Ticks to seconds through a tempo map: a step function of BPM by tick, as in the MIDI file.

Shared by the runtime's `Timeline` (on the validated Score) and the language server (on the IR's dicts),
so a hover and the rendered song agree on when a scene starts.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence


class TempoMap:
    def __init__(self, points: Sequence[tuple[int, float]], ppq: int) -> None:
        """`points` are (tick, BPM) in tick order, the first at the song's start."""
        self.ppq = ppq
        self.ticks = [tick for tick, _ in points]
        self.bpms = [bpm for _, bpm in points]
        self.starts = [0.0]  # the time in seconds at each point
        for index in range(1, len(points)):
            self.starts.append(
                self.starts[-1] + (self.ticks[index] - self.ticks[index - 1]) / ppq * 60 / self.bpms[index - 1]
            )

    def seconds(self, tick: int) -> float:
        index = max(0, bisect.bisect_right(self.ticks, tick) - 1)
        return self.starts[index] + (tick - self.ticks[index]) / self.ppq * 60 / self.bpms[index]
