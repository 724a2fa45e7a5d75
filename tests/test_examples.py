"""The example songs compile, and each shows what it is there to show."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harmonlang.compiler import compile_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ALL = sorted(p.name for p in EXAMPLES.glob("*.circle"))
CIRCLE = [("I", ["you", "need"]), ("IIa", ["go", "search"]), ("IIb", ["find", "take"]), ("III", ["return", "change"])]
BAR = 1920


def scene_ids(sequences: int = 3, scenes: str = "ab") -> list[str]:
    return [
        f"{act}.{step}.{sequence}{letter}"
        for act, steps in CIRCLE
        for step in steps
        for sequence in range(1, sequences + 1)
        for letter in scenes
    ]


@pytest.fixture(scope="module")
def compiled() -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", "off")
        return {name: compile_file(str(EXAMPLES / name), library_ok=True) for name in ALL}


def test_the_examples_are_there():
    assert {"minimal.circle", "short.circle", "digital-dreams.circle", "studio.circle"} <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_every_example_compiles_cleanly(compiled, name):
    result = compiled[name]
    assert result.diagnostics == []
    result.score  # noqa: B018 - validates the IR against its models
    if name != "studio.circle":
        assert result.checked.has_header


def test_studio_is_a_library_module(compiled):
    assert not compiled["studio.circle"].checked.has_header


# ---- minimal -----------------------------------------------------------------------------------------------


def test_minimal_is_at_most_12_lines():
    assert len((EXAMPLES / "minimal.circle").read_text(encoding="utf-8").splitlines()) <= 12


def test_minimal_yields_the_whole_circle(compiled):
    ir = compiled["minimal.circle"].ir
    assert [s["id"] for s in ir["scenes"]] == scene_ids()
    assert len(ir["scenes"]) == 48
    assert ir["scenes"][0]["id"] == "I.you.1a"
    assert ir["scenes"][-1]["id"] == "III.change.3b"
    assert [s["index"] for s in ir["scenes"]] == list(range(48))
    for scene in ir["scenes"]:
        assert [p["kind"] for p in scene["phrases"]] == ["A", "B", "A'", "T"]
        assert scene["bars"] == 8
        assert [p["bars"] for p in scene["phrases"]] == [2, 2, 2, 2]


def test_minimal_scenes_are_back_to_back(compiled):
    ir = compiled["minimal.circle"].ir
    tick = 0
    for scene in ir["scenes"]:
        assert scene["start"] == tick
        for phrase in scene["phrases"]:
            assert phrase["start"] == tick
            tick = phrase["end"]
        assert scene["end"] == tick
    assert ir["length"] == tick == 48 * 8 * BAR


def test_minimal_takes_its_header_over_the_genre(compiled):
    ir = compiled["minimal.circle"].ir
    assert ir["title"] == "First Light"
    assert ir["genre"] == "electro-house"
    assert ir["template"] == "harmon"
    assert ir["home_key"] == {"tonic": "A", "mode": "minor", "fifths": 0}
    assert ir["tempo_map"][0] == {"tick": 0, "bpm": 126}  # no tempo in the header: the genre's
    dreams = compiled["digital-dreams.circle"].ir
    assert dreams["tempo_map"][0] == {"tick": 0, "bpm": 124}  # the header's 124 beats the genre's 126


def test_minimal_protagonist_plays_in_a_and_leaves_holes_elsewhere(compiled):
    ir = compiled["minimal.circle"].ir
    first = ir["scenes"][0]["phrases"]
    lead = {p["kind"]: next(c for c in p["cells"] if c["part"] == "lead") for p in first}
    assert lead["A"]["status"] == "literal"
    assert lead["B"]["status"] == "rest"
    assert (lead["A'"]["status"], lead["A'"]["hole"]["kind"]) == ("hole", "variation")
    assert (lead["T"]["status"], lead["T"]["hole"]["kind"]) == ("hole", "foreshadow")
    assert lead["A'"]["hole"]["constraints"]["source_material"] == "hero"
    beat = [c for p in first for c in p["cells"] if c["part"] == "beat"]
    assert {(c["status"], c["hole"]["kind"]) for c in beat} == {("hole", "groove")}


# ---- short ------------------------------------------------------------------------------------------------


def test_short_is_reduced_to_one_scene_per_step(compiled):
    ir = compiled["short.circle"].ir
    assert [s["id"] for s in ir["scenes"]] == scene_ids(1, "a")
    assert len(ir["scenes"]) == 8
    assert ir["length"] == 8 * 8 * BAR


def test_short_keys(compiled):
    ir = compiled["short.circle"].ir
    keys = {s["act"]: s["phrases"][0]["key"] for s in ir["scenes"]}
    assert keys["I"] == {"tonic": "D", "mode": "dorian", "fifths": 0}
    assert keys["IIb"] == {"tonic": "F", "mode": "major", "fifths": -1}
    assert ir["tempo_map"][0]["bpm"] == 96


# ---- digital dreams ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dreams(compiled) -> dict:
    return compiled["digital-dreams.circle"].ir


def cells(ir: dict, part: str, **where):
    """(scene, phrase, cell) for one part, filtered by scene or phrase fields."""
    for scene in ir["scenes"]:
        if any(scene.get(k) != v for k, v in where.items() if k in ("act", "step", "id")):
            continue
        for phrase in scene["phrases"]:
            if "kind" in where and phrase["kind"] != where["kind"]:
                continue
            yield scene, phrase, next(c for c in phrase["cells"] if c["part"] == part)


def test_dreams_has_literal_protagonist_and_antagonist_themes(dreams):
    parts = {p["name"]: p for p in dreams["parts"]}
    assert (parts["lead"]["role"], parts["lead"]["material"]) == ("protagonist", "hero")
    assert (parts["dark"]["role"], parts["dark"]["material"]) == ("antagonist", "shadow")
    hero = [tuple(e) for e in dreams["materials"]["hero"]["events"]]
    assert hero[:3] == [(0, 240, 69, 90), (240, 240, 72, 90), (480, 480, 76, 90)]
    assert len(hero) == 8
    assert [tuple(e)[2] for e in dreams["materials"]["shadow"]["events"]] == [65, 64, 63, 64]
    _, phrase, lead = next(cells(dreams, "lead", id="I.you.1a", kind="A"))
    assert lead["status"] == "literal"
    assert lead["provenance"]["by"] == "writer" and lead["provenance"]["material"] == "hero"
    assert [e[2] for e in lead["events"][:3]] == [69, 72, 76]
    assert lead["events"][0][0] == phrase["start"]
    _, _, dark = next(cells(dreams, "dark", id="I.you.1a", kind="B"))
    assert dark["status"] == "literal" and dark["provenance"]["material"] == "shadow"
    assert [e[2] for e in dark["events"][:4]] == [65, 64, 63, 64]


def test_dreams_has_a_progression_and_a_drum_grid(dreams):
    assert dreams["materials"]["home"]["chords"] == ["i", "VI", "III", "VII"]
    assert dreams["materials"]["four"]["voices"] == ["kick", "snare", "hat"]
    _, phrase, keys = next(cells(dreams, "keys", id="I.you.1a", kind="A"))
    assert keys["status"] == "literal"
    assert [c["written"] for c in phrase["harmony"]] == ["i", "VI"]
    assert [c["symbol"] for c in phrase["harmony"]] == ["Am", "F"]
    assert sorted(e[2] for e in keys["events"] if e[0] == phrase["start"]) == [57, 60, 64]  # A minor
    _, phrase, beat = next(cells(dreams, "beat", id="I.you.1a", kind="A"))
    assert beat["status"] == "literal"
    kicks = [e[0] - phrase["start"] for e in beat["events"] if e[2] == 36]
    assert kicks == [0, 480, 960, 1440, 1920, 2400, 2880, 3360]


def test_dreams_leaves_the_bass_as_holes(dreams):
    bass = [(phrase, cell) for _, phrase, cell in cells(dreams, "bass")]
    assert len(bass) == 48 * 4
    for phrase, cell in bass:
        assert cell["status"] == "hole"
        assert cell["hole"]["kind"] == "bassline"
        assert cell["hole"]["constraints"]["range"] == [24, 72]  # the T-8's bass range
        assert cell["hole"]["constraints"]["key"] == phrase["key"]
        assert (cell["hole"]["constraints"]["start"], cell["hole"]["constraints"]["end"]) == (
            phrase["start"],
            phrase["end"],
        )
    assert len({cell["hole"]["id"] for _, cell in bass}) == len(bass)


def test_dreams_act_i_need_drifts_in_its_bridges(dreams):
    drifts = {(s["step"], p["kind"]): p["tempo_drift"] for s in dreams["scenes"] for p in s["phrases"]}
    assert drifts[("need", "B")] == pytest.approx(0.02)
    assert drifts[("need", "A")] == drifts[("you", "B")] == 0
    need_b = next(p for s in dreams["scenes"] if s["step"] == "need" for p in s["phrases"] if p["kind"] == "B")
    assert need_b["directives"]["dissonance"] == 0.2
    ramp = [t for t in dreams["tempo_map"] if need_b["start"] < t["tick"] < need_b["end"]]
    assert len(ramp) >= 4 and ramp[-1]["bpm"] > ramp[0]["bpm"] > 124
    assert need_b["directives"]["intent"] == "a quiet city at night; the hero wants out"


def test_dreams_act_iia_changes_key_and_harmony(dreams):
    keys = {s["act"]: s["phrases"][0]["key"] for s in dreams["scenes"]}
    assert keys["I"] == {"tonic": "A", "mode": "minor", "fifths": 0}
    assert keys["IIa"] == {"tonic": "C", "mode": "major", "fifths": 0}
    act_iia = next(s["start"] for s in dreams["scenes"] if s["act"] == "IIa")
    assert {"tick": act_iia, "key": {"tonic": "C", "mode": "major", "fifths": 0}} in dreams["key_map"]
    go = [cell for _, _, cell in cells(dreams, "keys", step="go")]
    assert {c["provenance"]["material"] for c in go} == {"lifted"}
    search = next(s for s in dreams["scenes"] if s["step"] == "search")["phrases"][0]
    assert search["directives"]["syncopation"] == 0.6
    assert search["directives"]["polyrhythm"] == {"ratio": [3, 4], "voice": "hat"}


def test_dreams_act_iib_lifts_and_breaks_the_beat(dreams):
    find = next(s for s in dreams["scenes"] if s["step"] == "find")
    assert find["phrases"][0]["key"] == {"tonic": "Bb", "mode": "minor", "fifths": -5}  # lift +1 on chorus A
    assert find["phrases"][1]["key"] == {"tonic": "A", "mode": "minor", "fifths": 0}
    take = [cell for _, _, cell in cells(dreams, "beat", step="take")]
    assert {c["provenance"]["material"] for c in take} == {"broken"}
    you = [cell for _, _, cell in cells(dreams, "beat", step="you")]
    assert len(take[0]["events"]) < len(you[0]["events"])  # `thin 0.5` on the broken groove
    take_scene = next(s for s in dreams["scenes"] if s["step"] == "take")
    assert take_scene["phrases"][0]["directives"]["reprise"] == "empty"
    assert take_scene["phrases"][0]["directives"]["thin"] == 0.7


def test_dreams_act_iii_reorchestrates_and_fuses(dreams):
    ret = [(phrase, cell) for _, phrase, cell in cells(dreams, "lead", step="return")]
    assert {(c["channel"], c["program"]) for _, c in ret} == {(ret[0][1]["channel"], 48)}  # String Ensemble 1
    chorus = [c for p, c in ret if p["kind"] == "A"]
    assert {c["provenance"]["material"] for c in chorus} == {"hero-low"}
    assert chorus[0]["events"][0][2] == 57  # hero an octave down
    change_t = [cell for _, _, cell in cells(dreams, "lead", step="change", kind="T")]
    assert {(c["status"], c["provenance"]["material"]) for c in change_t} == {("literal", "mirror")}
    change = next(s for s in dreams["scenes"] if s["step"] == "change")
    assert change["phrases"][3]["directives"]["fuse"] == {"a": "hero", "b": "shadow", "in": "transition"}


def test_dreams_last_scene_is_16_bars(dreams):
    last = dreams["scenes"][-1]
    assert last["id"] == "III.change.3b"
    assert last["bars"] == 16
    assert [p["bars"] for p in last["phrases"]] == [4, 4, 4, 4]
    assert last["end"] - last["start"] == 16 * BAR
    assert all(s["bars"] == 8 for s in dreams["scenes"][:-1])
    assert dreams["length"] == last["end"] == (47 * 8 + 16) * BAR


def test_dreams_routes_parts_to_the_rig(dreams):
    routes = {p["name"]: (p["device"], p["output"], p["channel"], p["program"]) for p in dreams["parts"]}
    assert routes["lead"] == ("s1", "main", 3, None)
    assert routes["dark"] == ("s1", "main", 4, None)
    assert routes["keys"][:2] == ("gm", "main") and routes["keys"][3] == 4  # Electric Piano 1
    assert routes["bass"] == ("t8", "bass", 2, None)
    assert routes["beat"] == ("t8", "drums", 10, None)
    assert routes["chops"][:3] == ("sp404mk2", "A", 1)
    assert routes["fx"][:3] == ("sp404mk2", "J", 10)  # from studio.circle
    assert dreams["clock"]["role"] == "master"


def test_dreams_every_act_is_overridden_by_the_writer(compiled):
    # Every act holds at least one setting from the writer's own file (layer 0), not just the template's.
    song = compiled["digital-dreams.circle"].checked
    written = Counter(container[0] for container in song.layers[0].scopes if container)
    assert set(written) == {"I", "IIa", "IIb", "III"}
