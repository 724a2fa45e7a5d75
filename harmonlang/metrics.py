"""Music metrics over the Score IR, as plain JSON data: what the critic and `harmonc report` measure.

Standard library only, and fast (a 48-scene song in a few milliseconds): it runs inside the
compiler's critic. Notes are `[tick, dur, pitch, vel]` in absolute ticks; only `literal` and
`generated` cells sound; drums and samples (fixed-pitch roles) are left out of pitch metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from difflib import SequenceMatcher
from typing import Any

from harmonlang.roles import ROLES
from harmonlang.theory import MODE_ALIASES, SCALES, pitch_class

Json = dict[str, Any]
Event = Sequence[int]  # [tick, dur, pitch, vel]
KeyRegion = tuple[Json, int, int, list[Event]]

SOUNDING = ("literal", "generated")
MELODY_ROLES = ("protagonist", "antagonist")
# The settled steps of the circle (home, the goal reached, the change): the key should be clear there.
KEY_STEPS = ("you", "find", "change")

# music21's default for `Stream.analyze('key')` is AardenEssen (analysis.discrete: 'key' is one of
# its identifiers): these profiles, correlated with a pitch-class histogram weighted by duration.
AARDEN_ESSEN_MAJOR = (
    17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587, 0.291248, 22.062, 0.145624, 8.15494, 0.232998, 4.95122,
)  # fmt: skip
AARDEN_ESSEN_MINOR = (
    18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362, 0.702494, 18.6161, 4.56621, 1.93186, 7.37619, 1.75623,
)  # fmt: skip

# scene_energy = the weighted sum of these components, each 0..1 (the definition, not a fit).
ENERGY_WEIGHTS = {"density": 0.35, "velocity": 0.30, "register": 0.10, "active": 0.25}
DENSE_ONSETS_PER_BEAT = 16  # onsets per quarter note, over all parts, that count as full density
REGISTER_LOW, REGISTER_SPAN = 36, 48  # mean pitch c2 measures 0, c6 measures 1

# similarity = the weighted sum of three SequenceMatcher ratios.
SIMILARITY_WEIGHTS = {"intervals": 0.5, "rhythm": 0.3, "contour": 0.2}
NOVELTY_GRAM = 3  # novelty compares runs of this many (interval, inter-onset time) steps


# ---- the score as data ---------------------------------------------------------------------------


def _is_pitched(part: Json) -> bool:
    role = ROLES.get(part["role"])
    return role is None or not role.fixed_pitch


def _part_names(score: Json, keep: Callable[[Json], bool]) -> set[str]:
    return {part["name"] for part in score["parts"] if keep(part)}


def _melody_parts(score: Json) -> set[str]:
    return _part_names(score, lambda part: part["role"] in MELODY_ROLES)


def _sounding_cells(scene: Json, parts: set[str] | None = None) -> Iterator[tuple[Json, Json]]:
    """(phrase, cell) for each cell with notes, of the given parts (all when None)."""
    for phrase in scene["phrases"]:
        for cell in phrase["cells"]:
            if cell["status"] in SOUNDING and cell.get("events") and (parts is None or cell["part"] in parts):
                yield phrase, cell


def _events(scene: Json, parts: set[str] | None = None) -> list[Event]:
    return [event for _, cell in _sounding_cells(scene, parts) for event in cell["events"]]


def _phrase_events(phrase: Json, parts: set[str] | None = None) -> list[Event]:
    return _events({"phrases": [phrase]}, parts)


def bar_length(meter: Sequence[int], ppq: int = 480) -> int:
    """Ticks in one bar of `meter` [numerator, denominator]."""
    return meter[0] * 4 * ppq // meter[1]


def _line(events: Sequence[Event]) -> list[tuple[int, int]]:
    """A passage as one voice: (onset, pitch) of the highest note at each onset, in time order."""
    top: dict[int, int] = {}
    for tick, _, pitch, _ in events:
        if pitch > top.get(tick, -1):
            top[tick] = pitch
    return sorted(top.items())


def rounded(value: float | None) -> float | None:
    """To 4 places, as the reports give them."""
    return None if value is None else round(value, 4)


def mean_or_none(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


# ---- beats and chords ----------------------------------------------------------------------------


def strong_beats(meter: Sequence[int], ppq: int = 480) -> list[int]:
    """Tick offsets within a bar of its strong beats.

    The downbeat, plus the middle of the bar when the numerator's units split into two equal
    halves of at least two units each: 4/4 -> [0, 960], 6/8 -> [0, 720], 12/8 -> [0, 1440];
    3/4, 2/4, 7/8 -> [0].
    """
    numerator = meter[0]
    if numerator >= 4 and numerator % 2 == 0:
        return [0, bar_length(meter, ppq) // 2]
    return [0]


def _chord_at(phrase: Json, tick: int) -> set[int] | None:
    for chord in phrase.get("harmony", []):
        if chord["tick"] <= tick < chord["tick"] + chord["dur"] and chord.get("pitches"):
            return {pitch % 12 for pitch in chord["pitches"]}
    return None


def chord_tone_ratio(score: Json, scene: Json) -> tuple[int, int]:
    """(hits, total) over the melody parts' (protagonist, antagonist) notes of one scene.

    Counted: notes whose onset falls on a strong beat (onset minus the scene's start, modulo the
    bar, in `strong_beats`) while a chord of its phrase's `harmony` sounds. Hits: those whose pitch
    class is one of that chord's.
    """
    bar = bar_length(scene["meter"], score["ppq"])
    strong = set(strong_beats(scene["meter"], score["ppq"]))
    hits = total = 0
    for phrase, cell in _sounding_cells(scene, _melody_parts(score)):
        for tick, _, pitch, _ in cell["events"]:
            if (tick - scene["start"]) % bar not in strong:
                continue
            chord = _chord_at(phrase, tick)
            if chord is not None:
                total += 1
                hits += pitch % 12 in chord
    return hits, total


# ---- keys ----------------------------------------------------------------------------------------


def _correlations(weights: Sequence[float], profile: Sequence[float]) -> list[float]:
    """Pearson correlation of `weights` with `profile` rotated to each tonic, summed as music21 does."""
    profile_mean = sum(profile) / len(profile)
    weights_mean = sum(weights) / len(weights)
    spread_weights = sum((weight - weights_mean) ** 2 for weight in weights)
    result = []
    for tonic in range(12):
        top = spread_profile = 0.0
        for pc in range(12):
            deviation = profile[(pc - tonic) % 12] - profile_mean
            top += deviation * (weights[pc] - weights_mean)
            spread_profile += deviation**2
        result.append(0.0 if spread_weights == 0 else top / ((spread_profile * spread_weights) ** 0.5))
    return result


def key_estimate(weights: Sequence[float]) -> tuple[int, str, float]:
    """The key of a 12-entry pitch-class weight vector: (tonic pitch class, "major"|"minor", correlation).

    music21's `Stream.analyze('key')` exactly: the Aarden-Essen profiles, the best Pearson
    correlation over the 24 keys, ties going to the higher tonic, then to minor (music21 sorts
    (correlation, pitch, mode) and takes the last). Weight notes by duration in quarter notes to
    agree with it. Raises ValueError for an empty vector, as music21 does for a stream without notes.
    """
    if len(weights) != 12:
        raise ValueError(f"a pitch-class vector has 12 entries, not {len(weights)}")
    if not any(weights):
        raise ValueError("no pitched notes to estimate a key from")
    candidates = [
        (correlation, tonic, mode == "minor")
        for mode, profile in (("major", AARDEN_ESSEN_MAJOR), ("minor", AARDEN_ESSEN_MINOR))
        for tonic, correlation in enumerate(_correlations(weights, profile))
    ]
    correlation, tonic, minor = max(candidates)
    return tonic, "minor" if minor else "major", correlation


def pitch_class_weights(events: Sequence[Event], ppq: int = 480) -> list[float]:
    """Each pitch class's total duration in quarter notes (how music21 weighs notes for a key)."""
    weights = [0.0] * 12
    for _, dur, pitch, _ in events:
        weights[pitch % 12] += dur / ppq
    return weights


