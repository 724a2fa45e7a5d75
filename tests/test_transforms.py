"""Every transform on themes, progressions and grooves; rejections; and algebraic properties."""

from __future__ import annotations

import pytest

from harmonlang.compiler import CompileFailure, compile_file
from harmonlang.music import Notes
from harmonlang.transforms import (
    TRANSFORMS,
)

HEADER = 'song "T" { key C major; sequences 1; scenes 1 }\n'
BAR = 1920


def compile_text(tmp_path, body: str):
    return compile_file(str(tmp_path / "song.circle"), text=HEADER + body)


def material(tmp_path, body: str, name: str):
    return compile_text(tmp_path, body).checked.materials[name].material


def note_events(notes: Notes) -> list[tuple[int, int, int]]:
    return [(e.start, e.dur, e.pitch) for e in notes.events]


def prog_slots(prog) -> list[tuple[int, int, str]]:
    return [(s.start, s.dur, s.text) for s in prog.slots]


def failure(tmp_path, body: str):
    with pytest.raises(CompileFailure) as caught:
        compile_text(tmp_path, body)
    errors = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert errors, "a failure carries at least one error"
    return errors


def test_every_transform_has_tests_here():
    # A transform added to the table must get tests in this file too.
    assert set(TRANSFORMS) == {
        "transpose",
        "octave",
        "invert",
        "retrograde",
        "augment",
        "diminish",
        "displace",
        "thin",
        "repeat",
    }


# ---- transpose and octave -------------------------------------------------------------------------


def test_transpose_theme(tmp_path):
    up = material(tmp_path, 'theme a = "c4/8 e4 g4/4" | transpose 3', "a")
    assert note_events(up) == [(0, 240, 63), (240, 240, 67), (480, 480, 70)]
    assert up.length == 960
    down = material(tmp_path, 'theme a = "c4 e4" | transpose -12', "a")
    assert [e.pitch for e in down.events] == [48, 52]


def test_transpose_accepts_semitone_unit(tmp_path):
    assert [e.pitch for e in material(tmp_path, 'theme a = "c4" | transpose 2st', "a").events] == [62]


def test_transpose_prog_moves_its_chords(tmp_path):
    result = compile_text(tmp_path, 'prog p = "I IV" | transpose 2\npart keys : chords plays p\n')
    assert result.checked.materials["p"].material.transpose == 2
    phrase = result.ir["scenes"][0]["phrases"][0]
    first_bar = sorted(e[2] for e in phrase["cells"][0]["events"] if e[0] == phrase["start"])
    assert first_bar == [50, 54, 57]  # D major: I of C moved up a whole step
    assert [c["pitches"] for c in phrase["harmony"][:2]] == [[50, 54, 57], [55, 59, 62]]


def test_octave_theme_and_prog(tmp_path):
    low = material(tmp_path, 'theme a = "c4 g4" | octave -1', "a")
    assert [e.pitch for e in low.events] == [48, 55]
    high = material(tmp_path, 'prog p = "I V" | octave 1', "p")
    assert high.transpose == 12


# ---- invert -----------------------------------------------------------------------------------------------


def test_invert_around_the_first_note_by_default(tmp_path):
    inverted = material(tmp_path, 'theme a = "c4 e4 g4" | invert', "a")
    assert [e.pitch for e in inverted.events] == [60, 56, 53]


def test_invert_around_a_given_pitch(tmp_path):
    inverted = material(tmp_path, 'theme a = "c4 e4 g4" | invert e4', "a")
    assert [e.pitch for e in inverted.events] == [68, 64, 61]
    sharp = material(tmp_path, 'theme a = "c4 d4" | invert c#4', "a")
    assert [e.pitch for e in sharp.events] == [62, 60]


def test_invert_keeps_the_rhythm(tmp_path):
    inverted = material(tmp_path, 'theme a = "c4/8 e4/4. g4/2" | invert', "a")
    assert [(e.start, e.dur) for e in inverted.events] == [(0, 240), (240, 720), (960, 960)]


