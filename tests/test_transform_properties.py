"""Algebraic properties of the transforms, checked with hypothesis on random material."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostics, Span
from harmonlang.music import DrumVoice, Groove, NoteEvent, Notes, read_progression
from harmonlang.transforms import augment, diminish, displace, retrograde, transpose

BAR = 1920

# ---- properties -----------------------------------------------------------------------------------------

DURATIONS = [30, 60, 120, 160, 240, 360, 480, 720, 960, 1920]


@st.composite
def themes(draw):
    events, time = [], 0
    for _ in range(draw(st.integers(0, 12))):
        dur = draw(st.sampled_from(DURATIONS))
        if draw(st.booleans()) or not events:
            events.append(NoteEvent(time, dur, draw(st.integers(24, 100)), draw(st.integers(1, 127))))
        time += dur
    return Notes(events, time)


@st.composite
def grooves(draw, same_length=False):
    unit = draw(st.sampled_from([60, 120, 240, 480]))
    shared = draw(st.integers(1, 32))
    voices = {}
    for name in draw(st.lists(st.sampled_from(["kick", "snare", "hat", "clap"]), min_size=1, max_size=4, unique=True)):
        steps = shared if same_length else draw(st.integers(1, 32))
        hits = sorted(
            (step * unit, draw(st.integers(1, 127)))
            for step in draw(st.sets(st.integers(0, steps - 1), max_size=steps))
        )
        voices[name] = DrumVoice(steps * unit, hits)
    return Groove(voices, unit)


CHORDS = ["i", "VI", "III", "VII", "V7", "Am7", "F/C", "bVII", "V7/V", "%"]


@st.composite
def progs(draw):
    words = draw(st.lists(st.sampled_from([*CHORDS, "|"]), min_size=1, max_size=12))
    text = " ".join(words)
    span = Span(file="p.circle", line=1, col=1, end_line=1, end_col=len(text) + 3)
    diagnostics = Diagnostics()
    prog = read_progression([n.StringLit.model_construct(span=span, text=text)], BAR, diagnostics)
    return prog


def theme_key(notes: Notes):
    return sorted((e.start, e.dur, e.pitch, e.vel) for e in notes.events), notes.length


def groove_key(groove: Groove):
    return {name: (v.length, sorted(v.hits)) for name, v in groove.voices.items()}, groove.unit


def prog_key(prog):
    return sorted((s.start, s.dur, s.text) for s in prog.slots), prog.length, prog.transpose


PROPERTY = settings(max_examples=60, deadline=None, database=None)


@PROPERTY
@given(themes())
def test_retrograde_twice_is_identity_for_themes(theme):
    assert theme_key(retrograde(retrograde(theme))) == theme_key(theme)


@PROPERTY
@given(grooves())
def test_retrograde_twice_is_identity_for_grooves(groove):
    assert groove_key(retrograde(retrograde(groove))) == groove_key(groove)


@PROPERTY
@given(progs())
def test_retrograde_twice_is_identity_for_progs(prog):
    assert prog_key(retrograde(retrograde(prog))) == prog_key(prog)


@PROPERTY
@given(themes(), st.integers(-48, 48))
def test_transpose_there_and_back_is_identity(theme, semitones):
    moved = transpose(theme, semitones)
    assert [e.pitch for e in moved.events] == [e.pitch + semitones for e in theme.events]
    assert theme_key(transpose(moved, -semitones)) == theme_key(theme)


@PROPERTY
@given(progs(), st.integers(-48, 48))
def test_transpose_there_and_back_is_identity_for_progs(prog, semitones):
    assert prog_key(transpose(transpose(prog, semitones), -semitones)) == prog_key(prog)


@PROPERTY
@given(themes(), st.integers(1, 16))
def test_augment_then_diminish_is_identity_for_themes(theme, factor):
    assert theme_key(diminish(augment(theme, factor), factor)) == theme_key(theme)


@PROPERTY
@given(grooves(), st.integers(1, 16))
def test_augment_then_diminish_is_identity_for_grooves(groove, factor):
    assert groove_key(diminish(augment(groove, factor), factor)) == groove_key(groove)


@PROPERTY
@given(progs(), st.floats(1, 16))
def test_augment_then_diminish_is_identity_for_progs(prog, factor):
    assert prog_key(diminish(augment(prog, factor), factor)) == prog_key(prog)


@PROPERTY
@given(themes())
def test_displace_by_the_whole_length_is_identity_for_themes(theme):
    assert theme_key(displace(theme, theme.length)) == theme_key(theme)


@PROPERTY
@given(grooves(same_length=True))
def test_displace_by_the_whole_length_is_identity_for_grooves(groove):
    assert groove_key(displace(groove, groove.length)) == groove_key(groove)


@PROPERTY
@given(progs())
def test_displace_by_the_whole_length_is_identity_for_progs(prog):
    assert prog_key(displace(prog, prog.length)) == prog_key(prog)


@PROPERTY
@given(themes(), st.integers(0, 4 * BAR))
def test_displace_keeps_themes_inside_their_loop_and_keeps_their_time(theme, ticks):
    moved = displace(theme, ticks)
    assert moved.length == theme.length
    assert all(0 <= e.start and e.start + e.dur <= theme.length for e in moved.events)
    assert sum(e.dur for e in moved.events) == sum(e.dur for e in theme.events)
    assert {e.pitch for e in moved.events} == {e.pitch for e in theme.events}


@PROPERTY
@given(grooves(same_length=True), st.integers(0, 64))
def test_displace_and_retrograde_on_the_grid_stay_on_the_grid(groove, steps):
    moved = retrograde(displace(groove, steps * groove.unit))
    for name, voice in moved.voices.items():
        assert all(0 <= tick < voice.length and tick % groove.unit == 0 for tick, _ in voice.hits)
        assert len(voice.hits) == len(groove.voices[name].hits)
