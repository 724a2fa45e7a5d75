"""`harmonlang.freeze`: a scene's generated notes written back as literal source, by real round trips.

Each test compiles an example, fills it with the agents, freezes one scene, writes
the new text beside a copy of the example's imports, compiles it again and
compares the lowered cells with what the agents generated.
"""

from __future__ import annotations

import copy
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harmonlang.agents import fill
from harmonlang.compiler import CompileResult, compile_file
from harmonlang.freeze import FreezeError, freeze_scene, note_values, theme_bars, written_pitch
from harmonlang.roles import ROLES
from harmonlang.theory import spell_key

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@cache
def _filled(name: str) -> dict[str, Any]:
    return fill(compile_file(str(EXAMPLES / name)).ir)


def filled(name: str) -> dict[str, Any]:
    return copy.deepcopy(_filled(name))


def scene_of(score: dict[str, Any], scene_id: str) -> dict[str, Any]:
    return next(s for s in score["scenes"] if s["id"] == scene_id)


def cells(phrase: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["part"]: c for c in phrase["cells"]}


def events(cell: dict[str, Any]) -> list[tuple[int, ...]]:
    return sorted(tuple(e) for e in cell.get("events") or [])


def round_trip(tmp_path: Path, name: str, scene_id: str) -> tuple[CompileResult, CompileResult, str, list[str]]:
    """(the example compiled from tmp_path, the frozen text compiled at the same path, the text, the summary)."""
    for circle in EXAMPLES.glob("*.circle"):  # the imports it needs (digital-dreams imports studio.circle)
        shutil.copy(circle, tmp_path / circle.name)
    path = tmp_path / name
    source = path.read_text()
    before = compile_file(str(path))
    text, summary = freeze_scene(source, filled(name), scene_id)
    path.write_text(text)
    after = compile_file(str(path))
    return before, after, text, summary


def assert_frozen(name: str, scene_id: str, before: CompileResult, after: CompileResult, summary: list[str]) -> int:
    """Every generated cell of the scene is now literal with the same events; everything else is unchanged."""
    score = filled(name)
    declared = {p["name"] for p in after.ir["parts"]} - {p["name"] for p in before.ir["parts"]}
    frozen = 0
    for old, new, lowered in zip(
        scene_of(score, scene_id)["phrases"],
        scene_of(after.ir, scene_id)["phrases"],
        scene_of(before.ir, scene_id)["phrases"],
        strict=True,
    ):
        assert new["key"] == old["key"]
        for part, cell in cells(old).items():
            now = cells(new).get(part)
            skipped = any(line.startswith(f"skipped {scene_id} phrase {old['kind']} `{part}`") for line in summary)
            if cell["status"] == "generated" and not skipped:
                assert now is not None and now["status"] == "literal", (old["kind"], part)
                assert events(now) == events(cell), (old["kind"], part)
                frozen += 1
            elif part in cells(lowered):
                assert without_declared(now, declared) == without_declared(cells(lowered)[part], declared), part
    assert_others_unchanged(before.ir, after.ir, scene_id)
    return frozen


def assert_others_unchanged(before: dict[str, Any], after: dict[str, Any], scene_id: str) -> None:
    assert [s["id"] for s in before["scenes"]] == [s["id"] for s in after["scenes"]]
    declared = {p["name"] for p in after["parts"]} - {p["name"] for p in before["parts"]}
    for old_scene, new_scene in zip(before["scenes"], after["scenes"], strict=True):
        if old_scene["id"] == scene_id:
            continue
        for old, new in zip(old_scene["phrases"], new_scene["phrases"], strict=True):
            settings = [without_declared({k: v for k, v in p.items() if k != "cells"}, declared) for p in (old, new)]
            assert settings[0] == settings[1], (old_scene["id"], old["kind"])
            for part, cell in cells(new).items():
                if part in cells(old):
                    expected = without_declared(cells(old)[part], declared)
                    assert without_declared(cell, declared) == expected, (old_scene["id"], old["kind"], part)
                else:  # a part the freeze declared: open wherever it was not frozen, as the agent had it
                    assert cell["status"] in ("hole", "rest"), (old_scene["id"], old["kind"], part)
    for series in ("tempo_map", "meter_map", "key_map"):
        assert before[series] == after[series]


