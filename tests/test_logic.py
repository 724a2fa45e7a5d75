"""The Logic Pro template folder: the 16-track SMF, the MusicXML, the stems, the AppleScript, ROUTING.md, README.md."""

from __future__ import annotations

import re
from pathlib import Path

import mido
import pytest
from support import EXAMPLES, score_notes, track_notes

from harmonlang.cli import main
from harmonlang.compiler import compile_file
from harmonlang.runtime.logic import SLOTS, applescript, layout, logic_files
from harmonlang.runtime.timeline import Timeline

SLOT_NAMES = [slot.label for slot in SLOTS]


@pytest.fixture(scope="module")
def rig_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("logic")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", str(out / "cache"))
        assert main(["build", str(EXAMPLES / "rig.circle"), "-o", str(out), "--emit", "logic,musicxml", "-q"]) == 0
    return out


def test_the_folder_holds_the_template(rig_folder):
    folder = rig_folder / "rig.logic"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "ROUTING.md",
        "open-in-logic.applescript",
        "rig.mid",
        "rig.musicxml",
        "stems",
    ]
    parts = {f"{part.name}.wav" for part in compile_file(str(EXAMPLES / "rig.circle")).filled_score.parts}
    assert parts <= {p.name for p in (folder / "stems").iterdir()}  # the template's stems: a WAV per part
    # The same MusicXML as `--emit musicxml` in the same build.
    assert (folder / "rig.musicxml").read_bytes() == (rig_folder / "rig.musicxml").read_bytes()
    assert not [p for p in rig_folder.rglob(".*.tmp")], "atomic writes leave no temporary files"


def test_sixteen_tracks_in_the_templates_order_named_with_their_destination(rig_folder, example_songs):
    score = example_songs["rig"]
    midi = mido.MidiFile(str(rig_folder / "rig.logic" / "rig.mid"))
    assert midi.type == 1 and midi.ticks_per_beat == 480
    names = [track.name for track in midi.tracks[1:]]
    assert len(names) == 16
    for number, (name, slot) in enumerate(zip(names, SLOT_NAMES, strict=True), start=1):
        assert name.startswith(f"{number:02d} {slot}"), name
    assert names[0] == "01 Protagonist lead: lead > S-1 ch3"
    assert names[2] == "03 Antagonist: dark > KeyStep 37 ch1"
    assert names[6] == "07 Bass: bass > T-8 bass ch2"
    assert names[8] == "09 Drums: drums > T-8 drums ch10"
    assert names[10] == "11 Sampler: chops > SP-404MKII A ch1"
    assert names[1] == "02 Protagonist double > S-1 (empty)"
    # Every part's notes are in its slot's track, exactly; the empty slots hold none.
    for track in layout(score):
        notes = track_notes(midi.tracks[track.number])
        assert notes == (score_notes(score, track.part) if track.part is not None else []), track.label


def test_markers_and_tempo_come_with_it(rig_folder, example_songs):
    score = example_songs["rig"]
    midi = mido.MidiFile(str(rig_folder / "rig.logic" / "rig.mid"))
    kinds = [m.type for m in midi.tracks[0]]
    assert kinds.count("marker") == len(score.scenes) * 5  # each scene, and each of its four phrases
    assert kinds.count("set_tempo") == len(score.tempo_map)


def test_effects_parts_go_to_fx_and_risers_and_extra_parts_are_never_dropped(example_songs):
    dreams = example_songs["digital-dreams"]
    tracks = {t.label: t for t in layout(dreams)}
    assert dreams.parts[tracks["FX and risers"].part].name == "fx"
    assert dreams.parts[tracks["Sampler"].part].name == "chops"
    crowded = dreams.model_copy(deep=True)  # 21 protagonists: 2 slots of their own, 2 spares, then 17 and up
    crowded.parts = [
        p.model_copy(update={"name": f"lead{i}", "role": "protagonist"}) for i, p in enumerate(crowded.parts * 3)
    ]
    for scene in crowded.scenes:
        for phrase in scene.phrases:
            phrase.cells = phrase.cells * 3
    placed = layout(crowded)
    assert sorted(t.part for t in placed if t.part is not None) == list(range(len(crowded.parts)))
    assert [t.number for t in placed] == list(range(1, len(placed) + 1))


def test_a_part_the_song_moves_to_another_device_says_so(example_songs):
    """digital-dreams' lead plays the S-1, the GM strings in step return, then the S-1 again."""
    dreams = example_songs["digital-dreams"]
    lead = next(t for t in layout(dreams) if t.part is not None and dreams.parts[t.part].name == "lead")
    assert (
        lead.name(dreams)
        == "01 Protagonist lead: lead > S-1 ch3, General MIDI synth ch2 from bar 289, S-1 ch3 from bar 337"
    )
    sheet = logic_files(dreams, "digital-dreams", b"")["ROUTING.md"].decode()
    assert "|  |  |  |  | General MIDI synth | FLUID Synth | 2 | 49 | from bar 289 (III.return.1a) |" in sheet


def test_routing_sheet_lists_every_part_and_every_scene(rig_folder, example_songs):
    score = example_songs["rig"]
    text = (rig_folder / "rig.logic" / "ROUTING.md").read_text(encoding="utf-8")
    rows = {line.split("|")[3].strip(): line for line in text.splitlines() if re.match(r"\| \d+ \|", line)}
    for part in score.parts:
        assert part.name in rows, part.name
        cells = [c.strip() for c in rows[part.name].split("|")]
        assert cells[6] == part.port and cells[7] == str(part.channel)
    timeline = Timeline(score)
    for scene in score.scenes:
        row = next(line for line in text.splitlines() if line.startswith(f"| {scene.id} |"))
        cells = [c.strip() for c in row.split("|")]
        assert cells[4] == str(timeline.bar_at(scene.start).number)
        assert cells[5] == timeline.clock(scene.start)
    assert "| III.change.3b | III | change | 377 |" in text  # 47 eight-bar scenes before it
    assert "SYNC to AUTO" in text and "remote mode" in text  # the clock quirks of the rig's devices


def test_applescript_opens_the_smf_next_to_it():
    script = applescript("rig")
    assert 'tell application id "com.apple.logic10"' in script
    assert '"/rig.mid"' in script and "path to me" in script
    assert '"/say \\"hi\\".mid"' in applescript('say "hi"')  # quotes in a file name stay inside the string


def test_readme_says_what_logic_does_with_each_file(rig_folder):
    text = (rig_folder / "rig.logic" / "README.md").read_text(encoding="utf-8")
    for name in ("rig.mid", "rig.musicxml", "open-in-logic.applescript", "ROUTING.md", "stems/"):
        assert f"`{name}`" in text, name
    assert "File > Open" in text and "markers" in text and "tempo" in text


def test_stems_rendered_in_the_same_build_go_in_the_folder(example_songs):
    files = logic_files(example_songs["short"], "short", b"<score-partwise/>", stems={"bass.wav": b"RIFF"})
    assert files["stems/bass.wav"] == b"RIFF"
    assert "drag them into the project" in files["README.md"].decode().lower()
