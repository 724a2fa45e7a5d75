"""Standard MIDI File output from the Score IR.

Type 1, PPQ from the score: a conductor track (tempo map, meters, keys and a
marker at every scene and every phrase), then one named track per part. Every
track ends at the song's end, so trailing rests and holes keep their length.

The bytes are encoded here from the SMF spec's tables rather than through
mido's message objects: a 48-scene song has some 20,000 events, and building
objects for each costs more than the whole write budget. mido reads the files
back in the tests and in the event dump.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import numpy as np

from harmonlang.ir import Score
from harmonlang.runtime.timeline import part_label, phrase_marker

MINOR_MODES = {"minor", "harmonic-minor", "melodic-minor"}
VOLUME, PAN = 7, 10

# Status bytes (channel 0) and meta-event types, from the MIDI 1.0 and SMF specifications.
NOTE_OFF, NOTE_ON, CONTROL_CHANGE, PROGRAM_CHANGE = 0x80, 0x90, 0xB0, 0xC0
META = {"track_name": 0x03, "marker": 0x06, "end_of_track": 0x2F, "tempo": 0x51, "meter": 0x58, "key": 0x59}
CLOCKS_PER_CLICK, THIRTY_SECONDS_PER_QUARTER = 24, 8

# (absolute tick, order at that tick, the event's bytes); at one tick: program, controllers, offs, then ons,
# so a repeated note retriggers.
Timed = tuple[int, int, bytes]
_WHEN = itemgetter(0, 1)  # the sort key: a stable sort on it keeps events of one tick and order as made


def volume_cc(level_db: float) -> int:
    """CC7 for a level in dB on the General MIDI curve, 0 dB being GM's default volume of 100
    (so -6 dB is about 71, and +4 dB reaches the top, 127; anything louder is 127)."""
    return max(0, min(127, round(100 * math.pow(10, min(level_db, 12.0) / 40))))


def pan_cc(pan: float) -> int:
    return max(0, min(127, round(64 + 63.5 * pan)))


def tempo_microseconds(bpm: float) -> int:
    return int(round(60_000_000 / bpm))


def _varlen(value: int) -> bytes:
    """A variable-length quantity: seven bits a byte, high bit set on all but the last."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta(kind: str, data: bytes) -> bytes:
    return bytes((0xFF, META[kind])) + _varlen(len(data)) + data


def _text(kind: str, text: str) -> bytes:
    return _meta(kind, text.encode("utf-8"))  # UTF-8, as current DAWs read names and markers


def conductor(score: Score) -> list[Timed]:
    """Tempo map, meters, keys, and a marker at every scene (its id) and then at every phrase in it."""
    events: list[Timed] = []
    for point in score.tempo_map:
        events.append((point.tick, 0, _meta("tempo", tempo_microseconds(point.bpm).to_bytes(3, "big"))))
    for meter in score.meter_map:
        signature = (meter.numerator, meter.denominator.bit_length() - 1, CLOCKS_PER_CLICK, THIRTY_SECONDS_PER_QUARTER)
        events.append((meter.tick, 1, _meta("meter", bytes(signature))))
    for point in score.key_map:
        minor = point.key.mode in MINOR_MODES  # MIDI knows major and minor; a mode takes its parent major's
        events.append((point.tick, 2, _meta("key", struct.pack("bB", point.key.fifths, minor))))
    for scene in score.scenes:
        events.append((scene.start, 3, _text("marker", scene.id)))
        for phrase in scene.phrases:
            events.append((phrase.start, 4, _text("marker", phrase_marker(scene.id, phrase.kind))))
    return events


@dataclass
class PartTrack:
    """A part's track before encoding: its program changes and controllers, and its notes as an array."""

    controls: list[Timed]  # (tick, order 0 or 1, message), in the order made
    notes: np.ndarray  # (n, 5) int64 rows of tick, pitch, dur, velocity, channel 1-16: `playable`, in play order

    def events(self) -> list[Timed]:
        """The whole track as (tick, order, message), in the order `midi_bytes` sorts it from."""
        events = list(self.controls)
        add = events.append
        for tick, pitch, dur, velocity, plays_on in self.notes.tolist():
            status = plays_on - 1
            add((tick, 3, bytes((NOTE_ON | status, pitch, velocity))))
            add((tick + dur, 2, bytes((NOTE_OFF | status, pitch, 0))))
        return events


