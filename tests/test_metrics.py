"""The music metrics (`harmonlang.metrics`) and `harmonc report`: hand-made scores and a compiled example."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from music21 import note, stream

from harmonlang import metrics
from harmonlang.cli import main
from harmonlang.compiler import compile_file
from harmonlang.report import build_report, key_consistency_music21, write_report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "digital-dreams.circle"
BAR = 1920  # a 4/4 bar
C_MAJOR_CHORD = {"tick": 0, "dur": BAR, "symbol": "C", "written": "C", "pitches": [60, 64, 67]}


# ---- minimal score dicts -------------------------------------------------------------------------


def part(name: str, role: str, low: int = 0, high: int = 127) -> dict:
    return {"name": name, "role": role, "range": [low, high]}


def cell(name: str, events: list[list[int]], status: str = "literal") -> dict:
    return {"part": name, "status": status, "events": events}


def phrase(cells: list[dict], start: int = 0, end: int = BAR, kind: str = "A", key: tuple = ("C", "major"), harmony=()):
    return {
        "kind": kind,
        "start": start,
        "end": end,
        "key": {"tonic": key[0], "mode": key[1], "fifths": 0},
        "harmony": list(harmony),
        "cells": cells,
    }


def scene(phrases: list[dict], meter=(4, 4), energy=None, step: str = "you", index: int = 0) -> dict:
    return {
        "id": f"I.{step}.1{'abcdefghijklmnop'[index % 16]}",
        "act": "I",
        "step": step,
        "index": index,
        "start": phrases[0]["start"],
        "end": phrases[-1]["end"],
        "meter": list(meter),
        "arc": {"energy": energy, "tension": None},
        "phrases": phrases,
    }


def score(parts: list[dict], scenes: list[dict]) -> dict:
    return {"ppq": 480, "parts": parts, "scenes": scenes}


def one_scene(cells: list[dict], parts: list[dict] | None = None, **phrase_args) -> tuple[dict, dict]:
    parts = parts or [part("lead", "protagonist"), part("keys", "chords"), part("beat", "drums")]
    only = scene([phrase(cells, **phrase_args)])
    return score(parts, [only]), only


def notes(pitches: list[int], start: int = 0, step: int = 240, vel: int = 90) -> list[list[int]]:
    return [[start + i * step, step, pitch, vel] for i, pitch in enumerate(pitches)]


@pytest.fixture(scope="module")
def example() -> dict:
    return compile_file(str(EXAMPLE)).ir


def music21_key(weighted: list[tuple[int, Fraction]]) -> tuple[int, str, float]:
    """music21's own answer for (pitch, quarter length) notes, for comparison."""
    melody = stream.Stream()
    for pitch, length in weighted:
        melody.append(note.Note(pitch, quarterLength=length))
    key = melody.analyze("key")
    return key.tonic.pitchClass, key.mode, key.correlationCoefficient


# ---- beats and chord tones -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meter", "beats"),
    [((4, 4), [0, 960]), ((3, 4), [0]), ((6, 8), [0, 720]), ((12, 8), [0, 1440]), ((2, 4), [0]), ((7, 8), [0])],
)
def test_strong_beats(meter, beats):
    assert metrics.strong_beats(list(meter)) == beats


def test_chord_tones_on_strong_beats_hit():
    built, only = one_scene([cell("lead", [[0, 480, 60, 90], [960, 480, 76, 90]])], harmony=[C_MAJOR_CHORD])
    assert metrics.chord_tone_ratio(built, only) == (2, 2)


def test_a_foreign_note_on_a_strong_beat_misses_and_weak_beats_do_not_count():
    events = [[0, 240, 60, 90], [480, 240, 66, 90], [960, 240, 66, 90], [1440, 240, 61, 90]]
    built, only = one_scene([cell("lead", events)], harmony=[C_MAJOR_CHORD])
    assert metrics.chord_tone_ratio(built, only) == (1, 2)


def test_only_sounding_melody_notes_under_a_chord_count():
    cells = [
        cell("lead", [[0, 240, 60, 90], [BAR, 240, 60, 90]]),  # the second: no chord sounds in bar 2
        cell("keys", [[0, BAR, 61, 80]]),  # not a melody part
        cell("dark", [[960, 240, 66, 90]], status="hole"),  # an unfilled hole does not sound
    ]
    parts = [part("lead", "protagonist"), part("dark", "antagonist"), part("keys", "chords")]
    built, only = one_scene(cells, parts, end=2 * BAR, harmony=[C_MAJOR_CHORD])
    assert metrics.chord_tone_ratio(built, only) == (1, 1)


