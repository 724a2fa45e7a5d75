"""Standard MIDI File output from the Score IR.

Type 1, PPQ from the score: a conductor track (tempo map, meters, keys and a
marker at every scene start), then one named track per part. Every track
ends at the song's end, so trailing rests and holes keep their length.
"""

from __future__ import annotations

import io
import math
from typing import Any

import mido

from harmonlang.ir import Score
from harmonlang.runtime.timeline import part_label, part_notes, playable

MAJOR_BY_FIFTHS = dict(zip(range(-7, 8), "Cb Gb Db Ab Eb Bb F C G D A E B F# C#".split(), strict=True))
MINOR_BY_FIFTHS = dict(zip(range(-7, 8), "Abm Ebm Bbm Fm Cm Gm Dm Am Em Bm F#m C#m G#m D#m A#m".split(), strict=True))
MINOR_MODES = {"minor", "harmonic-minor", "melodic-minor"}
VOLUME, PAN = 7, 10
PHRASE_WORDS = {"A": "chorus", "B": "bridge", "A'": "chorus", "T": "transition"}

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
    """Tempo map, meters, keys, and a marker at every scene (its id) and then at every phrase in it."""
    events: list[Timed] = []
    for point in score.tempo_map:
        events.append((point.tick, 0, ("set_tempo", {"tempo": mido.bpm2tempo(point.bpm)})))
    for meter in score.meter_map:
        fields = {"numerator": meter.numerator, "denominator": meter.denominator}
        events.append((meter.tick, 1, ("time_signature", fields)))
    for point in score.key_map:
        events.append((point.tick, 2, ("key_signature", {"key": key_signature_name(point.key.mode, point.key.fifths)})))
    for scene in score.scenes:
        events.append((scene.start, 3, ("marker", {"text": smf_text(scene.id)})))
        for phrase in scene.phrases:
            events.append((phrase.start, 4, ("marker", {"text": smf_text(phrase_marker(scene.id, phrase.kind))})))
    return events


def phrase_marker(scene_id: str, kind: str) -> str:
    """`I.you.1a B bridge`: the scene, the phrase and what it is (ASCII, as every SMF reader takes)."""
    return f"{scene_id} {kind} {PHRASE_WORDS[kind]}"


def part_events(score: Score, index: int) -> list[Timed]:
    """A part's program changes, its level and pan per scene (CC7, CC10, where they change) and its notes."""
    part = score.parts[index]
    channel = part.channel - 1
    # Some devices take Program Change on a channel of their own (the S-1 and T-8 on 16).
    program_channel = part.program_channel - 1 if part.program_channel else channel
    events: list[Timed] = []
    if part.program is not None:
        events.append((0, 0, ("program_change", {"channel": program_channel, "program": part.program})))
    current = (channel, part.program)
    stated: dict[tuple[int, int], int] = {}  # (channel, controller) -> value last sent
    for scene in score.scenes:
        for phrase in scene.phrases:
            cell = phrase.cells[index]
            wanted = (cell.channel - 1 if cell.channel else channel, cell.program if cell.channel else part.program)
            if wanted != current and wanted[1] is not None:
                moved = cell.program_channel - 1 if cell.program_channel else wanted[0]
                target = program_channel if not cell.channel else moved
                events.append((phrase.start, 0, ("program_change", {"channel": target, "program": wanted[1]})))
            current = wanted
            # Every part states its volume and pan, so an untouched part is not louder than a lowered one.
            mix = scene.mix.get(part.name, part.mix)
            for control, value in ((VOLUME, volume_cc(mix.level_db)), (PAN, pan_cc(mix.pan))):
                if stated.get((wanted[0], control)) != value:
                    stated[(wanted[0], control)] = value
                    fields = {"channel": wanted[0], "control": control, "value": value}
                    events.append((phrase.start, 1, ("control_change", fields)))
    for note in playable(part_notes(score, index)):
        note_channel = note.channel - 1
        events.append(
            (note.tick, 3, ("note_on", {"channel": note_channel, "note": note.pitch, "velocity": note.velocity}))
        )
        events.append(
            (note.tick + note.dur, 2, ("note_off", {"channel": note_channel, "note": note.pitch, "velocity": 0}))
        )
    return events


def smf_text(text: str) -> str:
    """Text for an SMF meta event, as UTF-8 bytes (what current DAWs read) in the latin-1 string mido writes."""
    return text.encode("utf-8").decode("latin-1")


def tracks_to_midi(score: Score, tracks: list[tuple[str, list[Timed]]]) -> mido.MidiFile:
    """A type-1 file: the conductor track (named after the song), then the given (name, events) tracks."""
    midi = mido.MidiFile(type=1, ticks_per_beat=score.ppq)
    for name, events in [(score.title, conductor(score)), *tracks]:
        midi.tracks.append(_track(events, smf_text(name), score.length))
    return midi


def score_to_midi(score: Score) -> mido.MidiFile:
    tracks = [(part_label(part), part_events(score, index)) for index, part in enumerate(score.parts)]
    return tracks_to_midi(score, tracks)


def to_bytes(midi: mido.MidiFile) -> bytes:
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def midi_bytes(score: Score) -> bytes:
    return to_bytes(score_to_midi(score))
