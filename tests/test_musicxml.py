"""MusicXML: music21 reads every example back to the score's notes, and MuseScore 3 engraves it without errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
from music21 import chord, converter, expressions, key, meter, note, stream, tempo
from support import EXAMPLES, METERS_SONG, SONG_NAMES, require_tool

from harmonlang.cli import main
from harmonlang.compiler import compile_file
from harmonlang.runtime.musicxml import musicxml_bytes, staves
from harmonlang.runtime.notation import GM_DRUM_DISPLAY, bar_items, drum_display, voices
from harmonlang.runtime.note_values import Item, plain_values, triplet_values, write_bar
from harmonlang.runtime.spelling import BarAccidentals, spell
from harmonlang.runtime.timeline import Bar, Note, Timeline, part_label

ERROR_WORDS = ("error", "not a valid", "unsupported", "invalid", "failed")


def write_all(scores: dict, folder: Path) -> dict[str, Path]:
    paths = {name: folder / f"{name}.musicxml" for name in scores}
    for name, score in scores.items():
        paths[name].write_bytes(musicxml_bytes(score))
    return paths


@pytest.fixture(scope="module")
def written(example_songs, tmp_path_factory) -> dict[str, Path]:
    return write_all(example_songs, tmp_path_factory.mktemp("musicxml"))


# Songs that push the notation: F# and Gb major, 7/8 and 5/4, triplets in a part-beat, a drift, a drum part
# that never plays; and a song without parts (MusicXML still needs a staff).
EDGE_SONGS = {
    "edges": 'song "Edges · Kanten" { key F# major; tempo 90; meter 7/8; sequences 1; scenes 2 }\n'
    'theme t = "f#4/8t g#4/8t a#4/8t e#4/4 b4/16 c#5/16t d#5/16t e#5/16t | f#5/2 r/8 c5/4"\n'
    'groove silent = { kick ".............."; snare ".............." }\n'
    "part lead : protagonist plays t\npart pad : chords plays t\npart beat : drums plays silent\n"
    "act IIa { key Gb major; tempo drift +4% }\nscene I.you.1b { meter 5/4 }\n",
    "no-parts": 'song "Nothing Yet" { key A minor; sequences 1; scenes 1 }\n',
}


# Overlapping notes of different lengths (three voices), ties over the bar line in two of them, and an F#
# tied into bar 2 then struck again there: it must show its sharp again.
VOICED = [(0, 1920, 60, 80), (0, 480, 64, 90), (480, 960, 67, 90), (480, 480, 72, 90)]
VOICED += [(1440, 960, 66, 70), (1440, 720, 76, 90), (2400, 240, 66, 70), (2640, 1200, 69, 60)]


def voiced_score(folder: Path):
    (folder / "voiced.circle").write_text(
        'song "Voices" { key C major; sequences 1; scenes 1 }\ntheme t = "c4/1 | c4/1"\n'
        "part lead : protagonist plays t\n",
        encoding="utf-8",
    )
    score = compile_file(str(folder / "voiced.circle")).filled_score
    lead = score.scenes[0].phrases[0].cells[0]
    assert lead.part == "lead" and score.scenes[0].phrases[0].end == 3840
    lead.events = list(VOICED)
    return score


@pytest.fixture(scope="module")
def edge_scores(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("edges")
    scores = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", "off")
        for name, text in EDGE_SONGS.items():
            (folder / f"{name}.circle").write_text(text, encoding="utf-8")
            scores[name] = compile_file(str(folder / f"{name}.circle")).filled_score
        scores["voiced"] = voiced_score(folder)
    return scores


@pytest.fixture(scope="module")
def edge_written(edge_scores, tmp_path_factory) -> dict[str, Path]:
    return write_all(edge_scores, tmp_path_factory.mktemp("edges-xml"))


def tied(note_xml, kind: str) -> bool:
    return note_xml.find(f"tie[@type='{kind}']") is not None


def test_overlapping_notes_take_voices_that_keep_their_number_and_accidentals(edge_scores, edge_written):
    score, path = edge_scores["voiced"], edge_written["voiced"]
    lead = converter.parse(str(path)).parts[0]
    (staff,) = [s for s in staves(score) if s.part.name == "lead"]
    assert set(VOICED) <= {(n.tick, n.dur, n.pitch, n.velocity) for n in staff.notes}
    assert [n[:3] for n in read_notes(lead, None)] == sorted((n.tick, n.dur, n.pitch) for n in staff.notes)
    root = ET.parse(path).getroot()
    measures = root.find("part").findall("measure")[:2]
    # A tie into bar 2 continues in the voice it started in.
    for measure in measures:
        for note_xml in measure.iter("note"):
            assert note_xml.findtext("voice") is not None
    started = {
        (n.findtext("pitch/step"), n.findtext("voice"))
        for n in measures[0].iter("note")
        if n.find("tie[@type='start']") is not None
    }
    stopped = {
        (n.findtext("pitch/step"), n.findtext("voice"))
        for n in measures[1].iter("note")
        if n.find("tie[@type='stop']") is not None
    }
    assert started and started <= stopped  # (bar 2 ties its own pieces too)
    # Bar 2: the F# tied over shows no sharp; the F# struck again there shows it.
    sharps = [n for n in measures[1].iter("note") if n.findtext("pitch/step") == "F"]
    shown = {"tied over" if tied(n, "stop") else "struck": n.findtext("accidental") for n in sharps}
    assert shown == {"tied over": None, "struck": "sharp"}


@pytest.fixture(scope="module")
def parsed(written) -> dict:
    return {name: converter.parse(str(path), format="musicxml", forceSource=True) for name, path in written.items()}


def ticks(quarters: Fraction | float) -> int:
    return round(Fraction(quarters) * 480)


def read_notes(m21_part, display: dict[int, tuple[str, str]] | None) -> list[tuple[int, int, int, int]]:
    """(tick, duration, MIDI note, velocity) of every note music21 reads, drums decoded by place.

    Tied pieces are joined within their voice, as a reader must: music21's own `stripTies` matches ties
    by pitch across voices.
    """
    back = {place: number for number, place in (display or {}).items()}
    found, open_ties = [], {}
    for element in m21_part.recurse().notes:
        start, length = ticks(element.getOffsetInHierarchy(m21_part)), ticks(element.duration.quarterLength)
        voice = element.activeSite.id if isinstance(element.activeSite, stream.Voice) else "1"
        members = list(element.notes) if isinstance(element, chord.ChordBase) else [element]
        for member in members:
            number = back[(member.displayName, member.notehead)] if display is not None else member.pitch.midi
            velocity = (member if member.hasVolumeInformation() else element).volume.velocity
            tie_type = (member.tie or element.tie).type if (member.tie or element.tie) else None
            key = (voice, number)
            if tie_type in ("stop", "continue") and key in open_ties:
                index = open_ties[key]
                tick, held, _, vel = found[index]
                found[index] = (tick, held + length, number, vel)
                if tie_type == "stop":
                    del open_ties[key]
                continue
            found.append((start, length, number, velocity))
            if tie_type == "start":
                open_ties[key] = len(found) - 1
    return sorted(found)


# ---- layout, without music21 -----------------------------------------------------------------------------


def test_lengths_split_into_values_a_notehead_can_show():
    assert plain_values(480) == [(480, "quarter", 0)]
    assert plain_values(600) == [(480, "quarter", 0), (120, "16th", 0)]  # a quarter tied to a 16th
    assert plain_values(720) == [(720, "quarter", 1)]  # dotted quarter
    assert plain_values(2400) == [(1920, "whole", 0), (480, "quarter", 0)]
    assert plain_values(160) is None  # off the plain grid: a triplet
    assert triplet_values(160) == [(160, "eighth", 0)]  # written as an eighth inside a 3:2 group
    assert triplet_values(80) == [(80, "16th", 0)]
    assert triplet_values(240) == [(240, "eighth", 1)]


def test_a_note_across_a_bar_line_is_tied_and_bars_fill_with_rests():
    bars = [Bar(1, 0, 1920, 4, 4), Bar(2, 1920, 1920, 4, 4)]
    (lane,) = voices([Note(1440, 960, 60, 90, 1)])
    items, moved = bar_items(lane, bars)
    assert moved == 0
    assert [(i.offset, i.length, i.pitches, i.tie, i.value, i.dots) for i in items[1]] == [
        (0, 1440, (), None, "half", 1),
        (1440, 480, (60,), "start", "quarter", 0),
    ]
    assert [(i.offset, i.length, i.pitches, i.tie, i.value) for i in items[2]] == [
        (0, 480, (60,), "stop", "quarter"),
        (480, 1440, (), None, "half"),
    ]


def test_a_beat_with_triplet_timing_is_one_whole_bracketed_group():
    """One 16th-triplet note, as a variation may leave it: its beat is written as a full 3:2 group."""
    bar = [Item(0, 80, (60,), 90), Item(80, 1840, ())]
    written, moved = write_bar(bar, 1920)
    first_beat = [w for w in written if w.offset < 480]
    assert moved == 0
    assert sum(w.length for w in first_beat) == 480 and all(w.tuplet == "eighth" for w in first_beat)
    assert [(w.offset, w.length, w.value) for w in first_beat] == [
        (0, 80, "16th"),
        (80, 320, "quarter"),
        (400, 80, "16th"),
    ]
    assert all(w.tuplet is None for w in written if w.offset >= 480)
    assert sum(w.length for w in written) == 1920


def test_timing_finer_than_a_128th_moves_to_the_nearest_one_and_is_counted():
    written, moved = write_bar([Item(0, 7, (60,), 90), Item(7, 1913, ())], 1920)
    assert moved == 1 and sum(w.length for w in written) == 1920
    assert all(w.value for w in written)


def test_spelling_follows_the_key_and_accidentals_the_bar():
    assert spell(65, 6) == ("E", 1, 4)  # E sharp in F sharp major
    assert spell(59, -6) == ("C", -1, 4)  # C flat in G flat major, in octave 4
    assert spell(61, 2) == ("C", 1, 4) and spell(61, -1) == ("D", -1, 4)
    assert spell(61, 0) == ("D", -1, 4) and spell(66, 0) == ("F", 1, 4)  # as chord symbols spell them in C
    bar = BarAccidentals(-3)  # E flat major: B, E, A flat
    assert not bar.shows(spell(63, -3))  # E flat: in the key signature
    assert bar.shows(("E", 0, 4))  # E natural: shown
    assert not bar.shows(("E", 0, 4))  # again in the bar: not shown
    assert bar.shows(("E", -1, 4))  # back to E flat: shown


def test_chords_share_a_voice_and_overlaps_take_another():
    notes = [Note(0, 960, 60, 90, 1), Note(0, 960, 64, 90, 1), Note(480, 480, 67, 90, 1), Note(960, 480, 72, 90, 1)]
    lanes = voices(notes)
    assert [[g.pitches for g in lane] for lane in lanes] == [[(60, 64), (72,)], [(67,)]]


def test_every_drum_sound_gets_its_own_place_on_the_staff():
    kit = list(range(35, 82))
    places = drum_display(kit, {}, pads=False)
    assert len(set(places.values())) == len(kit)
    assert places[36] == GM_DRUM_DISPLAY[36] and places[42] == ("G5", "x")
    pads = drum_display(range(36, 52), {n: f"pad{n - 35}" for n in range(36, 52)}, pads=True)
    steps = [pads[n][0] for n in range(36, 52)]
    assert len(set(steps)) == 16 and steps[0] == "D4"


# ---- the examples, read back with music21 ------------------------------------------------------------------


@pytest.mark.parametrize("name", SONG_NAMES)
def test_music21_reads_back_the_scores_notes(name, example_songs, parsed):
    score = example_songs[name]
    layout = staves(score)
    parts = list(parsed[name].parts)
    assert [p.partName for p in parts] == [part_label(s.part) for s in layout]
    assert len(layout) == len(score.parts)
    for staff, m21_part in zip(layout, parts, strict=True):
        expected = sorted((n.tick, n.dur, n.pitch, n.velocity) for n in staff.notes)
        found = read_notes(m21_part, staff.display)
        assert [n[:3] for n in found] == [n[:3] for n in expected], staff.part.name
        # Velocity travels as MusicXML's `dynamics` percentage; music21 rounds it back within one step.
        assert all(abs(a[3] - b[3]) <= 1 for a, b in zip(found, expected, strict=True)), staff.part.name


@pytest.mark.parametrize("name", SONG_NAMES)
def test_pitched_staves_then_one_percussion_staff_per_drum_or_pad_part(name, example_songs, parsed):
    layout = staves(example_songs[name])
    kinds = [staff.display is not None for staff in layout]
    assert kinds == sorted(kinds), "percussion staves come last"
    for staff, m21_part in zip(layout, parsed[name].parts, strict=True):
        heads = list(m21_part.recurse().notes)
        if staff.display is None:
            assert all(not isinstance(n, note.Unpitched) for n in heads)
            continue
        assert m21_part.recurse().getElementsByClass("PercussionClef")
        members = [m for n in heads for m in (n.notes if isinstance(n, chord.ChordBase) else [n])]
        assert members and all(isinstance(m, note.Unpitched) for m in members)


def test_the_drum_staff_names_each_sound_with_its_midi_note(example_songs, written):
    text = written["digital-dreams"].read_text(encoding="utf-8")
    beat = next(s for s in staves(example_songs["digital-dreams"]) if s.part.name == "beat")
    assert f'<score-instrument id="{beat.id}-I37">' in text  # the T-8 kick, note 36
    assert "<midi-unpitched>37</midi-unpitched>" in text
    assert f'<instrument id="{beat.id}-I43" />' in text  # a closed hat on a note


def test_a_rehearsal_mark_at_every_scene(example_songs, parsed):
    score = example_songs["digital-dreams"]
    top = parsed["digital-dreams"].parts[0]
    marks = [
        (ticks(m.getOffsetInHierarchy(top)), m.content)
        for m in top.recurse().getElementsByClass(expressions.RehearsalMark)
    ]
    assert marks == [(scene.start, scene.id) for scene in score.scenes]


def test_key_changes_on_pitched_staves_only(example_songs, parsed):
    score = example_songs["digital-dreams"]
    layout = staves(score)
    for staff, m21_part in zip(layout, parsed["digital-dreams"].parts, strict=True):
        signatures = [
            (ticks(k.getOffsetInHierarchy(m21_part)), k.sharps)
            for k in m21_part.recurse().getElementsByClass(key.KeySignature)
        ]
        if staff.display is not None:
            assert signatures == []
        else:
            assert signatures == [(p.tick, p.key.fifths) for p in score.key_map]


def test_tempo_marks_sound_the_tempo_map(example_songs, parsed):
    score = example_songs["digital-dreams"]
    top = parsed["digital-dreams"].parts[0]
    marks = [
        (ticks(m.getOffsetInHierarchy(top)), m.numberSounding or m.number)
        for m in top.recurse().getElementsByClass(tempo.MetronomeMark)
    ]
    drifting = [(p.start, p.end) for s in score.scenes for p in s.phrases if p.tempo_drift]
    steady = [p for p in score.tempo_map if not any(a < p.tick < b for a, b in drifting)]
    assert 0 < len(steady) < len(score.tempo_map)  # the example drifts
    assert [t for t, _ in marks] == [p.tick for p in steady]
    assert all(bpm == pytest.approx(p.bpm, abs=0.01) for (_, bpm), p in zip(marks, steady, strict=True))
    # Each drift reads `accel.` where it starts, and the next mark is the tempo it returns to.
    words = [
        (ticks(t.getOffsetInHierarchy(top)), t.content)
        for t in top.recurse().getElementsByClass(expressions.TextExpression)
    ]
    assert [tick for tick, text in words if text == "accel."] == [start for start, _ in drifting]


def test_meter_changes_and_bars(tmp_path: Path):
    (tmp_path / "meters.circle").write_text(METERS_SONG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", "off")
        score = compile_file(str(tmp_path / "meters.circle")).filled_score
    path = tmp_path / "meters.musicxml"
    path.write_bytes(musicxml_bytes(score))
    top = converter.parse(str(path), format="musicxml", forceSource=True).parts[0]
    signatures = [
        (ticks(ts.getOffsetInHierarchy(top)), ts.numerator, ts.denominator)
        for ts in top.recurse().getElementsByClass(meter.TimeSignature)
    ]
    assert signatures == [(p.tick, p.numerator, p.denominator) for p in score.meter_map]
    assert len(top.getElementsByClass("Measure")) == len(Timeline(score).bars)
    for staff, m21_part in zip(staves(score), converter.parse(str(path)).parts, strict=True):
        expected = sorted((n.tick, n.dur, n.pitch) for n in staff.notes)
        assert [n[:3] for n in read_notes(m21_part, staff.display)] == expected


def test_harmonc_writes_musicxml(tmp_path: Path):
    song = tmp_path / "song.circle"
    song.write_text(
        'song "One" { key D dorian; sequences 1; scenes 1 }\ntheme t = "d4/4 e4/4 f4/2"\n'
        "part lead : protagonist plays t\npart beat : drums\n",
        encoding="utf-8",
    )
    assert main(["build", str(song), "-o", str(tmp_path / "out"), "--emit", "musicxml", "-q"]) == 0
    text = (tmp_path / "out" / "song.musicxml").read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>') and "<score-partwise" in text
    assert "<mode>dorian</mode>" not in text  # MuseScore 3 takes only major and minor there
    assert re.search(r"<key>\s*<fifths>0</fifths>\s*</key>", text)  # D dorian: C major's signature


def test_only_musicxml_and_logic_import_music21(tmp_path: Path):
    """A build of every other output never loads music21 (it costs a second at start-up)."""
    song = EXAMPLES / "short.circle"
    code = (
        "import sys; from harmonlang.cli import main\n"
        f"assert main(['build', {str(song)!r}, '-o', {str(tmp_path)!r}, '-q', '--emit', "
        "'ast,ir,score,midi,events,dawproject']) == 0\n"
        "assert 'music21' not in sys.modules, 'music21 was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "HARMONLANG_CACHE_DIR": "off"})


# ---- MuseScore 3 ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engraved(written, edge_written, tmp_path_factory) -> dict[str, tuple[int, str, Path]]:
    """Every example converted to PDF by MuseScore 3, two at a time (its conversions are single-threaded)."""
    mscore = require_tool("mscore3")
    folder = tmp_path_factory.mktemp("pdf")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    results: dict[str, tuple[int, str, Path]] = {}
    pending = list(written.items()) + list(edge_written.items())
    while pending:
        batch, pending = pending[:2], pending[2:]
        running = []
        for name, source in batch:
            pdf = folder / f"{name}.pdf"
            process = subprocess.Popen(
                [mscore, "-o", str(pdf), str(source)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            running.append((name, pdf, process))
        for name, pdf, process in running:
            output, _ = process.communicate(timeout=600)
            results[name] = (process.returncode, output.decode(errors="replace"), pdf)
    return results


@pytest.mark.parametrize("name", [*SONG_NAMES, *EDGE_SONGS, "voiced"])
def test_musescore_engraves_it_without_errors(name, engraved):
    code, output, pdf = engraved[name]
    assert code == 0, output
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    # MuseScore reports import problems as "Error at line ..." and rejects invalid files by name.
    problems = [line for line in output.splitlines() if any(word in line.lower() for word in ERROR_WORDS)]
    assert problems == [], "\n".join(problems[:20])


def test_triplets_chords_and_ties_read_back(tmp_path: Path):
    song = tmp_path / "poly.circle"
    song.write_text(
        'song "Poly" { key Eb major; tempo 100; meter 6/8; sequences 1; scenes 1 }\n'
        'theme t = "[eb4 g4 bb4]/2. | c4/8t d4/8t eb4/8t f4/4 g4/4 r/16 ab4/16 | bb4/1"\n'
        "part lead : protagonist plays t\npart pad : chords plays t\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", "off")
        score = compile_file(str(song)).filled_score
    path = tmp_path / "poly.musicxml"
    path.write_bytes(musicxml_bytes(score))
    text = path.read_text(encoding="utf-8")
    assert '<tuplet type="start"' in text and '<tie type="start"' in text
    assert re.search(r"<step>E</step>\s*<alter>-1</alter>", text)  # spelled with flats in a flat key
    for staff, m21_part in zip(staves(score), converter.parse(str(path)).parts, strict=True):
        expected = sorted((n.tick, n.dur, n.pitch) for n in staff.notes)
        assert [n[:3] for n in read_notes(m21_part, staff.display)] == expected, staff.part.name


def test_past_sixteen_staves_music21_keeps_quiet(example_songs, capsys, tmp_path):
    """music21 warns on stderr when it runs out of MIDI channels; each staff states its own, so say nothing."""
    crowded = example_songs["short"].model_copy(deep=True)
    crowded.parts = [p.model_copy(update={"name": f"{p.name}{i}"}) for i, p in enumerate(crowded.parts * 4)]
    for scene in crowded.scenes:
        for phrase in scene.phrases:
            phrase.cells = phrase.cells * 4
    notices: list[str] = []
    path = tmp_path / "crowded.musicxml"
    path.write_bytes(musicxml_bytes(crowded, notices))
    assert capsys.readouterr().err == "" and notices == []
    assert len(converter.parse(str(path)).parts) == len(crowded.parts) == 20
