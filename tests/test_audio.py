"""The audio outputs, measured: tempo with librosa, loudness with pyloudnorm, true peak by 4x oversampling,
stems against the score's rests, and the SP-404MKII set read back with soundfile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile
from scipy.signal import resample_poly
from support import EXAMPLES, require_tool

from harmonlang.cli import main
from harmonlang.compiler import compile_file
from harmonlang.ir import Score
from harmonlang.runtime.audio import AudioOptions, render_audio
from harmonlang.runtime.audio_base import RATE, sample_positions
from harmonlang.runtime.soundfont import DEBIAN_SOUNDFONT

# Genres from 102 to 132 BPM. librosa's tempo prior centres on 120 BPM, so it hears hip-hop (90) and reggae (74)
# at double time, and drum and bass (174) at half.
TEMPO_GENRES = ("techno", "house", "funk", "disco", "rock", "synthwave")
PULSE_SONG = 'song "Pulse" {{ genre {genre}; key A minor; sequences 1; scenes 1 }}\n' + (
    'theme hook = "a4/4 c5/4 e5/4 c5/4"\npart lead : protagonist plays hook\n'
)


def true_peak_dbtp(audio: np.ndarray) -> float:
    """BS.1770's true peak: the highest sample after 4x oversampling."""
    return 20 * np.log10(float(np.max(np.abs(resample_poly(audio, 4, 1, axis=0)))))


def rms_db(audio: np.ndarray) -> float:
    return 10 * np.log10(float(np.mean(np.square(audio, dtype=np.float64))) + 1e-30)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """examples/short.circle built once with every audio output, the default synth (a SoundFont when found)."""
    require_tool("fluidsynth")
    out = tmp_path_factory.mktemp("audio")
    status = main(["build", str(EXAMPLES / "short.circle"), "-o", str(out), "--emit", "audio,stems,sp404,logic", "-q"])
    assert status == 0
    return {"out": out, "score": compile_file(str(EXAMPLES / "short.circle")).filled_score}


def test_the_master_is_48k_24_bit_stereo_at_minus_14_lufs_under_minus_1_dbtp(built: dict) -> None:
    path = built["out"] / "short.wav"
    info = soundfile.info(path)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (48000, 2, "PCM_24", "WAV")
    audio, rate = soundfile.read(path, dtype="float64")
    loudness = pyloudnorm.Meter(rate).integrated_loudness(audio)
    assert abs(loudness + 14) <= 0.5
    peak = true_peak_dbtp(audio)
    assert peak <= -1.0
    figures = json.loads((built["out"] / "short.master.json").read_text())
    assert abs(figures["integrated_lufs"] - loudness) < 0.05
    assert abs(figures["true_peak_dbtp"] - peak) < 0.1
    assert figures["seconds"] == pytest.approx(info.frames / RATE - 3.0, abs=0.01)  # the song, then a 3 s tail


def _phrase_windows(score: Score, index: int) -> list[tuple[int, int, bool, int]]:
    """Each phrase's (start, end) in samples, whether the part plays in it, and where its last note before ends."""
    windows = []
    last_end = -(10**9)
    for scene in score.scenes:
        for phrase in scene.phrases:
            events = phrase.cells[index].events
            start, end = (int(x) for x in sample_positions(score, np.array([phrase.start, phrase.end])))
            windows.append((start, end, bool(events), last_end))
            for event in events:
                last_end = max(last_end, int(sample_positions(score, np.array([event[0] + event[1]]))[0]))
    return windows


def test_each_stem_sounds_where_its_part_plays_and_is_silent_where_it_rests(built: dict) -> None:
    score: Score = built["score"]
    master_frames = soundfile.info(built["out"] / "short.wav").frames
    checked_rests = 0
    for index, part in enumerate(score.parts):
        audio, rate = soundfile.read(built["out"] / "stems" / f"{part.name}.wav", dtype="float64")
        assert rate == RATE and len(audio) == master_frames  # aligned to the song's start, as long as the master
        for start, end, plays, last_end in _phrase_windows(score, index):
            if plays:
                assert rms_db(audio[start:end]) > -60, f"{part.name} is silent where it plays ({start / RATE:.1f}s)"
            else:
                quiet_from = max(start, last_end + 2 * RATE)  # its last note's release has died away
                if end - quiet_from > RATE:
                    assert np.max(np.abs(audio[quiet_from:end])) < 1e-4, f"{part.name} sounds where it rests"
                    checked_rests += 1
    assert checked_rests > 0  # the song does rest some part somewhere, so the check above ran


def test_a_stem_starts_on_its_first_note(built: dict) -> None:
    score: Score = built["score"]
    index = next(i for i, p in enumerate(score.parts) if p.role == "drums")
    first = min(e[0] for s in score.scenes for p in s.phrases for e in p.cells[index].events)
    expected = int(sample_positions(score, np.array([first]))[0])
    audio, _ = soundfile.read(built["out"] / "stems" / f"{score.parts[index].name}.wav", dtype="float64")
    onset = int(np.argmax(np.max(np.abs(audio), axis=1) > 1e-3))
    assert abs(onset - expected) <= RATE * 0.002


