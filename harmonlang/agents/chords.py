"""The chords agent: the harmony as a part, voice-led, in the genre's comping style.

Each voicing is the inversion of the chord nearest the previous one (the
smallest total movement), inside the part's register; the style is a row of
data: one 4/4 bar of (sixteenth, length) hits that stretches to the meter.
"""

from __future__ import annotations

import random
from typing import Any

from harmonlang.agents.context import ChordSpan, Event, PhraseView, SceneView, velocity

UNIT = 120
PEAK = 0.75  # from this energy the comping adds the beats
REGISTER = (50, 79)  # D3 to G5
RHYTHMS: dict[str, list[tuple[int, int]]] = {
    "pads": [],  # held for the chord's whole length
    "stabs": [(2, 1), (6, 1), (10, 1), (14, 1)],
    "strum": [(0, 3), (4, 3), (8, 3), (10, 2), (12, 3)],
    "block": [(0, 4), (4, 4), (8, 4), (12, 4)],
    "skank": [(4, 2), (12, 2)],
    "comping": [(0, 2), (3, 3), (10, 2), (14, 2)],
    "montuno": [(0, 2), (3, 2), (6, 2), (8, 2), (11, 2), (14, 2)],
    "power": [(i * 2, 2) for i in range(8)],
    "arpeggio": [(i * 2, 2) for i in range(8)],
}


def voice_lead(classes: list[int], previous: tuple[int, ...] | None, low: int, high: int) -> tuple[int, ...]:
    """The inversion of these pitch classes nearest `previous` (or the register's middle)."""
    classes = list(dict.fromkeys(classes))[:5]
    centre = (low + high) // 2
    best: tuple[int, ...] | None = None
    best_cost = 1e9
    for rotation in range(len(classes)):
        order = classes[rotation:] + classes[:rotation]
        for base in range(low, low + 12):
            if base % 12 != order[0]:
                continue
            voicing = [base]
            for pc in order[1:]:
                voicing.append(voicing[-1] + (pc - voicing[-1]) % 12 or 12)
            if voicing[-1] > high:
                continue
            if previous:
                cost = sum(min(abs(p - q) for q in previous) for p in voicing) + abs(len(previous) - len(voicing))
            else:
                cost = abs(sum(voicing) / len(voicing) - centre)
            if cost < best_cost:
                best, best_cost = tuple(voicing), cost
    return best or tuple(sorted(low + (pc - low) % 12 for pc in classes))


def chord_segments(
    view: SceneView, phrase: PhraseView, part: dict[str, Any], brief: dict[str, Any], rng: random.Random
) -> list[tuple[list[Event], dict[str, Any]]]:
    style = brief.get("chords_style") or "pads"
    style = style if style in RHYTHMS else "pads"
    low, high = max(REGISTER[0], part["range"][0]), min(REGISTER[1], part["range"][1])
    if high - low < 12:
        low, high = part["range"]
    bar = view.bar
    scale = bar / (16 * UNIT)
    events: list[Event] = []
    previous: tuple[int, ...] | None = None
    vel = velocity(72, brief["velocity_scale"])
    rhythm = RHYTHMS[style]
    if brief["energy"] >= PEAK and rhythm:
        rhythm = sorted(set(rhythm) | {(0, 2), (4, 2), (8, 2), (12, 2)})
    for chord in phrase.chords:
        classes = _classes(chord, style)
        voicing = voice_lead(classes, previous, low, high)
        previous = voicing
        for tick, dur in _hits(chord, rhythm, bar, scale, view.data["start"]):
            if style == "arpeggio":
                index = (tick - chord[0]) // (2 * UNIT)
                events.append((tick, dur, voicing[index % len(voicing)], vel))
            else:
                events += [(tick, dur, p, vel) for p in voicing]
    thin = float(phrase.directives.get("thin") or 0.0)
    if thin and style != "pads":
        events = [e for e in events if rng.random() > thin * 0.5]
    note = f"`{style}` voicings, each the nearest inversion to the last"
    return [(sorted(events), {"by": "agent", "agent": "chords", "note": note})]


def _classes(chord: ChordSpan, style: str) -> list[int]:
    pitches = chord[2]
    root = min(pitches) % 12
    if style == "power":
        return [root, (root + 7) % 12]
    return [p % 12 for p in sorted(pitches)]


def _hits(
    chord: ChordSpan, rhythm: list[tuple[int, int]], bar: int, scale: float, origin: int
) -> list[tuple[int, int]]:
    start, length = chord[0], chord[1]
    if not rhythm:
        return [(start, length)]
    result = []
    first_bar = start - (start - origin) % bar
    for bar_start in range(first_bar, start + length, bar):
        for sixteenth, units in rhythm:
            tick = bar_start + int(round(sixteenth * scale)) * UNIT
            if start <= tick < start + length:
                result.append((tick, min(max(UNIT, int(round(units * scale)) * UNIT), start + length - tick)))
    return result
