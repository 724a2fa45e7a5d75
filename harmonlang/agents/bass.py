"""The bass agent: a line that follows the harmony and locks to the kick.

Each bass style is a row of data: either "kick" (a note on every kick, as
house and hip-hop bass does) or a one-bar figure of (sixteenth, length,
tone) that stretches to the scene's meter. Tones are chosen per chord and
placed near the previous note, inside the bass register and the part's range.
"""

from __future__ import annotations

import random
from typing import Any

from harmonlang.agents.context import ChordSpan, Event, PhraseView, SceneView, monophonic, velocity

UNIT = 120
REGISTER = (28, 55)  # E1 to G3
PEAK = 0.75  # from this energy the bass doubles up
KICK_LOCKED = {"root": 0.25, "sub": 1.0, "glide": 1.0, "syncopated": 0.25, "pedal": 1.0}  # style -> hold (bars)
# One 4/4 bar of (sixteenth, length in sixteenths, tone); other meters stretch it.
FIGURES: dict[str, list[tuple[int, int, str]]] = {
    "offbeat": [(2, 1, "root"), (6, 1, "root"), (10, 1, "root"), (14, 1, "root")],
    "driving": [(i * 2, 2, "root") for i in range(8)],
    "rolling": [(i, 1, "octave" if i % 4 == 2 else "root") for i in range(16)],
    "gallop": [(b * 4 + o, d, "root") for b in range(4) for o, d in ((0, 2), (2, 1), (3, 1))],
    "root-fifth": [(0, 4, "root"), (4, 2, "fifth"), (8, 4, "root"), (12, 4, "fifth")],
    "octave": [(i * 2, 2, "octave" if i % 2 else "root") for i in range(8)],
    "walking": [(0, 4, "root"), (4, 4, "third"), (8, 4, "fifth"), (12, 4, "approach")],
    "boogie": [(i * 2, 2, t) for i, t in enumerate("root third fifth sixth seventh sixth fifth third".split())],
    "arpeggio": [(i * 2, 2, t) for i, t in enumerate("root third fifth octave fifth third root fifth".split())],
    "dub": [(4, 3, "root"), (7, 1, "fifth"), (8, 4, "root"), (14, 2, "third")],
    "tumbao": [(6, 6, "fifth"), (12, 4, "next")],
    "bossa": [(0, 6, "root"), (6, 2, "fifth"), (8, 6, "fifth"), (14, 2, "next")],
    "riff": [(0, 3, "root"), (3, 3, "root"), (6, 2, "fifth"), (8, 3, "root"), (11, 3, "seventh"), (14, 2, "octave")],
}


def bass_segments(
    view: SceneView,
    phrase: PhraseView,
    part: dict[str, Any],
    brief: dict[str, Any],
    kicks: list[int],
    rng: random.Random,
) -> list[tuple[list[Event], dict[str, Any]]]:
    style = brief.get("bass_style") or "root"
    style = style if style in FIGURES or style in KICK_LOCKED else "root"
    pedal = "pedal" in (phrase.directives.get("substitute") or []) or style == "pedal"
    bar = view.bar
    low, high = max(REGISTER[0], part["range"][0]), min(REGISTER[1], part["range"][1])
    if low > high:
        low, high = part["range"]
    if style in KICK_LOCKED or pedal:
        notes = _kick_locked(phrase, kicks, bar, KICK_LOCKED.get(style, 1.0), view.beat)
        why = f"`{style}` bass on the kick" if kicks else f"`{style}` bass on the chord changes"
    else:
        notes = _figure(phrase, FIGURES[style], bar)
        why = f"the `{style}` figure over the chords"
    if pedal:
        why = "a tonic pedal under the moving chords"
    if brief["energy"] >= PEAK and style in KICK_LOCKED and not pedal:
        notes = _doubled(notes, view.beat)
        why += ", doubled up with off-beat octaves at the peak"
    previous = (low + high) // 2 - 5
    events: list[Event] = []
    for tick, dur, tone in notes:
        chord = phrase.chord_at(tick)
        if chord is None:
            continue
        pitch_class = phrase.key.tonic if pedal else _tone(chord, tone, phrase.chord_at(tick + dur) or chord)
        pitch = _near(pitch_class, previous, low, high)
        if tone == "octave" and pitch + 12 <= high:
            pitch += 12
        accent = 1.1 if (tick - view.data["start"]) % bar == 0 else 0.95
        events.append((tick, max(1, dur), pitch, velocity(98 * accent, brief["velocity_scale"])))
        previous = pitch if tone != "octave" else pitch - 12
    del rng  # the bass is fully determined by the harmony and the kick
    return [(monophonic(events), {"by": "agent", "agent": "bass", "note": why})]


def _kick_locked(phrase: PhraseView, kicks: list[int], bar: int, hold: float, beat: int) -> list[tuple[int, int, str]]:
    onsets = sorted({t for t in kicks if phrase.start <= t < phrase.end} | {c[0] for c in phrase.chords})
    if not kicks:
        onsets = sorted({c[0] for c in phrase.chords} | set(range(phrase.start, phrase.end, bar // 2)))
    longest = max(beat, int(bar * hold))
    result = []
    for index, tick in enumerate(onsets):
        following = onsets[index + 1] if index + 1 < len(onsets) else phrase.end
        result.append((tick, min(following - tick, longest), "root"))
    return result


def _doubled(notes: list[tuple[int, int, str]], beat: int) -> list[tuple[int, int, str]]:
    """An octave on the off-beat after every note long enough to hold one."""
    result = []
    for tick, dur, tone in notes:
        if dur > beat // 2:
            result += [(tick, beat // 2, tone), (tick + beat // 2, min(dur - beat // 2, beat // 2), "octave")]
        else:
            result.append((tick, dur, tone))
    return result


def _figure(phrase: PhraseView, figure: list[tuple[int, int, str]], bar: int) -> list[tuple[int, int, str]]:
    scale = bar / (16 * UNIT)
    result = []
    for bar_start in range(phrase.start, phrase.end, bar):
        for sixteenth, length, tone in figure:
            tick = bar_start + int(round(sixteenth * scale)) * UNIT
            if tick < min(bar_start + bar, phrase.end):
                dur = max(UNIT, int(round(length * scale)) * UNIT)
                result.append((tick, min(dur, phrase.end - tick), tone))
    return result


def _tone(chord: ChordSpan, tone: str, following: ChordSpan) -> int:
    pitches = chord[2]
    root = min(pitches)
    classes = {p % 12 for p in pitches}

    def have(*intervals: int) -> int | None:
        return next(((root + i) % 12 for i in intervals if (root + i) % 12 in classes), None)

    if tone == "fifth":
        return have(7, 6, 8) if have(7, 6, 8) is not None else root % 12
    if tone == "third":
        return have(4, 3) if have(4, 3) is not None else root % 12
    if tone == "sixth":
        return (root + 9) % 12
    if tone == "seventh":
        return have(10, 11) if have(10, 11) is not None else (root + 10) % 12
    if tone == "next":
        return min(following[2]) % 12
    if tone == "approach":  # a half step below the next chord's root
        return (min(following[2]) - 1) % 12 if following is not chord else (root + 7) % 12
    return root % 12


def _near(pitch_class: int, previous: int, low: int, high: int) -> int:
    candidates = [p for p in range(low, high + 1) if p % 12 == pitch_class]
    if not candidates:
        return max(low, min(high, previous))
    return min(candidates, key=lambda p: (abs(p - previous), p))
