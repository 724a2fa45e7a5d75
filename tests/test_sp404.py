"""The SP-404MKII sample set, read back with soundfile: 16-bit 48 kHz stereo WAVs with ASCII names, the part
banks holding the render's pad sounds, each act's scene loops cut exactly from the master, and PADS.md."""

from __future__ import annotations

import re
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from harmonlang.compiler import compile_file
from harmonlang.ir import Score
from harmonlang.runtime.audio_base import RATE, TAIL_SECONDS
from harmonlang.runtime.sp404 import FADE_FRAMES, plan_pads, write_sp404_set
from harmonlang.runtime.timeline import Timeline

NAME = re.compile(r"(?P<bank>[A-J])(?P<pad>0[1-9]|1[0-6])-[A-Z0-9]+\.WAV")
LSB = 1 / 32768
RAMP = (
    8192  # the right channel counts samples modulo this, 4 LSB a step, so a loop's first sample says where it was cut
)
WINDOW = RATE // 2  # the marker tone is looked for in a loop's first and last half second


def marker_hz(index: int) -> float:
    return 220.0 + 40.0 * index


def sample_at(score: Score, tick: int) -> int:
    return round(Timeline(score).seconds(tick) * RATE)


def synthetic_master(score: Score) -> np.ndarray:
    """Low noise plus each scene's own marker tone on the left; a sample counter on the right.

    Every marker is a whole number of hertz, so one second of it tiles: a 13-minute master builds in a blink.
    """
    frames = sample_at(score, score.length) + round(TAIL_SECONDS * RATE)
    master = np.empty((frames, 2), dtype=np.float32)
    second = np.arange(RATE) / RATE
    noise = np.random.default_rng(7).standard_normal(RATE).astype(np.float32) * 1e-3
    master[:, 0] = np.resize(noise, frames)
    for index, scene in enumerate(score.scenes):
        start, end = sample_at(score, scene.start), sample_at(score, scene.end)
        master[start:end, 0] += np.resize(0.5 * np.sin(2 * np.pi * marker_hz(index) * second), end - start)
    master[:, 1] = np.resize(np.arange(RAMP, dtype=np.float32) * np.float32(4 * LSB) - np.float32(0.5), frames)
    return master


def decaying_noise(seed: int, seconds: float = 0.3) -> np.ndarray:
    frames = round(seconds * RATE)
    envelope = np.exp(-np.arange(frames) / (0.02 * RATE))[:, None]
    return (np.random.default_rng(seed).uniform(-0.6, 0.6, (frames, 2)) * envelope).astype(np.float32)


def one_shots() -> dict[str, np.ndarray]:
    tone = 0.5 * np.sin(2 * np.pi * 110 * np.arange(4800) / RATE)
    hit = np.concatenate([tone, np.full(RATE, 1e-5)])  # 0.1 s of tone, then 1 s below -60 dBFS
    return {
        "kick": np.column_stack([hit, hit]).astype(np.float32),
        "snare": decaying_noise(11),
        "Größe Trommel": decaying_noise(12)[:, :1],  # mono, unicode name
        "кик": np.full((2000, 2), 0.5, dtype=np.float32),  # loud to its last sample, a name with no ASCII
    }


@dataclass
class SampleSet:
    score: Score
    master: np.ndarray
    part_pads: dict[tuple[str, int], np.ndarray]
    one_shots: dict[str, np.ndarray]
    folder: Path
    notices: list[str]
    peak_bytes: int

    @property
    def imports(self) -> Path:
        return self.folder / "IMPORT"

    def wavs(self) -> list[Path]:
        return sorted(self.imports.glob("*.WAV"))

    def on(self, bank: str) -> list[Path]:
        return [path for path in self.wavs() if path.name[0] == bank]

    def sheet(self) -> str:
        return (self.imports / "PADS.md").read_text(encoding="utf-8")

    def rows(self) -> list[list[str]]:
        """The Pads table of PADS.md, one list of cells a row."""
        table = self.sheet().split("## Pads", 1)[1].split("\n## ", 1)[0]
        lines = [line for line in table.splitlines() if line.startswith("| ")][1:]  # without the header
        return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def build(tmp: Path, score: Score, master: np.ndarray, part_pads: dict, shots: dict) -> SampleSet:
    tracemalloc.start()
    notices = write_sp404_set(score, master, part_pads, shots, tmp)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return SampleSet(score, master, part_pads, shots, tmp, notices, peak)


