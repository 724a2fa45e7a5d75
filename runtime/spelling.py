"""How a MIDI pitch is written in a key, and which accidentals a bar must show.

The score keeps MIDI numbers, so the spelling comes from the key: a note of
the key's scale is written as the key writes it (E♯ in F♯ major, C♭ in G♭
major); any other note with sharps in a sharp key and flats in a flat key.
An accidental is shown where the note differs from the key signature or from
an earlier note on that line in the same bar, as engravers write them.
"""

from __future__ import annotations

STEPS = "CDEFGAB"
STEP_CLASS = dict(zip(STEPS, (0, 2, 4, 5, 7, 9, 11), strict=True))
SHARPS_ORDER, FLATS_ORDER = "FCGDAEB", "BEADGCF"
SHARP_SPELLING = [("C", 0), ("C", 1), ("D", 0), ("D", 1), ("E", 0), ("F", 0)]
SHARP_SPELLING += [("F", 1), ("G", 0), ("G", 1), ("A", 0), ("A", 1), ("B", 0)]
FLAT_SPELLING = [("C", 0), ("D", -1), ("D", 0), ("E", -1), ("E", 0), ("F", 0)]
FLAT_SPELLING += [("G", -1), ("G", 0), ("A", -1), ("A", 0), ("B", -1), ("B", 0)]

Spelled = tuple[str, int, int]  # step, alter (semitones), octave


def key_alters(fifths: int) -> dict[str, int]:
    """Each step's alteration under a key signature: F and C sharp for two sharps, and so on."""
    alters = dict.fromkeys(STEPS, 0)
    order, sign = (SHARPS_ORDER, 1) if fifths >= 0 else (FLATS_ORDER, -1)
    for step in order[: abs(fifths)]:
        alters[step] = sign
    return alters


def spell(midi: int, fifths: int) -> Spelled:
    for step, alter in key_alters(fifths).items():
        if (STEP_CLASS[step] + alter) % 12 == midi % 12:
            return step, alter, (midi - alter) // 12 - 1
    step, alter = (SHARP_SPELLING if fifths >= 0 else FLAT_SPELLING)[midi % 12]
    return step, alter, (midi - alter) // 12 - 1


class BarAccidentals:
    """The accidentals in force on each line of one bar, starting from the key signature."""

    def __init__(self, fifths: int) -> None:
        self.key = key_alters(fifths)
        self.in_force: dict[tuple[str, int], int] = {}

    def shows(self, spelled: Spelled, tied_over: bool = False) -> bool:
        """Whether this note shows its accidental (a natural too), noting it for the rest of the bar.

        A note tied over from before keeps the accidental it had, unshown.
        """
        step, alter, octave = spelled
        line = (step, octave)
        current = self.in_force.get(line, self.key[step])
        self.in_force[line] = alter
        return alter != current and not tied_over