def mode_family(mode: str) -> str:
    """ "major" or "minor": a scale with a minor third and no major third is minor (dorian, phrygian, ...)."""
    name = mode.lower().replace(" ", "-").replace("_", "-")
    name = MODE_ALIASES.get(name, name)
    steps = SCALES.get(name)
    if steps is None:
        return "minor" if "minor" in name else "major"
    return "minor" if 3 in steps and 4 not in steps else "major"


def tonic_pitch_class(tonic: str) -> int:
    return pitch_class(tonic[0], tonic[1:].replace("♯", "#").replace("♭", "b"))


def scene_key_regions(score: Json, scene: Json) -> list[KeyRegion]:
    """The scene as runs of consecutive phrases declaring the same key (tonic and mode).

    Each is (key dict, start tick, end tick, the pitched parts' sounding notes in it).
    """
    pitched = _part_names(score, _is_pitched)
    regions: list[KeyRegion] = []
    for phrase in scene["phrases"]:
        key = phrase["key"]
        events = _phrase_events(phrase, pitched)
        last = regions[-1] if regions else None
        if last and (last[0]["tonic"], last[0]["mode"]) == (key["tonic"], key["mode"]):
            regions[-1] = (last[0], last[1], phrase["end"], last[3] + events)
        else:
            regions.append((key, phrase["start"], phrase["end"], events))
    return regions


