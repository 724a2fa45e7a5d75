"""Watch mode's rebuilds: the same score as a cold compile, the agents composing only what an edit changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import METERS_SONG

from harmonlang.compiler import CompileFailure, CompileResult, compile_file
from harmonlang.incremental import IncrementalBuilder
from harmonlang.ir import Score
from harmonlang.runtime.midi import NOTE_OFF, NOTE_ON, PartTrack, _encode, midi_bytes, part_events, playable_notes
from harmonlang.runtime.timeline import Note, part_notes, playable

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DREAMS = (EXAMPLES / "digital-dreams.circle").read_text(encoding="utf-8")
MINIMAL = (EXAMPLES / "minimal.circle").read_text(encoding="utf-8")
# IIa.search sets syncopation 0.6 for its scenes: this changes one scene's directives, and nothing else.
ONE_SCENE = "\nscene IIa.search.2a { syncopation 0.85 }\n"


def dumped(score: dict) -> bytes:
    return orjson.dumps(score, option=orjson.OPT_SORT_KEYS)


@pytest.fixture
def song(tmp_path: Path) -> Path:
    """A copy of digital-dreams beside the studio module it imports, to edit."""
    (tmp_path / "studio.circle").write_text((EXAMPLES / "studio.circle").read_text(encoding="utf-8"), "utf-8")
    path = tmp_path / "digital-dreams.circle"
    path.write_text(DREAMS, encoding="utf-8")
    return path


def cold(path: Path, seed: int | None = None, reseed: dict[str, int] | None = None, genre: str | None = None):
    result = compile_file(str(path), genre=genre)
    result.seed, result.reseed = seed, dict(reseed or {})
    return result


def assert_as_cold(result: CompileResult, expected: CompileResult) -> None:
    assert result.was_filled and result._filled_score is not None  # set by the rebuild, not made lazily here
    assert dumped(result.filled) == dumped(expected.filled)
    assert result.filled_score == expected.filled_score
    assert result.filled_score.model_dump_json() == expected.filled_score.model_dump_json()


def test_an_unchanged_file_refills_nothing_and_equals_a_cold_compile(song: Path) -> None:
    builder = IncrementalBuilder()
    first, stats = builder.rebuild(str(song))
    ids = [scene["id"] for scene in first.ir["scenes"]]
    assert stats.scenes == len(ids) == 48 and stats.refilled == ids and stats.seconds > 0
    again, stats = builder.rebuild(str(song))
    assert stats.refilled == []
    # every scene was validated once, by the first build
    assert all(a is b for a, b in zip(first.filled_score.scenes, again.filled_score.scenes, strict=True))
    assert again.stem == "digital-dreams"
    assert_as_cold(again, cold(song))


def test_the_assembled_score_is_what_model_validate_gives(song: Path) -> None:
    builder = IncrementalBuilder()
    builder.rebuild(str(song))
    result, _ = builder.rebuild(str(song))
    validated = Score.model_validate(result.filled)
    assert result.filled_score == validated
    assert result.filled_score.model_fields_set == validated.model_fields_set
    for mine, theirs in zip(result.filled_score.scenes, validated.scenes, strict=True):
        assert type(mine) is type(theirs) and mine.model_fields_set == theirs.model_fields_set
    assert result.filled_score.model_dump_json() == validated.model_dump_json()


def test_editing_one_scene_composes_that_scene_alone(song: Path) -> None:
    builder = IncrementalBuilder()
    before, _ = builder.rebuild(str(song))
    song.write_text(DREAMS + ONE_SCENE, encoding="utf-8")
    result, stats = builder.rebuild(str(song))
    assert stats.refilled == ["IIa.search.2a"]
    expected = cold(song)
    assert_as_cold(result, expected)
    assert midi_bytes(result.filled_score) == midi_bytes(expected.filled_score)
    edited = {s.id for s, b in zip(result.filled_score.scenes, before.filled_score.scenes, strict=True) if s != b}
    assert edited == {"IIa.search.2a"}
    song.write_text(DREAMS, encoding="utf-8")  # undone: the scene as it was is still cached
    undone, stats = builder.rebuild(str(song))
    assert stats.refilled == []
    assert undone.filled_score == before.filled_score


def test_a_scene_is_composed_again_when_the_next_scene_changes_its_home_key(tmp_path: Path) -> None:
    # IIa.go.1a opens in C major after I.need.3b in A minor, so I.need.3b's transition pivots to the dominant
    # of the key most of IIa.go.1a is in. Lifting three of its four phrases moves that key but not its first
    # phrase's: I.need.3b's own IR is the same, its music is not.
    path = tmp_path / "song.circle"
    text = MINIMAL + "act IIa { modulate relative }\n"
    path.write_text(text, encoding="utf-8")
    builder = IncrementalBuilder()
    before, _ = builder.rebuild(str(path))
    path.write_text(text + "scene IIa.go.1a { bridge { lift +2 }; phrase A' { lift +2 }; transition { lift +2 } }\n")
    result, stats = builder.rebuild(str(path))
    index = [scene["id"] for scene in result.ir["scenes"]].index("I.need.3b")
    assert dumped(result.ir["scenes"][index]) == dumped(before.ir["scenes"][index])
    assert dumped(result.filled["scenes"][index]) != dumped(before.filled["scenes"][index])
    assert {"I.need.3b", "IIa.go.1a"} <= set(stats.refilled)
    assert_as_cold(result, cold(path))


def test_an_error_raises_and_the_builder_goes_on_with_the_next_good_file(song: Path) -> None:
    builder = IncrementalBuilder()
    builder.rebuild(str(song))
    song.write_text(DREAMS + "\nact IIa { step search {\n", encoding="utf-8")  # a save halfway through a line
    with pytest.raises(CompileFailure) as failure:
        builder.rebuild(str(song))
    assert any(d.severity == "error" for d in failure.value.diagnostics)
    song.write_text(DREAMS + ONE_SCENE, encoding="utf-8")
    result, stats = builder.rebuild(str(song))
    assert stats.refilled == ["IIa.search.2a"]
    assert_as_cold(result, cold(song))


def test_seed_reseed_and_genre_are_those_of_a_cold_fill(tmp_path: Path) -> None:
    path = tmp_path / "minimal.circle"
    path.write_text(MINIMAL, encoding="utf-8")
    options = {"seed": 3, "reseed": {"I.you.1b": 2}, "genre": "jazz"}
    builder = IncrementalBuilder(**options)
    result, stats = builder.rebuild(str(path))
    assert len(stats.refilled) == 48
    assert result.seed == 3 and result.reseed == {"I.you.1b": 2}
    assert_as_cold(result, cold(path, **options))
    _, stats = builder.rebuild(str(path))
    assert stats.refilled == []


# ---- the MIDI writer's notes: its own pass over the cells, held to the timeline's ------------------------


def timeline_notes(score: Score, index: int) -> list[tuple[int, int, bytes]]:
    """The note events as the writer made them from `playable(part_notes(...))` before its fast path."""
    events = []
    for note in playable(part_notes(score, index)):
        status = note.channel - 1
        events.append((note.tick, 3, bytes((NOTE_ON | status, note.pitch, note.velocity))))
        events.append((note.tick + note.dur, 2, bytes((NOTE_OFF | status, note.pitch, 0))))
    return events


def assert_timeline_notes(score: Score) -> None:
    for index in range(len(score.parts)):
        assert [e for e in part_events(score, index) if e[1] >= 2] == timeline_notes(score, index), index


def test_the_midi_writer_plays_the_timeline_notes(example_songs: dict[str, Score]) -> None:
    for score in example_songs.values():
        assert_timeline_notes(score)


def test_overlapping_and_rerouted_notes_match_the_timeline(tmp_path: Path) -> None:
    path = tmp_path / "meters.circle"
    path.write_text(METERS_SONG, encoding="utf-8")
    filled = compile_file(str(path)).filled
    first, second = filled["scenes"][0]["phrases"][:2]
    cell = first["cells"][0]
    start, end = first["start"], first["end"]
    # struck twice at once (the longer stands; at equal lengths the first), re-struck while sounding, and
    # sounding on into the next phrase, where the same key is struck again
    cell["events"] = [
        [start, 480, 60, 90],
        [start, 960, 60, 80],
        [start, 960, 60, 70],
        [start + 240, 240, 60, 100],
        [start, 240, 64, 100],
        [end - 240, 960, 67, 100],
    ]
    second["cells"][0]["events"] = [[second["start"], 480, 67, 50], *second["cells"][0].get("events", [])]
    second["cells"][0]["channel"] = 9  # a level moved elsewhere: its notes play on that channel
    assert_timeline_notes(Score.model_validate(filled))


# Crowded notes: few keys and ticks, so strikes coincide, overlap and re-strike while sounding (and a few
# far-off ones, for deltas of three and four bytes).
NOTES = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 12).map(lambda n: n * 120), st.sampled_from([20_000, 3_000_000])),
        st.integers(60, 62),
        st.integers(1, 6).map(lambda n: n * 100),
        st.integers(1, 127),
        st.integers(1, 2),
    ),
    max_size=40,
)


@given(NOTES)
def test_the_vectorized_notes_match_the_timeline_one_note_at_a_time(notes: list[tuple[int, ...]]) -> None:
    ordered = sorted(
        (Note(tick, dur, pitch, velocity, channel) for tick, pitch, dur, velocity, channel in notes),
        key=lambda n: (n.tick, n.pitch, n.dur),
    )
    expected = [(n.tick, n.pitch, n.dur, n.velocity, n.channel) for n in playable(ordered)]
    array = np.array(notes, dtype=np.int64).reshape(-1, 5)
    assert [tuple(row) for row in playable_notes(array).tolist()] == expected


@given(NOTES, st.lists(st.tuples(st.integers(0, 1500), st.integers(0, 1), st.integers(0, 127)), max_size=6))
def test_the_vectorized_track_encodes_as_the_event_loop_does(
    notes: list[tuple[int, ...]], controls: list[tuple[int, int, int]]
) -> None:
    array = np.array(notes, dtype=np.int64).reshape(-1, 5)
    made = [
        (tick, order, bytes((0xB0, 7, value)) if order else bytes((0xC0, value))) for tick, order, value in controls
    ]
    track = PartTrack(made, playable_notes(array))
    assert _encode(track) == _encode(track.events())