def test_strong_beats_are_counted_from_the_scene_start_in_its_meter():
    start = 3 * 1440
    chord = {**C_MAJOR_CHORD, "tick": start, "dur": 1440}
    events = [[start, 240, 64, 90], [start + 960, 240, 66, 90]]  # beat 3 of 3/4 is weak
    only = scene([phrase([cell("lead", events)], start=start, end=start + 1440, harmony=[chord])], meter=(3, 4))
    assert metrics.chord_tone_ratio(score([part("lead", "protagonist")], [only]), only) == (1, 1)


def test_chord_tones_of_the_compiled_example(example):
    # A: a4 over Am (hit), d5 over Am (miss), a4 over F (hit); B: f4, eb4 over C and e4 over G miss.
    assert metrics.chord_tone_ratio(example, example["scenes"][0]) == (2, 6)


# ---- keys ----------------------------------------------------------------------------------------


def test_key_estimate_finds_c_major_and_a_minor():
    c_major = [3.0, 0, 1, 0, 2.5, 1, 0, 2.5, 0, 1, 0, 1]
    assert metrics.key_estimate(c_major)[:2] == (0, "major")
    a_minor = [2.0, 0, 0.5, 0, 3.0, 0.5, 0, 0.5, 0.5, 4.0, 0, 1.0]
    assert metrics.key_estimate(a_minor)[:2] == (9, "minor")


def test_key_estimate_rejects_what_music21_cannot_analyse():
    with pytest.raises(ValueError):
        metrics.key_estimate([1.0] * 11)
    with pytest.raises(ValueError):
        metrics.key_estimate([0.0] * 12)


COLLECTIONS = {
    "c major scale": [(p, Fraction(1)) for p in (60, 62, 64, 65, 67, 69, 71, 72)],
    "a minor triads": [(p, Fraction(2)) for p in (57, 60, 64, 57, 60, 64)] + [(68, Fraction(1, 2))],
    "d dorian line": [(p, Fraction(1, 2)) for p in (62, 64, 65, 67, 69, 71, 72, 74, 62, 69)],
    "e-flat major arpeggio": [(p, Fraction(3, 2)) for p in (63, 67, 70, 75, 58)],
    "f# minor with triplets": [(p, Fraction(1, 3)) for p in (66, 68, 69, 71, 73, 74, 77, 78, 66, 73)],
    "one note": [(67, Fraction(1))],
    "chromatic (all ties)": [(60 + pc, Fraction(1)) for pc in range(12)],
    "b-flat minor with long tonic": [(58, Fraction(4)), (61, Fraction(1)), (65, Fraction(1)), (66, Fraction(1))],
}


@pytest.mark.parametrize("name", COLLECTIONS)
def test_key_estimate_agrees_with_music21(name):
    weighted = COLLECTIONS[name]
    weights = [0.0] * 12
    for pitch, length in weighted:
        weights[pitch % 12] += float(length)
    tonic, mode, correlation = metrics.key_estimate(weights)
    expected_tonic, expected_mode, expected_correlation = music21_key(weighted)
    assert (tonic, mode) == (expected_tonic, expected_mode)
    assert correlation == pytest.approx(expected_correlation, abs=1e-9)


def test_key_estimate_agrees_with_music21_on_random_collections():
    generator = random.Random(7)
    for _ in range(40):
        weighted = [(generator.randint(40, 90), Fraction(generator.choice([1, 2, 3, 6]), 2)) for _ in range(12)]
        weights = [0.0] * 12
        for pitch, length in weighted:
            weights[pitch % 12] += float(length)
        assert metrics.key_estimate(weights)[:2] == music21_key(weighted)[:2], weighted


def test_key_estimate_agrees_with_music21_on_the_example_scenes(example):
    seen = set()
    for each in example["scenes"]:
        for _, _, _, events in metrics.scene_key_regions(example, each):
            weighted = tuple((pitch, Fraction(dur, 480)) for _, dur, pitch, _ in events)
            if not weighted or weighted in seen:
                continue
            seen.add(weighted)
            ours = metrics.key_estimate(metrics.pitch_class_weights(events, 480))
            assert ours[:2] == music21_key(list(weighted))[:2], each["id"]
    assert len(seen) >= 6


