"""The harmony agent: each phrase's chords, from the genre's progressions, shaped by the step.

It reads the progression a phrase names (`progression typical`), adapts it to
the phrase's mode, harmonizes the writer's melody where one plays, applies the
step's substitutions and dissonance, collapses in Take, pivots to the next
key at a transition, and lets two keys meet in Change. The writer's own
chords (a chords part playing a progression) are never replaced.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from harmonlang.agents.context import MINOR_FAMILY, ChordSpan, PhraseView, SceneView
from harmonlang.theory import MODES, WHOLE, Chord, Key, TheoryError, name_chord, parse_chord_symbol, parse_roman

FALLBACK = {"major": ["I", "IV", "V", "I"], "minor": ["i", "iv", "V", "i"]}
Slot = list[Any]  # [tick, dur, Chord, written, why]: mutable while the phrase is shaped


def phrase_harmony(view: SceneView, phrase: PhraseView, melody: list[tuple[int, int]], rng: random.Random) -> None:
    """Fill `phrase.chords`: the writer's when a chords part plays them, else the agent's plan."""
    written = phrase.data.get("harmony") or []
    if written:
        phrase.chords = [
            (c["tick"], c["dur"], tuple(c["pitches"]), c["symbol"], c["written"], "the writer's chords")
            for c in written
        ]
        return
    slots = _progression(view, phrase)
    directives = phrase.directives
    key = phrase.key
    # Two keys meet in the Change: the bridge goes back to the key the story left from.
    meeting = _meeting_key(view, phrase)
    if meeting is not None:
        slots = _progression(view, phrase, meeting)
        for slot in slots:
            slot[4] = f"two keys meet: {slot[3]} of {meeting.name()}, the key the story left"
    if melody:
        _harmonize(slots, key, melody)
    amount = min(1.0, 0.3 + 0.5 * view.tension)
    for name in directives.get("substitute") or []:
        if name in SUBSTITUTE:
            SUBSTITUTE[name](slots, key, rng, amount, melody)
    dissonance = float(directives.get("dissonance") or 0.0)
    if dissonance:
        _extend(slots, key, rng, dissonance, melody)
    collapse = float(directives.get("disintegrate") or 0.0)
    if collapse >= 0.5 and phrase.kind in ("A'", "T"):
        slots = _collapse(slots)
    if phrase.kind == "T":
        _pivot(view, phrase, slots)
    if view.after(phrase) == key and _tonic_follows(view, phrase):
        _cadence(slots, key, melody)
    phrase.chords = [_span(slot, key) for slot in slots]


def _span(slot: Slot, key: Key) -> ChordSpan:
    tick, dur, chord, written, why = slot
    pitches = chord.voicing()
    return tick, dur, pitches, name_chord(pitches, key), written, why


STABLE_BELOW = 0.35  # below this tension, each phrase states the whole progression and comes home


def _progression(view: SceneView, phrase: PhraseView, key: Key | None = None, at: int | None = None) -> list[Slot]:
    """The named progression's chords in this phrase. It runs on from the scene's start; in a
    stable scene (low tension) it is fitted to each phrase, so every phrase starts on its tonic.
    With `at`, only the chord sounding at that tick."""
    key = key or phrase.key
    materials = view.score["materials"]
    name = phrase.directives.get("progression")
    info = materials.get(name) if name else None
    if info is None or info.get("kind") != "prog":
        names = view.score["style"].get("progressions") or []
        name = names[0] if names else None
        info = materials.get(name) if name else None
    if info is None or not info.get("slots"):
        texts = FALLBACK["minor" if key.mode in MINOR_FAMILY else "major"]
        bar = view.bar
        info = {"chords": texts, "slots": [[i * bar, bar] for i in range(4)], "bar": bar, "length": 4 * bar}
        why = "a plain cadence: the song names no progression"
    else:
        why = f"progression `{name}`"
    span = phrase.end - phrase.start
    scale = view.bar / (info.get("bar") or WHOLE)
    length = round(info["length"] * scale)
    offset = phrase.start - view.data["start"]
    if view.tension < STABLE_BELOW and length > span and length % span == 0:
        scale, length, offset = scale * span / length, span, 0
        why += ", fitted to the phrase"
    family = written_family(info["chords"])
    transpose = info.get("transpose", 0)
    chords = [
        (round(s * scale), round(d * scale), text) for (s, d), text in zip(info["slots"], info["chords"], strict=False)
    ]
    slots: list[Slot] = []
    first = (offset // length) * length if length else 0
    window = (at - phrase.start, at - phrase.start + 1) if at is not None else (0, span)
    for shift in range(first, offset + window[1], max(length, 1)):
        for start, dur, text in chords:
            begin, end = max(shift + start - offset, window[0]), min(shift + start - offset + dur, window[1])
            if begin >= end:
                continue
            chord, note = adapt(text, key, transpose, family)
            slots.append([phrase.start + begin, end - begin, chord, text, why + (f"; {note}" if note else "")])
    return slots


def written_family(numerals: list[str]) -> str:
    """Whether a progression is written for a major or a minor key: its tonic's case, else its flats."""
    for text in numerals:
        if text[:1] in "ABCDEFG":
            continue
        bare = text.lstrip("b#♭♯")
        if bare[:1] in "iI" and bare[1:2] not in ("i", "I", "v", "V"):
            return "major" if bare[0] == "I" else "minor"
    return "minor" if any(t[:1] in "b♭" for t in numerals) else "major"