@pytest.fixture(scope="module")
def dreams_master(example_songs: dict[str, Score]) -> np.ndarray:
    return synthetic_master(example_songs["digital-dreams"])


@pytest.fixture(scope="module")
def dreams(example_songs, dreams_master, tmp_path_factory) -> SampleSet:
    """digital-dreams: 48 scenes in four acts; its `chops` part plays bank A and `fx` bank J."""
    part_pads = {("A", pad): decaying_noise(pad) for pad in (1, 5, 9)} | {("J", 3): decaying_noise(99)}
    score = example_songs["digital-dreams"]
    return build(tmp_path_factory.mktemp("dreams"), score, dreams_master, part_pads, one_shots())


@pytest.fixture(scope="module")
def short(example_songs, tmp_path_factory) -> SampleSet:
    score = example_songs["short"]
    return build(tmp_path_factory.mktemp("short"), score, synthetic_master(score), {}, {})


def read(path: Path) -> np.ndarray:
    return sf.read(path, dtype="float64", always_2d=True)[0]


def dominant_hz(signal: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.argmax(spectrum) * RATE / len(signal))


def test_every_file_is_a_16_bit_48_khz_stereo_wav_with_a_short_unique_ascii_name(dreams, short):
    for sample_set in (dreams, short):
        names = [path.name for path in sample_set.wavs()]
        assert names and len(set(name.upper() for name in names)) == len(names)
        places = set()
        for path in sample_set.wavs():
            info = sf.info(path)
            assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "PCM_16", RATE, 2), path
            match = NAME.fullmatch(path.name)
            assert match and path.name.isascii() and len(path.name) <= 16, path.name
            places.add((match["bank"], int(match["pad"])))
        assert len(places) == len(names)  # no two files on one pad
        assert {path.name for path in sample_set.imports.iterdir()} == set(names) | {"PADS.md"}


def test_the_part_banks_hold_exactly_the_sounds_the_render_played(dreams):
    assert {path.name for path in dreams.on("A")} == {"A01-PAD1.WAV", "A05-PAD5.WAV", "A09-PAD9.WAV"}
    assert [path.name for path in dreams.on("J")] == ["J03-PAD3.WAV"]
    for (bank, pad), sound in dreams.part_pads.items():
        written = read(dreams.imports / f"{bank}{pad:02d}-PAD{pad}.WAV")
        assert len(written) < len(sound)  # the silent tail is trimmed
        audible = len(written) - FADE_FRAMES
        assert audible > RATE // 20
        assert np.max(np.abs(written[:audible] - sound[:audible])) <= 2.5 * LSB
        assert np.max(np.abs(written[audible:])) < 1e-3 + 2 * LSB  # what was trimmed and faded was below -60 dBFS


def test_every_scene_loop_is_its_scene_cut_to_the_sample(dreams):
    score = dreams.score
    loops = {row[3].removeprefix("scene loop "): row[2] for row in dreams.rows() if row[3].startswith("scene loop ")}
    assert list(loops) == [scene.id for scene in score.scenes]
    for index, scene in enumerate(score.scenes):
        start, end = sample_at(score, scene.start), sample_at(score, scene.end)
        written = read(dreams.imports / loops[scene.id])
        assert len(written) == end - start, scene.id
        counted = np.rint((written[[0, -1], 1] + 0.5) / (4 * LSB)).astype(int)
        assert list(counted) == [start % RAMP, (end - 1) % RAMP], scene.id
        for window in (written[:WINDOW, 0], written[-WINDOW:, 0]):
            assert abs(dominant_hz(window) - marker_hz(index)) < 3, scene.id