def test_invert_inside_plays(tmp_path):
    result = compile_text(tmp_path, 'theme hero = "c4 e4"\npart lead : protagonist plays (hero | invert)\n')
    phrase = result.ir["scenes"][0]["phrases"][0]
    assert [e[2] for e in phrase["cells"][0]["events"][:2]] == [60, 56]


def test_invert_out_of_midi_range_is_an_error(tmp_path):
    body = 'theme a = "c1 c8" | invert c0\n'
    (error,) = failure(tmp_path, body)
    assert error.message == "this puts notes outside the MIDI range"
    assert error.span.line == 2


# ---- retrograde ----------------------------------------------------------------------------------------


def test_retrograde_theme(tmp_path):
    backwards = material(tmp_path, 'theme a = "c4/8 d4/4 e4/2" | retrograde', "a")
    assert note_events(backwards) == [(0, 960, 64), (960, 480, 62), (1440, 240, 60)]
    assert backwards.length == 1680


def test_retrograde_theme_keeps_leading_rests_at_the_end(tmp_path):
    backwards = material(tmp_path, 'theme a = "r/4 c4/4" | retrograde', "a")
    assert note_events(backwards) == [(0, 480, 60)]
    assert backwards.length == 960


def test_retrograde_prog(tmp_path):
    backwards = material(tmp_path, 'prog p = "i | VI III" | retrograde', "p")
    assert prog_slots(backwards) == [(0, 960, "III"), (960, 960, "VI"), (1920, 1920, "i")]
    assert backwards.length == 2 * BAR


def test_retrograde_groove(tmp_path):
    backwards = material(tmp_path, 'groove g = { kick "xX.."; hat "x..." } | retrograde', "g")
    assert backwards.voices["kick"].hits == [(240, 124), (360, 100)]
    assert backwards.voices["hat"].hits == [(360, 100)]
    assert backwards.voices["kick"].length == 480


# ---- augment and diminish ------------------------------------------------------------------------------


def test_augment_theme(tmp_path):
    slow = material(tmp_path, 'theme a = "c4/8 d4/8" | augment', "a")
    assert note_events(slow) == [(0, 480, 60), (480, 480, 62)]
    assert slow.length == 960
    slower = material(tmp_path, 'theme a = "c4/8 d4/8" | augment 3', "a")
    assert note_events(slower) == [(0, 720, 60), (720, 720, 62)]


def test_augment_prog(tmp_path):
    slow = material(tmp_path, 'prog p = "i VI" | augment', "p")
    assert prog_slots(slow) == [(0, 3840, "i"), (3840, 3840, "VI")]
    assert slow.length == 4 * BAR


def test_augment_groove(tmp_path):
    slow = material(tmp_path, 'groove g = { kick "x.x." } | augment', "g")
    assert slow.unit == 240
    assert slow.voices["kick"].hits == [(0, 100), (480, 100)]
    assert slow.voices["kick"].length == 960


def test_diminish_theme(tmp_path):
    fast = material(tmp_path, 'theme a = "c4/4 d4/4" | diminish', "a")
    assert note_events(fast) == [(0, 240, 60), (240, 240, 62)]
    assert fast.length == 480
    triple = material(tmp_path, 'theme a = "c4/4 d4/4" | diminish 3', "a")
    assert note_events(triple) == [(0, 160, 60), (160, 160, 62)]


def test_diminish_prog_and_groove(tmp_path):
    fast = material(tmp_path, 'prog p = "i VI" | diminish', "p")
    assert prog_slots(fast) == [(0, 960, "i"), (960, 960, "VI")]
    beat = material(tmp_path, 'groove g = { kick "x.x." } | diminish', "g")
    assert beat.unit == 60
    assert beat.voices["kick"].hits == [(0, 100), (120, 100)]
    assert beat.voices["kick"].length == 240


# ---- displace ------------------------------------------------------------------------------------------


def test_displace_theme_wraps_round(tmp_path):
    late = material(tmp_path, 'theme a = "c4 d4 e4 f4" | displace 1/4', "a")
    assert note_events(late) == [(0, 480, 65), (480, 480, 60), (960, 480, 62), (1440, 480, 64)]
    assert late.length == BAR


