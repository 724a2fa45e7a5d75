"""Finding a device's MIDI port from the pattern in its profile (`port "T-8"`).

Port names differ by system: CoreMIDI says `T-8`, ALSA `T-8:T-8 MIDI 1 20:0`,
JACK `a2j:T-8 [20] (capture): T-8 MIDI 1`. A pattern matches inside the name,
ignoring case; `*` and `?` make it a glob over the whole name instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def port_matches(pattern: str, name: str) -> bool:
    wanted, seen = pattern.casefold(), name.casefold()
    if any(ch in pattern for ch in "*?["):
        return fnmatchcase(seen, wanted)
    return wanted in seen


def find_port(pattern: str, names: Iterable[str]) -> str | None:
    """The first port whose name matches, preferring an exact match."""
    names = list(names)
    exact = [n for n in names if n.casefold() == pattern.casefold()]
    if exact:
        return exact[0]
    return next((n for n in names if port_matches(pattern, n)), None)