def part_events(score: Score, index: int) -> list[Timed]:
    """A part's program changes, its level and pan per scene (CC7, CC10, where they change) and its notes."""
    return part_track(score, index).events()


def part_track(score: Score, index: int) -> PartTrack:
    """`part_events`, with the notes kept as an array: some 10,000 notes in a 48-scene song are the writer's
    hot spot, and numpy sorts, trims and encodes them at a tenth of the cost of a loop."""
    part = score.parts[index]
    channel = part.channel - 1
    # Some devices take Program Change on a channel of their own (the S-1 and T-8 on 16).
    program_channel = part.program_channel - 1 if part.program_channel else channel
    events: list[Timed] = []
    if part.program is not None:
        events.append((0, 0, bytes((PROGRAM_CHANGE | program_channel, part.program))))
    current = (channel, part.program)
    stated: dict[tuple[int, int], int] = {}  # (channel, controller) -> value last sent
    cells: list[list[tuple[int, int, int, int]]] = []
    channels: list[int] = []
    for scene in score.scenes:
        mix = scene.mix.get(part.name, part.mix)
        controls = ((VOLUME, volume_cc(mix.level_db)), (PAN, pan_cc(mix.pan)))
        for phrase in scene.phrases:
            cell = phrase.cells[index]
            wanted = (cell.channel - 1 if cell.channel else channel, cell.program if cell.channel else part.program)
            if wanted != current and wanted[1] is not None:
                moved = cell.program_channel - 1 if cell.program_channel else wanted[0]
                target = program_channel if not cell.channel else moved
                events.append((phrase.start, 0, bytes((PROGRAM_CHANGE | target, wanted[1]))))
            current = wanted
            # Every part states its volume and pan, so an untouched part is not louder than a lowered one.
            for control, value in controls:
                if stated.get((wanted[0], control)) != value:
                    stated[(wanted[0], control)] = value
                    events.append((phrase.start, 1, bytes((CONTROL_CHANGE | wanted[0], control, value))))
            if cell.events:
                cells.append(cell.events)
                channels.append(wanted[0] + 1)
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(cells)), dtype=np.int64)
    written = flat.reshape(-1, 4)  # tick, dur, pitch, velocity, as the IR holds them
    plays_on = np.repeat(np.array(channels, dtype=np.int64), [len(events) for events in cells])
    notes = np.column_stack((written[:, 0], written[:, 2], written[:, 1], written[:, 3], plays_on))
    return PartTrack(events, playable_notes(notes))


def playable_notes(notes: np.ndarray) -> np.ndarray:
    """`timeline.playable(timeline.part_notes(...))` on an array of (tick, pitch, dur, velocity, channel): time
    order (tick, pitch, dur, then as written), the longer of two notes one key strikes at once (the first of
    equals), and a note cut short where its key is struck again. tests/test_incremental.py holds the two to
    the same notes on every example song."""
    if not len(notes):
        return notes.reshape(0, 5)
    tick, pitch, dur, channel = notes[:, 0], notes[:, 1], notes[:, 2], notes[:, 4]
    in_time = np.lexsort((dur, pitch, tick))  # stable: the order part_notes sorts into
    position = np.empty(len(notes), dtype=np.int64)
    position[in_time] = np.arange(len(notes))
    # By key and tick, longest first, then in time order: the first row of each (key, tick) is the note kept,
    # at the place in time order of that key's first note at that tick.
    by_key = np.lexsort((position, -dur, tick, pitch, channel))
    keyed = notes[by_key]
    same_strike = np.zeros(len(keyed), dtype=bool)
    same_strike[1:] = (
        (keyed[1:, 4] == keyed[:-1, 4]) & (keyed[1:, 1] == keyed[:-1, 1]) & (keyed[1:, 0] == keyed[:-1, 0])
    )
    firsts = np.flatnonzero(~same_strike)
    kept = keyed[firsts].copy()
    place = np.minimum.reduceat(position[by_key], firsts)
    # A key struck again before the note ends cuts it there.
    again = (kept[1:, 4] == kept[:-1, 4]) & (kept[1:, 1] == kept[:-1, 1])
    gap = kept[1:, 0] - kept[:-1, 0]
    kept[:-1, 2] = np.where(again, np.minimum(kept[:-1, 2], gap), kept[:-1, 2])
    return kept[np.argsort(place, kind="stable")]