@pytest.mark.parametrize(
    ("mode", "family"),
    [("major", "major"), ("ionian", "major"), ("lydian", "major"), ("mixolydian", "major"), ("minor", "minor")]
    + [("aeolian", "minor"), ("dorian", "minor"), ("phrygian", "minor"), ("locrian", "minor")]
    + [("harmonic-minor", "minor"), ("melodic minor", "minor")],
)
def test_mode_families(mode, family):
    assert metrics.mode_family(mode) == family


def test_key_regions_join_consecutive_phrases_in_the_same_key():
    parts = [part("lead", "protagonist"), part("beat", "drums")]
    phrases = [
        phrase([cell("lead", notes([60, 64, 67]))], 0, BAR),
        phrase([cell("lead", notes([64, 67], start=BAR)), cell("beat", [[BAR, 120, 36, 100]])], BAR, 2 * BAR),
        phrase([cell("lead", notes([62, 66, 69], start=2 * BAR))], 2 * BAR, 3 * BAR, key=("D", "major")),
    ]
    built = score(parts, [scene(phrases)])
    regions = metrics.scene_key_regions(built, built["scenes"][0])
    assert [(key["tonic"], start, end, len(events)) for key, start, end, events in regions] == [
        ("C", 0, 2 * BAR, 5),  # the drum hit is left out
        ("D", 2 * BAR, 3 * BAR, 3),
    ]


def test_key_consistency_is_the_share_of_ticks_in_agreeing_regions():
    c_major = [60, 64, 67, 72, 62, 65, 71, 60]  # tonic-heavy: a bare c-to-c scale reads as A minor
    phrases = [
        phrase([cell("lead", notes(c_major, start=0))], 0, BAR),
        phrase([cell("lead", notes(c_major, start=BAR))], BAR, 2 * BAR, key=("F#", "minor")),
    ]
    built = score([part("lead", "protagonist")], [scene(phrases)])
    assert metrics.key_consistency_fast(built, built["scenes"][0]) == 0.5
    assert key_consistency_music21(built, built["scenes"][0]) == 0.5


def test_key_consistency_is_none_without_pitched_notes():
    built, only = one_scene([cell("beat", [[0, 120, 36, 100]]), cell("lead", notes([60, 64]), status="hole")])
    assert metrics.key_consistency_fast(built, only) is None


# ---- parts ---------------------------------------------------------------------------------------


def test_part_ranges():
    cells = [
        cell("lead", notes([60, 62, 62, 70, 71, 90])),  # steps 2, 1; repeat 0; leaps 8, 19
        cell("keys", [[0, BAR, 48, 80], [0, BAR, 52, 80], [0, BAR, 55, 80], [BAR, BAR, 57, 80], [BAR, BAR, 53, 80]]),
        cell("beat", [[0, 120, 36, 100]]),
    ]
    parts = [part("lead", "protagonist", 60, 84), part("keys", "chords"), part("beat", "drums")]
    built, _ = one_scene(cells, parts, end=2 * BAR)
    ranges = metrics.part_ranges(built)
    assert set(ranges) == {"lead", "keys"}
    assert ranges["lead"] == {
        "lowest": 60,
        "highest": 90,
        "notes": 6,
        "out_of_range": 1,
        "pairs": 5,
        "stepwise": 0.4,
        "repeats": 0.2,
    }
    assert ranges["keys"]["pairs"] == 1 and ranges["keys"]["stepwise"] == 1.0  # top voice g3 -> a3


# ---- similarity and novelty ----------------------------------------------------------------------


def random_melody(generator: random.Random, count: int = 24) -> list[list[int]]:
    onsets = sorted(generator.sample(range(0, 4 * BAR, 120), count))
    return [[tick, 120, generator.randint(55, 84), 90] for tick in onsets]


def test_similarity_of_identical_transposed_and_unrelated_melodies():
    generator = random.Random(3)
    for _ in range(20):
        melody = random_melody(generator)
        assert metrics.similarity(melody, melody, BAR) == 1.0
        moved = [[tick + 4 * BAR, dur, pitch + 5, vel] for tick, dur, pitch, vel in melody]
        assert metrics.similarity(melody, moved, BAR) >= 0.8
        assert metrics.similarity(melody, random_melody(generator), BAR) < 0.5