def without_declared(data: Any, declared: set[str]) -> Any:
    """Phrase or cell data, less the `mix` moves a role-wide setting (`mix antagonist +3dB`) gives a declared part
    (before the freeze the same move is keyed by the role, for the part the arrangement adds)."""
    if isinstance(data, list):
        return [without_declared(item, declared) for item in data]
    if not isinstance(data, dict):
        return data
    result = {k: without_declared(v, declared) for k, v in data.items()}
    directives = result.get("directives")
    if isinstance(directives, dict) and isinstance(directives.get("mix"), dict):
        mix = {part: move for part, move in directives["mix"].items() if part not in declared and part not in ROLES}
        result["directives"] = {k: v for k, v in directives.items() if k != "mix"} | ({"mix": mix} if mix else {})
    return result


def refreeze_is_noop(text: str, after: CompileResult, scene_id: str) -> None:
    again, summary = freeze_scene(text, fill(after.ir), scene_id)
    assert again == text
    assert summary == [f"nothing to freeze in {scene_id}: it has no generated cells left"]


def test_minimal_first_scene(tmp_path: Path) -> None:
    before, after, text, summary = round_trip(tmp_path, "minimal.circle", "I.you.1a")
    assert "# frozen from I.you.1a by harmonc freeze" in text
    assert "scene I.you.1a {" in text and "phrase A' {" in text
    assert "groove frozen-I-you-1a-A-beat = {" in text
    assert "theme frozen-I-you-1a-A2-lead = " in text
    assert not any(line.startswith("skipped") for line in summary)
    assert assert_frozen("minimal.circle", "I.you.1a", before, after, summary) >= 8
    assert not [d for d in after.diagnostics if d.severity == "error"]
    assert len(after.diagnostics) == len(before.diagnostics)  # no new warnings
    refreeze_is_noop(text, after, "I.you.1a")


def test_added_parts_are_declared_as_the_agent_had_them(tmp_path: Path) -> None:
    score = filled("minimal.circle")
    added = {p["name"]: p for p in score["parts"] if p.get("added_by")}
    assert "chords" in added
    _, after, text, summary = round_trip(tmp_path, "minimal.circle", "I.you.1a")
    assert "part chords : chords on gm channel 2" in text
    assert any(line.startswith("declared `chords`, which the arrangement agent added") for line in summary)
    declared = {p["name"]: p for p in after.ir["parts"]}["chords"]
    for field in ("role", "device", "output", "port", "channel", "program", "drum_map", "range", "mix"):
        assert declared[field] == added["chords"][field], field
    # Filling the frozen song keeps the frozen notes, and every part on the channel it had.
    refilled = fill(after.ir)
    channels = {p["name"]: (p["channel"], p["program"]) for p in refilled["parts"]}
    assert channels == {p["name"]: (p["channel"], p["program"]) for p in score["parts"]}
    for old, new in zip(scene_of(score, "I.you.1a")["phrases"], scene_of(refilled, "I.you.1a")["phrases"], strict=True):
        for part, cell in cells(old).items():
            if cell["status"] == "generated":
                assert events(cells(new)[part]) == events(cell)


@pytest.mark.parametrize("scene_id", ["IIa.go.1a", "IIb.find.1a"])
def test_minimal_in_a_moved_key(tmp_path: Path, scene_id: str) -> None:
    score = filled("minimal.circle")
    keys = {(p["key"]["tonic"], p["key"]["mode"]) for p in scene_of(score, scene_id)["phrases"]}
    assert keys - {("A", "minor")}, "the scene should be out of the home key"
    before, after, text, summary = round_trip(tmp_path, "minimal.circle", scene_id)
    assert assert_frozen("minimal.circle", scene_id, before, after, summary) >= 8
    refreeze_is_noop(text, after, scene_id)


def test_digital_dreams(tmp_path: Path) -> None:
    """Holes for the bass, the sampler's chops (and the imported `fx`), the variations."""
    scene_id = "IIa.go.1a"  # in C major: act IIa modulates to the relative major
    before, after, text, summary = round_trip(tmp_path, "digital-dreams.circle", scene_id)
    for name in ("bass", "chops", "fx", "lead"):
        assert f"    {name} plays frozen-IIa-go-1a-" in text, name
    assert "unit 1/8" in text  # the pads' chops are eighths
    assert "part " not in text.split("# frozen from")[1]  # every part is the writer's already
    assert assert_frozen("digital-dreams.circle", scene_id, before, after, summary) >= 12
    refreeze_is_noop(text, after, scene_id)


