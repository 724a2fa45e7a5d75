"""MusicXML from the filled score, through music21.

A staff per pitched part, an unpitched percussion staff per drum or pad part,
the song's key and meter changes, a rehearsal mark at every scene, the phrase
under it, and tempo marks (a drift is written `accel.` and sounds as it goes).
The layout (voices, bars, ties) is made here, not by music21's `makeNotation`:
it is faster and keeps every note exactly where the score has it.

music21 writes one instrument per percussion staff; MuseScore and other
readers need one per drum sound, so they are added to the XML afterwards.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

from music21 import (
    chord,
    clef,
    duration,
    expressions,
    instrument,
    key,
    metadata,
    meter,
    note,
    percussion,
    pitch,
    stream,
    tempo,
    tie,
)
from music21.musicxml.m21ToXml import ScoreExporter
from music21.stream.makeNotation import makeTupletBrackets

from harmonlang.ir import KeyInfo, PartInfo, Score
from harmonlang.runtime.musicxml_fixups import note_velocities, percussion_instruments
from harmonlang.runtime.notation import MAX_VOICES, bar_items, drum_display, voices
from harmonlang.runtime.note_values import Item
from harmonlang.runtime.spelling import BarAccidentals, spell
from harmonlang.runtime.timeline import Bar, Note, Timeline, part_label, part_notes, playable

PPQ = 480
PHRASE_TEXT = {"A": "A", "B": "B", "A'": "A′", "T": "T"}
BASS_CLEF_BELOW = 55  # a part whose middle note lies below G3 reads in the bass clef


def is_unpitched(part: PartInfo) -> bool:
    """Drums and pads: their notes name sounds, not pitches."""
    return bool(part.drum_map)


@dataclass(frozen=True)
class Staff:
    """One staff: the part it shows and its notes; for drums and pads, where each sound sits on it."""

    id: str  # P1, P2, ... as in the MusicXML
    index: int  # into score.parts
    part: PartInfo
    notes: list[Note]
    display: dict[int, tuple[str, str]] | None = None  # drum note -> (display position, notehead)


def _empty_staff() -> Staff:
    placeholder = PartInfo(
        name="(no parts)", role="chords", device="gm", output="main", port=None, channel=1, program=0, range=[0, 127]
    )
    return Staff("P1", -1, placeholder, [])


def staves(score: Score) -> list[Staff]:
    """Pitched parts in the song's order, then the percussion staves, as scores lay them out."""
    order = [i for i, p in enumerate(score.parts) if not is_unpitched(p)]
    order += [i for i, p in enumerate(score.parts) if is_unpitched(p)]
    result = []
    for number, index in enumerate(order, start=1):
        info = score.parts[index]
        notes = playable(part_notes(score, index))
        display = None
        if is_unpitched(info):
            names = {midi: name for name, midi in info.drum_map.items()}
            display = drum_display((n.pitch for n in notes), names, pads=info.role == "samples")
        result.append(Staff(f"P{number}", index, info, notes, display))
    return result


def _quarters(ticks: int, ppq: int) -> Fraction:
    return Fraction(ticks, ppq)