def test_similarity_of_empty_passages():
    assert metrics.similarity([], [], BAR) == 1.0
    assert metrics.similarity(notes([60, 62]), [], BAR) == 0.0


def test_a_small_variation_scores_between_unrelated_and_identical():
    theme = notes([60, 62, 64, 65, 67, 65, 64, 62])
    variation = notes([60, 62, 64, 65, 67, 69, 67, 62])
    assert 0.5 < metrics.similarity(theme, variation, BAR) < 1.0


def test_variation_similarity_compares_the_protagonists_a_prime_with_its_a():
    theme = notes([60, 62, 64, 67])
    variation = notes([65, 67, 69, 72], start=BAR)
    phrases = [phrase([cell("lead", theme)], 0, BAR), phrase([cell("lead", variation)], BAR, 2 * BAR, kind="A'")]
    unfilled = [phrase([cell("lead", theme)], 0, BAR), phrase([cell("lead", [], "hole")], BAR, 2 * BAR, kind="A'")]
    built = score([part("lead", "protagonist")], [scene(phrases), scene(unfilled, index=1)])
    assert metrics.variation_similarity(built) == [
        {"scene": "I.you.1a", "similarity": 1.0},
        {"scene": "I.you.1b", "similarity": None},
    ]


def test_novelty_is_what_no_earlier_scene_played():
    generator = random.Random(5)
    theme, other = random_melody(generator), random_melody(generator)
    transposed = [[tick, dur, pitch - 3, vel] for tick, dur, pitch, vel in theme]
    scenes = [
        scene([phrase([cell("lead", events)], 0, 4 * BAR)], index=i)
        for i, events in enumerate([theme, transposed, other, []])
    ]
    result = metrics.novelty(score([part("lead", "protagonist")], scenes))
    assert result[:2] == [1.0, 0.0] and result[3] == 0.0
    assert result[2] > 0.8


# ---- energy --------------------------------------------------------------------------------------


def test_scene_energy_by_its_definition():
    cells = [cell("lead", notes([84] * 8, vel=127)), cell("beat", [[0, 120, 36, 127]])]
    built, only = one_scene(cells)
    # density 9 onsets / 4 beats; velocity 1; register (mean pitched 84 - 36) / 48 = 1; active 2 of 3 parts
    density = 9 / 4 / metrics.DENSE_ONSETS_PER_BEAT
    assert metrics.scene_energy(built, only) == pytest.approx(0.35 * density + 0.30 + 0.10 + 0.25 * 2 / 3)


def test_a_denser_louder_scene_measures_higher():
    sparse, sparse_scene = one_scene([cell("lead", notes([60, 64], step=960, vel=50))])
    dense_cells = [
        cell("lead", notes([72, 74, 76, 77] * 4, step=120, vel=110)),
        cell("keys", [[0, BAR, p, 100] for p in (60, 64, 67)]),
        cell("beat", [[t, 60, 42, 120] for t in range(0, BAR, 120)]),
    ]
    dense, dense_scene = one_scene(dense_cells)
    assert 0 <= metrics.scene_energy(sparse, sparse_scene) < metrics.scene_energy(dense, dense_scene) <= 1
    silent, silent_scene = one_scene([cell("lead", [], "rest")])
    assert metrics.scene_energy(silent, silent_scene) == 0.0


def energy_song(targets: list[float | None], loudness: list[int]) -> dict:
    scenes = [
        scene([phrase([cell("lead", notes([60, 64, 67, 72], vel=vel))])], energy=target, index=i)
        for i, (target, vel) in enumerate(zip(targets, loudness, strict=True))
    ]
    return score([part("lead", "protagonist")], scenes)


def test_energy_correlation():
    following = energy_song([0.2, 0.4, None, 0.6, 0.8], [40, 60, 127, 80, 100])
    assert metrics.energy_correlation(following) == pytest.approx(1.0)
    opposing = energy_song([0.8, 0.6, 0.4, 0.2], [40, 60, 80, 100])
    assert metrics.energy_correlation(opposing) == pytest.approx(-1.0)
    assert metrics.energy_correlation(energy_song([0.2, None, 0.8], [40, 60, 80])) is None  # two targets
    assert metrics.energy_correlation(energy_song([0.5, 0.5, 0.5], [40, 60, 80])) is None  # no variance


# ---- the summary and the report ------------------------------------------------------------------


