"""Device port patterns against the names real MIDI systems give the rig's units."""

from __future__ import annotations

import pytest

from harmonlang.runtime.ports import find_port, port_matches

NAMES = [
    "Midi Through:Midi Through Port-0 14:0",
    "T-8:T-8 MIDI 1 20:0",
    "S-1:S-1 MIDI 1 24:0",
    "SP-404MKII:SP-404MKII MIDI 1 28:0",
    "a2j:KeyStep 37 [32] (capture): KeyStep 37 MIDI 1",
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("T-8", "T-8:T-8 MIDI 1 20:0"),
        ("s-1", "S-1:S-1 MIDI 1 24:0"),
        ("SP-404MKII", "SP-404MKII:SP-404MKII MIDI 1 28:0"),
        ("KeyStep 37", "a2j:KeyStep 37 [32] (capture): KeyStep 37 MIDI 1"),
        ("S-1:*", "S-1:S-1 MIDI 1 24:0"),
        ("FLUID Synth", None),
    ],
)
def test_profile_port_patterns_find_their_units(pattern: str, expected: str | None) -> None:
    assert find_port(pattern, NAMES) == expected


def test_an_exact_name_wins_over_a_longer_one() -> None:
    assert find_port("T-8", ["T-8 Editor", "T-8"]) == "T-8"


def test_a_glob_matches_the_whole_name() -> None:
    assert port_matches("t-8*", "T-8:T-8 MIDI 1 20:0")
    assert not port_matches("*S-1", "S-1:S-1 MIDI 1 24:0")