def key_consistency(score: Json, scene: Json, estimate: Callable[[list[Event], int], tuple[int, str]]) -> float | None:
    """Fraction of the scene's ticks in key regions whose estimated key agrees with the declared one.

    `estimate(events, ppq)` gives (tonic pitch class, "major"|"minor"); declared modes compare by
    `mode_family`. Regions without pitched notes are left out; None when no region has any.
    """
    agreeing = measured = 0
    for key, start, end, events in scene_key_regions(score, scene):
        if not events:
            continue
        measured += end - start
        if estimate(events, score["ppq"]) == (tonic_pitch_class(key["tonic"]), mode_family(key["mode"])):
            agreeing += end - start
    return agreeing / measured if measured else None


def _estimate_fast(events: list[Event], ppq: int) -> tuple[int, str]:
    tonic, mode, _ = key_estimate(pitch_class_weights(events, ppq))
    return tonic, mode


def key_consistency_fast(score: Json, scene: Json) -> float | None:
    """`key_consistency` with `key_estimate` (music21's default key analysis, reimplemented)."""
    return key_consistency(score, scene, _estimate_fast)


# ---- parts ---------------------------------------------------------------------------------------


def part_ranges(score: Json) -> dict[str, Json]:
    """Per pitched part, over the whole song: lowest, highest, notes, out_of_range, pairs, stepwise, repeats.

    out_of_range: notes outside the part's `range`. The line is the highest note at each onset
    (a monophonic part's notes, a chords part's top voice); over its `pairs` of consecutive notes,
    `stepwise` is the fraction moving by 1 or 2 semitones and `repeats` the fraction staying put.
    """
    result: dict[str, Json] = {}
    for part in score["parts"]:
        if not _is_pitched(part):
            continue
        events = [event for scene in score["scenes"] for event in _events(scene, {part["name"]})]
        pitches = [event[2] for event in events]
        low, high = part["range"]
        line = [pitch for _, pitch in _line(events)]
        moves = [abs(b - a) for a, b in zip(line, line[1:], strict=False)]
        result[part["name"]] = {
            "lowest": min(pitches, default=None),
            "highest": max(pitches, default=None),
            "notes": len(pitches),
            "out_of_range": sum(not low <= pitch <= high for pitch in pitches),
            "pairs": len(moves),
            "stepwise": rounded(sum(1 <= move <= 2 for move in moves) / len(moves)) if moves else None,
            "repeats": rounded(moves.count(0) / len(moves)) if moves else None,
        }
    return result


# ---- similarity and novelty ----------------------------------------------------------------------

Features = tuple[list[int], list[int], list[int]]  # intervals, onsets within the bar, contour


def _features(events: Sequence[Event], bar: int, start: int | None) -> Features:
    line = _line(events)
    if start is None:
        start = line[0][0] if line else 0
    pitches = [pitch for _, pitch in line]
    intervals = [b - a for a, b in zip(pitches, pitches[1:], strict=False)]
    onsets = [(tick - start) % bar for tick, _ in line]
    contour = [(step > 0) - (step < 0) for step in intervals]
    return intervals, onsets, contour