def _encode(events: list[Timed] | PartTrack) -> bytes:
    """Delta-timed events, sorted by (tick, order), ties in the order made."""
    if isinstance(events, PartTrack):
        return _encode_track(events)
    body = bytearray()
    add, extend = body.append, body.extend
    now = 0
    for tick, _, data in sorted(events, key=_WHEN):
        delta = tick - now
        if delta < 0x80:  # nearly every delta takes one or two bytes: those are written inline
            add(delta)
        elif delta < 0x4000:
            add(0x80 | delta >> 7)
            add(delta & 0x7F)
        else:
            extend(_varlen(delta))
        extend(data)
        now = tick
    return bytes(body)


def _encode_track(track: PartTrack) -> bytes:
    """`_encode(track.events())`, vectorized: every Note On and Off is written by numpy; only the few
    program changes and controllers are copied in one by one."""
    notes, count = track.notes, len(track.controls)
    ons = notes[:, 0]
    ticks = np.concatenate((_column(track.controls, 0), ons, ons + notes[:, 2]))
    orders = np.concatenate((_column(track.controls, 1), np.full(len(notes), 3), np.full(len(notes), 2)))
    made = np.concatenate((np.arange(count), count + 2 * np.arange(len(notes)), count + 1 + 2 * np.arange(len(notes))))
    order = np.lexsort((made, orders, ticks))
    ticks = ticks[order]
    deltas = np.diff(ticks, prepend=0)
    widths = 1 + (deltas >= 0x80) + (deltas >= 0x4000) + (deltas >= 0x200000)
    sizes = np.concatenate((np.array([len(c[2]) for c in track.controls], dtype=np.int64), np.full(2 * len(notes), 3)))[
        order
    ]
    starts = np.cumsum(widths + sizes) - (widths + sizes)
    out = np.zeros(int((widths + sizes).sum()), dtype=np.uint8)
    for width in range(1, 5):  # a variable-length quantity: seven bits a byte, high bit on all but the last
        chosen = widths == width
        at, value = starts[chosen], deltas[chosen]
        for byte in range(width):
            shift = 7 * (width - 1 - byte)
            out[at + byte] = ((value >> shift) & 0x7F) | (0x80 if byte < width - 1 else 0)
    data_at = starts + widths
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    for index, (_, _, data) in enumerate(track.controls):
        begin = data_at[rank[index]]
        out[begin : begin + len(data)] = np.frombuffer(data, dtype=np.uint8)
    status = (notes[:, 4] - 1).astype(np.uint8)
    for kind, first, velocity in ((NOTE_ON, count, notes[:, 3]), (NOTE_OFF, count + len(notes), 0)):
        at = data_at[rank[first : first + len(notes)]]
        out[at] = kind | status
        out[at + 1] = notes[:, 1]
        out[at + 2] = velocity
    return out.tobytes()


def _column(events: list[Timed], field: int) -> np.ndarray:
    return np.array([event[field] for event in events], dtype=np.int64)


def _track_chunk(name: str, events: list[Timed] | PartTrack, end: int) -> bytes:
    if isinstance(events, PartTrack):
        last = max([c[0] for c in events.controls] + (events.notes[:, 0] + events.notes[:, 2]).tolist(), default=0)
    else:
        last = max((tick for tick, _, _ in events), default=0)
    body = b"\x00" + _text("track_name", name) + _encode(events)
    body += _varlen(max(end - last, 0)) + _meta("end_of_track", b"")
    return b"MTrk" + len(body).to_bytes(4, "big") + body


def tracks_to_midi(score: Score, tracks: list[tuple[str, list[Timed] | PartTrack]]) -> bytes:
    """A type-1 file: the conductor track (named after the song), then the given (name, events) tracks."""
    chunks = [_track_chunk(name, events, score.length) for name, events in [(score.title, conductor(score)), *tracks]]
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), score.ppq)
    return header + b"".join(chunks)


def midi_bytes(score: Score) -> bytes:
    tracks: list[tuple[str, list[Timed] | PartTrack]] = [
        (part_label(part), part_track(score, index)) for index, part in enumerate(score.parts)
    ]
    return tracks_to_midi(score, tracks)
