"""The melody agent: themes where the writer gave none, their variations, and foreshadowing.

A theme is a list of notes relative to its start, in the home key (as the
writer's themes are). The agent moves it to each phrase's key, lands its
strong beats on chord tones, and keeps it in the part's register. A′ is a
real variation of A (two developing techniques from the act's palette); a
transition foreshadows the next scene's opening theme in the next key.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from harmonlang.agents.context import (
    Event,
    PhraseView,
    SceneView,
    clamp_to_range,
    monophonic,
    nearest_in,
    rng_for,
    velocity,
)
from harmonlang.theory import Key, bar_ticks

UNIT = 120  # a sixteenth: the grid themes are generated on
REGISTER = {"protagonist": (60, 86, 72), "antagonist": (48, 76, 62)}  # low, high, centre
# Rhythm cells per beat, in sixteenths: simple meters (a beat of 4) and compound (a beat of 6).
CELLS = {
    4: {
        "protagonist": [[4], [2, 2], [3, 1], [2, 2], [4], [1, 1, 2]],
        "antagonist": [[2, 2], [1, 1, 2], [2, 1, 1], [3, 1]],
    },
    6: {"protagonist": [[6], [4, 2], [2, 2, 2], [3, 3]], "antagonist": [[2, 2, 2], [4, 2], [2, 1, 1, 2]]},
}
STEPS = {"protagonist": [1, 1, -1, -1, 2, -2, 0, 3, -3], "antagonist": [-1, -1, -2, 1, -1, 0, 2, -3]}
Segment = tuple[list[Event], dict[str, Any]]


def theme_for(score: dict[str, Any], role: str, seed: int) -> dict[str, Any]:
    """The role's theme: its part's written theme, else one composed from the song's seed alone
    (so it survives a change of genre)."""
    for part in score["parts"]:
        name = part.get("material")
        info = score["materials"].get(name) if name else None
        if part["role"] == role and info is not None and info["kind"] == "theme" and info["events"]:
            return {
                "name": name,
                "events": [tuple(e) for e in info["events"]],
                "length": info["length"],
                "by": "writer",
            }
    home = score["home_key"]
    meter = score["scenes"][0]["meter"] if score["scenes"] else [4, 4]
    events, length = compose_theme(role, seed, home["tonic"], home["mode"], meter)
    return {"name": f"{role}-theme", "events": events, "length": length, "by": "agent"}


def compose_theme(role: str, seed: int, tonic: str, mode: str, meter: list[int]) -> tuple[list[Event], int]:
    """Two bars: a rising or falling line of scale steps that ends on the tonic, on a long note."""
    from harmonlang.agents.context import beat_ticks, key_of

    rng = rng_for(seed, "theme", role)
    key = key_of(tonic, mode)
    bar = bar_ticks(*meter)
    beat_units = max(1, beat_ticks(meter) // UNIT)
    cells = CELLS[6 if beat_units == 6 else 4][role]
    low, high, centre = REGISTER[role]
    degree = rng.choice([0, 2, 4] if role == "protagonist" else [4, 2, 7])
    base = centre - (centre - key.tonic) % 12
    events: list[Event] = []
    tick = 0
    while tick < bar + bar // 2:
        cell = rng.choice(cells) if beat_units in (4, 6) else [beat_units]
        for units in cell:
            events.append((tick, units * UNIT, _degree_pitch(key, base, degree), 92 if tick % bar == 0 else 84))
            degree += rng.choice(STEPS[role])
            degree = max(-3, min(9, degree))
            tick += units * UNIT
    ending = 2 * bar - tick
    if ending > 0:
        events.append((tick, ending, _degree_pitch(key, base, 7 if degree > 3 else 0), 88))
    return events, 2 * bar


def _degree_pitch(key: Key, base: int, degree: int) -> int:
    octave, step = divmod(degree, 7)
    return base + 12 * octave + (key.scale[step] - key.tonic) % 12


def _shift_degree(pitch: int, steps: int, key: Key) -> int:
    """A pitch moved by scale steps in `key` (a chromatic note first snaps into the scale)."""
    scale = [(s - key.tonic) % 12 for s in key.scale]
    pitch = nearest_in(pitch, set(key.scale))
    octave, offset = divmod(pitch - key.tonic, 12)
    index = scale.index(offset) + steps
    o2, i2 = divmod(index, 7)
    return key.tonic + 12 * (octave + o2) + scale[i2]


# ---- variation techniques: theme events (relative, home key) -> new events ----------------


def _ornament(events: list[Event], key: Key, bar: int, rng: random.Random) -> list[Event]:
    """Passing tones fill the leaps of a third."""
    result: list[Event] = []
    for index, (tick, dur, pitch, vel) in enumerate(events):
        following = events[index + 1] if index + 1 < len(events) else None
        if following and 3 <= abs(following[2] - pitch) <= 4 and dur >= 2 * UNIT and rng.random() < 0.8:
            half = dur // 2
            step = 1 if following[2] > pitch else -1
            result += [(tick, half, pitch, vel), (tick + half, dur - half, _shift_degree(pitch, step, key), vel - 8)]
        else:
            result.append((tick, dur, pitch, vel))
    return result


def _rhythm(events: list[Event], key: Key, bar: int, rng: random.Random) -> list[Event]:
    """Long notes split into a note and its upper neighbour; short pairs merge."""
    result: list[Event] = []
    skip = False
    for index, (tick, dur, pitch, vel) in enumerate(events):
        if skip:
            skip = False
            continue
        following = events[index + 1] if index + 1 < len(events) else None
        if dur >= 4 * UNIT and rng.random() < 0.6:
            half = dur // 2
            result += [(tick, half, pitch, vel), (tick + half, dur - half, _shift_degree(pitch, 1, key), vel - 6)]
        elif following and dur <= 2 * UNIT and following[1] <= 2 * UNIT and rng.random() < 0.5:
            result.append((tick, dur + following[1], pitch, vel))
            skip = True
        else:
            result.append((tick, dur, pitch, vel))
    return result


def _sequence(events: list[Event], key: Key, bar: int, rng: random.Random) -> list[Event]:
    """The second half answers the first a step higher (or lower)."""
    middle = _midpoint(events)
    steps = rng.choice([1, 1, 2, -1])
    return [(t, d, _shift_degree(p, steps, key) if t >= middle else p, v) for t, d, p, v in events]


def _invert(events: list[Event], key: Key, bar: int, rng: random.Random) -> list[Event]:
    """The second half turned upside down around its first note, by scale steps."""
    middle = _midpoint(events)
    tail = [e for e in events if e[0] >= middle]
    if not tail:
        return events
    axis = tail[0][2]
    result = [e for e in events if e[0] < middle]
    for tick, dur, pitch, vel in tail:
        distance = _steps_between(axis, pitch, key)
        result.append((tick, dur, _shift_degree(axis, -distance, key), vel))
    return result


def _answer(events: list[Event], key: Key, bar: int, rng: random.Random) -> list[Event]:
    """The last bar becomes a stepwise descent home: the theme answered, not repeated."""
    length = max((t + d for t, d, _, _ in events), default=0)
    cut = max(bar, length - bar)
    head = [e for e in events if e[0] < cut]
    if not head:
        return events
    pitch = head[-1][2]
    tail: list[Event] = []
    tick = cut
    while tick < length - 2 * UNIT * 2:
        pitch = _shift_degree(pitch, -1, key)
        tail.append((tick, 2 * UNIT, pitch, 80))
        tick += 2 * UNIT
    tonic = nearest_in(pitch, {key.tonic})
    tail.append((tick, max(UNIT, length - tick), tonic, 86))
    return head + tail


def _octave(events: list[Event], key: Key, bar: int, rng: random.Random) -> list[Event]:
    """The same line an octave up: the reprise in full voice."""
    return [(t, d, p + 12, min(127, v + 8)) for t, d, p, v in events]


def _fragment(events: list[Event], key: Key, bar: int, rng: random.Random) -> list[Event]:
    """Only the notes on the beats survive, held: the theme emptied out."""
    kept = [e for e in events if e[0] % (bar // 2) == 0]
    return [(t, bar // 2, p, max(1, v - 20)) for t, _, p, v in kept] or events[:1]


TECHNIQUES: dict[str, Callable[[list[Event], Key, int, random.Random], list[Event]]] = {
    "ornament": _ornament,
    "rhythm": _rhythm,
    "sequence": _sequence,
    "invert": _invert,
    "answer": _answer,
    "octave": _octave,
    "fragment": _fragment,
}


def _midpoint(events: list[Event]) -> int:
    length = max((t + d for t, d, _, _ in events), default=0)
    return length // 2


def _steps_between(a: int, b: int, key: Key) -> int:
    scale = [(s - key.tonic) % 12 for s in key.scale]

    def index(pitch: int) -> int:
        pitch = nearest_in(pitch, set(key.scale))
        octave, offset = divmod(pitch - key.tonic, 12)
        return 7 * octave + scale.index(offset)

    return index(b) - index(a)


def vary(theme: dict[str, Any], key: Key, bar: int, techniques: list[str], rng: random.Random) -> list[Event]:
    events = list(theme["events"])
    for name in techniques:
        events = TECHNIQUES[name](events, key, bar, rng)
    return events


# ---- placing a line in a phrase ---------------------------------------------------------------


def place(
    view: SceneView,
    phrase: PhraseView,
    events: list[Event],
    length: int,
    window: tuple[int, int],
    role: str,
    part_range: list[int],
    vel_scale: float,
    key: Key | None = None,
) -> list[Event]:
    """Relative home-key events looped into [window) of the phrase, moved to `key` (the phrase's by
    default), strong beats on chord tones, inside the role's register and the part's range."""
    home = view.home
    target = key or phrase.key
    begin, end = window
    loop = max(length, 1)
    low, high, centre = REGISTER.get(role, (48, 84, 66))
    low, high = max(low, part_range[0]), min(high, part_range[1])
    if low > high:
        low, high = part_range
    placed: list[Event] = []
    for shift in range(begin, end, loop):
        for tick, dur, pitch, vel in events:
            at = shift + tick
            if at >= end:
                continue
            moved = home.map_to(pitch, target)
            chord = phrase.chord_at(at)
            if chord is not None and view.is_strong(at):
                moved = nearest_in(moved, {p % 12 for p in chord[2]})
            placed.append((at, min(dur, end - at), moved, velocity(vel, vel_scale)))
    if not placed:
        return []
    mean = sum(p for _, _, p, _ in placed) / len(placed)
    octave = round((centre - mean) / 12) * 12
    return monophonic([(t, d, clamp_to_range(p + octave, low, high), v) for t, d, p, v in placed])


def melody_segments(
    view: SceneView, phrase: PhraseView, part: dict[str, Any], kind: str, brief: dict[str, Any], rng: random.Random
) -> list[Segment]:
    """The agent's answer for one melody hole: `melody`, `variation` or `foreshadow`."""
    role = part["role"]
    theme = view.themes[role]
    bar = view.bar
    scale = brief["velocity_scale"]
    where = (phrase.start, phrase.end)
    agent = {"by": "agent", "agent": "melody", "material": theme["name"]}
    if kind == "melody":
        events = place(view, phrase, theme["events"], theme["length"], where, role, part["range"], scale)
        who = "the writer's" if theme["by"] == "writer" else "a composed"
        return [(events, {**agent, "note": f"{who} {role} theme, stated in {phrase.key.name()}"})]
    if kind == "variation":
        techniques = brief["variation"]
        varied = vary(theme, view.home, bar, techniques, rng)
        events = place(view, phrase, varied, theme["length"], where, role, part["range"], scale)
        return [(events, {**agent, "note": f"A′ develops `{theme['name']}`: {', '.join(techniques)}"})]
    return _foreshadow(view, phrase, part, brief, agent)


