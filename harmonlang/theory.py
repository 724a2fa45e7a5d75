"""Music theory as tables: pitches, keys and modes, chord symbols, Roman numerals.

Pure functions and data only; the compile path keeps music21 out. Errors are
raised as `TheoryError` with an offset into the text, for the caller to place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PPQ = 480
WHOLE = 4 * PPQ

LETTER_PC = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
ACCIDENTALS = {"": 0, "#": 1, "##": 2, "b": -1, "bb": -2, "♯": 1, "♭": -1, "x": 2}
SHARP_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLAT_NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
# With no sharps or flats in the key, the spellings musicians reach for first.
PLAIN_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def spelling_for(key: Key | None) -> list[str]:
    """Sharps when no key is given; else the key's side, and the common spellings in C and A minor."""
    if key is None:
        return SHARP_NAMES
    if key.fifths() == 0:
        return PLAIN_NAMES
    return FLAT_NAMES if key.fifths() < 0 else SHARP_NAMES


MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic-minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic-minor": (0, 2, 3, 5, 7, 9, 11),
}
# Scales a melody may draw from besides the modes; a key is always one of the modes.
SCALES: dict[str, tuple[int, ...]] = MODES | {
    "major-pentatonic": (0, 2, 4, 7, 9),
    "minor-pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "major-blues": (0, 2, 3, 4, 7, 9),
    "whole-tone": (0, 2, 4, 6, 8, 10),
    "diminished": (0, 2, 3, 5, 6, 8, 9, 11),
    "phrygian-dominant": (0, 1, 4, 5, 7, 8, 10),
    "bebop-dominant": (0, 2, 4, 5, 7, 9, 10, 11),
}
MODE_ALIASES = {"ionian": "major", "aeolian": "minor", "maj": "major", "min": "minor"}
# Where each mode's tonic sits in its parent major scale, in semitones and in fifths.
MODE_OFFSET = {"major": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7, "minor": 9, "locrian": 11}
MODE_OFFSET.update({"harmonic-minor": 9, "melodic-minor": 9})
MODE_FIFTHS = {"major": 0, "dorian": -2, "phrygian": -4, "lydian": 1, "mixolydian": -1, "minor": -3, "locrian": -5}
MODE_FIFTHS.update({"harmonic-minor": -3, "melodic-minor": -3})
LETTER_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}


