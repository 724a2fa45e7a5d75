"""Freeze a scene: write the agents' generated notes back into the source as literal text.

`freeze_scene(text, score, scene_id)` takes a song's source and its filled score,
and returns new source in which every generated cell of that scene is named
material the writer can edit: a theme of notes (written in the home key, so that
moving it into the phrase's key gives back the generated pitches) or, for drums
and sampler pads, a groove of step grids. It appends one block:

    # frozen from I.you.1a by harmonc freeze
    theme frozen-I-you-1a-A2-lead = "@56 a4/4 e5/4 c5/8 @51 c5/8 @56 b4/4"
                                    "g4/2 r/2"
    scene I.you.1a {
      phrase A' { lead plays frozen-I-you-1a-A2-lead }
    }

A phrase's own `plays` starts the material afresh at the phrase's start and only
in that phrase, so compiling the new text gives those phrases literal cells with
the generated events and leaves every other scene as it was. Parts the
arrangement agent added are declared (same device, channel, program and mix).
What cannot be written exactly is skipped and said so in the summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from harmonlang.diagnostics import did_you_mean
from harmonlang.music import GRID_VOICES, STEP_VELOCITY
from harmonlang.roles import ROLES
from harmonlang.theory import WHOLE, Key, bar_ticks, duration_ticks, pitch_name, spell_key

NOTE_VALUES = (1, 2, 4, 8, 16, 32, 64)
GRAIN = 5  # every note value is a whole number of 5-tick grains (1/64t is 20, 1/64. is 45)
STEP_CHAR = {velocity: char for char, velocity in STEP_VELOCITY.items()}
PHRASE_SUFFIX = {"A": "A", "B": "B", "A'": "A2", "T": "T"}
Event = tuple[int, int, int, int]  # tick, dur, pitch, vel


class FreezeError(ValueError):
    """The scene cannot be frozen at all (an unknown id), or the frozen text does not read back."""


class _Unwritable(Exception):
    """This cell's notes have no exact literal spelling."""


# ---- note values -------------------------------------------------------------------------


def _value_table() -> dict[int, str]:
    """Ticks -> the plainest note value of that length (`/4` before `/8.` before `/8t`)."""
    table: dict[int, tuple[int, str]] = {}
    for den in NOTE_VALUES:
        for dots in range(3):
            for triplet in (False, True):
                ticks = duration_ticks(den, dots, triplet)
                if ticks is None:
                    continue
                cost = dots + 2 * triplet
                text = f"/{den}{'.' * dots}{'t' if triplet else ''}"
                if ticks not in table or cost < table[ticks][0]:
                    table[ticks] = (cost, text)
    return {ticks: text for ticks, (_, text) in sorted(table.items(), reverse=True)}


VALUES = _value_table()