def adapt(text: str, key: Key, transpose: int = 0, family: str | None = None) -> tuple[Chord, str | None]:
    """A numeral realized in `key`. A progression written for the other mode follows this one
    degree by degree (I becomes i in a minor key, bVII becomes V in a major one); the dominant
    keeps its leading tone, and a diminished triad gains its seventh (iiø7)."""
    try:
        chord = parse_chord_symbol(text) if text[:1] in "ABCDEFG" else parse_roman(text, key)
    except TheoryError:
        return diatonic(key, 0, 3), f"`{text}` unreadable: the tonic instead"
    if transpose:
        chord = Chord((chord.root + transpose) % 12, chord.intervals, (chord.bass + transpose) % 12, text)
    key_family = "minor" if key.mode in MINOR_FAMILY else "major"
    other_mode = family is not None and family != key_family and text[:1] not in "ABCDEFG" and "/" not in text
    scale = set(key.scale)
    if not other_mode and (text[:1] in "ABCDEFGb#♭♯" or "/" in text):
        return chord, None
    if all((chord.root + i) % 12 in scale for i in chord.intervals):
        return chord, None
    degree = _degree(text)
    dominant = Chord(key.scale[4], chord.intervals, key.scale[4], text)
    if degree == 4 and chord.intervals[:3] == (0, 4, 7):
        return dominant, None if not other_mode else f"`{text}` keeps its leading tone in {key.name()}"
    if other_mode and degree == 6 and text.lstrip("b♭")[:1] == "V":
        return Chord(key.scale[4], (0, 4, 7), key.scale[4], text), f"`{text}` becomes the dominant in {key.name()}"
    if chord.intervals == (0, 7) or chord.intervals[:3] in ((0, 5, 7), (0, 2, 7)):
        return Chord(key.scale[degree], chord.intervals, key.scale[degree], text), f"`{text}` follows {key.name()}"
    adapted = diatonic(key, degree, len(chord.intervals))
    if adapted.intervals[:3] == (0, 3, 6) and len(adapted.intervals) == 3:
        adapted = diatonic(key, degree, 4)
    return adapted, f"`{text}` follows {key.name()}"


_NUMERAL = re.compile(r"[b#♭♯]?(vii|vi|v|iv|iii|ii|i)", re.IGNORECASE)
_ORDER = ["i", "ii", "iii", "iv", "v", "vi", "vii"]


def _degree(text: str) -> int:
    """The scale degree (0-6) a Roman numeral names, ignoring its accidental and figures."""
    match = _NUMERAL.match(text)
    return _ORDER.index(match.group(1).lower()) if match else 0