class TheoryError(ValueError):
    def __init__(self, message: str, offset: int = 0, length: int = 1, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.offset, self.length, self.hint = message, offset, length, hint


def pitch_class(letter: str, accidental: str) -> int:
    return (LETTER_PC[letter.lower()] + ACCIDENTALS[accidental]) % 12


def midi_pitch(letter: str, accidental: str | None, octave: int) -> int:
    """The MIDI number of a spelled pitch (c4 = 60); accidentals may cross the octave (b#3 = c4)."""
    return 12 * (octave + 1) + LETTER_PC[letter.lower()] + ACCIDENTALS[accidental or ""]


def pitch_name(midi: int, key: Key | None = None) -> str:
    return f"{spelling_for(key)[midi % 12].lower()}{midi // 12 - 1}"


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class
    tonic_name: str  # as written, e.g. "F#"
    mode: str

    @property
    def scale(self) -> tuple[int, ...]:
        return tuple((self.tonic + step) % 12 for step in MODES[self.mode])

    @property
    def is_minor(self) -> bool:
        return MODES[self.mode][2] == 3

    def name(self) -> str:
        return f"{self.tonic_name} {self.mode}"

    def fifths(self) -> int:
        """Sharps (positive) or flats (negative) of the key signature, from the spelled tonic."""
        return spelled_fifths(self.tonic_name, self.mode)

    def move_chord(self, pitches: tuple[int, ...], root: int, other: Key) -> tuple[int, ...]:
        """A chord written in this key, moved to `other` (its `root` is one of `pitches`).

        A chord of this key's own notes follows the new mode, as melody does (i becomes I in
        a move to the major). A chromatic chord keeps its quality on a root moved by degree
        (V/V stays major). In a minor key V keeps its major third and vii° sits on the
        leading tone, as in practice.
        """
        if other == self:
            return pitches
        steps = MODES[self.mode]
        offset = (root - self.tonic) % 12
        diatonic = all((p - self.tonic) % 12 in steps for p in pitches)
        new_root = self.map_to(root, other)
        shape = [p - root for p in pitches]
        if not diatonic:
            return tuple(new_root + s for s in shape)
        degree = steps.index(offset)
        minor_target = MODES[other.mode][2] == 3 and MODES[other.mode][6] == 10
        if minor_target and degree == 4 and (4 in shape or 16 in shape):
            return tuple(new_root + s for s in shape)  # the dominant keeps its leading tone
        if minor_target and degree == 6 and (3 in shape and 6 in shape):
            return tuple(new_root + 1 + s for s in shape)  # vii° on the leading tone
        return tuple(self.map_to(p, other) for p in pitches)

    def map_to(self, pitch: int, other: Key) -> int:
        """A pitch written in this key, moved to `other` the nearest way round.

        Notes of this key's scale go to the same scale degree of `other`; notes
        outside it keep their distance above the tonic (a leading tone stays one).
        """
        if other == self:
            return pitch
        shift = (other.tonic - self.tonic + 6) % 12 - 6
        octave, offset = divmod(pitch - self.tonic, 12)
        steps = MODES[self.mode]
        if offset in steps:
            offset = MODES[other.mode][steps.index(offset)]
        return self.tonic + shift + 12 * octave + offset


def spell_key(tonic_text: str, mode_text: str | None) -> Key:
    match = re.fullmatch(r"([A-Ga-g])(##|#|bb|b|♯|♭)?", tonic_text)
    if not match:
        raise TheoryError(
            f"`{tonic_text}` is not a key note", hint="a key note is a letter A-G with an optional # or b"
        )
    mode = MODE_ALIASES.get((mode_text or "major").lower(), (mode_text or "major").lower())
    if mode not in MODES:
        raise TheoryError(f"unknown mode `{mode_text}`")
    letter, accidental = match.group(1), match.group(2) or ""
    name = letter.upper() + accidental.replace("♯", "#").replace("♭", "b")
    key = Key(pitch_class(letter, accidental), name, mode)
    # A theoretical key such as G# major (8 sharps) is respelled: Ab major.
    return key if abs(key.fifths()) <= 7 else key_from_pc(key.tonic, mode)


def spelled_fifths(tonic_name: str, mode: str) -> int:
    """Position on the line of fifths: letter, then 7 per sharp (or -7 per flat), then the mode."""
    accidentals = tonic_name.count("#") - tonic_name[1:].count("b")
    return LETTER_FIFTHS[tonic_name[0]] + 7 * accidentals + MODE_FIFTHS[mode]


def key_from_pc(tonic: int, mode: str) -> Key:
    """The spelling of a key with the fewest accidentals (sharps on a tie)."""
    candidates = [Key(tonic % 12, names[tonic % 12], mode) for names in (SHARP_NAMES, FLAT_NAMES)]
    return min(candidates, key=lambda k: abs(k.fifths()))


# ---- modulation relations -------------------------------------------------------


def _relative(key: Key) -> Key:
    """Major goes to its relative minor; every other mode to its parent major."""
    if key.mode == "major":
        return key_from_pc(key.tonic + 9, "minor")
    return key_from_pc(key.tonic - MODE_OFFSET[key.mode], "major")


def _shift(semitones: int, mode: str | None = None) -> Callable[[Key], Key]:
    def apply(key: Key) -> Key:
        return key_from_pc(key.tonic + semitones, mode or key.mode)

    return apply


MODULATIONS = {
    "relative": _relative,
    "relative-major": lambda k: k if k.mode == "major" else _relative(k),
    "relative-minor": lambda k: (
        k if k.mode == "minor" else _relative(k) if k.mode == "major" else key_from_pc(_relative(k).tonic + 9, "minor")
    ),
    "parallel": lambda k: _shift(0, "major" if k.is_minor else "minor")(k),
    "parallel-major": _shift(0, "major"),
    "parallel-minor": _shift(0, "minor"),
    "dominant": _shift(7),
    "subdominant": _shift(5),
    "up-half": _shift(1),
    "down-half": _shift(-1),
    "up-step": _shift(2),
    "down-step": _shift(-2),
    "up-third": _shift(4),
    "down-third": _shift(-4),
    "tritone": _shift(6),
    "none": lambda k: k,
}


def modulate(key: Key, relation: str | int) -> Key:
    """Apply a named relation, a mode name (a modal shift) or a number of semitones."""
    if isinstance(relation, int):
        return _shift(relation)(key)
    if relation in MODES or relation in MODE_ALIASES:
        return _shift(0, MODE_ALIASES.get(relation, relation))(key)
    return MODULATIONS[relation](key)


# ---- chords ------------------------------------------------------------------------

QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "maj": (0, 4, 7),
    "M": (0, 4, 7),
    "m": (0, 3, 7),
    "min": (0, 3, 7),
    "-": (0, 3, 7),
    "dim": (0, 3, 6),
    "°": (0, 3, 6),
    "o": (0, 3, 6),
    "aug": (0, 4, 8),
    "+": (0, 4, 8),
    "5": (0, 7),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "sus": (0, 5, 7),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "M7": (0, 4, 7, 11),
    "Δ": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "min7": (0, 3, 7, 10),
    "-7": (0, 3, 7, 10),
    "mmaj7": (0, 3, 7, 11),
    "mM7": (0, 3, 7, 11),
    "m7b5": (0, 3, 6, 10),
    "ø": (0, 3, 6, 10),
    "ø7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "°7": (0, 3, 6, 9),
    "o7": (0, 3, 6, 9),
    "aug7": (0, 4, 8, 10),
    "+7": (0, 4, 8, 10),
    "7sus4": (0, 5, 7, 10),
    "add9": (0, 4, 7, 14),
    "madd9": (0, 3, 7, 14),
    "9": (0, 4, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "m9": (0, 3, 7, 10, 14),
    "7b9": (0, 4, 7, 10, 13),
    "7#9": (0, 4, 7, 10, 15),
    "11": (0, 4, 7, 10, 14, 17),
    "m11": (0, 3, 7, 10, 14, 17),
    "13": (0, 4, 7, 10, 14, 21),
}


@dataclass(frozen=True)
class Chord:
    """A chord as pitch classes: a root, intervals above it, and the bass."""

    root: int
    intervals: tuple[int, ...]
    bass: int  # pitch class in the bass (an inversion or a slash chord)
    text: str

    def voicing(self, transpose: int = 0) -> tuple[int, ...]:
        """Close position, root between C3 and B3 (then moved by `transpose` semitones),
        the bass note moved below when inverted."""
        root = 48 + self.root % 12 + transpose
        tones = [root + i for i in self.intervals]
        bass_pc = (self.bass + transpose) % 12
        if bass_pc != (self.root + transpose) % 12:
            in_chord = [t for t in tones if t % 12 == bass_pc]
            if in_chord:
                tones = [t if t >= in_chord[0] else t + 12 for t in tones]
                # An extension in the bass (Cadd9/D) sits above the root: drop it below the rest.
                bass = in_chord[0]
                others = [t for t in tones if t != bass]
                while others and bass > min(others):
                    bass -= 12
                tones = [*others, bass]
            else:
                tones.append(root - 12 + (bass_pc - root) % 12)
        return tuple(sorted(tones))


_SYMBOL = re.compile(r"([A-G])(#|b|♯|♭)?([^/]*)(?:/([A-G])(#|b|♯|♭)?)?$")


def parse_chord_symbol(text: str) -> Chord:
    match = _SYMBOL.match(text)
    if not match:
        raise TheoryError(
            f"`{text}` is not a chord symbol", length=len(text), hint="write chords like `Am7`, `F/C`, `Bb`"
        )
    quality = match.group(3)
    if quality not in QUALITIES:
        start = len(match.group(1)) + len(match.group(2) or "")
        raise TheoryError(
            f"unknown chord quality `{quality}` in `{text}`",
            offset=start,
            length=len(quality),
            hint="known qualities include m, 7, maj7, m7, dim, aug, sus4, m7b5, 9, add9",
        )
    root = pitch_class(match.group(1), match.group(2) or "")
    bass = pitch_class(match.group(4), match.group(5) or "") if match.group(4) else root
    return Chord(root, QUALITIES[quality], bass, text)


_ROMAN = re.compile(
    r"(b|#|♭|♯)?(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(°|o|\+|ø)?"
    r"(maj9|maj7|M7|7sus4|7b9|7#9|sus4|sus2|add9|13|11|64|65|43|42|7|9|6|2)?(?:/(.+))?$"
)
_NUMERALS = ["i", "ii", "iii", "iv", "v", "vi", "vii"]
_INVERSION = {"6": 1, "64": 2, "65": 1, "43": 2, "42": 3, "2": 3}


def parse_roman(text: str, key: Key) -> Chord:
    """A Roman numeral relative to `key`: case gives the quality, figures the inversion."""
    match = _ROMAN.match(text)
    if not match:
        raise TheoryError(
            f"`{text}` is not a Roman numeral or chord symbol",
            length=len(text),
            hint="write numerals like `i`, `V7`, `bVII`, `ii°`, `V65`, `V7/V`, or symbols like `Am7`",
        )
    accidental, numeral, mark, figure, secondary = match.groups()
    if secondary:
        target = parse_roman(secondary, key)
        key = Key(target.root, "", "major" if secondary.lstrip("b#♭♯")[:1].isupper() else "minor")
    degree = _NUMERALS.index(numeral.lower())
    if accidental:
        # `bVII`, `bVI`, `#iv`: altered from the major scale on the tonic, as musicians read them.
        root = (key.tonic + MODES["major"][degree] + ACCIDENTALS[accidental]) % 12
    elif degree == 6 and mark in ("°", "o", "ø") and MODES[key.mode][6] == 10:
        root = (key.tonic + 11) % 12  # vii° in minor is built on the leading tone
    else:
        root = key.scale[degree]
    upper = numeral.isupper()
    triad = {"°": (0, 3, 6), "o": (0, 3, 6), "+": (0, 4, 8), "ø": (0, 3, 6)}.get(
        mark or "", (0, 4, 7) if upper else (0, 3, 7)
    )
    seventh = {"°": 9, "o": 9, "ø": 10, "+": 10}.get(mark or "", 10)
    intervals: tuple[int, ...] = triad
    if mark == "ø" or figure in {"7", "65", "43", "42", "2", "9", "11", "13", "7b9", "7#9"}:
        intervals = triad + (seventh,)
    # Extensions stack above the seventh.
    intervals += {"9": (14,), "11": (14, 17), "13": (14, 21), "7b9": (13,), "7#9": (15,)}.get(figure or "", ())
    if figure in {"maj7", "M7", "maj9"}:
        intervals = triad + ((11, 14) if figure == "maj9" else (11,))
    elif figure == "sus4":
        intervals = (0, 5, 7)
    elif figure == "7sus4":
        intervals = (0, 5, 7, 10)
    elif figure == "sus2":
        intervals = (0, 2, 7)
    elif figure == "add9":
        intervals = triad + (14,)
    inversion = _INVERSION.get(figure or "", 0)
    bass = (root + intervals[inversion]) % 12 if inversion < len(intervals) else root
    return Chord(root, intervals, bass, text)


def is_chord_symbol(text: str) -> bool:
    return text[:1] in "ABCDEFG"


# Chord names by pitch-class set above the root; the first name for a set wins.
_NAMED = (
    ("", (0, 4, 7)), ("m", (0, 3, 7)), ("dim", (0, 3, 6)), ("aug", (0, 4, 8)), ("sus4", (0, 5, 7)),
    ("sus2", (0, 2, 7)), ("5", (0, 7)), ("7", (0, 4, 7, 10)), ("maj7", (0, 4, 7, 11)), ("m7", (0, 3, 7, 10)),
    ("m7b5", (0, 3, 6, 10)), ("dim7", (0, 3, 6, 9)), ("mmaj7", (0, 3, 7, 11)), ("6", (0, 4, 7, 9)),
    ("m6", (0, 3, 7, 9)), ("7sus4", (0, 5, 7, 10)), ("aug7", (0, 4, 8, 10)), ("add9", (0, 2, 4, 7)),
    ("madd9", (0, 2, 3, 7)), ("9", (0, 2, 4, 7, 10)), ("m9", (0, 2, 3, 7, 10)), ("maj9", (0, 2, 4, 7, 11)),
    ("7b9", (0, 1, 4, 7, 10)), ("7#9", (0, 3, 4, 7, 10)), ("11", (0, 2, 4, 5, 7, 10)),
    ("m11", (0, 2, 3, 5, 7, 10)), ("13", (0, 2, 4, 7, 9, 10)),
)  # fmt: skip
_NAME_BY_SET: dict[tuple[int, ...], str] = {}
for _quality, _set in _NAMED:
    _NAME_BY_SET.setdefault(_set, _quality)


def name_chord(pitches: tuple[int, ...] | list[int], key: Key | None = None) -> str:
    """A chord symbol for sounding pitches (`C`, `Am7`, `F/C`), spelled for `key`; the bass is tried as root first."""
    if not pitches:
        return "N.C."
    names = spelling_for(key)
    classes = sorted({p % 12 for p in pitches})
    bass = min(pitches) % 12
    for root in [bass, *(pc for pc in classes if pc != bass)]:
        quality = _NAME_BY_SET.get(tuple(sorted((pc - root) % 12 for pc in classes)))
        if quality is not None:
            return names[root] + quality + (f"/{names[bass]}" if bass != root else "")
    return "-".join(names[pc] for pc in classes)


def duration_ticks(denominator: int, dots: int, triplet: bool) -> int | None:
    """Ticks of a 1/denominator note with dots; None when not a whole number of ticks."""
    if denominator <= 0:
        return None
    base = WHOLE / denominator
    total = base * (2 - 0.5**dots)
    if triplet:
        total = total * 2 / 3
    return int(total) if total == int(total) else None


def bar_ticks(numerator: int, denominator: int) -> int:
    return numerator * WHOLE // denominator
