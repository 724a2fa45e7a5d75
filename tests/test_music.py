"""Literal music in strings: notes, progressions and drum grids, and the columns of their errors."""

from __future__ import annotations

import pytest

from harmonlang import nodes as n
from harmonlang.compiler import CompileFailure, compile_file
from harmonlang.diagnostics import Diagnostics, Span
from harmonlang.music import STEP_VELOCITY, read_groove, read_notes, read_progression
from harmonlang.parser import parse_source

BAR = 1920  # a bar of 4/4 in ticks
FILE = "song.circle"
LINE, COL = 7, 14  # where the test strings' opening quote sits


def literal(text: str, line: int = LINE, col: int = COL) -> n.StringLit:
    """A string literal as the parser makes it: the span covers the quotes."""
    span = Span(file=FILE, line=line, col=col, end_line=line, end_col=col + len(text) + 2)
    return n.StringLit.model_construct(span=span, text=text)


def column_of(text: str, needle: str, col: int = COL) -> int:
    """The source column of `needle` inside a literal whose quote is at `col`."""
    return col + 1 + text.index(needle)


def notes(*texts: str, bar: int = BAR):
    diagnostics = Diagnostics()
    result = read_notes([literal(t, LINE + i) for i, t in enumerate(texts)], bar, diagnostics)
    return result, diagnostics.items


def events(text: str) -> list[tuple[int, int, int, int]]:
    result, problems = notes(text)
    assert [d for d in problems if d.severity == "error"] == [], [d.message for d in problems]
    return [(e.start, e.dur, e.pitch, e.vel) for e in result.events]


def only_error(problems):
    errors = [d for d in problems if d.severity == "error"]
    assert len(errors) == 1, [d.message for d in problems]
    return errors[0]


# ---- notes: values --------------------------------------------------------------------------------


def test_durations_and_pitches():
    assert events("a4/8 c5/8 e5/4") == [(0, 240, 69, 90), (240, 240, 72, 90), (480, 480, 76, 90)]


@pytest.mark.parametrize(
    ("value", "ticks"),
    [("/1", 1920), ("/2", 960), ("/4", 480), ("/8", 240), ("/16", 120), ("/32", 60), ("/64", 30)],
)
def test_every_note_value(value, ticks):
    result, problems = notes(f"c4{value} d4")
    assert problems == []
    assert [(e.start, e.dur) for e in result.events] == [(0, ticks), (ticks, ticks)]
    assert result.length == 2 * ticks


@pytest.mark.parametrize(("text", "ticks"), [("c4/4.", 720), ("c4/4..", 840), ("c4/8.", 360), ("c4/2.", 1440)])
def test_dotted_values(text, ticks):
    result, _ = notes(text)
    assert [e.dur for e in result.events] == [ticks]
    assert result.length == ticks


def test_triplets_fill_the_beat():
    result, _ = notes("c4/8t d4 e4 f4/4")
    assert [(e.start, e.dur) for e in result.events] == [(0, 160), (160, 160), (320, 160), (480, 480)]
    assert [e.dur for e in notes("c4/4t")[0].events] == [320]
    assert [e.dur for e in notes("c4/16t")[0].events] == [80]


def test_rests_take_time_but_make_no_event():
    assert events("r/4 c4 r/2 d4/8") == [(480, 480, 60, 90), (1920, 240, 62, 90)]
    result, _ = notes("c4/8 r/8 r/4")
    assert result.length == 960
    assert len(result.events) == 1


def test_a_rest_without_a_value_takes_the_current_one():
    assert events("c4/8 r d4") == [(0, 240, 60, 90), (480, 240, 62, 90)]
    assert events("r c4") == [(480, 480, 60, 90)]


# ---- notes: carrying the octave and the value -----------------------------------------------------


def test_first_note_defaults_to_octave_4_and_a_quarter():
    assert events("c d") == [(0, 480, 60, 90), (480, 480, 62, 90)]


def test_octave_carries_over():
    assert [e[2] for e in events("c5 d e g3 a b")] == [72, 74, 76, 55, 57, 59]


def test_duration_carries_over():
    assert [e[1] for e in events("c4/8 d e f/2 g")] == [240, 240, 240, 960, 960]


def test_dotted_and_triplet_values_carry_over():
    assert [e[1] for e in events("c4/4. d")] == [720, 720]
    assert [e[1] for e in events("c4/8t d e")] == [160, 160, 160]


def test_rest_value_carries_over_to_the_next_note():
    assert events("r/8 c4") == [(240, 240, 60, 90)]


# ---- notes: accidentals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "pitch"),
    [
        ("c4", 60),
        ("c#4", 61),
        ("db4", 61),
        ("eb4", 63),
        ("b#3", 60),
        ("cb4", 59),
        ("c##4", 62),
        ("dbb4", 60),
        ("c♯4", 61),
        ("e♭4", 63),
        ("C4", 60),
        ("c-1", 0),
        ("g9", 127),
    ],
)
def test_pitches(note, pitch):
    assert events(note)[0][2] == pitch


