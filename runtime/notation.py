"""From a part's notes to what a staff shows: voices, bars, tied pieces of notatable length, rests.

Pure data, no music21: the MusicXML writer turns these items into notation
objects, and the tests check the layout without a notation library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harmonlang.runtime.timeline import Bar, Note

# Note values a single notehead can show, in ticks at PPQ 480, longest first: plain and dotted
# values, then triplets (the language's `/8t` and friends).
NOTATABLE_480 = (2880, 1920, 1440, 960, 720, 640, 480, 360, 320, 240, 180, 160, 120, 90, 80, 60, 40, 30)
MAX_VOICES = 4  # MuseScore, Finale and Sibelius show four voices on a staff


@dataclass(frozen=True)
class Item:
    """A note, chord or rest inside one bar and one voice; `tie` joins it to the pieces around it."""

    offset: int  # ticks from the bar's start
    length: int
    pitches: tuple[int, ...]  # empty for a rest
    velocity: int = 0
    tie: str | None = None  # start, continue or stop

    @property
    def is_rest(self) -> bool:
        return not self.pitches


@dataclass(frozen=True)
class _Group:
    tick: int
    dur: int
    pitches: tuple[int, ...]
    velocity: int


def _groups(notes: Iterable[Note]) -> list[_Group]:
    """Notes struck together for equally long become one chord."""
    chords: dict[tuple[int, int], list[Note]] = {}
    for note in notes:
        chords.setdefault((note.tick, note.dur), []).append(note)
    return [
        _Group(tick, dur, tuple(sorted({n.pitch for n in chord})), max(n.velocity for n in chord))
        for (tick, dur), chord in sorted(chords.items(), key=lambda item: (item[0][0], -item[0][1]))
    ]


def voices(notes: Iterable[Note]) -> list[list[_Group]]:
    """Chords in as few voices as keep each voice free of overlaps (first fit, in time order)."""
    lanes: list[list[_Group]] = []
    ends: list[int] = []
    for group in _groups(notes):
        lane = next((i for i, end in enumerate(ends) if end <= group.tick), None)
        if lane is None:
            lanes.append([])
            ends.append(0)
            lane = len(lanes) - 1
        lanes[lane].append(group)
        ends[lane] = group.tick + group.dur
    return lanes


def notatable_lengths(length: int, ppq: int) -> list[int]:
    """`length` ticks as note values that a notehead can show, longest first (the pieces are tied)."""
    values = [v * ppq // 480 for v in NOTATABLE_480 if v * ppq % 480 == 0]
    pieces: list[int] = []
    while length > 0:
        piece = next((v for v in values if v <= length), None)
        if piece is None:  # finer than a 64th: one piece as it is (the writer flags it)
            pieces.append(length)
            break
        pieces.append(piece)
        length -= piece
    return pieces


def _tie(first: bool, last: bool, outer: str | None) -> str | None:
    """The tie of one piece of an item that was itself one piece of a longer note."""
    starts = outer in ("stop", "continue") or not first
    continues = outer in ("start", "continue") or not last
    if starts and continues:
        return "continue"
    return "stop" if starts else "start" if continues else None


def split_pieces(item: Item, ppq: int) -> list[Item]:
    lengths = notatable_lengths(item.length, ppq)
    result, offset = [], item.offset
    for index, length in enumerate(lengths):
        tie = None if item.is_rest else _tie(index == 0, index == len(lengths) - 1, item.tie)
        result.append(Item(offset, length, item.pitches, item.velocity, tie))
        offset += length
    return result


def bar_items(lane: list[_Group], bars: list[Bar], ppq: int) -> dict[int, list[Item]]:
    """One voice cut into bars: bar number -> its items, with rests between the notes.

    A bar this voice leaves empty is absent from the result; a bar it plays in is filled to its end.
    """
    cut: dict[int, list[Item]] = {}
    bar_index = 0
    for group in lane:
        tick, end = group.tick, group.tick + group.dur
        while bar_index < len(bars) and bars[bar_index].end <= tick:
            bar_index += 1
        index = bar_index
        while tick < end and index < len(bars):
            bar = bars[index]
            piece_end = min(end, bar.end)
            first, last = tick == group.tick, piece_end == end
            tie = None if first and last else "start" if first else "stop" if last else "continue"
            cut.setdefault(bar.number, []).append(
                Item(tick - bar.start, piece_end - tick, group.pitches, group.velocity, tie)
            )
            tick = piece_end
            index += 1
    filled: dict[int, list[Item]] = {}
    for bar in bars:
        if bar.number not in cut:
            continue
        items, now = [], 0
        for item in cut[bar.number]:
            if item.offset > now:
                items += split_pieces(Item(now, item.offset - now, ()), ppq)
            items += split_pieces(item, ppq)
            now = item.offset + item.length
        if now < bar.length:
            items += split_pieces(Item(now, bar.length - now, ()), ppq)
        filled[bar.number] = items
    return filled


# ---- percussion -------------------------------------------------------------------------------------------

# General MIDI drum notes on a five-line percussion staff: (display step and octave, notehead), as in
# the common drum-set legend (kick in the bottom space, snare on the third space, cymbals above with x).
GM_DRUM_DISPLAY: dict[int, tuple[str, str]] = {
    35: ("E4", "normal"),
    36: ("F4", "normal"),
    37: ("C5", "x"),
    38: ("C5", "normal"),
    39: ("B4", "x"),
    40: ("C5", "slash"),
    41: ("A4", "normal"),
    42: ("G5", "x"),
    43: ("G4", "normal"),
    44: ("D4", "x"),
    45: ("B4", "normal"),
    46: ("G5", "circle-x"),
    47: ("D5", "normal"),
    48: ("E5", "normal"),
    49: ("A5", "x"),
    50: ("F5", "normal"),
    51: ("F5", "x"),
    52: ("A5", "circle-x"),
    53: ("F5", "diamond"),
    54: ("E5", "x"),
    55: ("B5", "x"),
    56: ("E5", "triangle"),
    57: ("B5", "circle-x"),
    59: ("F5", "slash"),
}
# Lines and spaces from below the staff to above it, for sounds the legend has no place for.
STAFF_STEPS = [f"{step}{octave}" for octave in (4, 5, 6) for step in "CDEFGAB"][1:-3]  # D4 .. G6
FREE_HEADS = ("normal", "x", "diamond", "triangle", "slash", "square", "circle-x", "cross")


def drum_display(notes_used: Iterable[int], names: dict[int, str], pads: bool) -> dict[int, tuple[str, str]]:
    """A distinct (display position, notehead) for every drum note a part plays.

    Pads (the SP-404MKII's 16) climb the staff one step each, pad 1 lowest; drums take the legend's
    place, and any sound without one the first free position and notehead.
    """
    used = sorted(set(notes_used))
    taken: dict[int, tuple[str, str]] = {}
    if pads:
        base = min(names, default=min(used, default=0))
        for note in used:
            layer, step = divmod(note - base, len(STAFF_STEPS))
            taken[note] = (STAFF_STEPS[step], FREE_HEADS[layer % len(FREE_HEADS)])
        return taken
    for note in used:
        if note in GM_DRUM_DISPLAY and GM_DRUM_DISPLAY[note] not in taken.values():
            taken[note] = GM_DRUM_DISPLAY[note]
    free = ((step, head) for head in FREE_HEADS for step in STAFF_STEPS)
    for note in used:
        if note not in taken:
            taken[note] = next(place for place in free if place not in taken.values())
    return taken
