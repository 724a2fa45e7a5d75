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
from operator import itemgetter

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
# A note as the writer plays it: (tick, pitch, dur, velocity, channel 1-16), ordered as timeline.part_notes orders.
Played = tuple[int, int, int, int, int]
_NOTE_ORDER = itemgetter(0, 1, 2)


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


def part_events(score: Score, index: int) -> list[Timed]:
    """A part's program changes, its level and pan per scene (CC7, CC10, where they change) and its notes."""
    part = score.parts[index]
    channel = part.channel - 1
    # Some devices take Program Change on a channel of their own (the S-1 and T-8 on 16).
    program_channel = part.program_channel - 1 if part.program_channel else channel
    events: list[Timed] = []
    if part.program is not None:
        events.append((0, 0, bytes((PROGRAM_CHANGE | program_channel, part.program))))
    current = (channel, part.program)
    stated: dict[tuple[int, int], int] = {}  # (channel, controller) -> value last sent
    notes: list[Played] = []
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
            plays_on = wanted[0] + 1
            notes += [(e[0], e[2], e[1], e[3], plays_on) for e in cell.events]
    add = events.append  # some 20,000 notes in a 48-scene song: the loop is the writer's hot spot
    for tick, pitch, dur, velocity, plays_on in _playable(notes):
        status = plays_on - 1
        add((tick, 3, bytes((NOTE_ON | status, pitch, velocity))))
        add((tick + dur, 2, bytes((NOTE_OFF | status, pitch, 0))))
    return events


def _playable(notes: list[Played]) -> list[Played]:
    """`timeline.playable(timeline.part_notes(...))` on tuples: time order, a note cut short where its key
    is struck again, the longer of two struck at once. A frozen `Note` per note was half the writer's time;
    tests/test_incremental.py holds the two to the same notes on every example song."""
    notes.sort(key=_NOTE_ORDER)  # stable, as part_notes sorts
    result: list[Played] = []
    last: dict[tuple[int, int], int] = {}  # (channel, pitch) -> index in result
    for note in notes:
        key = (note[4], note[1])
        at = last.get(key)
        if at is not None:
            earlier = result[at]
            if earlier[0] == note[0]:
                if note[2] > earlier[2]:
                    result[at] = note
                continue
            if earlier[0] + earlier[2] > note[0]:
                result[at] = (earlier[0], earlier[1], note[0] - earlier[0], earlier[3], earlier[4])
        last[key] = len(result)
        result.append(note)
    return result


def _track_chunk(name: str, events: list[Timed], end: int) -> bytes:
    body = bytearray(b"\x00" + _text("track_name", name))
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
    body += _varlen(max(end - now, 0)) + _meta("end_of_track", b"")
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def tracks_to_midi(score: Score, tracks: list[tuple[str, list[Timed]]]) -> bytes:
    """A type-1 file: the conductor track (named after the song), then the given (name, events) tracks."""
    chunks = [_track_chunk(name, events, score.length) for name, events in [(score.title, conductor(score)), *tracks]]
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), score.ppq)
    return header + b"".join(chunks)


def midi_bytes(score: Score) -> bytes:
    tracks = [(part_label(part), part_events(score, index)) for index, part in enumerate(score.parts)]
    return tracks_to_midi(score, tracks)
