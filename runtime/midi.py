"""Standard MIDI File output from the Score IR, and a readable dump of any SMF.

Type 1, PPQ from the score: a conductor track (tempo map, meters, keys and a
marker at every scene start), then one named track per part. Every track
ends at the song's end, so trailing rests and holes keep their length.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import mido

from harmonlang.ir import PartInfo, Score

MAJOR_BY_FIFTHS = dict(zip(range(-7, 8), "Cb Gb Db Ab Eb Bb F C G D A E B F# C#".split(), strict=True))
MINOR_BY_FIFTHS = dict(zip(range(-7, 8), "Abm Ebm Bbm Fm Cm Gm Dm Am Em Bm F#m C#m G#m D#m A#m".split(), strict=True))
MINOR_MODES = {"minor", "harmonic-minor", "melodic-minor"}
VOLUME, PAN = 7, 10

# (absolute tick, order at that tick, message); offs sort before ons so repeated notes retrigger.
Timed = tuple[int, int, Any]


def key_signature_name(mode: str, fifths: int) -> str:
    """MIDI knows major and minor only; other modes use their parent major's signature."""
    return MINOR_BY_FIFTHS[fifths] if mode in MINOR_MODES else MAJOR_BY_FIFTHS[fifths]


def volume_cc(level_db: float) -> int:
    """CC7 for a level in dB on the General MIDI curve, 0 dB being GM's default volume of 100
    (so -6 dB is about 71, and +4 dB reaches the top, 127)."""
    return max(0, min(127, round(100 * math.pow(10, level_db / 40))))


def pan_cc(pan: float) -> int:
    return max(0, min(127, round(64 + 63.5 * pan)))


def _message(kind: str, time: int, **fields: Any) -> Any:
    # Values come from the validated IR, so mido's per-message checks are skipped.
    if kind in ("note_on", "note_off", "program_change", "control_change"):
        return mido.Message(kind, skip_checks=True, time=time, **fields)
    return mido.MetaMessage(kind, time=time, **fields)


def _track(events: list[Timed], name: str, end: int) -> mido.MidiTrack:
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for tick, _, (kind, fields) in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(_message(kind, tick - now, **fields))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end - now, 0)))
    return track


def conductor(score: Score) -> list[Timed]:
    events: list[Timed] = []
    for point in score.tempo_map:
        events.append((point.tick, 0, ("set_tempo", {"tempo": mido.bpm2tempo(point.bpm)})))
    for meter in score.meter_map:
        fields = {"numerator": meter.numerator, "denominator": meter.denominator}
        events.append((meter.tick, 1, ("time_signature", fields)))
    for point in score.key_map:
        events.append((point.tick, 2, ("key_signature", {"key": key_signature_name(point.key.mode, point.key.fifths)})))
    for scene in score.scenes:
        events.append((scene.start, 3, ("marker", {"text": scene.id})))
    return events


def part_track_name(part: PartInfo) -> str:
    where = part.device if part.output == "main" else f"{part.device}.{part.output}"
    return f"{part.name} ({where})"


def part_events(score: Score, index: int) -> list[Timed]:
    part = score.parts[index]
    channel = part.channel - 1
    # Some devices take Program Change on a channel of their own (the S-1 and T-8 on 16).
    program_channel = part.program_channel - 1 if part.program_channel else channel
    events: list[Timed] = []
    if part.program is not None:
        events.append((0, 0, ("program_change", {"channel": program_channel, "program": part.program})))
    # Every part states its volume and pan, so an untouched part is not louder than a lowered one.
    for control, value in ((VOLUME, volume_cc(part.mix.level_db)), (PAN, pan_cc(part.mix.pan))):
        events.append((0, 0, ("control_change", {"channel": channel, "control": control, "value": value})))
    current = (channel, part.program)
    for scene in score.scenes:
        for phrase in scene.phrases:
            cell = phrase.cells[index]
            wanted = (cell.channel - 1 if cell.channel else channel, cell.program if cell.channel else part.program)
            if wanted != current and wanted[1] is not None:
                moved = cell.program_channel - 1 if cell.program_channel else wanted[0]
                target = program_channel if not cell.channel else moved
                events.append((phrase.start, 0, ("program_change", {"channel": target, "program": wanted[1]})))
            current = wanted
            for tick, dur, pitch, vel in cell.events:
                events.append((tick, 2, ("note_on", {"channel": wanted[0], "note": pitch, "velocity": vel})))
                events.append((tick + dur, 1, ("note_off", {"channel": wanted[0], "note": pitch, "velocity": 0})))
    return events


def score_to_midi(score: Score) -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=score.ppq)
    midi.tracks.append(_track(conductor(score), score.title, score.length))
    for index, part in enumerate(score.parts):
        midi.tracks.append(_track(part_events(score, index), part_track_name(part), score.length))
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
    described = {
        "set_tempo": lambda m: f"tempo {mido.tempo2bpm(m.tempo):.2f} bpm",
        "time_signature": lambda m: f"meter {m.numerator}/{m.denominator}",
        "key_signature": lambda m: f"key {m.key}",
        "marker": lambda m: f"marker {m.text!r}",
        "text": lambda m: f"text {m.text!r}",
        "track_name": lambda m: f"name {m.name!r}",
        "note_on": lambda m: f"note_on  ch{m.channel + 1:<2} {m.note:>3} vel {m.velocity}",
        "note_off": lambda m: f"note_off ch{m.channel + 1:<2} {m.note:>3} vel {m.velocity}",
        # Programs print counted from 1, as the language writes them.
        "program_change": lambda m: f"program  ch{m.channel + 1:<2} {m.program + 1}",
        "control_change": lambda m: f"cc       ch{m.channel + 1:<2} {m.control:>3} = {m.value}",
    }
    return described[kind](message) if kind in described else kind