class _Writer:
    def __init__(self, score: Score) -> None:
        self.score = score
        self.ppq = score.ppq
        self.timeline = Timeline(score)
        self.bars = self.timeline.bars
        self.key_ticks = [point.tick for point in score.key_map]
        self.staves = staves(score)
        self.displays = {staff.id: staff.display for staff in self.staves if staff.display is not None}
        self.meters: dict[tuple[int, int], meter.TimeSignature] = {}
        self.notices: list[str] = []  # what the notation could not show exactly

    # ---- the whole score ---------------------------------------------------------------------------------

    def build(self) -> stream.Score:
        result = stream.Score()
        result.metadata = metadata.Metadata(title=self.score.title)
        result.metadata.composer = "harmonc"
        for staff in self.staves or [_empty_staff()]:  # MusicXML needs a staff, even for a song of no parts
            result.insert(0, self._part(staff, first=not result.parts))
        return result

    def _part(self, staff: Staff, first: bool) -> stream.Part:
        info, notes, part_id = staff.part, staff.notes, staff.id
        unpitched = staff.display is not None
        part = stream.Part(id=part_id)
        part.partName = part_label(info)
        part.partAbbreviation = info.name
        lanes = []
        lane_notes = voices(notes)
        if len(lane_notes) > MAX_VOICES:
            self.notices.append(
                f"{info.name}: its notes overlap {len(lane_notes)} deep, written as as many voices; "
                f"MuseScore shows {MAX_VOICES} on a staff"
            )
        for lane in lane_notes:
            items, moved = bar_items(lane, self.bars)
            lanes.append(items)
            if moved:
                self.notices.append(
                    f"{info.name}: {moved} note boundaries finer than a 128th note were moved to the nearest 128th "
                    "in the MusicXML (the MIDI and DAWproject keep them exact)"
                )
        staff_clef = self._clef(notes, unpitched)
        previous_meter: tuple[int, int] | None = None
        for bar in self.bars:
            measure = stream.Measure(number=bar.number)
            if bar.number == 1:
                measure.insert(0, self._instrument(info, part_id))
                measure.insert(0, staff_clef)
            if (bar.numerator, bar.denominator) != previous_meter:
                measure.insert(0, meter.TimeSignature(f"{bar.numerator}/{bar.denominator}"))
                previous_meter = (bar.numerator, bar.denominator)
            if not unpitched:
                for tick, key_info in self._keys_in(bar):
                    measure.insert(_quarters(tick - bar.start, self.ppq), _key(key_info))
            if first:
                self._directions(measure, bar)
            self._fill(measure, bar, lanes, part_id if unpitched else None)
            part.append(measure)
        return part

    # ---- what a measure holds ---------------------------------------------------------------------------

    def _fill(self, measure: stream.Measure, bar: Bar, lanes: list[dict[int, list[Item]]], drums: str | None) -> None:
        playing = [(number, lane[bar.number]) for number, lane in enumerate(lanes, start=1) if bar.number in lane]
        if not playing:
            measure.insert(0, _full_bar_rest(bar, self.ppq))
            return
        placed = []
        for number, items in playing:
            # A lane keeps its voice number in every bar, so a tie into the next bar stays in its voice.
            container = measure if len(lanes) == 1 else stream.Voice(id=str(number))
            placed += self._insert_items(container, items, drums, bar)
            if container is not measure:
                measure.insert(0, container)
        if drums is None:
            self._accidentals(placed, bar)

    def _accidentals(self, placed: list[tuple[Item, Any]], bar: Bar) -> None:
        """Shown where a note leaves the key signature or an earlier note of the bar, in time order over voices."""
        in_force: dict[int, BarAccidentals] = {}
        for item, element in sorted(placed, key=lambda pair: pair[0].offset):
            if item.is_rest:
                continue
            fifths = self._key_at(bar.start + item.offset).fifths
            accidentals = in_force.setdefault(fifths, BarAccidentals(fifths))
            tied_over = item.tie in ("stop", "continue")
            for written in element.pitches:
                spelled = (written.step, int(written.alter), written.octave)
                shown = accidentals.shows(spelled, tied_over)
                if written.accidental is None and shown:
                    written.accidental = pitch.Accidental("natural")
                if written.accidental is not None:
                    written.accidental.displayStatus = shown

    def _insert_items(
        self, container: stream.Stream, items: list[Item], drums: str | None, bar: Bar
    ) -> list[tuple[Item, Any]]:
        elements = [self._element(item, drums, bar.start + item.offset) for item in items]
        # The items fill the bar, so the meter's own beam groups apply (what music21's makeBeams does per bar).
        for element, beams in zip(elements, self._meter(bar).getBeams(elements), strict=True):
            if beams is not None:
                element.beams = beams
        for item, element in zip(items, elements, strict=True):
            container.insert(_quarters(item.offset, self.ppq), element)
        if any(element.duration.tuplets for element in elements):  # brackets start and stop each triplet group
            makeTupletBrackets(container, inPlace=True)
        return list(zip(items, elements, strict=True))

    def _meter(self, bar: Bar) -> meter.TimeSignature:
        signature = (bar.numerator, bar.denominator)
        if signature not in self.meters:
            self.meters[signature] = meter.TimeSignature(f"{bar.numerator}/{bar.denominator}")
        return self.meters[signature]

    def _element(self, item: Item, drums: str | None, tick: int) -> Any:
        length = _written_length(item, self.ppq)
        if item.is_rest:
            rest = note.Rest(duration=length)
            rest.fullMeasure = False  # not "auto": that searches the part for the meter at every rest
            return rest
        if drums is not None:
            heads = [self._unpitched(pitch_number, drums) for pitch_number in item.pitches]
            element: Any = heads[0] if len(heads) == 1 else percussion.PercussionChord(heads)
        else:
            fifths = self._key_at(tick).fifths
            pitches = [_pitch(spell(p, fifths)) for p in item.pitches]
            element = note.Note(pitches[0]) if len(pitches) == 1 else chord.Chord(pitches)
        element.duration = length
        element.volume.velocity = item.velocity
        if item.tie:
            element.tie = tie.Tie(item.tie)
        return element

    def _unpitched(self, number: int, part_id: str) -> note.Unpitched:
        display, head = self.displays[part_id][number]
        unpitched = note.Unpitched(displayName=display)
        unpitched.notehead = head
        return unpitched

    # ---- keys, clefs, instruments, directions ---------------------------------------------------------

    def _keys_in(self, bar: Bar) -> list[tuple[int, KeyInfo]]:
        return [(p.tick, p.key) for p in self.score.key_map if bar.start <= p.tick < bar.end]

    def _key_at(self, tick: int) -> KeyInfo:
        return self.score.key_map[max(0, bisect.bisect_right(self.key_ticks, tick) - 1)].key

    def _clef(self, notes: list[Note], unpitched: bool) -> clef.Clef:
        if unpitched:
            return clef.PercussionClef()
        if not notes:
            return clef.TrebleClef()
        pitches = sorted(n.pitch for n in notes)
        return clef.BassClef() if pitches[len(pitches) // 2] < BASS_CLEF_BELOW else clef.TrebleClef()

    def _instrument(self, info: PartInfo, part_id: str) -> instrument.Instrument:
        if is_unpitched(info):
            sound: instrument.Instrument = instrument.UnpitchedPercussion()
        elif info.program is not None:
            sound = instrument.instrumentFromMidiProgram(info.program)
        else:  # a synth without a program list (the S-1, the T-8's bass)
            sound = instrument.Instrument()
            sound.midiProgram = 80 if info.role != "bass" else 38
        sound.partId = part_id
        sound.instrumentId = f"{part_id}-I1"
        sound.instrumentName = info.name
        sound.midiChannel = info.channel - 1
        return sound

    def _directions(self, measure: stream.Measure, bar: Bar) -> None:
        """Rehearsal marks, phrase names and tempo marks, on the top staff only (readers show them above all)."""
        for scene in self.score.scenes:
            if bar.start <= scene.start < bar.end:
                measure.insert(
                    _quarters(scene.start - bar.start, self.ppq), _above(expressions.RehearsalMark(scene.id))
                )
            for phrase in scene.phrases:
                if bar.start <= phrase.start < bar.end:
                    text = _above(expressions.TextExpression(PHRASE_TEXT[phrase.kind]))
                    measure.insert(_quarters(phrase.start - bar.start, self.ppq), text)
                    if phrase.tempo_drift:
                        word = "accel." if phrase.tempo_drift > 0 else "rit."
                        at = _quarters(phrase.start - bar.start, self.ppq)
                        measure.insert(at, _above(expressions.TextExpression(word)))
        for mark_tick, mark in self._tempo_marks:
            if bar.start <= mark_tick < bar.end:
                measure.insert(_quarters(mark_tick - bar.start, self.ppq), mark)

    @cached_property
    def _tempo_marks(self) -> list[tuple[int, tempo.MetronomeMark]]:
        """A mark at every tempo change but the steps of a drift, which the page writes as `accel.` or `rit.`

        (MuseScore shows every sounding tempo step as a mark, so steps a beat apart would crowd the page;
        the MIDI and DAWproject outputs carry the ramp itself).
        """
        drifting = [(p.start, p.end) for s in self.score.scenes for p in s.phrases if p.tempo_drift]
        marks: list[tuple[int, tempo.MetronomeMark]] = []
        for point in self.score.tempo_map:
            if any(start < point.tick < end for start, end in drifting):
                continue
            mark = _above(tempo.MetronomeMark(number=round(point.bpm), referent=duration.Duration(1.0)))
            mark.numberSounding = point.bpm
            marks.append((point.tick, mark))
        return marks


def _above(direction: Any) -> Any:
    direction.placement = "above"
    return direction


def _key(info: KeyInfo) -> key.KeySignature:
    if info.mode in ("major", "minor"):  # MuseScore 3 rejects the other modes' names in <mode>
        tonic = info.tonic.replace("b", "-") if len(info.tonic) > 1 else info.tonic
        written = key.Key(tonic, info.mode)
        if written.sharps == info.fifths:
            return written
    return key.KeySignature(info.fifths)


def _pitch(spelled: tuple[str, int, int]) -> pitch.Pitch:
    step, alter, octave = spelled
    written = pitch.Pitch(step=step, octave=octave)
    if alter:
        written.accidental = pitch.Accidental(alter)
    return written


def _written_length(item: Item, ppq: int) -> duration.Duration:
    """The value as note_values wrote it: type, dots, and the 3:2 group it sits in."""
    length = duration.Duration(type=item.value, dots=item.dots)
    if item.tuplet:
        length.appendTuplet(duration.Tuplet(3, 2, item.tuplet))
    return length


def _full_bar_rest(bar: Bar, ppq: int) -> note.Rest:
    """A whole-bar rest in any meter: its written value is a whole note, its length the bar's."""
    length = duration.Duration(type="whole")
    length.linked = False
    length.quarterLength = _quarters(bar.length, ppq)
    rest = note.Rest(duration=length)
    rest.fullMeasure = True
    return rest


def musicxml_bytes(score: Score, notices: list[str] | None = None) -> bytes:
    """The MusicXML file; what the notation could not show exactly is added to `notices`."""
    if score.ppq != PPQ:  # the note-value tables count at the Score IR's resolution
        raise ValueError(f"the MusicXML writer reads scores at {PPQ} ticks a quarter note, not {score.ppq}")
    writer = _Writer(score)
    built = writer.build()
    # music21 prints warnings of its own (it runs out of MIDI channels past 16 staves; each staff states its
    # own channel here), which are not the user's concern.
    with contextlib.redirect_stderr(io.StringIO()):
        root = ScoreExporter(built, makeNotation=False).parse()
    if notices is not None:
        notices += writer.notices
    for staff in writer.staves:
        if staff.display is not None:
            percussion_instruments(root, staff)
        note_velocities(root, staff, score.ppq)
    ET.indent(root, space="  ")
    # Serialized to str and encoded once: much faster than ElementTree's own UTF-8 writer.
    return ScoreExporter().xmlHeader() + ET.tostring(root, encoding="unicode").encode() + b"\n"
