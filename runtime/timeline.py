"""What every writer reads off the score the same way: bars from the meter map, seconds from the tempo
map, each part's notes, where it plays, and the names of its track and of each phrase marker.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from functools import cached_property

from harmonlang.ir import Cell, PartInfo, Score
from harmonlang.metrics import bar_length
from harmonlang.tempo import TempoMap


@dataclass(frozen=True)
class Bar:
    number: int  # counted from 1
    start: int
    length: int
    numerator: int
    denominator: int

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Note:
    """One sounding note of a part, on the channel it plays on there."""

    tick: int
    dur: int
    pitch: int
    velocity: int
    channel: int  # 1-16


class Timeline:
    def __init__(self, score: Score) -> None:
        self.score = score
        self.ppq = score.ppq

    @cached_property
    def bars(self) -> list[Bar]:
        """Every bar of the song; a meter point starts a new bar even mid-bar (it never does in lowered scores)."""
        points = self.score.meter_map
        bars: list[Bar] = []
        for index, point in enumerate(points):
            end = points[index + 1].tick if index + 1 < len(points) else self.score.length
            length = bar_length((point.numerator, point.denominator), self.ppq)
            tick = point.tick
            while tick < end:
                bars.append(Bar(len(bars) + 1, tick, min(length, end - tick), point.numerator, point.denominator))
                tick += length
        return bars

    @cached_property
    def _bar_starts(self) -> list[int]:
        return [bar.start for bar in self.bars]

    def bar_at(self, tick: int) -> Bar:
        return self.bars[max(0, bisect.bisect_right(self._bar_starts, tick) - 1)]

    @cached_property
    def _tempo(self) -> TempoMap:
        return TempoMap([(point.tick, point.bpm) for point in self.score.tempo_map], self.ppq)

    def seconds(self, tick: int) -> float:
        """The time at a tick; the tempo map is a step function, as in the MIDI file."""
        return self._tempo.seconds(tick)

    def clock(self, tick: int) -> str:
        """`m:ss.mmm` at a tick."""
        minutes, seconds = divmod(self.seconds(tick), 60)
        return f"{int(minutes)}:{seconds:06.3f}"


@dataclass(frozen=True)
class Route:
    """Where a part plays from a scene on: the song's own routing, or a level's `on ...` override."""

    tick: int
    scene: str
    device: str
    output: str
    port: str | None
    channel: int
    program: int | None

    @property
    def where(self) -> tuple[str, str, str | None, int, int | None]:
        return self.device, self.output, self.port, self.channel, self.program


def cell_where(part: PartInfo, cell: Cell) -> tuple[str, str, str | None, int, int | None]:
    """Where a cell plays (device, output, port, channel, program): the song's routing, or a level's `on ...`."""
    if cell.device is not None and cell.channel is not None:
        return cell.device, cell.output or "main", cell.port, cell.channel, cell.program
    return part.device, part.output, part.port, part.channel, part.program


def part_routes(score: Score, index: int) -> list[Route]:
    """Each place a part plays, from where it starts playing there: one route unless the song moves it."""
    part = score.parts[index]
    home = (part.device, part.output, part.port, part.channel, part.program)
    routes: list[Route] = []
    for scene in score.scenes:
        for phrase in scene.phrases:
            where = cell_where(part, phrase.cells[index])
            if not routes or routes[-1].where != where:
                routes.append(Route(phrase.start, scene.id, *where))
    return routes or [Route(0, "", *home)]


PHRASE_WORDS = {"A": "chorus", "B": "bridge", "A'": "chorus", "T": "transition"}


def phrase_marker(scene_id: str, kind: str) -> str:
    """`I.you.1a B bridge`: the scene, the phrase and what it is, as the MIDI and DAWproject markers say."""
    return f"{scene_id} {kind} {PHRASE_WORDS[kind]}"


def part_label(part: PartInfo) -> str:
    """`lead (s1)`, `bass (t8.bass)`: the part and where it plays, as every output names its track or staff."""
    where = part.device if part.output == "main" else f"{part.device}.{part.output}"
    return f"{part.name} ({where})"


def part_notes(score: Score, index: int) -> list[Note]:
    """Every note a part plays, the writer's and the agents', in time order, on the channel it plays on there."""
    part = score.parts[index]
    notes: list[Note] = []
    for scene in score.scenes:
        for phrase in scene.phrases:
            cell = phrase.cells[index]
            channel = cell.channel or part.channel
            notes += [Note(e[0], e[1], e[2], e[3], channel) for e in cell.events]
    notes.sort(key=lambda n: (n.tick, n.pitch, n.dur))
    return notes


def playable(notes: list[Note]) -> list[Note]:
    """The notes as one MIDI channel can play them: a note cut short where the same key is struck again.

    Two overlapping notes of one pitch on one channel cannot both sound in MIDI (the first Note Off would end
    both); the lowered and filled scores avoid them, and this keeps the writers exact when a writer's own
    material overlaps itself.
    """
    result: list[Note] = []
    last: dict[tuple[int, int], int] = {}  # (channel, pitch) -> index in result
    for note in notes:
        key = (note.channel, note.pitch)
        if key in last:
            earlier = result[last[key]]
            if earlier.tick == note.tick:  # struck twice at once: the longer one stands
                if note.dur > earlier.dur:
                    result[last[key]] = note
                continue
            if earlier.tick + earlier.dur > note.tick:
                result[last[key]] = replace(earlier, dur=note.tick - earlier.tick)
        last[key] = len(result)
        result.append(note)
    return result