# ---- notes: ties and chords -------------------------------------------------------------------------


def test_tie_merges_durations():
    assert events("c4/2~ c4/8") == [(0, 1200, 60, 90)]
    assert events("c4/2~ c4/8~ c4/16 d4") == [(0, 1320, 60, 90), (1320, 120, 62, 90)]


def test_tie_across_a_bar_line_and_across_strings():
    result, problems = notes("c4/1~ |", "c4/4 d4")
    assert problems == []
    assert [(e.start, e.dur, e.pitch) for e in result.events] == [(0, 2400, 60), (2400, 480, 62)]


def test_chord_sounds_together_and_then_time_moves_on():
    assert events("[a3 c4 e4]/2 g4") == [(0, 960, 57, 90), (0, 960, 60, 90), (0, 960, 64, 90), (960, 960, 67, 90)]


def test_tied_chords_merge():
    assert events("[c4 e4]/4~ [c4 e4]/8") == [(0, 720, 60, 90), (0, 720, 64, 90)]


# ---- notes: velocity ----------------------------------------------------------------------------------


def test_default_velocity_accent_and_ghost():
    assert [e[3] for e in events("c4 c4! c4? c4!! c4??")] == [90, 114, 45, 127, 22]


def test_velocity_on_one_note_does_not_carry():
    assert [e[3] for e in events("c4@110 d4 e4@1")] == [110, 90, 1]


def test_dynamics_carry_until_changed():
    assert [e[3] for e in events("@mf c4 d4 @ff e4 @64 f4 @ppp g4 @fff a4")] == [80, 80, 112, 64, 20, 127]


def test_accent_applies_on_top_of_a_dynamic():
    assert [e[3] for e in events("@p c4! c4?")] == [74, 25]


# ---- notes: bar checks and errors at their exact column --------------------------------------------------


def test_bar_check_warns_at_the_bar_line():
    text = "c4 d4 e4 | f4 g4 a4 b4 | c5/1 |"
    _, problems = notes(text)
    assert [(d.severity, d.message) for d in problems] == [
        ("warning", "this bar lasts 3 beats, but the meter wants 4 beats")
    ]
    assert (problems[0].span.line, problems[0].span.col) == (LINE, column_of(text, "|"))


def test_bar_check_follows_the_meter():
    _, problems = notes("c4/4 d4 e4 | f4/2. |", bar=1440)  # 3/4
    assert problems == []


@pytest.mark.parametrize(
    ("text", "bad", "message"),
    [
        ("c4 x4 d4", "x4", "`x4` is not a note"),
        ("a4/8 c5/8 h4", "h4", "`h4` is not a note"),
        ("c4 d4/3 e4", "/3", "`/3` is not a note value"),
        ("c4 d4@200", "d4@200", "velocity 200 is out of range"),
        ("c4 @0 d4", "@0", "velocity 0 is out of range"),
        ("g9 a9", "a9", "this note is outside the MIDI range"),
        ("[a3 c4/8]/2", "c4/8", "`c4/8` is not a chord tone"),
        ("c4 []/4", "[]/4", "this chord has no notes"),
        ("c4~ d4", "c4~", "a tie `~` must join notes of the same pitch"),
        ("c4~ r/4", "c4~", "a tie `~` cannot lead into a rest"),
        ("d4 c4~", "c4~", "this tie `~` has no note to join"),
    ],
)
def test_note_errors_carry_the_exact_column(text, bad, message):
    _, problems = notes(text)
    error = only_error(problems)
    assert error.message == message
    assert error.span.file == FILE
    assert error.span.line == LINE
    assert error.span.col == column_of(text, bad)
    assert error.span.end_col == column_of(text, bad) + len(bad)


def test_an_error_in_the_second_string_points_into_the_second_line():
    _, problems = notes("a4/8 c5/8 e5/4 |", "d5/8 q5 b4/4")
    error = only_error(problems)
    assert (error.span.line, error.span.col) == (LINE + 1, column_of("d5/8 q5 b4/4", "q5"))


def test_reading_goes_on_after_an_error():
    result, problems = notes("c4 zz d4 yy e4")
    assert [d.message for d in problems] == ["`zz` is not a note", "`yy` is not a note"]
    assert [e.pitch for e in result.events] == [60, 62, 64]