def test_digital_dreams_has_a_bank_per_act_then_phrases_then_one_shots(dreams):
    score = dreams.score
    acts = {"B": "I", "C": "IIa", "D": "IIb", "E": "III"}
    for bank, act in acts.items():
        scenes = [scene for scene in score.scenes if scene.act == act]
        names = [path.name for path in dreams.on(bank)]
        assert names == [
            f"{bank}{pad:02d}-{s.step.upper()}{s.sequence}{s.scene.upper()}.WAV" for pad, s in enumerate(scenes, 1)
        ]
    phrases = [row for row in dreams.rows() if row[0] == "F"]
    assert [row[3].split(" (")[0] for row in phrases] == [
        f"phrase {act} {kind} {word}"
        for act in acts.values()
        for kind, word in (("A", "chorus"), ("B", "bridge"), ("A'", "chorus"), ("T", "transition"))
    ]
    for row in phrases:  # each is the first such phrase of its act (all in its first scene), cut at its own samples
        act = row[3].split()[1]
        scene = next(scene for scene in score.scenes if scene.act == act)
        assert row[3].endswith(f"({scene.id})")
        phrase = next(phrase for phrase in scene.phrases if f" {phrase.kind} " in f" {row[3]} ")
        start, end = sample_at(score, phrase.start), sample_at(score, phrase.end)
        written = read(dreams.imports / row[2])
        assert len(written) == end - start and round((written[0, 1] + 0.5) / (4 * LSB)) == start % RAMP
        assert abs(dominant_hz(written[:WINDOW, 0]) - marker_hz(score.scenes.index(scene))) < 3
        assert row[4] == str(phrase.bars) and row[5].startswith(f"{phrase.tempo:.1f}")
    assert [path.name for path in dreams.on("G")] == [
        "G01-KICK.WAV",
        "G02-SNARE.WAV",
        "G03-GROETROM.WAV",
        "G04-SHOT.WAV",
    ]
    assert not dreams.on("H") and not dreams.on("I")
    assert dreams.notices == []


def test_one_shots_lose_their_silent_tail_and_fade_out(dreams):
    kick = read(dreams.imports / "G01-KICK.WAV")
    assert len(kick) == 4800 + FADE_FRAMES  # the tone, then 5 ms of the tail, faded
    tone = dreams.one_shots["kick"][:4800]
    assert np.max(np.abs(kick[:4800] - tone)) <= 2.5 * LSB
    loud = read(dreams.imports / "G04-SHOT.WAV")  # loud to its end: nothing to trim, but it still fades
    assert len(loud) == 2000 and abs(loud[-1]).max() <= 2 * LSB and loud[-FADE_FRAMES - 1, 0] > 0.49
    mono = read(dreams.imports / "G03-GROETROM.WAV")
    assert np.max(np.abs(mono[:, 0] - mono[:, 1])) <= 2 * LSB  # a mono sound lands on both sides


def test_pads_md_lists_every_file_with_its_bank_pad_bars_and_tempo(dreams):
    rows = dreams.rows()
    assert sorted(row[2] for row in rows) == [path.name for path in dreams.wavs()]
    scenes = {scene.id: scene for scene in dreams.score.scenes}
    for bank, pad, file, what, bars, tempo, seconds in rows:
        assert file.startswith(f"{bank}{int(pad):02d}-")
        assert float(seconds) == pytest.approx(sf.info(dreams.imports / file).frames / RATE, abs=1e-3)
        if what.startswith("scene loop "):
            scene = scenes[what.removeprefix("scene loop ")]
            assert bars == str(scene.bars) and re.fullmatch(r"\d+\.\d( \(mean \d+\.\d\))?", tempo)
            assert tempo.startswith(f"{scene.phrases[0].tempo:.1f}")
        elif not what.startswith("phrase "):
            assert bars == "" and tempo == ""
    drifting = [row for row in rows if "mean" in row[5]]
    assert drifting, "digital-dreams drifts its tempo in act I's need step"
    sheet = dreams.sheet()
    assert "IMPORT" in sheet and "SD card" in sheet
    assert "bank A: channel 1, chops" in sheet and "bank J: channel 10, fx" in sheet and "36-51" in sheet