def _ratio(a: list[int], b: list[int]) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def similarity(
    a_events: Sequence[Event],
    b_events: Sequence[Event],
    bar: int,
    *,
    a_start: int | None = None,
    b_start: int | None = None,
) -> float:
    """How alike two melodic passages are, 0..1 (1.0: identical; a transposed copy too).

    Each passage is read as one voice (its top note per onset), relative to its own start
    (`a_start`/`b_start`, else its first onset). The result is 0.5 x the SequenceMatcher ratio of
    their pitch-interval sequences + 0.3 x that of their onset positions within the `bar` +
    0.2 x that of their contours (up, down, same). Two empty passages are identical; one empty: 0.0.
    """
    a, b = _features(a_events, bar, a_start), _features(b_events, bar, b_start)
    if not a[1] or not b[1]:
        return 1.0 if a[1] == b[1] else 0.0
    return sum(weight * _ratio(x, y) for weight, x, y in zip(SIMILARITY_WEIGHTS.values(), a, b, strict=True))


def variation_similarity(score: Json) -> list[Json]:
    """Per scene, {scene, similarity}: the protagonist's A' against its A (`similarity`).

    The first phrase of each kind is used; similarity is None when either has no protagonist notes.
    """
    protagonists = _part_names(score, lambda part: part["role"] == "protagonist")
    result = []
    for scene in score["scenes"]:
        phrases = {}
        for phrase in scene["phrases"]:
            phrases.setdefault(phrase["kind"], phrase)
        value = None
        if "A" in phrases and "A'" in phrases:
            theme = _phrase_events(phrases["A"], protagonists)
            variation = _phrase_events(phrases["A'"], protagonists)
            if theme and variation:
                bar = bar_length(scene["meter"], score["ppq"])
                value = similarity(variation, theme, bar, a_start=phrases["A'"]["start"], b_start=phrases["A"]["start"])
        result.append({"scene": scene["id"], "similarity": value})
    return result


def _melodic_grams(events: Sequence[Event]) -> set[tuple[tuple[int, int], ...]]:
    """The runs of NOVELTY_GRAM (interval, inter-onset ticks) steps of a passage's top line."""
    line = _line(events)
    steps = [(b[1] - a[1], b[0] - a[0]) for a, b in zip(line, line[1:], strict=False)]
    if len(steps) < NOVELTY_GRAM:
        return {tuple(steps)} if steps else set()
    return {tuple(steps[i : i + NOVELTY_GRAM]) for i in range(len(steps) - NOVELTY_GRAM + 1)}


def novelty(score: Json) -> list[float]:
    """Per scene, 1 - the most its melody (protagonist and antagonist notes) shares with any earlier scene.

    Shared: the fraction of its melodic runs (NOVELTY_GRAM steps of interval and inter-onset time,
    so transposed repeats count as heard) found in that scene. Pairwise `similarity` would cost
    ~1,100 sequence alignments for 48 scenes; runs are set look-ups. The first scene is 1.0; a
    scene without melody brings nothing new: 0.0.
    """
    melody = _melody_parts(score)
    heard: list[set[tuple[tuple[int, int], ...]]] = []
    result = []
    for index, scene in enumerate(score["scenes"]):
        grams = _melodic_grams(_events(scene, melody))
        if index == 0:
            result.append(1.0)
        elif not grams:
            result.append(0.0)
        else:
            shared = max((len(grams & earlier) for earlier in heard), default=0)
            result.append(1 - shared / len(grams))
        heard.append(grams)
    return result


# ---- energy --------------------------------------------------------------------------------------


def energy_components(score: Json, scene: Json) -> dict[str, float]:
    """The parts of `scene_energy`, each 0..1 (see there)."""
    events = _events(scene)
    pitched = _part_names(score, _is_pitched)
    pitches = [event[2] for _, cell in _sounding_cells(scene, pitched) for event in cell["events"]]
    beats = max(scene["end"] - scene["start"], 1) / score["ppq"]
    active = {cell["part"] for _, cell in _sounding_cells(scene)}
    register = (sum(pitches) / len(pitches) - REGISTER_LOW) / REGISTER_SPAN if pitches else 0.0
    return {
        "density": min(1.0, len(events) / beats / DENSE_ONSETS_PER_BEAT),
        "velocity": sum(event[3] for event in events) / len(events) / 127 if events else 0.0,
        "register": min(1.0, max(0.0, register)),
        "active": len(active) / len(score["parts"]) if score["parts"] else 0.0,
    }