def test_displace_theme_keeps_every_note_inside_the_loop(tmp_path):
    late = material(tmp_path, 'theme a = "c4/2 d4/2" | displace 1/4', "a")
    assert late.length == BAR
    assert all(0 <= e.start and e.start + e.dur <= late.length for e in late.events)
    assert sum(e.dur for e in late.events) == BAR  # nothing lost, nothing doubled
    assert (480, 960, 60) in note_events(late)


def test_displace_prog(tmp_path):
    late = material(tmp_path, 'prog p = "i VI III VII" | displace 1/1', "p")
    assert prog_slots(late) == [(0, 1920, "VII"), (1920, 1920, "i"), (3840, 1920, "VI"), (5760, 1920, "III")]


def test_displace_groove(tmp_path):
    late = material(tmp_path, 'groove g = { kick "x..."; snare "...x" } | displace 1/16', "g")
    assert late.voices["kick"].hits == [(120, 100)]
    assert late.voices["snare"].hits == [(0, 100)]  # wrapped round its own length


def test_displace_by_a_bar_on_a_one_bar_theme_changes_nothing(tmp_path):
    result = compile_text(tmp_path, 'theme a = "c4/8 d4 e4/4 f4/2"\ntheme b = a | displace 1/1\n')
    a, b = (result.checked.materials[x].material for x in "ab")
    assert note_events(a) == note_events(b)


def test_retrograde_of_a_groove_displaced_off_the_grid_stays_inside_it(tmp_path):
    groove = material(tmp_path, 'groove g = { kick "...x" } | displace 1/32 | retrograde', "g")
    assert all(0 <= tick < groove.voices["kick"].length for tick, _ in groove.voices["kick"].hits)


# ---- thin ----------------------------------------------------------------------------------------------


EIGHTHS = 'theme a = "c4/8 d4 e4 f4 g4 a4 b4 c5"'


def test_thin_drops_the_weakest_beats_first(tmp_path):
    half = material(tmp_path, EIGHTHS + " | thin 0.5", "a")
    assert [e.start for e in half.events] == [0, 480, 960, 1440]
    assert half.length == BAR  # the time stays; only notes go
    quarter = material(tmp_path, EIGHTHS + " | thin 0.25", "a")
    assert [e.start for e in quarter.events] == [0, 240, 480, 720, 960, 1440]


def test_thin_all_or_nothing(tmp_path):
    assert material(tmp_path, EIGHTHS + " | thin 1", "a").events == []
    assert len(material(tmp_path, EIGHTHS + " | thin 0", "a").events) == 8


def test_thin_groove_keeps_the_eighths(tmp_path):
    sparse = material(tmp_path, 'groove g = { hat "xxxxxxxxxxxxxxxx" } | thin 0.5', "g")
    assert [t for t, _ in sparse.voices["hat"].hits] == list(range(0, BAR, 240))
    assert sparse.voices["hat"].length == BAR


def test_thin_prog(tmp_path):
    sparse = material(tmp_path, 'prog p = "i VI | III VII" | thin 0.5', "p")
    assert prog_slots(sparse) == [(0, 960, "i"), (1920, 960, "III")]


# ---- repeat --------------------------------------------------------------------------------------------


def test_repeat_theme(tmp_path):
    again = material(tmp_path, 'theme a = "c4 d4/8" | repeat 3', "a")
    assert again.length == 3 * 720
    assert [(e.start, e.pitch) for e in again.events] == [
        (0, 60),
        (480, 62),
        (720, 60),
        (1200, 62),
        (1440, 60),
        (1920, 62),
    ]


def test_repeat_prog_and_groove(tmp_path):
    prog = material(tmp_path, 'prog p = "i VI" | repeat 2', "p")
    assert [s.text for s in prog.slots] == ["i", "VI", "i", "VI"]
    assert prog.length == 4 * BAR
    beat = material(tmp_path, 'groove g = { kick "x." } | repeat 3', "g")
    assert beat.voices["kick"].hits == [(0, 100), (240, 100), (480, 100)]
    assert beat.voices["kick"].length == 720


