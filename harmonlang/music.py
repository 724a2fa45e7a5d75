"""Literal music inside strings: notes, chord progressions and drum step grids.

Each reader takes the string literals (with their spans) and reports errors at
the exact column of the offending character. Times are integer ticks at
PPQ 480; pitches are MIDI numbers (c4 = 60).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostics, Span, did_you_mean
from harmonlang.settings import SettingError
from harmonlang.settings import swing as read_swing
from harmonlang.theory import (
    WHOLE,
    Chord,
    Key,
    TheoryError,
    duration_ticks,
    is_chord_symbol,
    midi_pitch,
    parse_chord_symbol,
    parse_roman,
    spell_key,
)

DYNAMICS = {"ppp": 20, "pp": 35, "p": 50, "mp": 65, "mf": 80, "f": 96, "ff": 112, "fff": 127}
DEFAULT_VELOCITY = 90
ACCENT = 24
DRUM_VOICES = (
    "kick snare clap rim hat openhat pedalhat tom lowtom midtom hitom "
    "crash ride cowbell shaker clave conga bongo tambourine"
).split()
PAD_VOICES = [f"pad{number}" for number in range(1, 17)]  # a sampler's pads, played by grids like drums
GRID_VOICES = DRUM_VOICES + PAD_VOICES
STEP_VELOCITY = {"x": 100, "X": 124, "o": 60} | {str(d): round(127 * d / 9) for d in range(1, 10)}
STEP_REST = set(".-_")


@dataclass
class NoteEvent:
    start: int
    dur: int
    pitch: int
    vel: int


@dataclass
class Notes:
    events: list[NoteEvent]
    length: int
    kind: str = "theme"


@dataclass
class ChordSlot:
    start: int
    dur: int
    text: str
    span: Span


@dataclass
class Progression:
    """Chords in ticks of a reference bar (`bar`): in a scene with another meter they stretch to its bars."""

    slots: list[ChordSlot]
    length: int
    transpose: int = 0
    kind: str = "prog"
    bar: int = WHOLE

    def chords(self, key: Key) -> list[tuple[ChordSlot, Chord]]:
        """Resolve each slot against a key (Roman numerals are key-relative)."""
        return [
            (s, parse_chord_symbol(s.text) if is_chord_symbol(s.text) else parse_roman(s.text, key)) for s in self.slots
        ]


@dataclass
class DrumVoice:
    length: int
    hits: list[tuple[int, int]]  # (tick, velocity)


@dataclass
class Groove:
    voices: dict[str, DrumVoice] = field(default_factory=dict)
    unit: int = WHOLE // 16
    swing: float = 0.0  # 0 or 0.5: straight; up to 0.75
    kind: str = "groove"
    spans: dict[str, Span] = field(default_factory=dict)  # where each voice's line is written

    @property
    def length(self) -> int:
        return max((v.length for v in self.voices.values()), default=0)


Material = Notes | Progression | Groove

# ---- notes -----------------------------------------------------------------------------

_MODIFIERS = r"(?:/(?P<den>\d+)(?P<dots>\.{0,2})(?P<trip>t)?)?(?P<accent>[!?]*)(?:@(?P<vel>\d+))?(?P<tie>~)?"
_NOTE = re.compile(r"(?P<letter>[a-gA-G])(?P<acc>##|#|bb|b|♯|♭)?(?P<oct>-1|\d)?" + _MODIFIERS)
_REST = re.compile(r"[rR]" + _MODIFIERS)
_CHORD = re.compile(r"\[(?P<inner>[^\]]*)\]" + _MODIFIERS)
_DYNAMIC = re.compile(r"@(?P<dyn>ppp|pp|p|mp|mf|fff|ff|f|\d+)")
_WORD_END = re.compile(r"[\s|]|$")


class _NoteReader:
    def __init__(self, diagnostics: Diagnostics, bar: int) -> None:
        self.diagnostics, self.bar = diagnostics, bar
        self.errors_before = len(diagnostics.items)
        self.octave, self.duration, self.velocity = 4, WHOLE // 4, DEFAULT_VELOCITY
        self.time, self.bar_start = 0, 0
        self.events: list[NoteEvent] = []
        self.tied: list[NoteEvent] = []
        self.tie_span: Span | None = None

    def duration_of(self, match: re.Match[str], span: Span) -> int | None:
        if match.group("den") is None:
            return self.duration
        den = int(match.group("den"))
        ticks = duration_ticks(den, len(match.group("dots")), bool(match.group("trip")))
        if den not in (1, 2, 4, 8, 16, 32, 64) or ticks is None:
            # Underline just `/3`: the span covers the whole note, which starts at match.start().
            value_span = span.at(match.start("den") - 1 - match.start(), len(match.group("den")) + 1)
            self.diagnostics.error(
                f"`/{match.group('den')}` is not a note value",
                value_span,
                "use /1 /2 /4 /8 /16 /32 /64, dots for dotted values and `t` for triplets (`/8t`)",
            )
            return None
        self.duration = ticks
        return ticks

    def velocity_of(self, match: re.Match[str], span: Span) -> int:
        velocity = self.velocity
        if match.group("vel"):
            velocity = int(match.group("vel"))
            if not 1 <= velocity <= 127:
                self.diagnostics.error(f"velocity {velocity} is out of range", span, "velocities run from 1 to 127")
                velocity = max(1, min(velocity, 127))
        for mark in match.group("accent"):
            velocity = min(127, velocity + ACCENT) if mark == "!" else max(1, velocity // 2)
        return velocity

    def pitch_of(self, match: re.Match[str], span: Span) -> int | None:
        if match.group("oct") is not None:
            self.octave = int(match.group("oct"))
        pitch = midi_pitch(match.group("letter"), match.group("acc"), self.octave)
        if not 0 <= pitch <= 127:
            self.diagnostics.error("this note is outside the MIDI range", span, "MIDI notes run from c-1 to g9")
            return None
        return pitch

    def sound(self, pitches: list[int], dur: int, vel: int, tie: bool, span: Span) -> None:
        if self.tied:
            if sorted(e.pitch for e in self.tied) == sorted(pitches):
                for event in self.tied:
                    event.dur += dur
                self.tied = self.tied if tie else []
                self.time += dur
                return
            self.diagnostics.error(
                "a tie `~` must join notes of the same pitch",
                self.tie_span,
                "remove the `~`, or repeat the same note after it",
            )
            self.tied = []
        new = [NoteEvent(self.time, dur, p, vel) for p in pitches]
        self.events += new
        self.time += dur
        if tie:
            self.tied, self.tie_span = new, span

    def bar_line(self, span: Span) -> None:
        length = self.time - self.bar_start
        # After an error in this material its bar lengths mean nothing: no echo warnings.
        if length != self.bar and self.time > 0 and len(self.diagnostics.items) == self.errors_before:
            self.diagnostics.warning(
                f"this bar lasts {_beats(length)}, but the meter wants {_beats(self.bar)}",
                span,
                "a bar check `|` compares each bar with the song's meter",
            )
        self.bar_start = self.time

    def read(self, literal: n.StringLit) -> None:
        text, pos = literal.text, 0
        while pos < len(text):
            if text[pos].isspace():
                pos += 1
                continue
            start = pos
            here = literal.span.at(1 + pos)
            if text[pos] == "|":
                self.bar_line(here)
                pos += 1
                continue
            for pattern, handler in ((_DYNAMIC, self._dynamic), (_CHORD, self._chord), (_REST, self._rest)):
                match = pattern.match(text, pos)
                if match and _WORD_END.match(text, match.end()):
                    handler(match, literal.span.at(1 + start, match.end() - start), literal)
                    pos = match.end()
                    break
            else:
                match = _NOTE.match(text, pos)
                if match and _WORD_END.match(text, match.end()):
                    self._note(match, literal.span.at(1 + start, match.end() - start))
                    pos = match.end()
                    continue
                word = re.match(r"[^\s|]+", text[pos:])
                length = len(word.group(0)) if word else 1
                self.diagnostics.error(
                    f"`{text[pos : pos + length]}` is not a note",
                    literal.span.at(1 + pos, length),
                    "a note is a letter a-g, an optional # or b, an octave and a value: `c#5/8`; a rest is `r/4`; "
                    "accents, `@velocity` and `~` come after the value: `c5/8!`",
                )
                pos += length

    def _dynamic(self, match: re.Match[str], span: Span, literal: n.StringLit) -> None:
        mark = match.group("dyn")
        if mark not in DYNAMICS and not 1 <= int(mark) <= 127:
            self.diagnostics.error(
                f"velocity {mark} is out of range", span, "velocities run from 1 to 127; or write @pp .. @ff"
            )
            return
        self.velocity = DYNAMICS[mark] if mark in DYNAMICS else int(mark)

    def _rest(self, match: re.Match[str], span: Span, literal: n.StringLit) -> None:
        dur = self.duration_of(match, span)
        if self.tied:
            self.diagnostics.error("a tie `~` cannot lead into a rest", self.tie_span, "remove the `~`")
            self.tied = []
        self.time += dur or 0

    def _chord(self, match: re.Match[str], span: Span, literal: n.StringLit) -> None:
        pitches: list[int] = []
        for word in re.finditer(r"\S+", match.group("inner")):
            note = _NOTE.fullmatch(word.group(0))
            at = literal.span.at(1 + match.start("inner") + word.start(), len(word.group(0)))
            if not note or note.group("den"):
                self.diagnostics.error(
                    f"`{word.group(0)}` is not a chord tone", at, "inside `[...]` write pitches only: `[a3 c4 e4]/2`"
                )
                continue
            pitch = self.pitch_of(note, at)
            if pitch is not None:
                pitches.append(pitch)
        if not pitches:
            self.diagnostics.error("this chord has no notes", span, "write `[a3 c4 e4]/2`")
            return
        dur = self.duration_of(match, span)
        if dur:
            self.sound(pitches, dur, self.velocity_of(match, span), bool(match.group("tie")), span)

    def _note(self, match: re.Match[str], span: Span) -> None:
        pitch = self.pitch_of(match, span)
        dur = self.duration_of(match, span)
        if pitch is not None and dur:
            self.sound([pitch], dur, self.velocity_of(match, span), bool(match.group("tie")), span)


def _beats(ticks: int) -> str:
    beats = ticks / (WHOLE // 4)
    shown = str(int(beats)) if beats == int(beats) else f"{beats:g}"
    return f"{shown} beat" if beats == 1 else f"{shown} beats"


def read_notes(strings: list[n.StringLit], bar: int, diagnostics: Diagnostics) -> Notes:
    reader = _NoteReader(diagnostics, bar)
    for literal in strings:
        reader.read(literal)
    if reader.tied:
        diagnostics.error("this tie `~` has no note to join", reader.tie_span, "remove the `~`")
    if not reader.time and strings and len(diagnostics.items) == reader.errors_before:
        diagnostics.error("this theme has no notes", strings[0].span, 'write notes such as `"a4/8 c5/8 e5/4"`')
    return Notes(reader.events, reader.time)


# ---- progressions --------------------------------------------------------------------------

_PROBE_KEY = spell_key("C", "major")


def read_progression(strings: list[n.StringLit], bar: int, diagnostics: Diagnostics) -> Progression:
    """`"i VI | III VII"`: chords in a bar share it; without bar lines each chord fills a bar."""
    bars: list[list[tuple[str, Span]]] = [[]]
    uses_bar_lines = any("|" in s.text for s in strings)
    for literal in strings:
        for word in re.finditer(r"\||[^\s|]+", literal.text):
            text, span = word.group(0), literal.span.at(1 + word.start(), len(word.group(0)))
            if text == "|":
                bars.append([])
                continue
            if text == "%" and uses_bar_lines and bars[-1]:
                diagnostics.error(
                    "`%` repeats a whole bar, so it stands alone between bar lines", span, "write `| % |`"
                )
                continue
            if text == "%":
                previous = next((b for b in reversed(bars) if b), None)
                if previous is None:
                    diagnostics.error("`%` repeats the previous bar, but there is none", span)
                    continue
                bars[-1].extend(previous) if uses_bar_lines else bars.append(list(previous))
                continue
            try:
                parse_chord_symbol(text) if is_chord_symbol(text) else parse_roman(text, _PROBE_KEY)
            except TheoryError as error:
                diagnostics.error(error.message, span.at(error.offset, error.length), error.hint)
                continue
            if uses_bar_lines:
                bars[-1].append((text, span))
            else:
                bars.append([(text, span)])
    if uses_bar_lines:
        # A bar line at either end closes or opens a bar; only empty bars between chords count.
        while bars and not bars[0]:
            bars.pop(0)
        while bars and not bars[-1]:
            bars.pop()
    else:
        bars = [b for b in bars if b]
    slots: list[ChordSlot] = []
    for index, chords in enumerate(bars):
        if not chords:
            continue
        share = bar // len(chords)
        for position, (text, span) in enumerate(chords):
            slots.append(ChordSlot(index * bar + position * share, share, text, span))
    if not slots and strings:
        diagnostics.error("this progression has no chords", strings[0].span, 'write `"i VI III VII"` or `"Am F C G"`')
    return Progression(slots, len(bars) * bar, bar=bar)


# ---- drum grids -----------------------------------------------------------------------------


def read_groove(block: n.Block, diagnostics: Diagnostics) -> Groove:
    """A block of `voice "x...x..."` lines, with optional `unit 1/16` and `swing 55%`."""
    groove = Groove()
    for statement in block.body:
        if isinstance(statement, n.Setting) and statement.name.text == "unit":
            value = statement.values[0] if len(statement.values) == 1 else None
            dots = value.text.count(".") if value else 0
            ticks = duration_ticks(int(value.second), dots, False) if value and value.kind == "fraction" else None
            if value is None or value.number != 1 or ticks is None or value.second not in (1, 2, 4, 8, 16, 32, 64):
                diagnostics.error("`unit` takes a note value such as `1/16`", statement.span, "write `unit 1/8`")
            else:
                groove.unit = ticks
    for statement in block.body:
        if not isinstance(statement, n.Setting):
            diagnostics.error("a groove holds only drum lines", statement.span, 'write `kick "x...x...x...x..."`')
            continue
        name = statement.name.text
        if name == "unit":
            continue
        if name == "swing":
            try:
                groove.swing = read_swing(name, statement.values)
            except SettingError as error:
                error.report(diagnostics, statement)
            continue
        if name not in GRID_VOICES:
            diagnostics.error(
                f"unknown drum voice `{name}`",
                statement.name.span,
                did_you_mean(name, GRID_VOICES) or f"drum voices: {', '.join(DRUM_VOICES)}, and pads pad1 to pad16",
            )
            continue
        if name in groove.voices:
            diagnostics.error(f"the drum voice `{name}` appears twice in this groove", statement.name.span)
            continue
        strings = [v for v in statement.values if v.kind == "string"]
        if not strings or len(strings) != len(statement.values):
            diagnostics.error(f"`{name}` takes a step grid in quotes", statement.span, f'write `{name} "x...x..."`')
            continue
        if not any(v.text.strip(" |") for v in strings):
            diagnostics.error(
                f"the `{name}` line is empty", strings[0].span, f'write steps such as `{name} "x...x..."`'
            )
            continue
        groove.voices[name] = _read_steps(strings, groove.unit, diagnostics)
        groove.spans[name] = statement.name.span
    written = [s for s in block.body if not (isinstance(s, n.Setting) and s.name.text in ("unit", "swing"))]
    if not written:
        diagnostics.error("this groove has no drum lines", block.span, 'write `{ kick "x...x..." }`')
    return groove


def _read_steps(strings: list[n.Value], unit: int, diagnostics: Diagnostics) -> DrumVoice:
    hits: list[tuple[int, int]] = []
    step = 0
    for value in strings:
        for offset, char in enumerate(value.text):
            if char in " |":
                continue
            if char in STEP_VELOCITY:
                hits.append((step * unit, STEP_VELOCITY[char]))
            elif char not in STEP_REST:
                diagnostics.error(
                    f"`{char}` is not a drum step",
                    value.span.at(1 + offset),
                    "steps are `x` (hit), `X` (accent), `o` (ghost), 1-9 (velocity) and `.` (rest)",
                )
            step += 1
    return DrumVoice(step * unit, hits)