def scene_energy(score: Json, scene: Json) -> float:
    """A scene's energy, 0..1, absolute (no normalisation across the song): by definition

    0.35 x density + 0.30 x velocity + 0.10 x register + 0.25 x active, where density is
    min(1, note onsets per quarter note over all sounding cells / DENSE_ONSETS_PER_BEAT), velocity the mean velocity
    / 127 (0 without notes), register clamp((mean pitch of pitched notes - 36) / 48, 0, 1) and
    active the fraction of the score's parts with a note in the scene.
    """
    components = energy_components(score, scene)
    return sum(weight * components[name] for name, weight in ENERGY_WEIGHTS.items())


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation; None for fewer than 3 pairs or when either side does not vary."""
    if len(xs) < 3 or len(xs) != len(ys):
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread_x = sum((x - mean_x) ** 2 for x in xs)
    spread_y = sum((y - mean_y) ** 2 for y in ys)
    if spread_x == 0 or spread_y == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / (spread_x * spread_y) ** 0.5


def energy_correlation(score: Json) -> float | None:
    """Pearson correlation of `scene_energy` with `arc.energy` over the scenes that set a target."""
    pairs = [
        (scene_energy(score, scene), scene["arc"]["energy"])
        for scene in score["scenes"]
        if scene.get("arc", {}).get("energy") is not None
    ]
    return pearson([measured for measured, _ in pairs], [target for _, target in pairs])


# ---- everything ----------------------------------------------------------------------------------


def summary(score: Json) -> Json:
    """Every metric above, JSON-ready, floats rounded to 4 places: {"scenes", "parts", "overall"}.

    Per scene: id, index, step, act, key_consistency_fast, chord_tones [hits, total],
    chord_tone_ratio, energy_target, tension_target, energy_measured, variation_similarity,
    novelty. Overall: chord_tone_ratio (hits over notes counted, the whole song), energy_correlation,
    key_consistency_fast (mean over the scenes of KEY_STEPS that have a value), notes_out_of_range.
    """
    variations = variation_similarity(score)
    novelties = novelty(score)
    energies = [scene_energy(score, scene) for scene in score["scenes"]]
    scenes: list[Json] = []
    for index, scene in enumerate(score["scenes"]):
        hits, total = chord_tone_ratio(score, scene)
        arc = scene.get("arc", {})
        scenes.append(
            {
                "id": scene["id"],
                "index": index,
                "step": scene["step"],
                "act": scene["act"],
                "key_consistency_fast": rounded(key_consistency_fast(score, scene)),
                "chord_tones": [hits, total],
                "chord_tone_ratio": rounded(hits / total) if total else None,
                "energy_target": arc.get("energy"),
                "tension_target": arc.get("tension"),
                "energy_measured": rounded(energies[index]),
                "variation_similarity": rounded(variations[index]["similarity"]),
                "novelty": rounded(novelties[index]),
            }
        )
    parts = part_ranges(score)
    hits = sum(entry["chord_tones"][0] for entry in scenes)
    total = sum(entry["chord_tones"][1] for entry in scenes)
    settled = [
        e["key_consistency_fast"] for e in scenes if e["step"] in KEY_STEPS and e["key_consistency_fast"] is not None
    ]
    targeted = [(energies[e["index"]], e["energy_target"]) for e in scenes if e["energy_target"] is not None]
    return {
        "scenes": scenes,
        "parts": parts,
        "overall": {
            "chord_tones": [hits, total],
            "chord_tone_ratio": rounded(hits / total) if total else None,
            "energy_correlation": rounded(pearson([m for m, _ in targeted], [t for _, t in targeted])),
            "key_consistency_fast": rounded(mean_or_none(settled)),
            "notes_out_of_range": sum(part["out_of_range"] for part in parts.values()),
        },
    }