def test_a_short_song_uses_fewer_banks(short, example_songs, tmp_path):
    assert sorted({path.name[0] for path in short.wavs()}) == list("ABCDE")  # four acts of two scenes, phrases
    assert short.notices == []
    score = example_songs["short"]
    one_act = score.model_copy(update={"scenes": [scene for scene in score.scenes if scene.act == "I"]})
    small = build(tmp_path / "a", one_act, short.master, {}, {"kick": one_shots()["kick"]})
    assert [path.name for path in small.wavs()] == [
        "A01-YOU1A.WAV",
        "A02-NEED1A.WAV",
        "B01-IA.WAV",
        "B02-IB.WAV",
        "B03-IA2.WAV",
        "B04-IT.WAV",
        "C01-KICK.WAV",
    ]
    again = build(tmp_path / "b", one_act, short.master, {}, {"kick": one_shots()["kick"]})
    for path in small.wavs():  # the dither is seeded: a song always gives the same bytes
        assert path.read_bytes() == (again.imports / path.name).read_bytes()


def test_writing_never_copies_the_whole_master(dreams):
    assert dreams.peak_bytes < 32 * 2**20 < dreams.master.nbytes  # a block at a time, never the whole song


def test_too_many_items_are_left_out_with_notices(example_songs, dreams_master, tmp_path):
    score = example_songs["digital-dreams"]
    one_act = score.model_copy(update={"scenes": [scene.model_copy(update={"act": "I"}) for scene in score.scenes]})
    part_pads = {(bank, 1): decaying_noise(3, 0.05) for bank in "ACDEFGH"}
    shots = {f"hit {n}": decaying_noise(n, 0.05) for n in range(20)}
    crowded = build(tmp_path, one_act, dreams_master, part_pads, shots)
    assert [path.name[0] for path in crowded.wavs()].count("B") == 16
    assert [path.name for path in crowded.on("I")][0] == "I01-GO3A.WAV"  # scene 17 of the one act, continued
    assert "act I scene loops, continued from bank B" in crowded.sheet()
    assert len(crowded.notices) == 4 and "J is played by fx" in crowded.notices[0]
    assert crowded.notices[1].startswith("sp404: act I scene loops: 16 left out (no bank is free): scene loop ")
    assert crowded.notices[2].startswith("sp404: phrase loops: 4 left out")
    assert crowded.notices[3].startswith("sp404: one-shots: 20 left out")
    assert "## Left out" in crowded.sheet() and "scene loop III.change.3b" in crowded.sheet()


def test_a_bank_holds_sixteen_one_shots_and_bad_pads_are_reported(example_songs):
    plans, notices = plan_pads(example_songs["short"], [f"hit{n}" for n in range(20)], [("K", 1), ("A", 17)])
    assert [plan.file for plan in plans if plan.bank == "F"][-1] == "F16-HIT15.WAV"
    assert "one-shots: 4 left out (a bank holds 16 pads): one-shot hit16" in notices[-1]
    assert sum("no bank K pad 1" in n or "no bank A pad 17" in n for n in notices) == 2
    assert plans[0].file == "A01-YOU1A.WAV"  # a bad key does not take a bank from the story


def test_the_banks_sp404_parts_play_are_kept_for_them(example_songs):
    plans, notices = plan_pads(example_songs["rig"], [])
    assert {plan.bank for plan in plans} == set("BCDEF") and notices == [
        "sp404: bank A is played by chops but no pad sounds were rendered for it"
    ]
    moved = compile_file(
        "moves.circle",
        text='song "Moves" { key A minor; sequences 1; scenes 1 }\n'
        'groove chop = { pad1 "x.......x......." }\n'
        "part chops : samples plays chop on sp404mk2 bank A\n"
        "step take { chops on sp404mk2 bank C }\n",
    ).score
    plans, _ = plan_pads(moved, [], [("A", 1)])
    assert [plan.file for plan in plans if plan.bank in "AC"] == ["A01-PAD1.WAV"]
    assert [plan.bank for plan in plans if plan.source.span][:3] == ["B", "B", "D"]  # C is the part's from `take`
