"""What every agent sees of one scene: keys, bars, chords and the story's targets.

The agents read only the Score IR (plain JSON data). `SceneView` wraps one
scene with the derived facts they share; `Chord` tuples are the harmony
timeline the harmony agent writes and the others play against.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harmonlang.roles import ROLES
from harmonlang.theory import PPQ, Key, bar_ticks, spell_key

Event = tuple[int, int, int, int]  # tick, dur, pitch, vel: absolute, as in the IR
# One chord of the harmony timeline: absolute tick, length, sounding pitches, symbol, numeral, why.
ChordSpan = tuple[int, int, tuple[int, ...], str, str, str]
MELODY_ROLES = ("protagonist", "antagonist")
DEFAULT_ENERGY = 0.5
DEFAULT_TENSION = 0.3
MINOR_FAMILY = {"minor", "dorian", "phrygian", "locrian", "harmonic-minor", "melodic-minor"}


@lru_cache(maxsize=128)
def key_of(tonic: str, mode: str) -> Key:
    return spell_key(tonic, mode)


def key_from_info(info: dict[str, Any]) -> Key:
    return key_of(info["tonic"], info["mode"])


def beat_ticks(meter: list[int] | tuple[int, int]) -> int:
    """A beat: a quarter in simple meters, a dotted quarter in compound ones (6/8, 9/8, 12/8)."""
    numerator, denominator = meter
    unit = 4 * PPQ // denominator
    return unit * 3 if denominator == 8 and numerator % 3 == 0 and numerator > 3 else unit


def strong_offsets(meter: list[int] | tuple[int, int]) -> tuple[int, ...]:
    """Strong beats inside a bar: the downbeat, and the middle when the beats split in two halves."""
    bar = bar_ticks(*meter)
    beats = bar // beat_ticks(meter)
    return (0, bar // 2) if beats % 2 == 0 and beats >= 2 and bar % 2 == 0 else (0,)


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any values: the same on every machine and every run."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass
class PhraseView:
    data: dict[str, Any]
    kind: str
    key: Key
    start: int
    end: int
    directives: dict[str, Any]
    chords: list[ChordSpan] = field(default_factory=list)

    def chord_at(self, tick: int) -> ChordSpan | None:
        for chord in self.chords:
            if chord[0] <= tick < chord[0] + chord[1]:
                return chord
        return None

    def cell(self, part: str) -> dict[str, Any] | None:
        return next((c for c in self.data["cells"] if c["part"] == part), None)


@dataclass
class SceneView:
    """One scene as the agents see it, with its neighbours' keys for foreshadowing."""

    score: dict[str, Any]
    data: dict[str, Any]
    phrases: list[PhraseView]
    next_key: Key | None  # where the next scene begins
    next_home: Key | None  # the key most of the next scene is in (a lifted phrase is a jolt, not a new home)
    previous_keys: list[Key]  # keys heard before this scene, most recent first, without repeats
    themes: dict[str, dict[str, Any]]  # role -> the theme material it develops

    @property
    def meter(self) -> list[int]:
        return self.data["meter"]

    @property
    def bar(self) -> int:
        return bar_ticks(*self.data["meter"])

    @property
    def beat(self) -> int:
        return beat_ticks(self.data["meter"])

    @property
    def energy(self) -> float:
        value = self.data["arc"].get("energy")
        return DEFAULT_ENERGY if value is None else float(value)

    @property
    def tension(self) -> float:
        value = self.data["arc"].get("tension")
        return DEFAULT_TENSION if value is None else float(value)

    @property
    def main_key(self) -> Key:
        return main_key(self.data)

    def after(self, phrase: PhraseView) -> Key | None:
        """The key of what follows a phrase: the next phrase's, or the next scene's."""
        index = self.phrases.index(phrase)
        return self.phrases[index + 1].key if index + 1 < len(self.phrases) else self.next_key

    @property
    def home(self) -> Key:
        return key_from_info(self.score["home_key"])

    def is_strong(self, tick: int) -> bool:
        return (tick - self.data["start"]) % self.bar in strong_offsets(self.meter)


def scene_view(score: dict[str, Any], index: int, themes: dict[str, dict[str, Any]]) -> SceneView:
    scenes = score["scenes"]
    scene = scenes[index]
    phrases = [
        PhraseView(p, p["kind"], key_from_info(p["key"]), p["start"], p["end"], p["directives"])
        for p in scene["phrases"]
    ]
    following = scenes[index + 1] if index + 1 < len(scenes) else None
    next_key = key_from_info(following["phrases"][0]["key"]) if following else None
    next_home = main_key(following) if following else None
    return SceneView(score, scene, phrases, next_key, next_home, _previous_keys(score, scene["start"]), themes)


def main_key(scene: dict[str, Any]) -> Key:
    """The key most of a scene's ticks are in."""
    length: dict[tuple[str, str], int] = {}
    for phrase in scene["phrases"]:
        name = (phrase["key"]["tonic"], phrase["key"]["mode"])
        length[name] = length.get(name, 0) + phrase["end"] - phrase["start"]
    tonic, mode = max(length, key=lambda name: length[name])
    return key_of(tonic, mode)


def _previous_keys(score: dict[str, Any], before: int) -> list[Key]:
    keys: list[Key] = []
    for point in reversed(score["key_map"]):
        if point["tick"] < before:
            key = key_from_info(point["key"])
            if key not in keys:
                keys.append(key)
    return keys


def rng_for(seed: int, *where: object) -> random.Random:
    return random.Random(derive_seed(seed, *where))


def part_roles(score: dict[str, Any]) -> dict[str, str]:
    return {part["name"]: part["role"] for part in score["parts"]}


def pitched(role: str) -> bool:
    return not ROLES[role].fixed_pitch


def clamp_to_range(pitch: int, low: int, high: int) -> int:
    """Moved by octaves into [low, high] (clipped when the range is under an octave)."""
    while pitch < low and pitch + 12 <= 127:
        pitch += 12
    while pitch > high and pitch - 12 >= 0:
        pitch -= 12
    return max(low, min(high, pitch))


def nearest_in(pitch: int, classes: set[int] | tuple[int, ...], prefer_up: bool = False) -> int:
    """The nearest pitch whose pitch class is in `classes`."""
    if not classes:
        return pitch
    for distance in range(12):
        order = (pitch + distance, pitch - distance) if prefer_up else (pitch - distance, pitch + distance)
        for candidate in order:
            if candidate % 12 in classes:
                return candidate
    return pitch


def monophonic(events: list[Event]) -> list[Event]:
    """Sorted, one note at a time: each note ends by the next onset; notes at the same tick keep the highest."""
    ordered = sorted(events, key=lambda e: (e[0], -e[2]))
    result: list[Event] = []
    for event in ordered:
        if result and result[-1][0] == event[0]:
            continue
        if result:
            tick, dur, pitch, vel = result[-1]
            result[-1] = (tick, max(1, min(dur, event[0] - tick)), pitch, vel)
        result.append(event)
    return result


def velocity(base: float, scale: float) -> int:
    return max(1, min(127, round(base * scale)))
