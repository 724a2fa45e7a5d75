"""The stdlib's genres: all 24 compile, state everything a genre must, and sound distinct.

Each genre is checked the way a producer would meet it: `examples/minimal.circle`
re-rendered with `--genre`. The fingerprints come from the compiled score.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harmonlang.compiler import CompileFailure, CompileResult, compile_file
from harmonlang.resolve import stdlib_names
from harmonlang.roles import ROLES
from harmonlang.styles import PART_STYLES

ROOT = Path(__file__).parent.parent
MINIMAL = str(ROOT / "examples" / "minimal.circle")
GENRES = (
    "pop rock jazz blues classical house techno electro-house drum-and-bass hip-hop trap lo-fi funk disco "
    "reggae bossa-nova salsa country folk ambient synthwave punk metal afrobeat"
).split()
STEPS = ("you", "need", "go", "search", "find", "take", "return", "change")


@cache
def minimal_in(genre: str) -> CompileResult:
    try:
        return compile_file(MINIMAL, genre=genre)
    except CompileFailure as failure:
        messages = "\n".join(f"{d.span.label() if d.span else ''} {d.message}" for d in failure.diagnostics)
        pytest.fail(f"minimal.circle does not compile in {genre}:\n{messages}")


def test_the_stdlib_has_exactly_the_24_genres() -> None:
    assert sorted(stdlib_names("genres")) == sorted(GENRES)
    assert len(GENRES) == 24


@pytest.mark.parametrize("genre", GENRES)
def test_minimal_compiles_cleanly_in_every_genre(genre: str) -> None:
    result = minimal_in(genre)
    assert result.ir["genre"] == genre
    about_stdlib = [d.message for d in result.diagnostics if d.span is None or d.span.file.startswith("<stdlib>")]
    assert not about_stdlib, "a stdlib genre gives no warnings of its own"
    if result.ir["meter_map"][0]["numerator"] == 4 and result.ir["meter_map"][0]["denominator"] == 4:
        assert not result.diagnostics, "a 4/4 genre takes minimal.circle's 4/4 theme without a word"
    else:  # the theme's 4/4 bar lines in another meter: the writer is told, about the writer's own line
        assert all(d.span and d.span.file.endswith("minimal.circle") for d in result.diagnostics)
    assert result.score.scenes  # and the IR validates


def drum_fingerprint(result: CompileResult) -> tuple[tuple[int, int], ...]:
    """The notes and ticks of the groove the drum hole starts from in the first chorus."""
    ir = result.ir
    beat = next(c for c in ir["scenes"][0]["phrases"][0]["cells"] if c["part"] == "beat")
    assert beat["status"] == "hole"
    pattern = beat["hole"]["constraints"]["directives"]["pattern"]
    groove = ir["materials"][pattern]
    notes = next(p for p in ir["parts"] if p["name"] == "beat")["drum_map"]
    return tuple(sorted((notes[voice], tick) for voice, hits in groove["hits"].items() for tick, _ in hits))


def identity(genre: str) -> tuple[object, ...]:
    ir = minimal_in(genre).ir
    meter = ir["meter_map"][0]
    swing = ir["scenes"][0]["phrases"][0]["directives"]["swing"]
    return (
        ir["tempo_map"][0]["bpm"],
        (meter["numerator"], meter["denominator"]),
        swing,
        drum_fingerprint(minimal_in(genre)),
    )


def test_the_24_genres_are_pairwise_distinct() -> None:
    identities = {genre: identity(genre) for genre in GENRES}
    for a, b in itertools.combinations(GENRES, 2):
        assert identities[a] != identities[b], f"{a} and {b} share tempo, meter, swing and drums"
    # Stronger than the pairs: no two share a default tempo, and no two a main groove.
    assert len({i[0] for i in identities.values()}) == 24
    assert len({i[3] for i in identities.values()}) == 24


@pytest.mark.parametrize("genre", GENRES)
def test_every_genre_states_its_whole_style(genre: str) -> None:
    result = minimal_in(genre)
    ir = result.ir
    style = ir["style"]
    low, high = style["tempo_range"]
    assert low <= ir["tempo_map"][0]["bpm"] <= high
    assert style["about"] and style["scales"] and style["chords"] and style["bass_style"]
    assert style["compression"]["name"] and style["reverb"]["name"]
    assert {"main", "variation", "fill"} <= set(style["grooves"])
    assert "typical" in style["progressions"]
    for name in ("main", "variation", "fill"):
        groove = ir["materials"][name]
        bar = ir["ppq"] * 4 * ir["meter_map"][0]["numerator"] // ir["meter_map"][0]["denominator"]
        assert groove["length"] % bar == 0, f"{genre}'s {name} groove does not fill whole bars"
        assert any(groove["hits"].values())
    assert set(style["roles"]) == set(ROLES), "a role block for every role"
    for role, info in style["roles"].items():
        assert info["program_name"] and info["rig"], f"{genre} {role}: a GM program and a rig device"
        assert info["style"] in PART_STYLES[role]
    levels = {info["mix"]["level_db"] for info in style["roles"].values()}
    assert len(levels) > 1, "a mix template sets levels, not one level for all"


@pytest.mark.parametrize("genre", GENRES)
def test_every_step_sounds_its_own_way_in_every_genre(genre: str) -> None:
    """Each genre shapes all eight steps, and what it says reaches the phrases of that step."""
    result = minimal_in(genre)
    genre_layer = result.checked.layers[1]
    for step in STEPS:
        act = result.checked.structure.act_of[step]
        scope = genre_layer.scopes.get((act, step))
        assert scope is not None, f"{genre} says nothing about {step}"
        stated = {**scope.settings, **{k: v for p in scope.phrases.values() for k, v in p.items()}}
        assert "intent" in stated and len(stated) >= 2, f"{genre}'s {step}: an intent and a concrete setting"
        scene = next(s for s in result.ir["scenes"] if s["step"] == step)
        directives = scene["phrases"][0]["directives"]
        assert directives["intent"] == scope.settings["intent"].value


@pytest.mark.parametrize("genre", GENRES)
def test_genre_progressions_are_real_roman_numerals(genre: str) -> None:
    materials = minimal_in(genre).ir["materials"]
    progs = [m for m in materials.values() if m["kind"] == "prog"]
    assert progs and all(m["chords"] for m in progs)


def test_parts_without_a_device_take_the_genre_program() -> None:
    result = minimal_in("jazz")
    lead = next(p for p in result.ir["parts"] if p["name"] == "lead")
    expected = result.ir["style"]["roles"]["protagonist"]
    assert lead["device"] == "gm" and lead["program"] == expected["program"]
    assert lead["mix"] == expected["mix"]


def rigged(tmp_path: Path, genre: str, parts: str) -> dict[str, Any]:
    """The IR of a song in `genre` whose parts name no device, played on the genre's rig."""
    song = tmp_path / "rigged.circle"
    header = f'song "Rigged" {{ genre {genre}; instruments rig }}\ntheme hero = "a4/8 c5/8 e5/4"\n'
    song.write_text(header + parts, encoding="utf-8")
    return compile_file(str(song)).ir


