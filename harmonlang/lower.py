"""Stage 4, lower: expand the circle into scenes and phrases in absolute ticks.

Literal material is placed (looped to fill each phrase, and moved into the
phrase's key when the story modulates); everything the writer left open
becomes an explicit hole with its constraints. The result is the Score IR.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from harmonlang.check import CheckedSong, PartDef
from harmonlang.devices import Routing
from harmonlang.music import Groove, Material, Notes, Progression
from harmonlang.roles import PHRASES, ROLES
from harmonlang.scopes import SCENE_LETTERS, Entry, effective
from harmonlang.theory import PPQ, Key, bar_ticks, modulate, name_chord, pitch_name, spell_key

PHRASE_NAMES = {"A": "chorus A", "B": "bridge B", "A'": "chorus A'", "T": "transition"}
# Settings the score states elsewhere (the key, tempo and meter maps, the scene list),
# so they are not repeated among a phrase's directives.
STRUCTURAL = {"key", "modulate", "lift", "tempo", "tempo-drift", "meter", "length", "sequences", "scenes"}
STRUCTURAL |= {"title", "genre", "circle", "seed", "clock", "acts", "steps"}
CHORD_VELOCITY = 80
# Style words stated for the whole song travel once, in the IR's `style`, not in every phrase.
SONG_STYLE = {"scales", "chords", "bass-style", "compression", "reverb", "tempo-range", "about", "mixer", "instruments"}
ARC = ("energy", "tension")  # the story's arc: a target per scene


@dataclass
class Frame:
    """One phrase being lowered: what every cell in it shares."""

    kind: str
    settings: dict[str, Entry]
    key: Key
    window: tuple[int, int, int, int]  # start tick, offset into the scene, length, what is left of the scene
    bar: int
    context: dict[str, Any]
    harmony: list[dict[str, Any]]
    where: str


@lru_cache(maxsize=256)
def _key_fields(key: Key) -> tuple[str, str, int]:
    return key.tonic_name, key.mode, key.fifths()


def _key_info(key: Key) -> dict[str, Any]:
    tonic, mode, fifths = _key_fields(key)
    return {"tonic": tonic, "mode": mode, "fifths": fifths}


def phrase_key(settings: dict[str, Entry]) -> Key:
    """The key in force: `key`, moved by `modulate` when that is at least as specific, then `lift`."""
    entry = settings["key"]
    key = spell_key(entry.value["tonic"], entry.value["mode"])
    relation = settings.get("modulate")
    if relation is not None:
        deeper = (relation.depth, relation.phrase) > (entry.depth, entry.phrase)
        same = (relation.depth, relation.phrase) == (entry.depth, entry.phrase) and relation.layer <= entry.layer
        if deeper or same:
            key = modulate(key, relation.value)
    lift = settings.get("lift")
    return modulate(key, lift.value) if lift is not None and lift.value else key


def loop_length(material_length: int, bar: int) -> int:
    """Material loops on its own length when that divides the bar; else on whole bars."""
    if 0 < material_length <= bar and bar % material_length == 0:
        return material_length
    return max(bar, -(-material_length // bar) * bar)


class Lowerer:
    def __init__(self, song: CheckedSong) -> None:
        self.song = song
        self.tempo_map: list[dict[str, Any]] = []
        self.meter_map: list[dict[str, Any]] = []
        self.key_map: list[dict[str, Any]] = []
        self.patterns: dict[tuple[Any, ...], tuple[list[tuple[int, int, int, int]], list[dict[str, Any]]]] = {}
        self.spans: dict[tuple[Any, ...], tuple[int, int]] = {}
        self.warnings: list[tuple[str, Any, str]] = []
        self.range_warned: set[str] = set()
        self.members: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}  # the scenes in each act, step, sequence

    def mark(self, series: list[dict[str, Any]], tick: int, **values: Any) -> None:
        last = series[-1] if series else None
        if last is not None and all(last[k] == v for k, v in values.items()):
            return
        if last is not None and last["tick"] == tick:
            series.pop()
        series.append({"tick": tick, **values})

    def lower(self) -> dict[str, Any]:
        scenes = [self.scene(container, start, index) for index, (container, start) in enumerate(self.plan())]
        return {"scenes": scenes, "length": scenes[-1]["end"] if scenes else 0}

    def plan(self) -> list[tuple[tuple[Any, ...], int]]:
        """Every scene with its start tick, and the tick span of every act, step and sequence."""
        song, plan, tick = self.song, [], 0
        for act in song.structure.acts:
            for step in song.structure.steps[act]:
                counts = effective(song.layers, (act, step), None)
                for sequence in range(1, counts["sequences"].value + 1):
                    for letter in SCENE_LETTERS[: counts["scenes"].value]:
                        container = (act, step, sequence, letter)
                        settings = effective(song.layers, container, None)
                        end = tick + settings["length"].value * bar_ticks(*settings["meter"].value)
                        plan.append((container, tick))
                        for depth in range(len(container) + 1):
                            self.members.setdefault(container[:depth], []).append(container)
                            begun = self.spans.get(container[:depth], (tick, end))[0]
                            self.spans[container[:depth]] = (begun, end)
                        tick = end
        return plan

    def scene(self, container: tuple[Any, ...], start: int, index: int) -> dict[str, Any]:
        act, step, sequence, letter = container
        settings = effective(self.song.layers, container, None)
        numerator, denominator = settings["meter"].value
        bars = settings["length"].value
        bar = bar_ticks(numerator, denominator)
        self.mark(self.meter_map, start, numerator=numerator, denominator=denominator)
        phrase_bars = bars // len(PHRASES)
        phrases, tick = [], start
        for kind in PHRASES:
            place = (tick, tick - start, phrase_bars, bars * bar - (tick - start))
            phrases.append(self.phrase(container, kind, place, bar, [numerator, denominator]))
            tick += phrase_bars * bar
        return {
            "id": f"{act}.{step}.{sequence}{letter}",
            "act": act,
            "step": step,
            "sequence": sequence,
            "scene": letter,
            "index": index,
            "start": start,
            "end": tick,
            "bars": bars,
            "meter": [numerator, denominator],
            "arc": {name: self.at_scene(settings[name], container) if name in settings else None for name in ARC},
            "phrases": phrases,
        }

    def phrase(
        self, container: tuple[Any, ...], kind: str, place: tuple[int, int, int, int], bar: int, meter: list[int]
    ) -> dict[str, Any]:
        start, offset, bars, remaining = place
        settings = effective(self.song.layers, container, kind)
        key = phrase_key(settings)
        length = bars * bar
        self.mark(self.key_map, start, key=_key_info(key))
        drift = settings.get("tempo-drift")
        bpm, bpm_end = self.tempo_ramp(start, length, settings["tempo"].value, drift, meter)
        directives = {}
        for name, entry in settings.items():
            # Keyed entries (`plays:lead`, `on:lead`, `mix:dark`) are placed in cells and `mix` below.
            if name in STRUCTURAL or ":" in name or (name in SONG_STYLE and not entry.depth and not entry.phrase):
                continue
            value = entry.value
            directives[name] = self.at_scene(entry, container) if type(value) is dict and "from" in value else value
        mix = self.mix(settings)
        if mix:
            directives["mix"] = mix
        scene_id = f"{container[0]}.{container[1]}.{container[2]}{container[3]}"
        context = {
            "key": _key_info(key),
            "meter": meter,
            "tempo": bpm,
            "bars": bars,
            "start": start,
            "end": start + length,
            "directives": directives,
        }
        frame = Frame(kind, settings, key, (start, offset, length, remaining), bar, context, [], f"{scene_id}/{kind}")
        cells = [self.cell(part, frame) for part in self.song.parts.values()]
        return {
            "kind": kind,
            "name": PHRASE_NAMES[kind],
            "start": start,
            "end": start + length,
            "bars": bars,
            "key": _key_info(key),
            "tempo": bpm,
            "tempo_end": bpm_end,
            "tempo_drift": drift.value if drift else 0.0,
            "harmony": frame.harmony,
            "directives": directives,
            "cells": cells,
        }

    def at_scene(self, entry: Entry, scene: tuple[Any, ...]) -> Any:
        """A ramp (`energy 0.3 to 0.8`) rises across the scenes of the scope where it is stated."""
        value = entry.value
        if not (isinstance(value, dict) and "from" in value and "to" in value):
            return value
        members = self.members.get(entry.container, [scene])
        position = members.index(scene) / (len(members) - 1) if len(members) > 1 and scene in members else 0.0
        return round(value["from"] + (value["to"] - value["from"]) * position, 3)

    def mix(self, settings: dict[str, Entry]) -> dict[str, Any]:
        """Each part's mix here: its own `mix` setting, else its role's (the template speaks in roles)."""
        result = {}
        for part in self.song.parts.values():
            entry = settings.get(f"mix:{part.name}") or settings.get(f"mix:{part.role}")
            if entry is not None:
                result[part.name] = entry.value
        roles = {part.role for part in self.song.parts.values()}
        for role in ROLES:  # a move for a role no part plays yet reaches the part the arrangement adds
            entry = settings.get(f"mix:{role}")
            if entry is not None and role not in roles and role not in self.song.parts:
                result[role] = entry.value
        return result

    def tempo_ramp(
        self, start: int, length: int, bpm: float, drift: Entry | None, meter: list[int]
    ) -> tuple[float, float]:
        """A drift rises across the span where it is stated: each phrase for a phrase setting
        (the template's bridges), else the whole scene, sequence, step, act or song.
        Returns the tempo at the phrase's first and last beat."""
        if drift is None or not drift.value:
            self.mark(self.tempo_map, start, bpm=round(bpm, 3))
            return round(bpm, 3), round(bpm, 3)
        span_start, span_end = (start, start + length) if drift.phrase else self.spans[drift.container]
        beat = 4 * PPQ // meter[1]
        last = (span_end - span_start) - beat
        tempos = []
        for tick in range(start, start + length, beat):
            progress = (tick - span_start) / last if last > 0 else 1.0
            tempos.append(round(bpm * (1 + drift.value * min(progress, 1.0)), 3))
            self.mark(self.tempo_map, tick, bpm=tempos[-1])
        return tempos[0], tempos[-1]

    def cell(self, part: PartDef, frame: Frame) -> dict[str, Any]:
        cell: dict[str, Any] = {"part": part.name}
        role = ROLES[part.role]
        settings = frame.settings
        route_entry = settings.get(f"on:{part.name}")
        routing: Routing | None = self.song.override_routes.get(id(route_entry.value)) if route_entry else None
        if routing is not None:
            cell["channel"], cell["program"] = routing.channel, routing.program
            cell["device"], cell["output"], cell["port"] = routing.device, routing.output, routing.port
            if routing.program_channel is not None:
                cell["program_channel"] = routing.program_channel
        routing = routing or part.routing
        muted = settings.get("mute")
        if muted is not None and (part.name in muted.value or part.role in muted.value):
            return {**cell, "status": "rest", "provenance": {"note": "muted here", "source": muted.span.label()}}
        name, material, source = part.material_name, part.material, part.node.plays.span if part.node.plays else None
        plays = settings.get(f"plays:{part.name}")
        if plays is not None:
            name, material = self.song.override_materials.get(id(plays.value), (None, None))
            source = plays.span
        action = "play" if plays is not None and plays.phrase else role.plan[frame.kind]
        if action == "rest":
            return {**cell, "status": "rest"}
        if action == "play" and material is not None:
            at_key = self.song.home_key if role.fixed_pitch else frame.key
            # The phrase's harmony is the first chords part that plays written chords here.
            harmony = frame.harmony if role.gives_harmony and not frame.harmony else None
            # A part that plays every phrase runs through the scene and may hold notes over a phrase
            # line; a protagonist, an antagonist or a phrase's own `plays` starts its material afresh.
            start, scene_offset, length, remaining = frame.window
            continuous = role.every_phrase and not (plays is not None and plays.phrase)
            swing = settings["swing"].value if "swing" in settings else 0.0
            window = (start, scene_offset if continuous else 0, length, remaining if continuous else length, swing)
            events, note = self.place(material, at_key, window, frame.bar, routing, harmony)
            self.check_range(part, routing, events, source, frame)
            provenance = {"by": "writer", "material": name, "source": source.label() if source else None, "note": note}
            return {**cell, "status": "literal", "events": events, "provenance": provenance}
        hole_kind = role.hole if action == "play" else action
        constraints = {
            **frame.context,
            "range": routing.range if routing else [0, 127],
            "drum_voices": sorted(routing.drum_map) if routing and role.fixed_pitch else [],
            "source_material": name,
        }
        hole = {"id": f"{frame.where}/{part.name}", "kind": hole_kind, "constraints": constraints}
        return {**cell, "status": "hole", "hole": hole}

    def check_range(self, part: PartDef, routing: Routing | None, events: list[Any], source: Any, frame: Frame) -> None:
        """Notes outside the device's range, found after every key change: one warning per part."""
        if routing is None or ROLES[part.role].drum_notes or part.name in self.range_warned:
            return
        low, high = routing.range
        outside = sorted({pitch for _, _, pitch, _ in events if not low <= pitch <= high})
        if outside:
            self.range_warned.add(part.name)
            output = routing.device if routing.output == "main" else f"{routing.device}.{routing.output}"
            shown = ", ".join(pitch_name(p, frame.key) for p in outside[:4])
            where = frame.where.split("/")[0]
            self.warnings.append(
                (
                    f"{output} plays {pitch_name(low)} to {pitch_name(high)}, but `{part.name}` reaches {shown} "
                    f"(first in {where}, in {frame.key.name()})",
                    source,
                    "transpose the material, or route the part elsewhere (key changes move notes too)",
                )
            )

    def place(
        self,
        material: Material,
        key: Key,
        window: tuple[int, int, int, int, float],
        bar: int,
        routing: Routing | None,
        harmony: list[dict[str, Any]] | None,
    ) -> tuple[list[tuple[int, int, int, int]], str | None]:
        """The material in a phrase. `window` is (phrase start, offset into the material, phrase
        length, how long notes may sound, the phrase's swing); the same pattern is computed once.
        """
        start, offset, length, limit, swing = window
        home = self.song.home_key
        note = None if key == home or isinstance(material, Groove) else f"moved from {home.name()} to {key.name()}"
        cache_key = (id(material), key, offset, length, limit, swing, bar, id(routing))
        if cache_key not in self.patterns:
            self.patterns[cache_key] = self.pattern(material, key, (offset, length, limit, swing), bar, routing)
        events, chords = self.patterns[cache_key]
        if harmony is not None:
            harmony += [{**chord, "tick": chord["tick"] + start} for chord in chords]
        return [(tick + start, dur, pitch, vel) for tick, dur, pitch, vel in events], note

    def pattern(
        self, material: Material, key: Key, window: tuple[int, int, int, float], bar: int, routing: Routing | None
    ) -> tuple[list[tuple[int, int, int, int]], list[dict[str, Any]]]:
        """Events relative to the phrase start, and the chords they spell.

        Pitched material is written in the home key; `key` is where this phrase
        is (the same key for material that must not move, such as sampler pads).
        """
        home = self.song.home_key
        offset, length, limit, swing = window
        events: list[tuple[int, int, int, int]] = []
        chords: list[dict[str, Any]] = []
        if isinstance(material, Groove):
            drum_map = routing.drum_map if routing else {}
            amount = material.swing or swing  # the groove's own swing, else the story's
            delay = round((2 * amount - 1) * material.unit) if amount else 0
            for voice_name, voice in material.voices.items():
                if voice_name not in drum_map:
                    continue
                for shift in _repeats(voice.length, offset, length):
                    for tick, velocity in voice.hits:
                        late = delay if (tick // material.unit) % 2 else 0
                        at = shift + tick + late
                        if 0 <= at < length:
                            # A swung hit ends where the next step begins, so hits never overlap.
                            gate = material.unit - late
                            events.append(_event(at, min(gate, length - at), drum_map[voice_name], velocity))
            return sorted(events, key=_event_order), chords
        if isinstance(material, Notes):
            for shift in _repeats(loop_length(material.length, bar), offset, length):
                for event in material.events:
                    at = shift + event.start
                    if 0 <= at < length:
                        pitch = max(0, min(127, home.map_to(event.pitch, key)))
                        events.append(_event(at, min(event.dur, limit - at), pitch, event.vel))
            return sorted(events, key=_event_order), chords
        assert isinstance(material, Progression)
        # Chords are spelled in the home key and moved like melody, so the two always agree;
        # they are counted in bars, so they stretch to this scene's meter.
        scale = bar / material.bar
        voiced = []
        for slot, chord in material.chords(home):
            written = chord.voicing(material.transpose)
            root = next(p for p in written if p % 12 == (chord.root + material.transpose) % 12)
            moved = tuple(max(0, min(127, p)) for p in home.move_chord(written, root, key))
            voiced.append((round(slot.start * scale), round(slot.dur * scale), slot.text, moved))
        for shift in _repeats(loop_length(round(material.length * scale), bar), offset, length):
            for slot_start, slot_dur, text, pitches in voiced:
                at = shift + slot_start
                if not 0 <= at < length:
                    continue
                events += [_event(at, min(slot_dur, limit - at), p, CHORD_VELOCITY) for p in pitches]
                dur = min(slot_dur, length - at)
                chords.append(
                    {
                        "tick": at,
                        "dur": dur,
                        "written": text,
                        "symbol": name_chord(pitches, key),
                        "pitches": list(pitches),
                    }
                )
        return sorted(events, key=_event_order), chords


def _event_order(event: tuple[int, int, int, int]) -> tuple[int, int]:
    return event[0], event[2]


def _repeats(loop: int, offset: int, length: int) -> range:
    """Shifts that place each repeat of a `loop` into the window [offset, offset + length)."""
    if loop <= 0:
        return range(0)
    first = (offset // loop) * loop
    return range(first - offset, length, loop)


def _event(tick: int, dur: int, pitch: int, vel: int) -> tuple[int, int, int, int]:
    return (tick, max(dur, 1), pitch, vel)