def test_the_stems_include_each_effect_return_and_the_logic_template_holds_them(built: dict) -> None:
    stems = {p.name for p in (built["out"] / "stems").glob("*.wav")}
    assert {f"{p.name}.wav" for p in built["score"].parts} <= stems
    assert any(name.startswith("return-") for name in stems)
    logic = built["out"] / "short.logic"
    assert {p.name for p in (logic / "stems").glob("*.wav")} == stems
    assert "one WAV per part" in (logic / "README.md").read_text()


def test_the_sp404_set_is_16_bit_48k_with_ascii_names(built: dict) -> None:
    folder = built["out"] / "short.sp404" / "IMPORT"
    files = sorted(folder.glob("*.WAV"))
    assert files
    for path in files:
        assert re.fullmatch(r"[A-J]\d\d-[A-Z0-9]+\.WAV", path.name) and len(path.name) <= 16
        info = soundfile.info(path)
        assert (info.subtype, info.samplerate) == ("PCM_16", 48000)
    table = (folder / "PADS.md").read_text()
    assert all(path.name in table for path in files)


def test_a_part_on_a_device_plays_its_emulation_and_gm_parts_the_soundfont(tmp_path: Path) -> None:
    """`auto` plays the T-8 and S-1 parts on their emulations whatever SoundFont is found: only gm parts change."""
    if not DEBIAN_SOUNDFONT.exists():
        require_tool("a SoundFont at /usr/share/sounds/sf2/FluidR3_GM.sf2")
    score = compile_file(str(EXAMPLES / "short.circle")).filled_score
    renders = {}
    for synth in ("embedded", "auto"):
        folder = tmp_path / synth
        folder.mkdir()
        sf = None if synth == "embedded" else DEBIAN_SOUNDFONT
        render_audio(score, folder, "s", {"stems"}, AudioOptions(synth=synth, soundfont=sf))  # type: ignore[arg-type]
        renders[synth] = {p.stem: soundfile.read(p, dtype="float32")[0] for p in (folder / "stems").glob("*.wav")}
    for part in score.parts:
        same = np.array_equal(renders["embedded"][part.name], renders["auto"][part.name])
        assert same == (part.device != "gm"), part.name


@pytest.mark.parametrize("genre", TEMPO_GENRES)
def test_librosa_hears_the_score_tempo_within_2_percent(genre: str, tmp_path: Path) -> None:
    import librosa

    song = tmp_path / "pulse.circle"
    song.write_text(PULSE_SONG.format(genre=genre))
    score = compile_file(str(song)).filled_score
    render_audio(score, tmp_path, "pulse", {"audio"}, AudioOptions(synth="embedded"))
    audio, rate = soundfile.read(tmp_path / "pulse.wav", dtype="float32")
    # a fine hop: librosa's tempo bins are 60 * rate / (hop * lag) BPM apart, about 1% here
    measured = float(librosa.feature.tempo(y=audio.mean(axis=1), sr=rate, hop_length=256)[0])
    ticks = [p.tick for p in score.tempo_map] + [score.length]
    seconds = [(b - a) / p.bpm for a, b, p in zip(ticks, ticks[1:], score.tempo_map, strict=False)]
    expected = float(np.average([p.bpm for p in score.tempo_map], weights=seconds))  # the mean over time
    assert abs(measured / expected - 1) <= 0.02, f"{genre}: librosa hears {measured:.1f} BPM, the score says {expected}"


def test_without_fluidsynth_auto_renders_on_the_embedded_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harmonlang.runtime.soundfont as soundfont

    monkeypatch.setattr(soundfont, "fluidsynth_available", lambda: False)
    assert main(["build", str(EXAMPLES / "minimal.circle"), "-o", str(tmp_path), "--emit", "audio", "-q"]) == 0
    assert soundfile.info(tmp_path / "minimal.wav").frames > RATE


def test_a_missing_soundfont_is_a_clear_error_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["build", str(EXAMPLES / "minimal.circle"), "-o", str(tmp_path), "--emit", "audio"]
    assert main([*args, "--soundfont", str(tmp_path / "nope.sf2")]) == 2
    error = capsys.readouterr().err
    assert "error:" in error and "nope.sf2" in error and "Traceback" not in error
    assert main([*args, "--synth", "none"]) == 2
    assert "--synth none" in capsys.readouterr().err
    assert main([*args, "--synth", "embedded", "--soundfont", str(DEBIAN_SOUNDFONT)]) == 2
    assert "--soundfont has no use" in capsys.readouterr().err
    (tmp_path / "stems").write_text("a file where the stems folder goes")
    assert main([*args, "--emit", "stems"]) == 2
    assert "stems folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["stems"]


