"""The roles a part can play in the story, as one table.

A role says what material a part plays, what it does in each phrase of a
scene when the writer says nothing more specific, and what kind of hole it
leaves where it should play but has no material.
"""

from __future__ import annotations

from dataclasses import dataclass

PHRASES = ("A", "B", "A'", "T")


@dataclass(frozen=True)
class Role:
    name: str
    kinds: tuple[str, ...]  # material it plays; the first is what a bare string means
    plan: dict[str, str]  # phrase -> play | rest | variation | foreshadow
    hole: str  # the hole's kind where it should play but has no material
    default_program: int  # General MIDI program (0-based) on a program-list device without one
    fixed_pitch: bool = False  # its notes name sounds (drums, pads): they never move with the key
    drum_notes: bool = False  # needs an output with a drum note map
    gives_harmony: bool = False  # its chords are the phrase's harmony

    @property
    def every_phrase(self) -> bool:
        return set(self.plan.values()) == {"play"}


_EVERY = dict.fromkeys(PHRASES, "play")
ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("protagonist", ("theme",), {"A": "play", "B": "rest", "A'": "variation", "T": "foreshadow"}, "melody", 80),
        Role("antagonist", ("theme",), {"A": "rest", "B": "play", "A'": "rest", "T": "foreshadow"}, "melody", 81),
        Role("chords", ("prog", "theme"), _EVERY, "harmony", 4, gives_harmony=True),
        Role("bass", ("theme",), _EVERY, "bassline", 38),
        Role("drums", ("groove",), _EVERY, "groove", 0, fixed_pitch=True, drum_notes=True),
        Role("samples", ("theme", "groove"), _EVERY, "samples", 0, fixed_pitch=True),  # pads: a grid of pad1..pad16
    )
}
