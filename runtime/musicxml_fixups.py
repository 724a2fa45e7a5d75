"""What music21 does not write, added to its MusicXML tree afterwards.

music21 writes one instrument per staff and one velocity per chord. Readers
need one instrument per drum sound (MuseScore maps each to its MIDI note)
and each note's own velocity (a kick and a hat struck together differ).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from harmonlang.theory import midi_pitch

if TYPE_CHECKING:
    from harmonlang.runtime.musicxml import Staff

FORTE = 90  # MusicXML's `dynamics` is a percentage of this velocity
DEFAULT_DRUM = 36  # General MIDI's bass drum


def percussion_instruments(root: ET.Element, staff: Staff) -> None:
    """One `score-instrument` per drum sound with its MIDI note, and each note pointing at its sound."""
    part_id, display = staff.id, staff.display or {}
    score_part = root.find(f"part-list/score-part[@id='{part_id}']")
    part_xml = root.find(f"part[@id='{part_id}']")
    if score_part is None or part_xml is None:
        return
    for old in score_part.findall("score-instrument") + score_part.findall("midi-instrument"):
        score_part.remove(old)
    names = {number: name for name, number in staff.part.drum_map.items()}
    # A part that never plays still needs one sound, or readers find no instrument for it.
    sounds = sorted(display) or [min(names, default=DEFAULT_DRUM)]
    instruments = []
    for number in sounds:
        instrument_xml = ET.Element("score-instrument", id=_sound_id(part_id, number))
        ET.SubElement(instrument_xml, "instrument-name").text = names.get(number, f"note {number}")
        instruments.append(instrument_xml)
    for number in sounds:
        midi_xml = ET.Element("midi-instrument", id=_sound_id(part_id, number))
        ET.SubElement(midi_xml, "midi-channel").text = str(staff.part.channel)
        ET.SubElement(midi_xml, "midi-unpitched").text = str(number + 1)
        instruments.append(midi_xml)
    # <score-instrument> and <midi-instrument> follow the part's names and precede anything else.
    names_end = max(i for i, child in enumerate(score_part) if child.tag.startswith("part-"))
    for offset, element in enumerate(instruments, start=1):
        score_part.insert(names_end + offset, element)
    by_place = {place: number for number, place in display.items()}
    for note_xml in part_xml.iter("note"):
        unpitched = note_xml.find("unpitched")
        if unpitched is None:
            continue
        for old in note_xml.findall("instrument"):
            note_xml.remove(old)
        display = f"{unpitched.findtext('display-step')}{unpitched.findtext('display-octave')}"
        number = by_place.get((display, note_xml.findtext("notehead") or "normal"))
        if number is not None:  # <instrument> comes after the pitch, the duration and the ties
            after = max(i for i, child in enumerate(note_xml) if child.tag in ("unpitched", "duration", "tie"))
            note_xml.insert(after + 1, ET.Element("instrument", id=_sound_id(part_id, number)))


def _sound_id(part_id: str, number: int) -> str:
    return f"{part_id}-I{number + 1}"


def note_velocities(root: ET.Element, staff: Staff, ppq: int) -> None:
    """Each note's `dynamics` from its own velocity, found by where it starts and what it sounds."""
    part_xml = root.find(f"part[@id='{staff.id}']")
    if part_xml is None:
        return
    velocity = {(n.tick, n.pitch): n.velocity for n in staff.notes}
    by_place = {place: number for number, place in (staff.display or {}).items()}
    divisions, bar_start = 1, 0
    for measure in part_xml.iter("measure"):
        divisions = int(measure.findtext("attributes/divisions") or divisions)
        position = longest = 0  # in divisions from the bar's start
        last_start = 0
        for element in measure:
            length = int(element.findtext("duration") or 0)
            if element.tag == "backup":
                position -= length
            elif element.tag == "forward":
                position += length
            elif element.tag == "note":
                start = last_start if element.find("chord") is not None else position
                if element.find("chord") is None:
                    last_start, position = position, position + length
                number = _sounding(element, by_place)
                found = velocity.get((bar_start + start * ppq // divisions, number)) if number is not None else None
                if found is not None and not _continues_a_tie(element):
                    element.set("dynamics", f"{found * 100 / FORTE:.2f}")
            longest = max(longest, position)
        bar_start += longest * ppq // divisions


def _sounding(note_xml: ET.Element, by_place: dict[tuple[str, str], int]) -> int | None:
    pitch = note_xml.find("pitch")
    if pitch is not None:
        step, octave = pitch.findtext("step") or "C", int(pitch.findtext("octave") or 4)
        return midi_pitch(step, None, octave) + int(float(pitch.findtext("alter") or 0))
    unpitched = note_xml.find("unpitched")
    if unpitched is None:
        return None
    display = f"{unpitched.findtext('display-step')}{unpitched.findtext('display-octave')}"
    return by_place.get((display, note_xml.findtext("notehead") or "normal"))


def _continues_a_tie(note_xml: ET.Element) -> bool:
    types = {tie.get("type") for tie in note_xml.findall("tie")}
    return "stop" in types
