"""The fill stage: determinism, reseeding, the cache, typed messages and the rules agents keep."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonlang.agents import FillCache, acts, fill
from harmonlang.agents.context import scene_view
from harmonlang.agents.melody import theme_for
from harmonlang.agents.messages import json_schema
from harmonlang.compiler import compile_file
from harmonlang.ir import Score
from harmonlang.roles import ROLES
from harmonlang.runtime.midi import midi_bytes

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = str(ROOT / "examples" / "minimal.circle")
DREAMS = str(ROOT / "examples" / "digital-dreams.circle")


def dumped(score: dict) -> bytes:
    return orjson.dumps(score, option=orjson.OPT_SORT_KEYS)


@pytest.fixture(scope="module")
def minimal_ir() -> dict:
    return compile_file(MINIMAL).ir


def test_same_seed_gives_byte_identical_score_and_midi() -> None:
    first, second = fill(compile_file(MINIMAL).ir), fill(compile_file(MINIMAL).ir)
    assert dumped(first) == dumped(second)
    assert midi_bytes(Score.model_validate(first)) == midi_bytes(Score.model_validate(second))


def test_the_same_across_processes_and_hash_seeds() -> None:
    program = (
        "import hashlib, orjson; from harmonlang.compiler import compile_file; from harmonlang.agents import fill; "
        f"score = fill(compile_file({MINIMAL!r}).ir); "
        "print(hashlib.sha256(orjson.dumps(score, option=orjson.OPT_SORT_KEYS)).hexdigest())"
    )
    digests = set()
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, check=True)
        digests.add(done.stdout.strip())
    local = hashlib.sha256(dumped(fill(compile_file(MINIMAL).ir))).hexdigest()
    assert digests == {local}


def test_another_seed_gives_another_song(minimal_ir: dict) -> None:
    one, other = fill(minimal_ir), fill(minimal_ir, seed=minimal_ir["seed"] + 1)
    differing = sum(dumped(a) != dumped(b) for a, b in zip(one["scenes"], other["scenes"], strict=True))
    assert differing > len(one["scenes"]) // 2


def test_reseed_changes_that_scene_only(minimal_ir: dict) -> None:
    base, again = fill(minimal_ir), fill(minimal_ir, reseed={"IIa.search.2a": 1})
    for before, after in zip(base["scenes"], again["scenes"], strict=True):
        same = dumped(before) == dumped(after)
        assert same == (before["id"] != "IIa.search.2a"), before["id"]


def test_the_cache_recomposes_only_an_edited_scene(minimal_ir: dict) -> None:
    cache = FillCache()
    first = fill(minimal_ir, cache=cache)
    assert (cache.hits, cache.misses) == (0, 48)
    assert dumped(fill(minimal_ir, cache=cache)) == dumped(first)
    assert cache.hits == 48
    edited = copy.deepcopy(minimal_ir)
    for phrase in edited["scenes"][5]["phrases"]:
        phrase["directives"]["syncopation"] = 0.9
    refilled = fill(edited, cache=cache)
    assert cache.misses == 49
    assert dumped(refilled) == dumped(fill(edited))


def test_messages_validate_against_their_schema(minimal_ir: dict) -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    score = copy.deepcopy(minimal_ir)
    themes = {role: theme_for(score, role, score["seed"]) for role in ("protagonist", "antagonist")}
    view = scene_view(score, 20, themes)
    brief = acts.brief(view, 7)
    candidate = acts.compose(view, brief)
    proposals = [p for phrase, _ in candidate for p in phrase.values()]
    assert proposals
    for name, message in [("SceneBrief", brief), *[("Proposal", p) for p in proposals]]:
        data = orjson.loads(orjson.dumps(dict(message)))  # what the agents really sent, as JSON
        jsonschema.validate(data, {"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]})
        validated = type(message).model_validate(data)
        assert orjson.loads(validated.model_dump_json(exclude_unset=True)) == data


def test_literal_material_survives_untouched() -> None:
    result = compile_file(DREAMS)
    filled = result.filled
    for scene, done in zip(result.ir["scenes"], filled["scenes"], strict=True):
        for phrase, after in zip(scene["phrases"], done["phrases"], strict=True):
            cells = {c["part"]: c for c in after["cells"]}
            for cell in phrase["cells"]:
                if cell["status"] == "literal":
                    assert dumped(cells[cell["part"]]) == dumped(cell)


def test_minimal_gets_an_arrangement_that_follows_the_energy(minimal_ir: dict) -> None:
    score = fill(minimal_ir)
    added = {p["role"]: p["name"] for p in score["parts"] if p.get("added_by") == "arrangement"}
    assert {"chords", "bass", "antagonist"} <= set(added)
    scenes = {s["id"]: s for s in score["scenes"]}

    def bass_status(scene_id: str) -> str:
        return next(c for c in scenes[scene_id]["phrases"][0]["cells"] if c["part"] == added["bass"])["status"]

    assert bass_status("I.you.1a") == "rest"  # quiet: the bass has not come in
    assert bass_status("IIb.find.1a") == "generated"
    rest = next(c for c in scenes["I.you.1a"]["phrases"][0]["cells"] if c["part"] == added["bass"])
    assert rest["provenance"]["agent"] == "arrangement" and "energy" in rest["provenance"]["note"]


# ---- properties over random songs ------------------------------------------------------------------

GENRES = ["pop", "jazz", "techno", "hip-hop", "classical", "ambient", "reggae", "funk", "blues", "folk"]
ROLE_LINES = {
    "protagonist": ["part lead : protagonist plays hero", "part lead : protagonist"],
    "antagonist": ["part dark : antagonist plays shadow", "part dark : antagonist"],
    "chords": ["part keys : chords plays home", "part keys : chords"],
    "bass": ["part low : bass", "part low : bass on t8.bass"],
    "drums": ["part beat : drums", "part beat : drums on t8.drums"],
}
DIRECTIVES = [
    "",
    "act IIa { step search { syncopation 0.8; polyrhythm 3:4 on hat } }",
    "act IIb { step take { disintegrate 0.9; thin 0.5 } }",
    "act III { step change { substitute tritone } }",
    "act I { feel half-time }",
    "act IIa { modulate relative }",
]


@st.composite
def songs(draw: st.DrawFn) -> str:
    genre = draw(st.sampled_from(GENRES))
    tonic = draw(st.sampled_from(["C", "D", "E", "F", "G", "A", "Bb", "F#"]))
    mode = draw(st.sampled_from(["major", "minor", "dorian"]))
    roles = draw(st.lists(st.sampled_from(list(ROLE_LINES)), min_size=1, max_size=5, unique=True))
    lines = [
        f'song "Random" {{ genre {genre}; key {tonic} {mode}; sequences 1; scenes 1; seed {draw(st.integers(0, 9))} }}',
        'theme hero = "c5/8 d5/8 e5/4 g5/4 e5/4 | d5/2 c5/2"',
        'theme shadow = "a3/4 g3/4 f3/2"',
        'prog home = "I | vi | IV | V"',
        draw(st.sampled_from(DIRECTIVES)),
    ]
    lines += [draw(st.sampled_from(ROLE_LINES[role])) for role in roles]
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs())
def test_filled_random_songs_keep_the_rules(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("song") / "random.circle"
    path.write_text(text, encoding="utf-8")
    result = compile_file(str(path))
    score = result.filled
    Score.model_validate(score)
    parts = {p["name"]: p for p in score["parts"]}
    literal = {
        (s["id"], p["kind"], c["part"]): c
        for s in result.ir["scenes"]
        for p in s["phrases"]
        for c in p["cells"]
        if c["status"] == "literal"
    }
    for scene in score["scenes"]:
        kinds = [p["kind"] for p in scene["phrases"]]
        assert kinds == ["A", "B", "A'", "T"]
        assert scene["phrases"][0]["start"] == scene["start"] and scene["phrases"][-1]["end"] == scene["end"]
        for phrase, following in zip(scene["phrases"], scene["phrases"][1:], strict=False):
            assert phrase["end"] == following["start"]
        for phrase in scene["phrases"]:
            assert {c["part"] for c in phrase["cells"]} == set(parts)
            for cell in phrase["cells"]:
                assert cell["status"] != "hole"
                key = (scene["id"], phrase["kind"], cell["part"])
                if key in literal:
                    assert dumped(cell) == dumped(literal[key])  # the writer's notes, untouched
                if cell["status"] != "generated":
                    continue
                part = parts[cell["part"]]
                events = cell["events"]
                assert len(cell["event_origins"]) == len(events)
                assert all(0 <= i < len(cell["origins"]) for i in cell["event_origins"])
                assert all(o["by"] == "agent" and o["agent"] and o["note"] for o in cell["origins"])
                for tick, dur, pitch, vel in events:
                    assert phrase["start"] <= tick < phrase["end"] and dur >= 1 and 1 <= vel <= 127
                    assert part["range"][0] <= pitch <= part["range"][1]
                    if ROLES[part["role"]].fixed_pitch:
                        assert pitch in part["drum_map"].values()
                if part["role"] in ("protagonist", "antagonist", "bass"):
                    ordered = sorted(events)
                    for (t1, d1, _, _), (t2, _, _, _) in zip(ordered, ordered[1:], strict=False):
                        assert t1 + d1 <= t2, (scene["id"], phrase["kind"], part["name"])
