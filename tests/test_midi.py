"""The written .mid, read back with mido: its layout, tracks, markers, notes, tempo map and meters."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import mido
import pytest
from support import METERS_SONG

from harmonlang.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


MAJOR_BY_FIFTHS = dict(zip(range(-7, 8), "Cb Gb Db Ab Eb Bb F C G D A E B F# C#".split(), strict=True))
MINOR_BY_FIFTHS = dict(zip(range(-7, 8), "Abm Ebm Bbm Fm Cm Gm Dm Am Em Bm F#m C#m G#m D#m A#m".split(), strict=True))


def key_signature_name(mode: str, fifths: int) -> str:
    """How mido names a key signature: major and minor only, a mode as its parent major's signature."""
    minor = mode in ("minor", "harmonic-minor", "melodic-minor")
    return MINOR_BY_FIFTHS[fifths] if minor else MAJOR_BY_FIFTHS[fifths]


def build(folder: Path, name: str) -> tuple[dict, mido.MidiFile]:
    """Build `folder/name` with harmonc and read back its IR and MIDI file."""
    out = folder / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", str(folder / "cache"))
        assert main(["build", str(folder / name), "-o", str(out), "--emit", "score,midi", "-q"]) == 0
    stem = name.removesuffix(".circle")
    ir = json.loads((out / f"{stem}.score.json").read_text(encoding="utf-8"))  # the filled score: what the MIDI plays
    return ir, mido.MidiFile(str(out / f"{stem}.mid"))


def absolute(track) -> list[tuple[int, mido.Message]]:
    tick, timed = 0, []
    for message in track:
        tick += message.time
        timed.append((tick, message))
    return timed


def of_type(track, kind: str) -> list[tuple[int, mido.Message]]:
    return [(tick, m) for tick, m in absolute(track) if m.type == kind]


def sounding(track) -> list[tuple[int, mido.Message]]:
    return [(tick, m) for tick, m in absolute(track) if m.type == "note_on" and m.velocity > 0]


@pytest.fixture(scope="module")
def dreams(tmp_path_factory) -> tuple[dict, mido.MidiFile]:
    folder = tmp_path_factory.mktemp("dreams")
    for name in ("digital-dreams.circle", "studio.circle"):
        shutil.copy(EXAMPLES / name, folder / name)
    return build(folder, "digital-dreams.circle")


@pytest.fixture(scope="module")
def meters(tmp_path_factory) -> tuple[dict, mido.MidiFile]:
    folder = tmp_path_factory.mktemp("meters")
    (folder / "meters.circle").write_text(METERS_SONG, encoding="utf-8")
    return build(folder, "meters.circle")


# ---- the file ------------------------------------------------------------------------------------------


def test_type_1_at_480_ticks_per_beat(dreams):
    ir, midi = dreams
    assert midi.type == 1
    assert midi.ticks_per_beat == 480 == ir["ppq"]
    assert len(midi.tracks) == 1 + len(ir["parts"])


def test_every_track_runs_to_the_end_of_the_song(dreams):
    ir, midi = dreams
    for track in midi.tracks:
        tick, last = absolute(track)[-1]
        assert last.type == "end_of_track"
        assert tick == ir["length"], track.name


# ---- the conductor track ----------------------------------------------------------------------------------


def test_conductor_track_holds_the_maps_and_no_notes(dreams):
    ir, midi = dreams
    conductor = midi.tracks[0]
    assert conductor.name == "Digital Dreams"
    kinds = Counter(m.type for m in conductor)
    assert kinds["set_tempo"] >= 1 and kinds["time_signature"] >= 1 and kinds["key_signature"] >= 1
    assert kinds["note_on"] == kinds["note_off"] == 0
    for track in midi.tracks[1:]:
        assert not [m for m in track if m.is_meta and m.type in ("set_tempo", "time_signature", "marker")]


def scene_markers(track) -> list[tuple[int, str]]:
    """The scene markers (the scene's id); each phrase's marker adds its kind after a space."""
    return [(tick, m.text) for tick, m in of_type(track, "marker") if " " not in m.text]


def test_one_marker_per_scene_at_its_start(dreams):
    ir, midi = dreams
    markers = scene_markers(midi.tracks[0])
    assert markers == [(scene["start"], scene["id"]) for scene in ir["scenes"]]
    assert len(markers) == 48
    assert markers[0] == (0, "I.you.1a")
    assert markers[-1][1] == "III.change.3b"


def test_tempo_events_follow_the_tempo_map(dreams):
    ir, midi = dreams
    tempos = [(tick, round(mido.tempo2bpm(m.tempo), 2)) for tick, m in of_type(midi.tracks[0], "set_tempo")]
    assert tempos == [(p["tick"], round(p["bpm"], 2)) for p in ir["tempo_map"]]
    assert tempos[0] == (0, 124.0)


def test_key_signatures_follow_the_key_map(dreams):
    ir, midi = dreams
    keys = [(tick, m.key) for tick, m in of_type(midi.tracks[0], "key_signature")]
    expected = [(p["tick"], key_signature_name(p["key"]["mode"], p["key"]["fifths"])) for p in ir["key_map"]]
    assert keys == expected
    assert keys[0] == (0, "Am")
    act_iia = next(s["start"] for s in ir["scenes"] if s["act"] == "IIa")
    assert (act_iia, "C") in keys  # `modulate relative-major` in step go


