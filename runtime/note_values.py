"""Written note values: how one bar of one voice becomes noteheads, dots, ties and triplet brackets.

The bar is read a quarter note (a beat span) at a time. A span whose notes
and rests all start on the plain grid (a 128th note) is written in plain and
dotted values. A span with triplet timing is written as one whole 3:2 group,
rests included, so every bracket a reader sees opens and closes. Timing finer
than both grids (a transform can make it) is moved to the nearest 128th and
counted, so the writer can say so; the MIDI and DAWproject outputs stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# Plain and dotted values at PPQ 480, longest first: (ticks, music21 type, dots).
PLAIN_480 = (
    (2880, "whole", 1),
    (1920, "whole", 0),
    (1440, "half", 1),
    (960, "half", 0),
    (720, "quarter", 1),
    (480, "quarter", 0),
    (360, "eighth", 1),
    (240, "eighth", 0),
    (180, "16th", 1),
    (120, "16th", 0),
    (90, "32nd", 1),
    (60, "32nd", 0),
    (45, "64th", 1),
    (30, "64th", 0),
    (15, "128th", 0),
)
PLAIN_GRID, TRIPLET_GRID, SPAN = 15, 10, 480
# A span's length -> the value whose 3:2 group fills it (three eighths in the time of two fill a quarter).
TRIPLET_NORMAL = {480: "eighth", 240: "16th", 120: "32nd"}


@dataclass(frozen=True)
class Item:
    """A note, chord or rest inside one bar and one voice; `tie` joins it to the pieces around it."""

    offset: int  # ticks from the bar's start
    length: int
    pitches: tuple[int, ...]  # empty for a rest
    velocity: int = 0
    tie: str | None = None  # start, continue or stop
    value: str = ""  # as written: music21's type name, its dots, and the 3:2 group it sits in
    dots: int = 0
    tuplet: str | None = None

    @property
    def is_rest(self) -> bool:
        return not self.pitches


def _greedy(length: int) -> list[tuple[int, str, int]] | None:
    pieces = []
    for ticks, value, dots in PLAIN_480:
        while length >= ticks:
            pieces.append((ticks, value, dots))
            length -= ticks
    return pieces if length == 0 else None


def plain_values(length: int) -> list[tuple[int, str, int]] | None:
    """`length` ticks as tied plain or dotted values, longest first; None if it is off the 128th grid."""
    return _greedy(length)


def triplet_values(length: int) -> list[tuple[int, str, int]] | None:
    """`length` ticks inside a 3:2 group: each piece is written half as long again as it sounds."""
    if length * 3 % 2:
        return None
    written = _greedy(length * 3 // 2)
    return [(ticks * 2 // 3, value, dots) for ticks, value, dots in written] if written else None


def _tie(first: bool, last: bool, outer: str | None) -> str | None:
    """The tie of one piece of an item that was itself one piece of a longer note."""
    starts = outer in ("stop", "continue") or not first
    continues = outer in ("start", "continue") or not last
    if starts and continues:
        return "continue"
    return "stop" if starts else "start" if continues else None


def _snap(tick: int) -> int:
    return round(tick / PLAIN_GRID) * PLAIN_GRID


def write_bar(items: list[Item], bar_length: int) -> tuple[list[Item], int]:
    """A voice's contiguous items filling one bar, as written pieces; and how many boundaries had to move.

    Ticks are at PPQ 480, the Score IR's.
    """
    spans = [(start, min(start + SPAN, bar_length)) for start in range(0, bar_length, SPAN)]
    inner = [item.offset for item in items[1:]]
    triplet_spans, moves = [], {}
    for start, end in spans:
        inside = [x for x in inner if start < x < end]
        if all(x % PLAIN_GRID == 0 for x in inside):
            continue
        if end - start in TRIPLET_NORMAL and all(x % TRIPLET_GRID == 0 for x in inside):
            triplet_spans.append((start, end))
        else:
            moves.update({x: min(max(_snap(x), start), end) for x in inside})
    if moves:
        items = _moved(items, moves, bar_length)
    written: list[Item] = []
    for item in items:
        cuts = sorted({item.offset, item.offset + item.length} | _edges_inside(item, triplet_spans))
        pieces = []
        for start, end in zip(cuts, cuts[1:], strict=False):
            group = next((TRIPLET_NORMAL[e - s] for s, e in triplet_spans if s <= start < e), None)
            values = triplet_values(end - start) if group else plain_values(end - start)
            if values is None:  # cannot happen: every span is on a grid by now
                raise ValueError(f"no written value for {end - start} ticks at {start}")
            offset = start
            for ticks, value, dots in values:
                pieces.append(replace(item, offset=offset, length=ticks, value=value, dots=dots, tuplet=group))
                offset += ticks
        for index, piece in enumerate(pieces):
            tie = None if piece.is_rest else _tie(index == 0, index == len(pieces) - 1, item.tie)
            written.append(replace(piece, tie=tie))
    return written, len(moves)


def _edges_inside(item: Item, spans: list[tuple[int, int]]) -> set[int]:
    end = item.offset + item.length
    return {edge for span in spans for edge in span if item.offset < edge < end}


def _moved(items: list[Item], moves: dict[int, int], bar_length: int) -> list[Item]:
    """The items with their inner boundaries moved; an item squeezed to nothing is left out."""
    starts = [moves.get(item.offset, item.offset) for item in items[1:]]
    bounds = [0, *starts, bar_length]
    result = []
    for item, start, end in zip(items, bounds, bounds[1:], strict=False):
        if end > start:
            result.append(replace(item, offset=start, length=end - start))
    return result