def diatonic(key: Key, degree: int, size: int = 3) -> Chord:
    """The chord of stacked scale thirds on a degree: a triad, a seventh, a ninth."""
    scale = key.scale
    root = scale[degree % 7]
    tones = [scale[(degree + 2 * i) % 7] for i in range(max(3, min(size, 5)))]
    intervals = tuple(sorted({(t - root) % 12 + (12 if i >= 4 else 0) for i, t in enumerate(tones)}))
    return Chord(root, intervals, root, "")


def _contains(chord: Chord, pitch_class: int) -> bool:
    return any((chord.root + i) % 12 == pitch_class for i in chord.intervals)


def _covered(chord: Chord, notes: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    inside = [pc for tick, pc in notes if start <= tick < end]
    return sum(_contains(chord, pc) for pc in inside), len(inside)


def _candidates(key: Key) -> list[Chord]:
    chords = [diatonic(key, degree) for degree in range(7)]
    if key.mode in MINOR_FAMILY:
        chords.append(Chord((key.tonic + 7) % 12, (0, 4, 7), (key.tonic + 7) % 12, "V"))
    return [c for c in chords if c.intervals != (0, 3, 6)]  # diminished triads rarely carry a tune


def _harmonize(slots: list[Slot], key: Key, melody: list[tuple[int, int]]) -> None:
    """Where the writer's melody lands on a note outside the planned chord, pick the chord of
    the key that holds the most strong-beat notes; a slot splits in two when that helps."""
    result: list[Slot] = []
    for tick, dur, chord, written, why in slots:
        hits, total = _covered(chord, melody, tick, tick + dur)
        if hits == total:
            result.append([tick, dur, chord, written, why])
            continue
        best = _best(chord, key, melody, tick, tick + dur)
        half = dur // 2
        first = _best(chord, key, melody, tick, tick + half)
        second = _best(first, key, melody, tick + half, tick + dur)
        split_hits = (
            _covered(first, melody, tick, tick + half)[0] + _covered(second, melody, tick + half, tick + dur)[0]
        )
        whole_hits = _covered(best, melody, tick, tick + dur)[0]
        keeps_plan = first == chord and best != chord  # a split that opens on the planned chord
        if half and (split_hits > whole_hits or (split_hits == whole_hits and keeps_plan)):
            note = "split in two to fit the writer's melody"
            result.append([tick, half, first, written, f"{why}; {note}"])
            result.append([tick + half, dur - half, second, written, f"{why}; {note}"])
        else:
            note = "re-chosen to fit the writer's melody" if best is not chord else ""
            result.append([tick, dur, best, written, f"{why}; {note}" if note else why])
    slots[:] = result


def _best(planned: Chord, key: Key, melody: list[tuple[int, int]], start: int, end: int) -> Chord:
    def score(chord: Chord) -> tuple[int, int]:
        return _covered(chord, melody, start, end)[0], 1 if chord == planned else 0

    return max([planned, *_candidates(key)], key=score)


def _keeps_melody(old: Chord, new: Chord, melody: list[tuple[int, int]], tick: int, dur: int) -> bool:
    return _covered(new, melody, tick, tick + dur)[0] >= _covered(old, melody, tick, tick + dur)[0]


Substitution = Callable[[list[Slot], Key, random.Random, float, list[tuple[int, int]]], None]


def _replace_each(test: Callable[[Chord, Key], Chord | None], label: str) -> Substitution:
    """A substitution that swaps single chords, with probability `amount`, where the melody allows."""

    def apply(slots: list[Slot], key: Key, rng: random.Random, amount: float, melody: list[tuple[int, int]]) -> None:
        for slot in slots:
            new = test(slot[2], key)
            if new is not None and rng.random() < amount and _keeps_melody(slot[2], new, melody, slot[0], slot[1]):
                slot[2] = new
                slot[4] += f"; {label}"

    return apply


def _is_dominant(chord: Chord, key: Key) -> bool:
    return chord.root == (key.tonic + 7) % 12 and chord.intervals[:3] == (0, 4, 7)


def _tritone(chord: Chord, key: Key) -> Chord | None:
    if not _is_dominant(chord, key):
        return None
    return Chord((chord.root + 6) % 12, (0, 4, 7, 10), (chord.root + 6) % 12, "")


def _mediant(chord: Chord, key: Key) -> Chord | None:
    if chord.root == key.tonic:
        return None
    root = (chord.root + (4 if chord.intervals[1:2] == (3,) else -4)) % 12
    return Chord(root, (0, 4, 7), root, "")


def _interchange(chord: Chord, key: Key) -> Chord | None:
    parallel = Key(key.tonic, key.tonic_name, "major" if key.mode in MINOR_FAMILY else "minor")
    steps = MODES[key.mode]
    offset = (chord.root - key.tonic) % 12
    if offset not in steps or chord.root == key.tonic:
        return None
    return diatonic(parallel, steps.index(offset), len(chord.intervals))


def _suspend(chord: Chord, key: Key) -> Chord | None:
    return Chord(chord.root, (0, 5, 7), chord.root, "") if len(chord.intervals) == 3 else None


def _power(chord: Chord, key: Key) -> Chord | None:
    return Chord(chord.root, (0, 7), chord.root, "")


def _seventh(chord: Chord, key: Key) -> Chord | None:
    if len(chord.intervals) != 3 or (chord.root - key.tonic) % 12 not in MODES[key.mode]:
        return None
    degree = MODES[key.mode].index((chord.root - key.tonic) % 12)
    extended = diatonic(key, degree, 4)
    return extended if extended.intervals[:3] == chord.intervals else None


def _extend(slots: list[Slot], key: Key, rng: random.Random, amount: float, melody: list[tuple[int, int]]) -> None:
    _replace_each(_seventh, "a seventh for the step's dissonance")(slots, key, rng, amount, melody)


def _deceptive(slots: list[Slot], key: Key, rng: random.Random, amount: float, melody: list[tuple[int, int]]) -> None:
    """V resolving to vi (VI in minor) instead of the tonic."""
    for before, slot in zip(slots, slots[1:], strict=False):
        if _is_dominant(before[2], key) and slot[2].root == key.tonic:
            new = diatonic(key, 5)
            if _keeps_melody(slot[2], new, melody, slot[0], slot[1]) or rng.random() < amount / 2:
                slot[2] = new
                slot[4] += "; deceptive: V goes to the sixth degree"


def _insert_before_targets(make: Callable[[Chord, Key], Chord | None], label: str) -> Substitution:
    """The second half of a chord becomes an approach to the next one (secondary dominants, backdoor)."""

    def apply(slots: list[Slot], key: Key, rng: random.Random, amount: float, melody: list[tuple[int, int]]) -> None:
        result: list[Slot] = []
        for index, slot in enumerate(slots):
            following = slots[index + 1] if index + 1 < len(slots) else None
            approach = make(following[2], key) if following else None
            half = slot[1] // 2
            fits = approach is not None and _keeps_melody(slot[2], approach, melody, slot[0] + half, slot[1] - half)
            if approach is not None and half and fits and rng.random() < amount:
                result.append([slot[0], half, slot[2], slot[3], slot[4]])
                result.append([slot[0] + half, slot[1] - half, approach, slot[3], f"{slot[4]}; {label}"])
            else:
                result.append(slot)
        slots[:] = result

    return apply


def _secondary(target: Chord, key: Key) -> Chord | None:
    if target.root == key.tonic or target.intervals[:3] == (0, 3, 6):
        return None
    return Chord((target.root + 7) % 12, (0, 4, 7, 10), (target.root + 7) % 12, "")


def _backdoor(target: Chord, key: Key) -> Chord | None:
    return Chord((key.tonic + 10) % 12, (0, 4, 7, 10), (key.tonic + 10) % 12, "") if target.root == key.tonic else None


def _unchanged(slots: list[Slot], key: Key, rng: random.Random, amount: float, melody: list[tuple[int, int]]) -> None:
    """`pedal` keeps the chords: the bass agent holds the tonic under them."""


SUBSTITUTE: dict[str, Substitution] = {
    "tritone": _replace_each(_tritone, "tritone substitute for the dominant"),
    "chromatic-mediants": _replace_each(_mediant, "a chromatic mediant"),
    "modal-interchange": _replace_each(_interchange, "borrowed from the parallel mode"),
    "suspensions": _replace_each(_suspend, "suspended"),
    "power-chords": _replace_each(_power, "a power chord"),
    "extensions": _replace_each(_seventh, "extended"),
    "deceptive": _deceptive,
    "secondary-dominants": _insert_before_targets(_secondary, "its own dominant leads in"),
    "backdoor": _insert_before_targets(_backdoor, "the backdoor bVII7"),
    "pedal": _unchanged,
}


def _collapse(slots: list[Slot]) -> list[Slot]:
    """The harmony stops moving: every other chord is held over the next (Take's collapse)."""
    result: list[Slot] = []
    for index, slot in enumerate(slots):
        if index % 2 and result:
            result[-1][1] += slot[1]
        else:
            result.append([slot[0], slot[1], slot[2], slot[3], f"{slot[4]}; held: the harmony collapses"])
    return result


def _pivot(view: SceneView, phrase: PhraseView, slots: list[Slot]) -> None:
    """A transition's last chord leads into what comes next: the next key's dominant, or home at the end."""
    if not slots:
        return
    last = slots[-1]
    target = view.next_key
    if target is None:
        tonic = diatonic(phrase.key, 0)
        half = last[1] // 2
        dominant = Chord((phrase.key.tonic + 7) % 12, (0, 4, 7, 10), (phrase.key.tonic + 7) % 12, "")
        if half:
            slots[-1:] = [
                [last[0], half, dominant, "V7", "the final cadence: the dominant"],
                [last[0] + half, last[1] - half, tonic, "i" if phrase.key.mode in MINOR_FAMILY else "I", "home"],
            ]
        return
    if view.next_home == view.main_key or target == phrase.key:
        return  # a lifted phrase arrives unprepared: the jolt is the point
    target = view.next_home or target
    root = (target.tonic + 7) % 12
    last[2] = Chord(root, (0, 4, 7, 10), root, "")
    last[3] = "V7"
    last[4] = f"pivot: the dominant of {target.name()}, where the next scene goes"


def _tonic_follows(view: SceneView, phrase: PhraseView) -> bool:
    """Whether the progression arrives on the tonic right after this phrase."""
    span = phrase.end - phrase.start
    after = PhraseView(phrase.data, phrase.kind, phrase.key, phrase.end, phrase.end + span, phrase.directives)
    following = _progression(view, after, at=phrase.end)
    return bool(following) and following[0][2].root == phrase.key.tonic


def _cadence(slots: list[Slot], key: Key, melody: list[tuple[int, int]]) -> None:
    """The phrase ends on the dominant (major, with the leading tone) when the tonic comes next."""
    if not slots or _is_dominant(slots[-1][2], key):
        return
    last = slots[-1]
    root = (key.tonic + 7) % 12
    dominant = Chord(root, (0, 4, 7), root, "V")
    half = last[1] // 2 if last[1] >= 2 * 960 else 0
    if not _keeps_melody(last[2], dominant, melody, last[0] + half, last[1] - half):
        return
    why = "a cadence: the dominant leads back to the tonic"
    if half:
        slots[-1:] = [[last[0], half, last[2], last[3], last[4]], [last[0] + half, last[1] - half, dominant, "V", why]]
    else:
        slots[-1] = [last[0], last[1], dominant, "V", why]


def _meeting_key(view: SceneView, phrase: PhraseView) -> Key | None:
    resolve = view.data["phrases"][0]["directives"].get("resolve") or []
    if "key" not in resolve or phrase.kind != "B":
        return None
    return next((k for k in view.previous_keys if k != phrase.key), None)