def test_tempo_drift_rises_inside_the_bridges_of_need(dreams):
    ir, midi = dreams
    tempos = [(tick, mido.tempo2bpm(m.tempo)) for tick, m in of_type(midi.tracks[0], "set_tempo")]
    bridges = [
        phrase
        for scene in ir["scenes"]
        if scene["step"] == "need"
        for phrase in scene["phrases"]
        if phrase["kind"] == "B"
    ]
    assert len(bridges) == 6
    inside_any = set()
    for bridge in bridges:
        assert bridge["tempo_drift"] == pytest.approx(0.02)
        inside = [(tick, bpm) for tick, bpm in tempos if bridge["start"] < tick < bridge["end"]]
        inside_any.update(tick for tick, _ in inside)
        assert len(inside) >= 4
        bpms = [bpm for _, bpm in inside]
        assert bpms == sorted(bpms) and len(set(bpms)) == len(bpms), "strictly rising"
        assert 124 < bpms[0] and bpms[-1] <= 124 * 1.02 + 0.01
        # The tempo in force when the bridge starts is the song's, and the next phrase is back to it.
        before = [bpm for tick, bpm in tempos if tick <= bridge["start"]][-1]
        assert before == pytest.approx(124)
        after = [bpm for tick, bpm in tempos if tick <= bridge["end"]][-1]
        assert after == pytest.approx(124)
    assert {tick for tick, _ in tempos} - {0} - inside_any <= {b["end"] for b in bridges}


# ---- the part tracks ------------------------------------------------------------------------------------


def test_one_named_track_per_part(dreams):
    ir, midi = dreams
    assert [track.name for track in midi.tracks[1:]] == [
        "lead (s1)",
        "dark (s1)",
        "keys (gm)",
        "bass (t8.bass)",
        "beat (t8.drums)",
        "chops (sp404mk2.A)",
        "fx (sp404mk2.J)",
    ]
    assert [p["name"] for p in ir["parts"]] == ["lead", "dark", "keys", "bass", "beat", "chops", "fx"]


def sounding_events(ir: dict, index: int) -> list[tuple[int, int, int, int]]:
    """(tick, pitch, velocity, channel) of every event a part plays (the writer's and the agents'), channel 0-based."""
    part = ir["parts"][index]
    found = []
    for scene in ir["scenes"]:
        for phrase in scene["phrases"]:
            cell = phrase["cells"][index]
            assert cell["part"] == part["name"]
            if cell["status"] in ("literal", "generated"):
                channel = (cell.get("channel") or part["channel"]) - 1
                found += [(tick, pitch, vel, channel) for tick, _dur, pitch, vel in cell["events"]]
    return found


def test_note_on_counts_equal_the_sounding_events_per_part(dreams):
    ir, midi = dreams
    counts = []
    for index, track in enumerate(midi.tracks[1:]):
        expected = sounding_events(ir, index)
        ons = sounding(track)
        assert len(ons) == len(expected), track.name
        offs = [m for m in track if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0)]
        assert len(offs) == len(ons), track.name
        counts.append(len(ons))
    names = [p["name"] for p in ir["parts"]]
    by_part = dict(zip(names, counts, strict=True))
    assert min(by_part.values()) > 0  # the writer's parts, and the holes the agents filled (bass, chops, fx)


def test_notes_land_at_their_ticks_pitches_velocities_and_channels(dreams):
    ir, midi = dreams
    for index, track in enumerate(midi.tracks[1:]):
        written = Counter((tick, m.note, m.velocity, m.channel) for tick, m in sounding(track))
        assert written == Counter(sounding_events(ir, index)), track.name


def test_note_offs_come_after_their_duration(dreams):
    ir, midi = dreams
    lead = midi.tracks[1]
    first_on = sounding(lead)[0]
    first_off = next((tick, m) for tick, m in absolute(lead) if m.type == "note_off" and m.note == first_on[1].note)
    first_event = next(c for c in ir["scenes"][0]["phrases"][0]["cells"] if c["part"] == "lead")["events"][0]
    assert first_off[0] - first_on[0] == first_event[1]


def test_program_changes(dreams):
    ir, midi = dreams
    keys = midi.tracks[3]
    assert [(tick, m.channel, m.program) for tick, m in of_type(keys, "program_change")] == [(0, 0, 4)]
    lead = midi.tracks[1]
    return_start = next(s["start"] for s in ir["scenes"] if s["step"] == "return")
    changes = [(tick, m.program) for tick, m in of_type(lead, "program_change")]
    assert (return_start, 48) in changes  # `lead on gm "String Ensemble 1"` in step return
    assert all(tick >= return_start for tick, _ in changes)


def test_drums_play_on_channel_10(dreams):
    _, midi = dreams
    beat = midi.tracks[5]
    notes = sounding(beat)
    assert notes and {m.channel for _, m in notes} == {9}
    assert {m.note for _, m in notes} <= {36, 38, 42}


# ---- meters --------------------------------------------------------------------------------------------------


def test_meter_changes_produce_time_signatures_at_the_right_ticks(meters):
    ir, midi = meters
    signatures = [(tick, m.numerator, m.denominator) for tick, m in of_type(midi.tracks[0], "time_signature")]
    by_id = {s["id"]: s for s in ir["scenes"]}
    one_b = by_id["I.you.1b"]
    assert one_b["start"] == 8 * 1920
    assert one_b["end"] == one_b["start"] + 8 * 1440
    act_iii = by_id["III.return.1a"]["start"]
    assert signatures == [(0, 4, 4), (one_b["start"], 3, 4), (one_b["end"], 4, 4), (act_iii, 7, 8)]
    assert signatures == [(p["tick"], p["numerator"], p["denominator"]) for p in ir["meter_map"]]


def test_scene_markers_follow_the_changed_bar_lengths(meters):
    ir, midi = meters
    markers = scene_markers(midi.tracks[0])
    starts = [0]
    for scene in ir["scenes"]:
        bar = 1920 * scene["meter"][0] // scene["meter"][1]
        starts.append(starts[-1] + scene["bars"] * bar)
    assert [tick for tick, _ in markers] == starts[:-1]
    assert starts[-1] == ir["length"]