def test_chains_apply_left_to_right(tmp_path):
    result = compile_text(tmp_path, 'theme a = "c4/8 e4/4"\ntheme b = a | transpose 12 | retrograde | augment\n')
    b = result.checked.materials["b"].material
    assert note_events(b) == [(0, 960, 76), (960, 480, 72)]


# ---- rejections -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message", "hint"),
    [
        ('groove g = { kick "x..." } | invert', "`invert` does not apply to a groove", "`invert` works on themes"),
        ('prog p = "i VI" | invert', "`invert` does not apply to a prog", "`invert` works on themes"),
        ('groove g = { kick "x..." } | transpose 2', "`transpose` does not apply to a groove", None),
        ('groove g = { kick "x..." } | octave 1', "`octave` does not apply to a groove", None),
    ],
)
def test_transforms_refuse_the_wrong_kind_at_their_name(tmp_path, body, message, hint):
    (error,) = failure(tmp_path, body + "\n")
    assert error.message == message
    assert (error.span.line, error.span.col) == (2, body.rindex("| ") + 3)
    if hint:
        assert error.hint == hint


@pytest.mark.parametrize(
    ("step", "bad", "message"),
    [
        ("transpose 49", "49", "`transpose` takes a value from -48 to 48"),
        ("transpose -49", "-49", "`transpose` takes a value from -48 to 48"),
        ("transpose 1.5", "1.5", "`transpose` takes a whole number"),
        ("transpose 3dB", "3dB", "`transpose` takes a number here"),
        ("octave 5", "5", "`octave` takes a value from -4 to 4"),
        ("thin 1.5", "1.5", "`thin` takes a value from 0 to 1"),
        ("repeat 0", "0", "`repeat` takes a value from 1 to 64"),
        ("repeat 65", "65", "`repeat` takes a value from 1 to 64"),
        ("augment 0.5", "0.5", "`augment` takes a value from 1 to 16"),
        ("diminish 17", "17", "`diminish` takes a value from 1 to 16"),
        ("invert x", "x", "`invert` takes a pitch such as `c5`"),
        ("retrograde 2", "2", "`retrograde` takes 0 values"),
        ("transpose 1 2", "2", "`transpose` takes 1 value"),
    ],
)
def test_bad_transform_values_are_reported_at_the_value(tmp_path, step, bad, message):
    body = f'theme a = "c4 e4" | {step}'
    (error,) = failure(tmp_path, body + "\n")
    assert error.message == message
    assert (error.span.line, error.span.col, error.span.end_col) == (
        2,
        body.rindex(bad) + 1,
        body.rindex(bad) + 1 + len(bad),
    )


@pytest.mark.parametrize("value", ["1/3", "2", "3:4"])
def test_displace_takes_a_note_value(tmp_path, value):
    (error,) = failure(tmp_path, f'theme a = "c4 e4" | displace {value}\n')
    assert error.message.startswith("`displace` takes a note value such as `1/8`")


@pytest.mark.parametrize(("step", "example"), [("transpose", "| transpose 2"), ("thin", "| thin 0.5")])
def test_missing_value(tmp_path, step, example):
    (error,) = failure(tmp_path, f'theme a = "c4 e4" | {step}\n')
    assert error.message == f"`{step}` needs a value"
    assert example in (error.hint or "")


def test_unknown_transform_suggests_the_closest(tmp_path):
    (error,) = failure(tmp_path, 'theme a = "c4 e4" | retrograd\n')
    assert error.message == "unknown transform `retrograd`"
    assert error.hint == "did you mean `retrograde`?"


def test_transform_errors_stop_the_chain_but_not_other_materials(tmp_path):
    errors = failure(tmp_path, 'theme a = "c4" | transpose 99 | bogus\ntheme b = "c4" | thin 7\n')
    assert [e.message for e in errors] == [
        "`transpose` takes a value from -48 to 48",
        "`thin` takes a value from 0 to 1",
    ]
