"""The rhythm agent: the genre's grooves, shaped per step, on the part's own drum notes.

It starts from the groove a phrase names (`pattern main`), then applies the
step's density, syncopation, polyrhythm, feel and disintegration, and plays
a fill at the end of each transition. Voices the device lacks fall back to
a near sound (a clap to the snare, an open hat to the hat). Hits stay on the
groove's grid and velocities on the step-grid values, so a frozen scene
reads back as the same notes.
"""

from __future__ import annotations

import random
from typing import Any

from harmonlang.agents.context import Event, PhraseView, SceneView
from harmonlang.theory import WHOLE

UNIT = 120
# A voice the device lacks is played by the first of these it has.
FALLBACK: dict[str, tuple[str, ...]] = {
    "clap": ("snare", "rim"),
    "rim": ("snare", "clap"),
    "snare": ("clap", "rim"),
    "openhat": ("hat", "ride", "shaker"),
    "pedalhat": ("hat", "shaker"),
    "hat": ("shaker", "ride", "pedalhat"),
    "ride": ("hat", "openhat"),
    "crash": ("ride", "openhat"),
    "lowtom": ("tom", "midtom", "hitom", "snare"),
    "midtom": ("tom", "lowtom", "hitom", "snare"),
    "hitom": ("tom", "midtom", "lowtom", "snare"),
    "tom": ("midtom", "lowtom", "hitom", "snare"),
    "shaker": ("hat", "tambourine"),
    "tambourine": ("shaker", "hat"),
    "cowbell": ("rim", "clave"),
    "clave": ("rim", "cowbell"),
    "conga": ("bongo", "tom"),
    "bongo": ("conga", "hitom"),
    "kick": (),
}
# The step-grid velocities (`o`, `x`, `X`, `1`-`9`): generated hits use only these.
GRID_VELOCITIES = sorted({60, 100, 124} | {round(127 * d / 9) for d in range(1, 10)})
ANCHORS = ("kick", "snare", "clap")  # kept longest as a groove thins
FILL_VOICES = ("snare", "hitom", "midtom", "lowtom", "tom")
DEFAULT_GROOVE = {
    "kick": [(0, 100), (960, 100)],
    "snare": [(480, 100), (1440, 100)],
    "hat": [(t, 80) for t in range(0, 1920, 240)],
}


def grid_velocity(value: float) -> int:
    return min(GRID_VELOCITIES, key=lambda v: (abs(v - value), v))


def _voice(name: str, drum_map: dict[str, int]) -> str | None:
    if name in drum_map:
        return name
    return next((v for v in FALLBACK.get(name, ()) if v in drum_map), None)


def _groove(score: dict[str, Any], name: str | None) -> tuple[str, dict[str, list[tuple[int, int]]], dict[str, int]]:
    materials = score["materials"]
    info = materials.get(name) if name else None
    if info is None or info.get("kind") != "groove":
        names = score["style"].get("grooves") or []
        name = names[0] if names else None
        info = materials.get(name) if name else None
    if info is None:
        return "a plain backbeat", DEFAULT_GROOVE, dict.fromkeys(DEFAULT_GROOVE, WHOLE)
    hits = {voice: [tuple(h) for h in line] for voice, line in info["hits"].items()}
    return f"groove `{name}`", hits, info["voice_lengths"]  # type: ignore[return-value]