def test_instruments_rig_puts_parts_on_the_genre_rig(tmp_path: Path) -> None:
    ir = rigged(tmp_path, "electro-house", "part lead : protagonist plays hero\npart bass : bass\npart beat : drums\n")
    parts = {p["name"]: p for p in ir["parts"]}
    assert (parts["lead"]["device"], parts["lead"]["channel"]) == ("s1", 3)
    assert (parts["bass"]["device"], parts["bass"]["output"], parts["bass"]["channel"]) == ("t8", "bass", 2)
    assert (parts["beat"]["device"], parts["beat"]["channel"]) == ("t8", 10)
    assert parts["beat"]["drum_map"]["kick"] == 36


def test_the_energy_arc_rises_across_a_step() -> None:
    scenes = minimal_in("electro-house").ir["scenes"]
    you = [s["arc"]["energy"] for s in scenes if s["step"] == "you"]
    assert you[0] == 0.25 and you[-1] == 0.35 and you == sorted(you) and len(set(you)) == len(you)
    take = [s["arc"]["energy"] for s in scenes if s["step"] == "take"]
    assert take == sorted(take, reverse=True), "Take falls"
    find = [s["arc"]["energy"] for s in scenes if s["step"] == "find"]
    assert min(find) > max(take), "Find is the peak, Take the collapse"


def test_a_rig_role_on_gm_keeps_the_genre_program(tmp_path: Path) -> None:
    ir = rigged(tmp_path, "reggae", "part lead : protagonist plays hero\npart beat : drums\n")
    for part in ir["parts"]:
        role = ir["style"]["roles"][part["role"]]
        if part["device"] == "gm" and part["role"] != "drums":
            assert part["program"] == role["program"], part["name"]


def test_drums_on_general_midi_play_the_genre_kit(tmp_path: Path) -> None:
    beat = next(p for p in minimal_in("jazz").ir["parts"] if p["name"] == "beat")
    assert (beat["channel"], beat["program"]) == (10, 32)  # the GS/GM2 Jazz Kit
    song = tmp_path / "kits.circle"
    song.write_text(
        'song "Kits" { key A minor }\ngroove g = { kick "x..." }\n'
        'part a : drums plays g on gm "TR-808 Kit"\npart b : drums plays g on gm "Jaz Kit"\n',
        encoding="utf-8",
    )
    with pytest.raises(CompileFailure) as failure:
        compile_file(str(song))
    [error] = [d for d in failure.value.diagnostics if d.severity == "error"]
    assert error.message == "no drum kit `Jaz Kit`" and "Jazz Kit" in (error.hint or "")
    song.write_text(song.read_text(encoding="utf-8").replace("Jaz Kit", "Brush Kit"), encoding="utf-8")
    programs = {p["name"]: p["program"] for p in compile_file(str(song)).ir["parts"]}
    assert programs == {"a": 25, "b": 40}


@pytest.mark.parametrize("genre", GENRES)
def test_genres_keep_the_templates_fills(genre: str) -> None:
    """A step-wide `pattern` in a genre would replace the template's bridge variation and transition fill."""
    layer = minimal_in(genre).checked.layers[1]
    wide = [container for container, scope in layer.scopes.items() if container and "pattern" in scope.settings]
    assert not wide, f"{genre} sets `pattern` for whole steps {wide}: put it in a chorus, bridge or transition"


@pytest.mark.parametrize("genre", GENRES)
def test_genre_progressions_hold_in_both_modes(genre: str) -> None:
    """Written for a minor key, a genre's numerals name their flats (`bVII`), so a major song gets Bb, not B."""
    result = minimal_in(genre)
    if result.checked.layers[1].scopes[()].settings["key"].value["mode"] != "minor":
        return
    for name, material in result.ir["materials"].items():
        if material["kind"] == "prog" and name in result.ir["style"]["progressions"]:
            for chord in material["chords"]:
                assert not chord.startswith(("III", "VI", "VII")), f"{genre} {name}: write b{chord}"