def test_a_failed_build_keeps_the_earlier_audio_and_leaves_no_staging(tmp_path: Path) -> None:
    args = ["build", str(EXAMPLES / "minimal.circle"), "-o", str(tmp_path), "--synth", "embedded", "-q"]
    assert main([*args, "--emit", "audio"]) == 0
    before = (tmp_path / "minimal.wav").read_bytes()
    (tmp_path / "minimal.master.json").unlink()
    (tmp_path / "minimal.master.json").mkdir()  # found only when the files are moved into place
    assert main([*args, "--emit", "audio,stems"]) == 1
    assert (tmp_path / "minimal.wav").read_bytes() == before
    assert not (tmp_path / "stems").exists()
    assert not list(tmp_path.glob(".harmonc-render-*")) and not list(tmp_path.glob(".*.tmp"))


def test_the_kick_pumps_the_mix_and_a_phrase_can_squash_the_bus(example_songs: dict[str, Score]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from harmonlang.runtime.mixer import Mixer, story

    score = example_songs["digital-dreams"]  # electro-house: its compression is `pumping`
    with ThreadPoolExecutor(1) as pool:
        mixer = Mixer(score, np.array([RATE, 2 * RATE]), False, pool)
        genre = mixer.character(None)
        assert genre["sidechain"]
        duck = mixer.duck(0, 3 * RATE, genre)
        assert duck is not None
        assert duck[RATE - 10] > 0.99  # no kick yet
        assert duck[RATE + RATE // 200] < 0.7  # 5 ms after the kick, the rest is down
        assert duck[RATE + RATE * 3 // 4] > 0.97  # and back before the next
        squashed = next(p for s in score.scenes for p in s.phrases if p.directives.get("compression") == "squashed")
        assert mixer.character(squashed)["ratio"] == 8.0
        assert mixer.duck(0, 3 * RATE, mixer.character(squashed)) is None  # squashed does not pump
    quiet, loud = story(0.0), story(1.0)
    assert quiet.brightness_db < loud.brightness_db and quiet.reverb_return > loud.reverb_return


def test_stems_of_parts_with_clashing_names_get_files_of_their_own() -> None:
    from harmonlang.runtime.audio import _StemNames

    names = _StemNames()
    files = [names.file(name) for name in ("lead'", "lead_", "Lead_", "return-reverb", "return-reverb")]
    assert files == ["lead_.wav", "lead_-2.wav", "Lead_-3.wav", "return-reverb.wav", "return-reverb-2.wav"]


def test_a_rebuild_leaves_no_stem_of_a_part_the_song_no_longer_has(tmp_path: Path) -> None:
    args = ["build", str(EXAMPLES / "minimal.circle"), "-o", str(tmp_path), "--emit", "stems", "--synth", "embedded"]
    (tmp_path / "stems").mkdir()
    (tmp_path / "stems" / "renamed-part.wav").write_bytes(b"RIFF")
    (tmp_path / "stems" / "notes.txt").write_text("the user's own")
    assert main([*args, "-q"]) == 0
    names = {p.name for p in (tmp_path / "stems").iterdir()}
    assert "renamed-part.wav" not in names and "notes.txt" in names and "lead.wav" in names
    assert not (tmp_path / "minimal.wav").exists()  # stems alone are not mastered into a song file


def test_the_pedal_sends_keep_their_own_levels() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from harmonlang.runtime.mixer import Mixer, compressor_bus, story

    score = compile_file(str(EXAMPLES / "digital-dreams.circle")).filled_score  # sends to ds1 and cs3
    with ThreadPoolExecutor(1) as pool:
        mixer = Mixer(score, np.zeros(0, dtype=np.int64), False, pool)
        for name in mixer.sends:
            mixer._colour_bus(name, story(0.9), 124.0)
        assert mixer.buses["cs3"][1].gain_db == compressor_bus(score)[1].gain_db  # the CS-3's make-up stays
        drive, trim = mixer.buses["ds1"][1].gain_db, mixer.buses["ds1"][4].gain_db
        assert drive > 20 and trim == -drive
        quiet = np.full((2, RATE), 0.01, dtype=np.float32) * np.sin(np.arange(RATE) / 20, dtype=np.float32)
        wet = mixer.buses["ds1"](quiet, RATE, reset=True)
        assert abs(rms_db(wet) - rms_db(quiet)) < 10  # a quiet send comes back near its own level, not 24 dB up


def test_a_part_the_song_moves_to_another_device_plays_that_devices_voice(example_songs: dict[str, Score]) -> None:
    from harmonlang.runtime.synth_voices import RECIPES, SynthVoice
    from harmonlang.runtime.timeline import part_routes
    from harmonlang.runtime.voices import Route, embedded_voice, emulation

    score = example_songs["digital-dreams"]  # its lead goes from the S-1 to GM strings and back
    index = next(i for i, p in enumerate(score.parts) if p.name == "lead")
    routes = [Route(r.device, r.output, r.channel, r.program) for r in part_routes(score, index)]
    assert [emulation(score, route) for route in routes] == ["poly", "gm", "poly"]
    voices = [embedded_voice(score, score.parts[index], route) for route in routes]
    assert all(isinstance(v, SynthVoice) for v in voices)
    assert voices[0].recipe is RECIPES["poly"] and voices[1].recipe is not RECIPES["poly"]  # type: ignore[attr-defined]