def test_error_column_through_the_whole_compiler(tmp_path):
    text = 'song "S" { key A minor }\n\ntheme hero = "a4/8 c5/8 q5/4 d5"\npart lead : protagonist plays hero\n'
    with pytest.raises(CompileFailure) as failure:
        compile_file(str(tmp_path / "song.circle"), text=text)
    (error,) = failure.value.diagnostics
    line = text.splitlines()[2]
    assert error.message == "`q5/4` is not a note"
    assert (error.span.line, error.span.col, error.span.end_col) == (3, line.index("q5") + 1, line.index("q5") + 5)
    assert error.span.file == str(tmp_path / "song.circle")


def test_error_column_counts_characters_not_bytes(tmp_path):
    # `♯` is three bytes in UTF-8 but one column.
    text = 'song "S" { key A minor }\ntheme hero = "c♯4 d♭4 zz"\npart lead : protagonist plays hero\n'
    with pytest.raises(CompileFailure) as failure:
        compile_file(str(tmp_path / "song.circle"), text=text)
    (error,) = failure.value.diagnostics
    assert (error.span.line, error.span.col) == (2, text.splitlines()[1].index("zz") + 1)


# ---- progressions -----------------------------------------------------------------------------------------


def progression(*texts: str, bar: int = BAR):
    diagnostics = Diagnostics()
    result = read_progression([literal(t, LINE + i) for i, t in enumerate(texts)], bar, diagnostics)
    return result, diagnostics.items


def slots(result) -> list[tuple[int, int, str]]:
    return [(s.start, s.dur, s.text) for s in result.slots]


def test_without_bar_lines_each_chord_fills_a_bar():
    result, problems = progression("i VI III VII")
    assert problems == []
    assert slots(result) == [(0, 1920, "i"), (1920, 1920, "VI"), (3840, 1920, "III"), (5760, 1920, "VII")]
    assert result.length == 4 * BAR


def test_bar_lines_split_a_bar_evenly():
    result, problems = progression("iv | V7 | i VI | iv6 V65")
    assert problems == []
    assert slots(result) == [
        (0, 1920, "iv"),
        (1920, 1920, "V7"),
        (3840, 960, "i"),
        (4800, 960, "VI"),
        (5760, 960, "iv6"),
        (6720, 960, "V65"),
    ]
    assert result.length == 4 * BAR


def test_three_chords_share_a_bar():
    result, _ = progression("i VI III | VII")
    assert slots(result) == [(0, 640, "i"), (640, 640, "VI"), (1280, 640, "III"), (1920, 1920, "VII")]


def test_bar_split_follows_the_meter():
    result, _ = progression("i VI | III", bar=1440)  # 3/4
    assert slots(result) == [(0, 720, "i"), (720, 720, "VI"), (1440, 1440, "III")]
    assert result.length == 2 * 1440


def test_bar_lines_in_one_string_apply_to_all_strings():
    result, _ = progression("i VI |", "III VII")
    assert slots(result) == [(0, 960, "i"), (960, 960, "VI"), (1920, 960, "III"), (2880, 960, "VII")]


def test_percent_repeats_the_previous_bar():
    result, problems = progression("Am7 | % | Fmaj7 | F/C G")
    assert problems == []
    assert slots(result) == [
        (0, 1920, "Am7"),
        (1920, 1920, "Am7"),
        (3840, 1920, "Fmaj7"),
        (5760, 960, "F/C"),
        (6720, 960, "G"),
    ]


def test_percent_repeats_a_whole_shared_bar():
    result, _ = progression("i V7 | %")
    assert slots(result) == [(0, 960, "i"), (960, 960, "V7"), (1920, 960, "i"), (2880, 960, "V7")]


def test_percent_without_bar_lines_repeats_the_previous_chord():
    result, _ = progression("i VI % VII")
    assert slots(result) == [(0, 1920, "i"), (1920, 1920, "VI"), (3840, 1920, "VI"), (5760, 1920, "VII")]


def test_percent_with_nothing_before_it_is_an_error_at_its_column():
    text = "% i"
    result, problems = progression(text)
    error = only_error(problems)
    assert error.message == "`%` repeats the previous bar, but there is none"
    assert error.span.col == column_of(text, "%")
    assert slots(result) == [(0, 1920, "i")]


def test_chord_symbols_and_numerals_mix():
    result, problems = progression("Am F C G")
    assert problems == []
    assert [s.text for s in result.slots] == ["Am", "F", "C", "G"]


@pytest.mark.parametrize(
    ("text", "bad", "width", "message"),
    [
        ("i VI Xq7 VII", "Xq7", 3, "`Xq7` is not a Roman numeral or chord symbol"),
        ("i | Cxyz", "xyz", 3, "unknown chord quality `xyz` in `Cxyz`"),
        ("i | Bbqq G", "qq", 2, "unknown chord quality `qq` in `Bbqq`"),
    ],
)
def test_progression_errors_carry_the_exact_column(text, bad, width, message):
    _, problems = progression(text)
    error = only_error(problems)
    assert error.message == message
    assert (error.span.line, error.span.col, error.span.end_col) == (
        LINE,
        column_of(text, bad),
        column_of(text, bad) + width,
    )


