"""Golden filled scores: what the agents compose for a song, per seed and genre.

Each case compiles `examples/minimal.circle` (in a genre, with a seed) and
renders the filled score as a compact, reviewable text: per scene its brief,
per phrase its chords, and per part its status, agent, note count and first
notes, plus a hash of all its events. `pytest --update-goldens` rewrites them;
review the diff like any other change to the music.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from harmonlang.agents import fill
from harmonlang.compiler import compile_file

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden_scores"
CASES = {
    "minimal-seed-default": (None, None),
    "minimal-seed-2": (None, 2),
    "minimal-pop": ("pop", None),
    "minimal-jazz-seed-9": ("jazz", 9),
    "minimal-techno": ("techno", None),
    "minimal-classical": ("classical", None),
}
FIRST_NOTES = 6


def render(score: dict) -> str:
    lines = [f"{score['title']}: genre {score['genre']}, seed {score['seed']}"]
    lines += [
        f"part {p['name']}: {p['role']} on {p['device']} ch{p['channel']} prog {p['program']}" for p in score["parts"]
    ]
    for name, material in score["materials"].items():
        if material.get("by") == "agent":
            lines.append(f"theme {name} (composed): {material['events']}")
    for scene in score["scenes"]:
        brief = scene["brief"]
        lines.append(
            f"{scene['id']} energy {scene['arc']['energy']} x{brief['velocity_scale']} density {brief['density']} "
            f"A' {'+'.join(brief['variation'])} critic {scene['critique']['chosen']}"
        )
        for phrase in scene["phrases"]:
            chords = " ".join(c["symbol"] for c in phrase["harmony"])
            lines.append(f"  {phrase['kind']} {phrase['key']['tonic']} {phrase['key']['mode']}: {chords}")
            for cell in phrase["cells"]:
                events = cell.get("events") or []
                digest = hashlib.blake2b(orjson.dumps(events), digest_size=6).hexdigest()
                agent = (cell.get("provenance") or {}).get("agent") or "-"
                shown = " ".join(f"{t}:{p}" for t, _, p, _ in events[:FIRST_NOTES])
                lines.append(f"    {cell['part']} {cell['status']} {agent} n={len(events)} #{digest} {shown}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_filled_score(case: str, update_goldens: bool) -> None:
    genre, seed = CASES[case]
    result = compile_file(str(ROOT / "examples" / "minimal.circle"), genre=genre)
    actual = render(fill(result.ir, seed=seed))
    path = GOLDEN / f"{case}.txt"
    if update_goldens or not path.exists():
        if not update_goldens:
            pytest.fail(f"{path.name} is missing: run pytest --update-goldens and review it")
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        import difflib

        diff = "".join(
            list(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "expected", "actual"))[:80]
        )
        pytest.fail(f"{path.name} differs (run pytest --update-goldens to accept):\n{diff}")


def test_seeds_and_genres_give_different_songs() -> None:
    texts = {case: (GOLDEN / f"{case}.txt").read_text(encoding="utf-8") for case in CASES}
    assert len(set(texts.values())) == len(CASES)
