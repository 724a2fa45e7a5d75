"""MusicXML: music21 reads every example back to the score's notes, and MuseScore 3 engraves it without errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import require_tool
from music21 import chord, converter, expressions, key, meter, note, tempo
from support import METERS_SONG, SONG_NAMES

from harmonlang.cli import main
from harmonlang.compiler import compile_file
from harmonlang.runtime.musicxml import musicxml_bytes, staves
from harmonlang.runtime.notation import GM_DRUM_DISPLAY, Item, bar_items, drum_display, notatable_lengths, voices
from harmonlang.runtime.timeline import Bar, Note, Timeline, part_label

ERROR_WORDS = ("error", "not a valid", "unsupported", "invalid", "failed")


@pytest.fixture(scope="module")
def written(example_songs, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("musicxml")
    paths = {}
    for name, score in example_songs.items():
        paths[name] = folder / f"{name}.musicxml"
        paths[name].write_bytes(musicxml_bytes(score))
    return paths


@pytest.fixture(scope="module")
def parsed(written) -> dict:
    return {name: converter.parse(str(path), format="musicxml", forceSource=True) for name, path in written.items()}


def ticks(quarters: Fraction | float) -> int:
    return round(Fraction(quarters) * 480)


def read_notes(m21_part, display: dict[int, tuple[str, str]] | None) -> list[tuple[int, int, int, int]]:
    """(tick, duration, MIDI note, velocity) of every note music21 reads, ties joined; drums decoded by place."""
    back = {place: number for number, place in (display or {}).items()}
    found = []
    for element in m21_part.stripTies().recurse().notes:
        start, length = ticks(element.getOffsetInHierarchy(m21_part)), ticks(element.duration.quarterLength)
        members = list(element.notes) if isinstance(element, chord.ChordBase) else [element]
        for member in members:
            number = back[(member.displayName, member.notehead)] if display is not None else member.pitch.midi
            velocity = (member if member.hasVolumeInformation() else element).volume.velocity
            found.append((start, length, number, velocity))
    return sorted(found)


# ---- layout, without music21 -----------------------------------------------------------------------------


def test_lengths_split_into_values_a_notehead_can_show():
    assert notatable_lengths(480, 480) == [480]
    assert notatable_lengths(600, 480) == [480, 120]  # a quarter tied to a 16th
    assert notatable_lengths(720, 480) == [720]  # dotted quarter
    assert notatable_lengths(160, 480) == [160]  # an eighth-note triplet
    assert notatable_lengths(2400, 480) == [1920, 480]
    assert sum(notatable_lengths(1234, 480)) == 1234


def test_a_note_across_a_bar_line_is_tied_and_bars_fill_with_rests():
    bars = [Bar(1, 0, 1920, 4, 4), Bar(2, 1920, 1920, 4, 4)]
    (lane,) = voices([Note(1440, 960, 60, 90, 1)])
    items = bar_items(lane, bars, 480)
    assert items[1] == [Item(0, 1440, ()), Item(1440, 480, (60,), 90, "start")]
    assert items[2] == [Item(0, 480, (60,), 90, "stop"), Item(480, 1440, ())]


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
    assert [t for t, _ in marks] == [p.tick for p in score.tempo_map]
    assert all(bpm == pytest.approx(p.bpm, abs=0.01) for (_, bpm), p in zip(marks, score.tempo_map, strict=True))
    drift = next(p for s in score.scenes for p in s.phrases if p.tempo_drift)
    text = " ".join(str(t.content) for t in top.recurse().getElementsByClass(expressions.TextExpression))
    assert "accel." in text and drift.tempo_drift > 0


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


def test_the_compile_path_does_not_import_music21():
    code = (
        "import sys, harmonlang.cli, harmonlang.compiler, harmonlang.runtime.midi; assert 'music21' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- MuseScore 3 ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engraved(written, tmp_path_factory) -> dict[str, tuple[int, str, Path]]:
    """Every example converted to PDF by MuseScore 3, two at a time (its conversions are single-threaded)."""
    mscore = require_tool("mscore3")
    folder = tmp_path_factory.mktemp("pdf")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    results: dict[str, tuple[int, str, Path]] = {}
    pending = list(written.items())
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


@pytest.mark.parametrize("name", SONG_NAMES)
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