def test_empty_progression_is_an_error():
    _, problems = progression("")
    assert [d.message for d in problems] == ["this progression has no chords"]


def test_trailing_bar_line_adds_no_bar():
    result, _ = progression("i VI | III VII |")
    assert result.length == 2 * BAR


# ---- drum grids ------------------------------------------------------------------------------------------


def groove(body: str):
    module = parse_source(f"groove g = {{\n{body}\n}}\n", FILE)
    (material,) = module.body
    diagnostics = Diagnostics()
    return read_groove(material.expr.base, diagnostics), diagnostics.items


def test_drum_grid_hits_on_sixteenths():
    result, problems = groove('kick "x...x...x...x..."')
    assert problems == []
    assert result.unit == 120
    assert result.voices["kick"].hits == [(0, 100), (480, 100), (960, 100), (1440, 100)]
    assert result.voices["kick"].length == BAR
    assert result.length == BAR


def test_step_velocities():
    result, problems = groove('snare "xXo1593-_."')
    assert problems == []
    assert result.voices["snare"].hits == [
        (0, 100),
        (120, 124),
        (240, 60),
        (360, 14),
        (480, 71),
        (600, 127),
        (720, 42),
    ]
    assert result.voices["snare"].length == 10 * 120
    assert STEP_VELOCITY["9"] == 127


def test_spaces_and_bar_lines_are_not_steps():
    spaced, _ = groove('hat "x... x... | ..x. ..x."')
    plain, _ = groove('hat "x...x.....x...x."')
    assert spaced.voices["hat"] == plain.voices["hat"]
    assert spaced.voices["hat"].length == 16 * 120


def test_unit_eighth():
    result, problems = groove('unit 1/8\nkick "x.x."')
    assert problems == []
    assert result.unit == 240
    assert result.voices["kick"].hits == [(0, 100), (480, 100)]
    assert result.voices["kick"].length == 4 * 240


def test_unit_applies_even_when_stated_after_the_lines():
    result, _ = groove('kick "x.x."\nunit 1/8')
    assert result.voices["kick"].hits == [(0, 100), (480, 100)]


def test_voices_of_different_lengths():
    result, problems = groove('kick "x...x...x...x..."\nhat "x.x"')
    assert problems == []
    assert result.voices["kick"].length == 16 * 120
    assert result.voices["hat"].length == 3 * 120
    assert result.length == 16 * 120


def test_shorter_voices_loop_on_their_own_length_in_the_score(tmp_path):
    text = (
        'song "S" { key A minor; sequences 1; scenes 1 }\n'
        'groove g = { kick "x..............."; hat "x.." }\n'
        "part beat : drums plays g on gm\n"
    )
    result = compile_file(str(tmp_path / "song.circle"), text=text)
    phrase = result.ir["scenes"][0]["phrases"][0]
    (cell,) = phrase["cells"]
    start = phrase["start"]
    kick = [e[0] - start for e in cell["events"] if e[2] == 36]
    hat = [e[0] - start for e in cell["events"] if e[2] == 42]
    assert kick == [0, 1920]  # a 2-bar phrase
    assert hat == list(range(0, 3840, 360))  # every three 16ths


@pytest.mark.parametrize(
    ("body", "needle", "message", "hint"),
    [
        ('kik "x..."', "kik", "unknown drum voice `kik`", "did you mean `kick`?"),
        ('kick "x..z"', "z", "`z` is not a drum step", None),
        ('kick "x..."\nkick "..x."', "kick", "the drum voice `kick` appears twice in this groove", None),
        ('unit 1/7\nkick "x"', "unit", "`unit` takes a note value such as `1/16`", "write `unit 1/8`"),
        ("kick 4", "kick", "`kick` takes a step grid in quotes", 'write `kick "x...x..."`'),
    ],
)
def test_groove_errors(body, needle, message, hint):
    _, problems = groove(body)
    error = only_error(problems)
    assert error.message == message
    lines = body.splitlines()
    line_index = max(i for i, line in enumerate(lines) if needle in line)
    assert error.span.line == 2 + line_index
    assert error.span.col == lines[line_index].index(needle) + 1
    if hint:
        assert error.hint == hint


def test_groove_step_error_column_through_the_compiler(tmp_path):
    text = 'song "S" { key A minor }\ngroove g = {\n  kick  "x...x..?x...x..."\n}\npart beat : drums plays g\n'
    with pytest.raises(CompileFailure) as failure:
        compile_file(str(tmp_path / "song.circle"), text=text)
    (error,) = failure.value.diagnostics
    assert error.message == "`?` is not a drum step"
    assert (error.span.line, error.span.col) == (3, text.splitlines()[2].index("?") + 1)
