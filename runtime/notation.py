"""From a part's notes to what a staff shows: voices, bars with rests between the notes, drum places.

Pure data, no music21: the MusicXML writer turns these items into notation
objects, and the tests check the layout without a notation library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harmonlang.runtime.note_values import Item, write_bar
from harmonlang.runtime.timeline import Bar, Note

MAX_VOICES = 4  # MuseScore, Finale and Sibelius show four voices on a staff


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


def bar_items(lane: list[_Group], bars: list[Bar]) -> tuple[dict[int, list[Item]], int]:
    """One voice cut into bars: bar number -> its written items, rests between the notes; and how many
    note boundaries had to move to be written (see note_values).

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
    moved = 0
    for bar in bars:
        if bar.number not in cut:
            continue
        items, now = [], 0
        for item in cut[bar.number]:
            if item.offset > now:
                items.append(Item(now, item.offset - now, ()))
            items.append(item)
            now = item.offset + item.length
        if now < bar.length:
            items.append(Item(now, bar.length - now, ()))
        filled[bar.number], moves = write_bar(items, bar.length)
        moved += moves
    return filled, moved


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
