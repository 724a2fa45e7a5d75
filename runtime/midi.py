"""Standard MIDI File output from the Score IR, and a readable dump of any SMF.

Type 1, PPQ from the score: a conductor track (tempo map, meters, keys and a
marker at every scene start), then one named track per part.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import mido

from harmonlang.ir import Score

MAJOR_BY_FIFTHS = dict(zip(range(-7, 8), "Cb Gb Db Ab Eb Bb F C G D A E B F# C#".split(), strict=True))
MINOR_BY_FIFTHS = dict(zip(range(-7, 8), "Abm Ebm Bbm Fm Cm Gm Dm Am Em Bm F#m C#m G#m D#m A#m".split(), strict=True))
MINOR_MODES = {"minor", "harmonic-minor", "melodic-minor"}


def key_signature_name(mode: str, fifths: int) -> str:
    """MIDI knows major and minor only; other modes use their parent major's signature."""
    return MINOR_BY_FIFTHS[fifths] if mode in MINOR_MODES else MAJOR_BY_FIFTHS[fifths]


def _track(events: list[tuple[int, int, mido.Message | mido.MetaMessage]], name: str) -> mido.MidiTrack:
    """Absolute (tick, order, message) triples to a track of delta times."""
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def conductor(score: Score) -> list[tuple[int, int, Any]]:
    events: list[tuple[int, int, Any]] = []
    for point in score.tempo_map:
        events.append((point.tick, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(point.bpm))))
    for point in score.meter_map:
        message = mido.MetaMessage("time_signature", numerator=point.numerator, denominator=point.denominator)
        events.append((point.tick, 1, message))
    for point in score.key_map:
        name = key_signature_name(point.key.mode, point.key.fifths)
        events.append((point.tick, 2, mido.MetaMessage("key_signature", key=name)))
    for scene in score.scenes:
        events.append((scene.start, 3, mido.MetaMessage("marker", text=scene.id)))
    return events


def part_track_name(part: Any) -> str:
    where = part.device if part.output == "main" else f"{part.device}.{part.output}"
    return f"{part.name} ({where})"


def part_events(score: Score, index: int) -> list[tuple[int, int, Any]]:
    part = score.parts[index]
    channel = part.channel - 1
    events: list[tuple[int, int, Any]] = []
    if part.program is not None:
        events.append((0, 0, mido.Message("program_change", channel=channel, program=part.program)))
    current = (channel, part.program)
    for scene in score.scenes:
        for phrase in scene.phrases:
            cell = phrase.cells[index]
            wanted = (cell.channel - 1 if cell.channel else channel, cell.program if cell.channel else part.program)
            if wanted != current and wanted[1] is not None:
                events.append((phrase.start, 0, mido.Message("program_change", channel=wanted[0], program=wanted[1])))
            current = wanted
            for tick, dur, pitch, vel in cell.events:
                # Note-offs sort before note-ons at the same tick so repeated notes retrigger.
                events.append((tick, 2, mido.Message("note_on", channel=wanted[0], note=pitch, velocity=vel)))
                events.append((tick + dur, 1, mido.Message("note_off", channel=wanted[0], note=pitch, velocity=0)))
    return events


def score_to_midi(score: Score) -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=score.ppq)
    midi.tracks.append(_track(conductor(score), score.title))
    for index, part in enumerate(score.parts):
        midi.tracks.append(_track(part_events(score, index), part_track_name(part)))
    return midi


def midi_bytes(score: Score) -> bytes:
    buffer = io.BytesIO()
    score_to_midi(score).save(file=buffer)
    return buffer.getvalue()


def dump_midi(path: Path | str | None = None, data: bytes | None = None) -> str:
    """One line per event in absolute ticks: the golden tests' `midi.txt`."""
    midi = mido.MidiFile(file=io.BytesIO(data)) if data is not None else mido.MidiFile(str(path))
    lines = [f"type {midi.type}, ppq {midi.ticks_per_beat}, {len(midi.tracks)} tracks"]
    for number, track in enumerate(midi.tracks):
        lines.append(f"track {number}: {track.name!r}")
        tick = 0
        for message in track:
            tick += message.time
            lines.append(f"  {tick:>7} {_describe(message)}")
    return "\n".join(lines) + "\n"


def _describe(message: Any) -> str:
    kind = message.type
    if kind == "set_tempo":
        return f"tempo {mido.tempo2bpm(message.tempo):.2f} bpm"
    if kind == "time_signature":
        return f"meter {message.numerator}/{message.denominator}"
    if kind == "key_signature":
        return f"key {message.key}"
    if kind in ("marker", "text"):
        return f"{kind} {message.text!r}"
    if kind == "track_name":
        return f"name {message.name!r}"
    if kind in ("note_on", "note_off"):
        return f"{kind:<8} ch{message.channel + 1:<2} {message.note:>3} vel {message.velocity}"
    if kind == "program_change":
        return f"program  ch{message.channel + 1:<2} {message.program}"
    return kind