def drum_segments(
    view: SceneView, phrase: PhraseView, part: dict[str, Any], brief: dict[str, Any], rng: random.Random
) -> list[tuple[list[Event], dict[str, Any]]]:
    drum_map: dict[str, int] = part["drum_map"]
    directives = phrase.directives
    label, hits, lengths = _groove(view.score, directives.get("pattern"))
    bar, offset, length = view.bar, phrase.start - view.data["start"], phrase.end - phrase.start
    notes: dict[str, list[list[int]]] = {}  # voice -> [tick, vel] relative to the phrase
    for voice, line in hits.items():
        played = _voice(voice, drum_map)
        if played is None:
            continue
        loop = _loop(lengths.get(voice, bar), bar)
        for shift in range(-(offset % loop), length, loop):
            for tick, vel in line:
                at = shift + tick
                if tick < loop and 0 <= at < length:
                    notes.setdefault(played, []).append([at, vel])
    why = [label]
    feel = directives.get("feel")
    if feel == "half-time":
        _half_time(notes, bar)
        why.append("half-time: the backbeat on three")
    elif feel == "double-time":
        _double_time(notes, bar)
        why.append("double-time hats")
    density = brief["density"]
    _density(notes, density, rng, bar)
    why.append(f"density {density:.2f}")
    syncopation = float(directives.get("syncopation") or 0.0)
    if syncopation > 0.2:
        _syncopate(notes, syncopation, rng, bar)
        why.append(f"syncopation {syncopation:g}")
    poly = directives.get("polyrhythm")
    if isinstance(poly, dict):
        voice = _voice(poly.get("voice") or "hat", drum_map)
        if voice is not None:
            a, b = poly["ratio"]
            notes[voice] = [[t, 90 if (t // UNIT) % (a * b) == 0 else 72] for t in range(0, length, a * UNIT)]
            why.append(f"polyrhythm {a}:{b}: {voice} every {a} sixteenths against the {b}")
    breakdown = float(directives.get("disintegrate") or 0.0)
    if breakdown:
        _disintegrate(notes, breakdown, rng, length)
        why.append(f"disintegrating ({breakdown:g}): hits fall away across the phrase")
    main = {"by": "agent", "agent": "rhythm", "material": label.split("`")[1] if "`" in label else None}
    segments = [(_events(notes, drum_map, phrase.start, brief["velocity_scale"]), {**main, "note": "; ".join(why)})]
    if phrase.kind == "T" and view.next_key is not None and breakdown < 0.5:
        fill = _fill(drum_map, length, bar, brief["energy"], rng)
        if fill:
            cut = length - bar // 2
            segments[0] = ([e for e in segments[0][0] if e[0] - phrase.start < cut], segments[0][1])
            events = [(phrase.start + t, UNIT, p, grid_velocity(v)) for t, p, v in fill]
            segments.append((events, {**main, "material": None, "note": "a fill into the next scene"}))
    if phrase.kind == "A" and view.data["index"] > 0 and brief["energy"] >= 0.5:
        crash = _voice("crash", drum_map)
        if crash is not None:
            events = [(phrase.start, UNIT, drum_map[crash], grid_velocity(110 * brief["velocity_scale"]))]
            segments.append((events, {**main, "material": None, "note": "a crash marks the new scene"}))
    return segments


def _loop(voice_length: int, bar: int) -> int:
    """A voice loops on its own length; one written for whole 4/4 bars loops on this meter's bars."""
    if voice_length % WHOLE == 0 and bar != WHOLE:
        return max(bar, voice_length // WHOLE * bar)
    return max(voice_length, UNIT)


def _half_time(notes: dict[str, list[list[int]]], bar: int) -> None:
    for voice in ("snare", "clap", "rim"):
        if voice in notes:
            notes[voice] = [[t - t % bar + bar // 2, v] for t, v in notes[voice] if t % bar == bar // 4]
    if "kick" in notes:
        notes["kick"] = [h for h in notes["kick"] if h[0] % (bar // 2) == 0 and h[0] % bar != bar // 2]


def _double_time(notes: dict[str, list[list[int]]], bar: int) -> None:
    if "hat" in notes:
        ticks = {t for t, _ in notes["hat"]}
        notes["hat"] += [[t + UNIT, 70] for t in sorted(ticks) if t + UNIT not in ticks and (t + UNIT) % bar]


def _density(notes: dict[str, list[list[int]]], density: float, rng: random.Random, bar: int) -> None:
    """Below 0.5 the off-beat hits thin out; above 0.75 ghost notes fill the sixteenths."""
    for voice, line in notes.items():
        if voice in ANCHORS and density >= 0.2:
            continue
        if density < 0.5:
            keep = 0.4 + density
            notes[voice] = [h for h in line if h[0] % (bar // 4) == 0 or rng.random() < keep]
    if density > 0.75 and "hat" in notes:
        ticks = {t for t, _ in notes["hat"]}
        extra = [t for t in range(0, max(ticks, default=0) + 1, UNIT) if t not in ticks]
        notes["hat"] += [[t, 42] for t in extra if rng.random() < (density - 0.75) * 3]


def _syncopate(notes: dict[str, list[list[int]]], amount: float, rng: random.Random, bar: int) -> None:
    """Kicks pushed a sixteenth early, and an off-beat kick before beat three."""
    if "kick" not in notes:
        return
    moved = []
    for tick, vel in notes["kick"]:
        if tick % bar and tick % (bar // 4) == 0 and rng.random() < amount * 0.5:
            tick -= UNIT
        moved.append([tick, vel])
    half = bar // 2
    for start in range(0, max((t for t, _ in moved), default=0) + 1, bar):
        if rng.random() < amount:
            moved.append([start + half - 2 * UNIT + UNIT, 85])
    notes["kick"] = moved


def _disintegrate(notes: dict[str, list[list[int]]], amount: float, rng: random.Random, length: int) -> None:
    """Each hit survives with a chance falling across the phrase; the kick goes first."""
    for voice, line in notes.items():
        weight = 1.5 if voice == "kick" else 1.0
        notes[voice] = [h for h in line if rng.random() > amount * weight * (0.4 + 0.6 * h[0] / max(length, 1))]


def _fill(drum_map: dict[str, int], length: int, bar: int, energy: float, rng: random.Random) -> list[tuple]:
    """Sixteenths down the toms over the last half bar, louder as they go."""
    voices = [v for v in FILL_VOICES if v in drum_map]
    if not voices:
        return []
    start = length - bar // 2
    steps = range(start, length, UNIT if energy >= 0.4 else 2 * UNIT)
    count = len(steps)
    result = []
    for index, tick in enumerate(steps):
        voice = voices[min(len(voices) - 1, index * len(voices) // max(count, 1))]
        if rng.random() < 0.9 or index == count - 1:
            result.append((tick, drum_map[voice], 70 + 50 * index / max(count - 1, 1)))
    return result


def _events(notes: dict[str, list[list[int]]], drum_map: dict[str, int], start: int, scale: float) -> list[Event]:
    events = {}
    for voice, line in notes.items():
        for tick, vel in line:
            if tick >= 0:
                events[(tick, drum_map[voice])] = (start + tick, UNIT, drum_map[voice], grid_velocity(vel * scale))
    return sorted(events.values())


def pad_segments(
    view: SceneView, phrase: PhraseView, part: dict[str, Any], brief: dict[str, Any], rng: random.Random
) -> list[tuple[list[Event], dict[str, Any]]]:
    """A sampler's pads: a chop pattern on the first pads, busier with the energy."""
    pads = sorted(part["drum_map"].items(), key=lambda item: item[1])[:4]
    if not pads:
        return []
    bar = view.bar
    length = phrase.end - phrase.start
    events: list[Event] = []
    chance = 0.15 + 0.5 * brief["energy"]
    steps = bar // (2 * UNIT)
    pattern = [(i * 2 * UNIT, rng.randrange(len(pads))) for i in range(steps) if i == 0 or rng.random() < chance]
    for bar_start in range(0, length, bar):
        for tick, pad in pattern:
            at = bar_start + tick
            if at < length:
                vel = grid_velocity(100 * brief["velocity_scale"])
                events.append((phrase.start + at, 2 * UNIT, pads[pad][1], vel))
    note = f"a one-bar chop pattern on {', '.join(name for name, _ in pads)}, busier with the energy"
    return [(events, {"by": "agent", "agent": "rhythm", "note": note})]
