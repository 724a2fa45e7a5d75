"""Every example's MIDI, read back with mido and with pretty_midi, holds exactly the score's notes.

Pitch, start tick, duration, velocity and channel, part by part; and the
per-scene mix, the phrase markers and UTF-8 names that the writer adds.
"""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pretty_midi
import pytest
from support import SONG_NAMES, score_notes, track_notes

from harmonlang.cli import main
from harmonlang.runtime.events import dump_midi
from harmonlang.runtime.midi import midi_bytes, pan_cc, volume_cc
from harmonlang.runtime.timeline import Note, phrase_marker, playable


@pytest.fixture(scope="module")
def written(example_songs) -> dict[str, bytes]:
    return {name: midi_bytes(score) for name, score in example_songs.items()}


def test_there_are_example_songs():
    assert {"minimal", "digital-dreams", "rig", "short"} <= set(SONG_NAMES)


@pytest.mark.parametrize("name", SONG_NAMES)
def test_mido_reads_back_the_scores_notes(name, example_songs, written):
    score = example_songs[name]
    midi = mido.MidiFile(file=io.BytesIO(written[name]))
    assert midi.type == 1 and midi.ticks_per_beat == 480
    assert len(midi.tracks) == 1 + len(score.parts)
    total = 0
    for index, track in enumerate(midi.tracks[1:]):
        expected = score_notes(score, index)
        assert track_notes(track) == expected, score.parts[index].name
        total += len(expected)
    assert total > 1000  # the filled song, not just the writer's themes


@pytest.mark.parametrize("name", SONG_NAMES)
def test_pretty_midi_reads_back_the_scores_notes(name, example_songs, written):
    """pretty_midi reads in seconds through the tempo map (drifts included); back in ticks, every note is exact."""
    score = example_songs[name]
    midi = pretty_midi.PrettyMIDI(io.BytesIO(written[name]))
    by_track: dict[str, list[tuple[int, int, int, int]]] = {}
    drums: dict[str, set[bool]] = {}
    for instrument in midi.instruments:
        notes = by_track.setdefault(instrument.name, [])
        drums.setdefault(instrument.name, set()).add(instrument.is_drum)
        for note in instrument.notes:
            start, end = midi.time_to_tick(note.start), midi.time_to_tick(note.end)
            notes.append((start, end - start, note.pitch, note.velocity))
    for index, part in enumerate(score.parts):
        expected = score_notes(score, index)
        name_in_file = next(n for n in by_track if n.startswith(f"{part.name} ("))
        assert sorted(by_track[name_in_file]) == [n[:4] for n in expected], part.name
        assert drums[name_in_file] == {n[4] == 10 for n in expected}, part.name  # channel 10 is GM drums


def test_a_marker_at_every_scene_and_phrase(example_songs, written):
    score = example_songs["digital-dreams"]
    midi = mido.MidiFile(file=io.BytesIO(written["digital-dreams"]))
    tick, markers = 0, []
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "marker":
            markers.append((tick, message.text))
    expected = []
    for scene in score.scenes:
        expected.append((scene.start, scene.id))
        expected += [(phrase.start, phrase_marker(scene.id, phrase.kind)) for phrase in scene.phrases]
    assert markers == expected
    assert len(markers) == 48 * 5
    assert (score.scenes[0].phrases[1].start, "I.you.1a B bridge") in markers


def test_level_and_pan_follow_each_scenes_mix(example_songs, written):
    score = example_songs["digital-dreams"]
    midi = mido.MidiFile(file=io.BytesIO(written["digital-dreams"]))
    keys = next(i for i, p in enumerate(score.parts) if p.name == "keys")
    tick, controls = 0, {7: {}, 10: {}}
    for message in midi.tracks[1 + keys]:
        tick += message.time
        if message.type == "control_change" and message.control in controls:
            controls[message.control][tick] = message.value
    levels = [volume_cc(scene.mix["keys"].level_db) for scene in score.scenes]
    pans = [pan_cc(scene.mix["keys"].pan) for scene in score.scenes]
    assert len(set(levels)) > 1, "the example's mix moves the keys between scenes"
    for scene, level, pan in zip(score.scenes, levels, pans, strict=True):
        for control, wanted in ((7, level), (10, pan)):
            sent = controls[control]
            assert sent[max(t for t in sent if t <= scene.start)] == wanted, (scene.id, control)
    assert pan_cc(-1.0) == 0 and pan_cc(0.0) == 64 and pan_cc(1.0) == 127
    assert volume_cc(0.0) == 100 and volume_cc(-6.0) == 71 and volume_cc(20000.0) == 127  # no overflow


def test_names_and_markers_are_utf8(tmp_path: Path):
    (tmp_path / "song.circle").write_text(
        'song "Nuit blanche · 夜" { key A minor; sequences 1; scenes 1 }\n'
        'theme hero = "a4/4 c5/4"\npart lead : protagonist plays hero\n',
        encoding="utf-8",
    )
    assert main(["build", str(tmp_path / "song.circle"), "-o", str(tmp_path / "out"), "--emit", "midi", "-q"]) == 0
    data = (tmp_path / "out" / "song.mid").read_bytes()
    assert "Nuit blanche · 夜".encode() in data
    assert "track 0: 'Nuit blanche · 夜'" in dump_midi(data=data)


def test_a_note_struck_again_before_it_ends_is_cut_there():
    """One channel cannot sound one key twice: the earlier note ends where the key is struck again."""
    notes = [Note(0, 960, 60, 90, 1), Note(0, 480, 60, 80, 1), Note(480, 480, 60, 70, 1), Note(480, 480, 60, 70, 2)]
    assert playable(notes) == [Note(0, 480, 60, 90, 1), Note(480, 480, 60, 70, 1), Note(480, 480, 60, 70, 2)]


def test_a_mix_move_beyond_sixty_db_is_an_error_not_a_crash(tmp_path: Path, capsys):
    (tmp_path / "loud.circle").write_text(
        'song "Loud" { key A minor; sequences 1; scenes 1 }\ntheme t = "a4/4"\n'
        "part lead : protagonist plays t\nact I { mix lead +20000dB }\n",
        encoding="utf-8",
    )
    assert main(["build", str(tmp_path / "loud.circle"), "-o", str(tmp_path / "out"), "--emit", "midi"]) == 1
    err = capsys.readouterr().err
    assert "loud.circle:4:18: error: `mix` moves a level by -60dB to +60dB" in err and "Traceback" not in err