@lru_cache(maxsize=1024)
def note_values(ticks: int) -> tuple[str, ...]:
    """The fewest note values (longest first) whose tie lasts exactly `ticks`."""
    if ticks <= 0 or ticks % GRAIN:
        raise _Unwritable(f"a length of {ticks} ticks is no sum of note values")
    size = ticks // GRAIN
    coins = [
        (t // GRAIN, text, text.count(".") + 2 * text.endswith("t")) for t, text in VALUES.items() if t % GRAIN == 0
    ]
    best: list[tuple[int, int, int] | None] = [(0, 0, 0)] + [None] * size  # (pieces, oddness, last coin)
    for total in range(1, size + 1):
        for index, (grains, _, odd) in enumerate(coins):
            before = best[total - grains] if grains <= total else None
            if before is not None:
                candidate = (before[0] + 1, before[1] + odd, index)
                current = best[total]
                if current is None or candidate[:2] < current[:2]:
                    best[total] = candidate
    if best[size] is None:
        raise _Unwritable(f"a length of {ticks} ticks is no sum of note values")
    pieces, total = [], size
    while total:
        entry = best[total]
        assert entry is not None
        grains, text, _ = coins[entry[2]]
        pieces.append((grains, text))
        total -= grains
    return tuple(text for _, text in sorted(pieces, reverse=True))


def _by_bar(start: int, dur: int, bar: int) -> list[tuple[int, int]]:
    """A span cut at the bar lines it crosses: (bar index, length) pieces."""
    pieces, tick, end = [], start, start + dur
    while tick < end:
        cut = min(end, (tick // bar + 1) * bar)
        pieces.append((tick // bar, cut - tick))
        tick = cut
    return pieces


# ---- notes -------------------------------------------------------------------------------


def theme_bars(events: list[Event], length: int, bar: int, spell: Callable[[int], str]) -> list[str]:
    """A note string per bar for events relative to the phrase start (one voice: notes and chords)."""
    groups: dict[int, list[Event]] = {}
    for event in sorted(events):
        groups.setdefault(event[0], []).append(event)
    slots: list[tuple[int, int, list[int] | None, int]] = []  # start, dur, pitches (None: a rest), velocity
    time = 0
    for tick in sorted(groups):
        group = groups[tick]
        if len({(e[1], e[3]) for e in group}) > 1:
            raise _Unwritable(f"the notes at tick {tick} differ in length or velocity, so they are no chord")
        if tick < time:
            raise _Unwritable(f"the notes at tick {tick} start while earlier notes still sound")
        dur, vel = group[0][1], group[0][3]
        if tick + dur > length:
            raise _Unwritable(f"a note at tick {tick} sounds past the end of the phrase")
        if tick > time:
            slots.append((time, tick - time, None, 0))
        slots.append((tick, dur, [e[2] for e in group], vel))
        time = tick + dur
    if time < length:
        slots.append((time, length - time, None, 0))
    bars: list[list[str]] = [[] for _ in range(-(-length // bar))]
    velocity = None
    for start, dur, pitches, vel in slots:
        if pitches is None:
            for index, piece in _by_bar(start, dur, bar):
                bars[index] += [f"r{value}" for value in note_values(piece)]
            continue
        if vel != velocity:
            bars[start // bar].append(f"@{vel}")
            velocity = vel
        names = [spell(p) for p in pitches]
        head = names[0] if len(names) == 1 else f"[{' '.join(names)}]"
        values = [(index, value) for index, piece in _by_bar(start, dur, bar) for value in note_values(piece)]
        for number, (index, value) in enumerate(values):
            bars[index].append(f"{head}{value}{'~' if number < len(values) - 1 else ''}")
    return [" ".join(words) for words in bars]


def written_pitch(pitch: int, home: Key, key: Key) -> int:
    """The pitch to write in the home key so that the move into `key` sounds `pitch`."""
    if key == home:
        return pitch
    shift = (key.tonic - home.tonic + 6) % 12 - 6
    candidates = [p for p in range(max(0, pitch - 14), min(127, pitch + 14) + 1) if _moved(p, home, key) == pitch]
    if not candidates:
        raise _Unwritable(
            f"{spell(pitch, key)} cannot be written in {home.name()} so that it sounds in {key.name()} "
            "(no note of the home key moves there)"
        )
    # A note of the home scale reads best, then the one nearest the plain transposition.
    return min(candidates, key=lambda p: ((p - home.tonic) % 12 not in _steps(home), abs(p - (pitch - shift)), p))


def _moved(pitch: int, home: Key, key: Key) -> int:
    return max(0, min(127, home.map_to(pitch, key)))


def _steps(key: Key) -> set[int]:
    return {(p - key.tonic) % 12 for p in key.scale}


# ---- grids -------------------------------------------------------------------------------


def _unit_text(ticks: int) -> str | None:
    for den in NOTE_VALUES:
        for dots in range(3):
            if duration_ticks(den, dots, False) == ticks:
                return f"1/{den}{'.' * dots}"
    return None


def groove_lines(events: list[Event], length: int, bar: int, beat: int, drum_map: dict[str, int]) -> list[str]:
    """A groove block's lines (unit, swing, a grid per voice) for hits relative to the phrase start."""
    unit = events[0][1] if events else WHOLE // 16
    unit_text = _unit_text(unit)
    if unit_text is None or length % unit or any(e[1] != unit or e[0] % unit for e in events):
        raise _Unwritable("the hits are not all one step long on a grid of steps")
    voices: dict[int, list[str]] = {}
    for voice in GRID_VOICES:
        if voice in drum_map:
            voices.setdefault(drum_map[voice], []).append(voice)
    steps = length // unit
    grids: dict[str, list[str]] = {}
    for tick, _, pitch, vel in sorted(events):
        if vel not in STEP_CHAR:
            raise _Unwritable(f"velocity {vel} is no step-grid strength")
        names = voices.get(pitch)
        if not names:
            raise _Unwritable(f"note {pitch} is no voice of this part's device")
        free = [v for v in names if v not in grids or grids[v][tick // unit] == "."]
        if not free:
            raise _Unwritable(f"two hits of note {pitch} fall on tick {tick}")
        grids.setdefault(free[0], ["."] * steps)[tick // unit] = STEP_CHAR[vel]
    if not grids:  # a silent phrase: one line of rests
        grids[next(v for vs in voices.values() for v in vs)] = ["."] * steps
    per_bar, per_beat = bar // unit if bar % unit == 0 else 0, beat // unit if beat % unit == 0 else 0
    width = max(len(v) for v in grids)
    lines = [] if unit == WHOLE // 16 else [f"unit {unit_text}"]
    lines.append("swing 50%")  # the hits stand where they were generated, whatever the story's swing
    for voice in sorted(grids, key=GRID_VOICES.index):
        text = ""
        for index, char in enumerate(grids[voice]):
            if index and per_bar and index % per_bar == 0:
                text += " | "
            elif index and per_beat > 1 and index % per_beat == 0:
                text += " "
            text += char
        lines.append(f'{voice.ljust(width)} "{text}"')
    return lines


# ---- the scene ---------------------------------------------------------------------------


def _key(info: dict[str, Any]) -> Key:
    return spell_key(info["tonic"], info["mode"])


def _written_names(source_text: str) -> set[str]:
    """The names the text defines (materials and parts), comments and all: a cheap, safe over-estimate."""
    return set(re.findall(r"\b(?:theme|prog|groove|part)\s+([A-Za-z_][A-Za-z0-9_\-]*['′]?)", source_text))


def _unique(name: str, taken: set[str]) -> str:
    found, number = name, 2
    while found in taken:
        found, number = f"{name}-{number}", number + 1
    taken.add(found)
    return found


def _number(value: float) -> str:
    """A plain decimal (never `1e-05`, which the language does not read)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def declare_part(part: dict[str, Any]) -> str:
    """A `part` statement that routes and mixes like the part the arrangement agent added."""
    role = part["role"]
    target = part["device"] + ("" if part["output"] in ("main", role) else f".{part['output']}")
    target += f" channel {part['channel']}"
    if part.get("program") is not None:
        target += f" program {part['program'] + 1}"
    mix = part.get("mix") or {}
    settings = [f"level {_number(mix.get('level_db', 0.0))}dB", f"pan {_number(mix.get('pan', 0.0))}"]
    settings += [f"send {bus} {_number(amount)}" for bus, amount in (mix.get("sends") or {}).items()]
    return f"part {part['name']} : {role} on {target} {{ {'; '.join(settings)} }}"


def _material(
    cell: dict[str, Any], phrase: dict[str, Any], scene: dict[str, Any], part: dict[str, Any], home: Key
) -> tuple[str, list[str]]:
    """('theme' or 'groove', the definition's lines after `=`) for one generated cell."""
    start, length = phrase["start"], phrase["end"] - phrase["start"]
    events = [(e[0] - start, e[1], e[2], e[3]) for e in cell.get("events") or []]
    if any(t < 0 or t + d > length for t, d, _, _ in events):
        raise _Unwritable("some notes lie outside the phrase")
    numerator, denominator = scene["meter"]
    bar = bar_ticks(numerator, denominator)
    role = ROLES[part["role"]]
    drum_map: dict[str, int] = part.get("drum_map") or {}
    voices = (cell.get("hole") or {}).get("constraints", {}).get("drum_voices")
    if role.fixed_pitch and voices and set(voices) != set(drum_map):
        raise _Unwritable("the part plays on another device here, whose voices the score does not list")
    if drum_map:
        try:
            return "groove", groove_lines(events, length, bar, WHOLE // denominator, drum_map)
        except _Unwritable:
            if role.drum_notes:
                raise
    key = home if role.fixed_pitch else _key(phrase["key"])
    return "theme", [f'"{text}"' for text in theme_bars(events, length, bar, _speller(home, key))]


def spell(pitch: int, key: Key) -> str:
    """A pitch's name in `key`; a minor key's raised sixth and seventh are sharps (g#, not ab, in A minor)."""
    offset = (pitch - key.tonic) % 12
    if key.is_minor and offset in (9, 11) and offset not in _steps(key):
        return pitch_name(pitch)
    return pitch_name(pitch, key)


def _speller(home: Key, key: Key) -> Callable[[int], str]:
    return lambda pitch: spell(written_pitch(pitch, home, key), home)


def freeze_scene(
    source_text: str, score: dict[str, Any], scene_id: str, path: str | None = None
) -> tuple[str, list[str]]:
    """The source with every generated cell of `scene_id` written out as literal material.

    Returns the new text and a line per cell frozen or skipped. When nothing in the
    scene is generated (a second freeze), the text comes back unchanged. With `path`
    (the file the text is compiled as, for its imports), the new text is compiled and
    checked to give the generated events exactly; FreezeError says where it does not.
    """
    scene = next((s for s in score["scenes"] if s["id"] == scene_id), None)
    if scene is None:
        ids = [s["id"] for s in score["scenes"]]
        hint = (did_you_mean(scene_id, ids) or f"scenes run from {ids[0]} to {ids[-1]}") if ids else "it has none"
        raise FreezeError(f"no scene `{scene_id}` in this score; {hint}")
    home = _key(score["home_key"])
    parts = {p["name"]: p for p in score["parts"]}
    written = _written_names(source_text)
    taken = written | set(score.get("materials") or {}) | set(parts)
    definitions: list[str] = []
    plays: dict[str, list[str]] = {}
    declared: list[str] = []
    summary: list[str] = []
    frozen: list[tuple[str, str, list[Event]]] = []
    for phrase in scene["phrases"]:
        kind = phrase["kind"]
        for cell in phrase["cells"]:
            part = parts.get(cell["part"])
            if cell["status"] != "generated" or part is None:
                continue
            where = f"{scene_id} phrase {kind} `{part['name']}`"
            base = f"frozen-{scene_id.replace('.', '-')}-{PHRASE_SUFFIX[kind]}-{part['name']}".rstrip("'′")
            if base in written:  # a score filled before the text was frozen
                summary.append(f"skipped {where}: already frozen as `{base}` (fill the new text for a fresh score)")
                continue
            try:
                material, lines = _material(cell, phrase, scene, part, home)
            except _Unwritable as why:
                summary.append(f"skipped {where}: {why}")
                continue
            name = _unique(base, taken)
            if material == "groove":
                definitions += [f"{material} {name} = {{", *(f"  {line}" for line in lines), "}"]
            else:
                head = f"{material} {name} = "
                definitions += [head + lines[0], *(" " * len(head) + line for line in lines[1:])]
            plays.setdefault(kind, []).append(f"{part['name']} plays {name}")
            if part.get("added_by") and part["name"] not in declared and part["name"] not in written:
                declared.append(part["name"])
                summary.append(
                    f"declared `{part['name']}`, which the {part['added_by']} agent added "
                    f"(settings the story states for the {part['role']} role, such as `mix` and `mute`, now reach it)"
                )
            count = len(cell.get("events") or [])
            summary.append(f"froze {where}: {material} `{name}` ({count} note{'s' if count != 1 else ''})")
            frozen.append((kind, part["name"], [tuple(e) for e in cell.get("events") or []]))
    if not frozen:
        summary.append(
            f"nothing frozen in {scene_id}; the text is unchanged"
            if summary
            else f"nothing to freeze in {scene_id}: it has no generated cells left"
        )
        return source_text, summary
    block = ["", f"# frozen from {scene_id} by harmonc freeze"]
    block += [declare_part(parts[name]) for name in declared]
    block += definitions
    block.append(f"scene {scene_id} {{")
    for kind, lines in plays.items():
        block += [f"  phrase {kind} {{", *(f"    {line}" for line in lines), "  }"]
    block.append("}")
    text = source_text + ("" if source_text.endswith("\n") or not source_text else "\n") + "\n".join(block) + "\n"
    if path is not None:
        _verify(path, text, scene_id, frozen, [parts[name] for name in declared])
    return text, summary


def _verify(
    path: str, text: str, scene_id: str, frozen: list[tuple[str, str, list[Event]]], declared: list[dict[str, Any]]
) -> None:
    """Compile the new text and compare: every frozen cell literal with the generated events."""
    from harmonlang.compiler import CompileFailure, compile_file

    try:
        ir = compile_file(path, text).ir
    except CompileFailure as failure:
        messages = "; ".join(d.message for d in failure.diagnostics if d.severity == "error")
        raise FreezeError(f"the frozen text does not compile: {messages}") from None
    scene = next(s for s in ir["scenes"] if s["id"] == scene_id)
    problems = []
    for kind, name, events in frozen:
        phrase = next(p for p in scene["phrases"] if p["kind"] == kind)
        cell = next((c for c in phrase["cells"] if c["part"] == name), None)
        if cell is None or cell["status"] != "literal" or sorted(map(tuple, cell["events"])) != sorted(events):
            problems.append(f"phrase {kind} `{name}`")
    fields = ("role", "device", "output", "channel", "program", "drum_map", "range", "mix")
    compiled = {p["name"]: p for p in ir["parts"]}
    for part in declared:
        mine = compiled.get(part["name"])
        if mine is None or any(mine.get(f) != part.get(f) for f in fields):
            problems.append(f"the declared part `{part['name']}`")
    if problems:
        raise FreezeError(f"freezing {scene_id} would not reproduce {', '.join(problems)}")
