"""Device profiles against the hardware facts in MISSION.md, and the rig example's MIDI routing."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import mido
import pytest

from harmonlang.cli import main
from harmonlang.compiler import CompileFailure, compile_file

ROOT = Path(__file__).parent.parent
RIG = ROOT / "examples" / "rig.circle"
EVERY_DEVICE = """song "Every device" { key A minor; mixer zoom-l12 }
theme line = "a2/8 c3/8"
groove beat = { kick "x..." }
groove pads = { pad1 "x..." }
part a : bass plays line on t8.bass
part b : drums plays beat on t8.drums
part c : protagonist plays line on s1
part d : samples plays pads on sp404mk2 bank A { send ds1 0.3 }
part e : antagonist plays line on keystep37
part f : chords plays line on gm
"""


@cache
def profiles() -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        song = Path(folder) / "every.circle"
        song.write_text(EVERY_DEVICE, encoding="utf-8")
        return compile_file(str(song)).ir["devices"]


def test_every_stdlib_device_is_in_the_ir() -> None:
    assert set(profiles()) == {"t8", "s1", "sp404mk2", "keystep37", "gm", "zoom-l12"}


def test_t8_rhythm_on_channel_10_with_its_notes() -> None:
    t8 = profiles()["t8"]
    drums = t8["outputs"]["drums"]
    assert drums["channel"] == 10
    assert drums["notes"] == {"kick": 36, "snare": 38, "clap": 50, "tom": 47, "hat": 42, "openhat": 46}
    assert drums["accepts"] == {"kick": 35, "snare": 40, "clap": 48, "tom": 45, "hat": 44}
    assert t8["outputs"]["bass"]["channel"] == 2
    assert t8["program_channel"] == 16
    assert "clock" in t8["clock_in"] and "AUTO" in t8["clock_setup"]


def test_s1_on_channel_3_with_four_voices() -> None:
    s1 = profiles()["s1"]
    main_out = s1["outputs"]["main"]
    assert main_out["channel"] == 3 and main_out["voices"] == 4
    assert main_out["cc"] == {"cutoff": 74, "resonance": 71}
    assert s1["program_channel"] == 16 and s1["program_range"] == [0, 63]
    assert set(s1["clock_in"]) == set(s1["clock_out"]) == {"clock", "start", "stop"}  # no Continue


def test_sp404mk2_mode_a_banks_pads_and_rules() -> None:
    sp = profiles()["sp404mk2"]
    for index, bank in enumerate("ABCDEFGHIJ"):
        assert sp["outputs"][bank]["channel"] == index + 1
        assert list(sp["outputs"][bank]["notes"].values()) == list(range(36, 52))
    assert sp["outputs"]["vocoder"]["channel"] == 11 and sp["outputs"]["vocoder"]["notes"] == {}
    assert sp["note_off"] is False
    assert "spp" not in sp["clock_in"] and {"clock", "start", "stop"} <= set(sp["clock_in"])
    assert "remote mode" in sp["clock_setup"]
    samples = sp["samples"]
    assert samples["formats"] == ["wav"] and samples["bits"] == [16, 24] and 32 not in samples["bits"]
    assert {44100, 48000} <= set(samples["rates"])
    assert samples["names"] == "ascii" and samples["folders"] == ["IMPORT", "EXPORT", "BKUP"]


def test_keystep37_forwards_clock_from_its_sync_sources() -> None:
    keystep = profiles()["keystep37"]
    assert keystep["sync_sources"] == ["internal", "usb", "midi", "sync-in"]
    assert keystep["clock_forward"] is True


def test_zoom_l12_is_a_mixer_without_midi_with_two_pedal_sends() -> None:
    zoom = profiles()["zoom-l12"]
    assert zoom["midi"] is False and zoom["outputs"] == {}
    assert zoom["buses"]["ds1"] == {"title": "Boss DS-1 Distortion", "effect": "distortion", "side": "left"}
    assert zoom["buses"]["cs3"]["effect"] == "compressor" and zoom["buses"]["cs3"]["side"] == "right"


def test_gm_drums_on_channel_10() -> None:
    assert profiles()["gm"]["outputs"]["drums"]["channel"] == 10


def errors_of(tmp_path: Path, text: str) -> list[str]:
    song = tmp_path / "song.circle"
    song.write_text(text, encoding="utf-8")
    with pytest.raises(CompileFailure) as failure:
        compile_file(str(song))
    return [d.message for d in failure.value.diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('song "S" { key A minor }\ntheme t = "a4/4"\npart p : chords plays t on zoom-l12\n', "zoom-l12 has no MIDI"),
        ('song "S" { key A minor; mixer t8 }\n', "t8 is not a mixer"),
        ('song "S" { key A minor; clock follow zoom-l12 }\n', "zoom-l12 sends no MIDI clock"),
        ('song "S" { key A minor }\ntheme t = "a4/4"\npart p : chords plays t { send ds2 0.3 }\n', "no send `ds2`"),
        ('song "S" { key A minor }\ngroove g = { pad1 "x..." }\npart p : samples plays g on gm\n', "no named notes"),
    ],
)
def test_device_misuse_is_reported(tmp_path: Path, text: str, message: str) -> None:
    assert any(message in error for error in errors_of(tmp_path, text))


@cache
def rig_midi(folder: str) -> mido.MidiFile:
    assert main(["build", str(RIG), "-o", folder, "--emit", "midi", "-q"]) == 0
    return mido.MidiFile(str(Path(folder) / "rig.mid"))


def test_rig_example_routes_every_part_to_its_device_channel(tmp_path: Path) -> None:
    midi = rig_midi(str(tmp_path))
    ir = compile_file(str(RIG)).ir
    devices = ir["devices"]
    expected = {
        "drums (t8.drums)": (10, set(devices["t8"]["outputs"]["drums"]["notes"].values())),
        "bass (t8.bass)": (2, set(range(24, 73))),
        "lead (s1)": (3, set(range(128))),
        "dark (keystep37)": (1, set(range(128))),
        "chops (sp404mk2.A)": (1, set(range(36, 52))),
    }
    seen = set()
    for track in midi.tracks[1:]:
        channels = {m.channel + 1 for m in track if m.type in ("note_on", "note_off")}
        notes = {m.note for m in track if m.type == "note_on"}
        channel, allowed = expected[track.name]
        assert channels == {channel}, track.name
        assert notes and notes <= allowed, track.name
        seen.add(track.name)
    assert seen == set(expected)
    assert ir["clock"]["role"] == "master"
    # The T-8 kick is note 36 on channel 10, as the T-8 sends it.
    drums = next(t for t in midi.tracks if t.name == "drums (t8.drums)")
    assert any(m.type == "note_on" and m.note == 36 and m.channel == 9 for m in drums)


def test_a_part_moved_onto_the_s1_changes_program_on_channel_16(tmp_path: Path) -> None:
    song = tmp_path / "moved.circle"
    song.write_text(
        'song "Moved" { key A minor }\ntheme t = "a4/4"\n'
        'part lead : protagonist plays t on gm "Flute"\nstep return { lead on s1 program 5 }\n',
        encoding="utf-8",
    )
    assert main(["build", str(song), "-o", str(tmp_path / "out"), "--emit", "midi", "-q"]) == 0
    midi = mido.MidiFile(str(tmp_path / "out" / "moved.mid"))
    changes = [(m.channel + 1, m.program) for m in midi.tracks[1] if m.type == "program_change"]
    assert changes == [(1, 73), (16, 4), (1, 73)]  # Flute on gm; the S-1's program 5 on its channel 16; back
