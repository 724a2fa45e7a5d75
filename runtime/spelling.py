"""How a MIDI pitch is written in a key, and which accidentals a bar must show.

The score keeps MIDI numbers, so the spelling comes from the key: a note of
the key's scale is written as the key writes it (E♯ in F♯ major, C♭ in G♭
major); any other note with sharps in a sharp key and flats in a flat key.
An accidental is shown where the note differs from the key signature or from
an earlier note on that line in the same bar, as engravers write them.
"""

from __future__ import annotations

from harmonlang.theory import ACCIDENTALS, FLAT_NAMES, LETTER_PC, PLAIN_NAMES, SHARP_NAMES

STEPS = "CDEFGAB"
SHARPS_ORDER, FLATS_ORDER = "FCGDAEB", "BEADGCF"

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
        if (LETTER_PC[step.lower()] + alter) % 12 == midi % 12:
            return step, alter, (midi - alter) // 12 - 1
    # Outside the scale: the names the chord symbols use (theory.spelling_for), so staff and harmony agree.
    name = (PLAIN_NAMES if fifths == 0 else FLAT_NAMES if fifths < 0 else SHARP_NAMES)[midi % 12]
    step, alter = name[0], ACCIDENTALS[name[1:]]
    return step, alter, (midi - alter) // 12 - 1


class BarAccidentals:
    """The accidentals in force on each line of one bar, starting from the key signature."""

    def __init__(self, fifths: int) -> None:
        self.key = key_alters(fifths)
        self.in_force: dict[tuple[str, int], int] = {}

    def shows(self, spelled: Spelled, tied_over: bool = False) -> bool:
        """Whether this note shows its accidental (a natural too), noting it for the rest of the bar.

        A note tied over from the bar before keeps the accidental it had, unshown, and the next note on its
        line shows its own.
        """
        if tied_over:  # its accidental was shown where it began; it sets nothing in this bar
            return False
        step, alter, octave = spelled
        line = (step, octave)
        current = self.in_force.get(line, self.key[step])
        self.in_force[line] = alter
        return alter != current