def test_digital_dreams_scene_with_its_own_block(tmp_path: Path) -> None:
    """The last scene already has a block in the source (16 bars): the freeze adds another."""
    before, after, text, summary = round_trip(tmp_path, "digital-dreams.circle", "III.change.3b")
    assert text.count("scene III.change.3b {") == 2
    assert assert_frozen("digital-dreams.circle", "III.change.3b", before, after, summary) >= 8
    refreeze_is_noop(text, after, "III.change.3b")


def test_verifying_with_a_path_and_names_stay_unique() -> None:
    path = str(EXAMPLES / "minimal.circle")
    source = Path(path).read_text()
    score = filled("minimal.circle")
    text, _ = freeze_scene(source, score, "I.you.1b", path=path)
    # Freezing once more from the old score (filled before the freeze) writes nothing twice.
    again, summary = freeze_scene(text, score, "I.you.1b", path=path)
    assert again == text
    assert all(line.startswith("skipped") and "already frozen" in line for line in summary[:-1])
    assert summary[-1] == "nothing frozen in I.you.1b; the text is unchanged"
    # Another scene from the old score: `chords` is declared once, and the result compiles.
    third, _ = freeze_scene(text, score, "I.you.2a", path=path)
    assert third.count("part chords :") == 1


def test_unwritable_cells_are_skipped_and_said(tmp_path: Path) -> None:
    score = filled("minimal.circle")
    phrase = scene_of(score, "I.you.1a")["phrases"][0]
    chords = cells(phrase)["chords"]
    first = chords["events"][0]
    chords["events"].append([first[0] + 240, first[1], first[2] + 1, first[3]])  # starts while others sound
    text, summary = freeze_scene("", score, "I.you.1a")
    assert any(line.startswith("skipped I.you.1a phrase A `chords`: ") for line in summary)
    assert "frozen-I-you-1a-A-chords" not in text
    assert "frozen-I-you-1a-B-chords" in text


def test_unknown_scene() -> None:
    with pytest.raises(FreezeError, match=r"no scene `I\.you\.1x`.*did you mean `I\.you\.1[ab]`"):
        freeze_scene("", filled("minimal.circle"), "I.you.1x")


def test_nothing_generated_leaves_the_text_alone() -> None:
    compiled = compile_file(str(EXAMPLES / "minimal.circle")).ir  # lowered, not filled: holes, no generated cells
    text, summary = freeze_scene("song x {}\n", compiled, "I.you.1a")
    assert text == "song x {}\n"
    assert summary == ["nothing to freeze in I.you.1a: it has no generated cells left"]


def test_note_values() -> None:
    assert note_values(480) == ("/4",)
    assert note_values(720) == ("/4.",)
    assert note_values(210) == ("/16..",)
    assert note_values(160) == ("/8t",)
    assert note_values(1920 + 480) == ("/1", "/4")
    assert sum(_ticks(v) for v in note_values(1915)) == 1915


def _ticks(value: str) -> int:
    from harmonlang.theory import duration_ticks

    den = int(value[1:].rstrip(".t"))
    return duration_ticks(den, value.count("."), value.endswith("t")) or 0


def test_theme_bars_ties_over_bar_lines_and_chords() -> None:
    a_minor = spell_key("A", "minor")
    bars = theme_bars(
        [(0, 960, 69, 90), (960, 1920, 57, 80), (960, 1920, 60, 80), (960, 1920, 64, 80)],
        3840,
        1920,
        lambda pitch: written_name(pitch, a_minor),
    )
    assert bars == ["@90 a4/2 @80 [a3 c4 e4]/2~", "[a3 c4 e4]/2 r/2"]


def written_name(pitch: int, key: Any) -> str:
    from harmonlang.freeze import spell

    return spell(pitch, key)


def test_written_pitch_inverts_the_key_move() -> None:
    home = spell_key("A", "minor")
    for tonic, mode in [("C", "major"), ("Bb", "minor"), ("A", "major"), ("E", "phrygian")]:
        key = spell_key(tonic, mode)
        reachable = {max(0, min(127, home.map_to(p, key))) for p in range(128)}
        for pitch in range(24, 104):
            if pitch in reachable:
                assert home.map_to(written_pitch(pitch, home, key), key) == pitch
    assert written_name(68, home) == "g#4"  # the leading tone of A minor is a sharp