def _foreshadow(
    view: SceneView, phrase: PhraseView, part: dict[str, Any], brief: dict[str, Any], agent: dict[str, Any]
) -> list[Segment]:
    """The transition hints at what comes next: the theme's head in the next scene's key, in the
    phrase's second half (the antagonist takes the first half: call and answer). `fuse` joins both."""
    role = part["role"]
    bar = view.bar
    length = phrase.end - phrase.start
    half = phrase.start + max(bar, length // 2) if length > bar else phrase.start + length // 2
    scale = brief["velocity_scale"] * 0.9
    target = view.next_key or view.home
    fused = brief.get("fuse")
    if fused and role == "protagonist":
        first, second = view.themes["protagonist"], view.themes["antagonist"]
        a = place(view, phrase, _head(first, bar), bar, (phrase.start, half), role, part["range"], scale)
        b = place(view, phrase, _head(second, bar), bar, (half, phrase.end), role, part["range"], scale)
        note = "fused: the protagonist's head, then the antagonist's, in one line"
        return [(a + b, {**agent, "material": f"{first['name']}+{second['name']}", "note": note})]
    theme = view.themes[role]
    window = (half, phrase.end) if role == "protagonist" else (phrase.start, half)
    if view.next_key is None:  # the song's end: the theme's close, at home
        ending = _tail(theme, bar)
        events = place(view, phrase, ending, bar, window, role, part["range"], scale, view.home)
        return [(events, {**agent, "note": "the last transition: the theme's close, at home"})]
    events = place(view, phrase, _head(theme, bar), bar, window, role, part["range"], scale, target)
    note = f"foreshadows the next scene: the head of `{theme['name']}` in {target.name()}"
    return [(events, {**agent, "note": note})]


def _head(theme: dict[str, Any], bar: int) -> list[Event]:
    return [(t, min(d, bar - t), p, v) for t, d, p, v in theme["events"] if t < bar]


def _tail(theme: dict[str, Any], bar: int) -> list[Event]:
    start = max(0, theme["length"] - bar)
    return [(t - start, d, p, v) for t, d, p, v in theme["events"] if t >= start]