def test_summary_of_the_example(example):
    summary = metrics.summary(example)
    assert len(summary["scenes"]) == len(example["scenes"])
    first = summary["scenes"][0]
    assert set(first) >= {
        "id",
        "step",
        "act",
        "key_consistency_fast",
        "chord_tone_ratio",
        "energy_target",
        "energy_measured",
        "variation_similarity",
        "novelty",
    }
    assert first["chord_tones"] == [2, 6] and first["novelty"] == 1.0 and first["energy_target"] == 0.25
    overall = summary["overall"]
    hits = sum(entry["chord_tones"][0] for entry in summary["scenes"])
    total = sum(entry["chord_tones"][1] for entry in summary["scenes"])
    assert overall["chord_tone_ratio"] == round(hits / total, 4)
    assert overall["energy_correlation"] == round(metrics.energy_correlation(example), 4)
    assert overall["notes_out_of_range"] == 0
    assert {"lead", "dark", "keys", "bass"} <= set(summary["parts"]) and "beat" not in summary["parts"]
    json.dumps(summary, allow_nan=False)


def test_summary_is_fast(example):
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        metrics.summary(example)
        best = min(best, time.perf_counter() - started)
    assert best < 0.1


def test_music21_key_consistency_agrees_with_the_fast_one_on_the_example(example):
    for each in example["scenes"][::5]:
        assert key_consistency_music21(example, each) == metrics.key_consistency_fast(example, each), each["id"]


def test_write_report(example, tmp_path):
    paths = write_report(example, tmp_path / "out", "dreams")
    assert [path.name for path in paths] == ["dreams.report.json", "dreams.arc.png"]
    assert paths[1].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    report = json.loads(paths[0].read_text(encoding="utf-8"))
    assert set(report) == {"scenes", "parts", "overall", "targets", "passed"}
    assert report["targets"] == {"key_consistency": 0.9, "chord_tone_ratio": 0.75, "energy_correlation": 0.8}
    assert set(report["passed"]) == set(report["targets"])
    assert report["passed"]["chord_tone_ratio"] is (report["overall"]["chord_tone_ratio"] >= 0.75)
    assert set(report["overall"]["key_consistency_by_step"]) == {s["step"] for s in example["scenes"]}
    assert all("key_consistency" in entry for entry in report["scenes"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dreams.arc.png", "dreams.report.json"]


def test_build_report_overall_key_consistency_is_the_mean_of_the_settled_steps(example):
    report = build_report(example)
    by_step = report["overall"]["key_consistency_by_step"]
    scored = [entry["key_consistency"] for entry in report["scenes"] if entry["step"] in metrics.KEY_STEPS]
    assert report["overall"]["key_consistency"] == pytest.approx(sum(scored) / len(scored), abs=1e-4)
    assert report["overall"]["key_consistency"] == pytest.approx(
        (by_step["you"] + by_step["find"] + by_step["change"]) / 3, abs=1e-4
    )


def test_compiling_loads_neither_music21_nor_matplotlib():
    code = (
        "import sys\n"
        "from harmonlang.compiler import compile_file\n"
        "import harmonlang.metrics as m\n"
        f"m.summary(compile_file({str(EXAMPLE)!r}).ir)\n"
        "print(sorted(n for n in ('music21', 'matplotlib', 'numpy') if n in sys.modules))\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"


def test_harmonc_report(tmp_path, capsys):
    code = main(["report", str(EXAMPLE), "-o", str(tmp_path), "--seed", "11"])
    out = capsys.readouterr().out
    assert code == 0  # a report, even when targets are missed
    assert "key_consistency" in out and "chord_tone_ratio" in out and "energy_correlation" in out
    assert out.count("PASS") + out.count("FAIL") == 3
    assert str(tmp_path / "digital-dreams.report.json") in out
    assert (tmp_path / "digital-dreams.arc.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads((tmp_path / "digital-dreams.report.json").read_text(encoding="utf-8"))
    assert all(part["notes"] > 0 for part in report["parts"].values())  # filled: the bass has notes now


def test_harmonc_report_fails_on_a_broken_song(tmp_path, capsys):
    broken = tmp_path / "broken.circle"
    broken.write_text('song "Broken" { key A minor; tempo 999; sequences 1; scenes 1 }\n', encoding="utf-8")
    assert main(["report", str(broken), "-o", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()
