"""Transforms on named material: a table of what each takes and does.

`theme low = hero | transpose -12 | retrograde` applies them left to right.
Every transform returns new material; nothing is changed in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostics, did_you_mean
from harmonlang.music import DrumVoice, Material, NoteEvent, Notes, Progression
from harmonlang.theory import PPQ, WHOLE, midi_pitch


@dataclass(frozen=True)
class Arg:
    kind: str  # int | number | fraction | pitch
    default: float | None = None  # None means required
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class TransformSpec:
    args: tuple[Arg, ...]
    kinds: frozenset[str]
    summary: str
    apply: Callable[..., Material]


def metric_weight(tick: int) -> int:
    """How strong a position is: 6 on the bar line, down to 0 off the 16th grid."""
    for weight, unit in ((6, WHOLE), (5, WHOLE // 2), (4, PPQ), (3, PPQ // 2), (2, PPQ // 4)):
        if tick % unit == 0:
            return weight
    return 0


def _share(amount: float, count: int) -> int:
    """How many of `count` events `amount` drops, rounding halves up."""
    return int(amount * count + 0.5)


def _weakest_first(starts: list[int]) -> list[int]:
    return sorted(range(len(starts)), key=lambda i: (metric_weight(starts[i]), -starts[i]))


# ---- notes --------------------------------------------------------------------------


def _notes(material: Notes, events: list[NoteEvent], length: int | None = None) -> Notes:
    return Notes(sorted(events, key=lambda e: (e.start, e.pitch)), material.length if length is None else length)


def _scale_time(material: Material, factor: float) -> Material:
    def scaled(t: int) -> int:
        return round(t * factor)

    if isinstance(material, Notes):
        # Scale both ends, so no note can end after the material does.
        events = [
            NoteEvent(scaled(e.start), max(1, scaled(e.start + e.dur) - scaled(e.start)), e.pitch, e.vel)
            for e in material.events
        ]
        return _notes(
            material,
            events,
            max(scaled(material.length), max((scaled(e.start + e.dur) for e in material.events), default=0)),
        )
    if isinstance(material, Progression):
        slots = [
            replace(s, start=scaled(s.start), dur=scaled(s.start + s.dur) - scaled(s.start)) for s in material.slots
        ]
        return replace(material, slots=slots, length=scaled(material.length))
    voices = {
        v: DrumVoice(scaled(d.length), [(scaled(t), vel) for t, vel in d.hits]) for v, d in material.voices.items()
    }
    return replace(material, voices=voices, unit=max(1, scaled(material.unit)))


def transpose(material: Material, semitones: int) -> Material:
    if isinstance(material, Progression):
        return replace(material, transpose=material.transpose + semitones)
    assert isinstance(material, Notes)
    return _notes(material, [replace(e, pitch=e.pitch + semitones) for e in material.events])


def octave(material: Material, octaves: int) -> Material:
    return transpose(material, 12 * octaves)


def invert(material: Material, pivot: int | None) -> Material:
    assert isinstance(material, Notes)
    if not material.events:
        return material
    axis = material.events[0].pitch if pivot is None else pivot
    return _notes(material, [replace(e, pitch=2 * axis - e.pitch) for e in material.events])


def retrograde(material: Material) -> Material:
    if isinstance(material, Notes):
        length = material.length
        return _notes(material, [replace(e, start=length - e.start - e.dur) for e in material.events])
    if isinstance(material, Progression):
        length = material.length
        slots = sorted((replace(s, start=length - s.start - s.dur) for s in material.slots), key=lambda s: s.start)
        return replace(material, slots=slots)
    unit = material.unit
    voices = {
        v: DrumVoice(d.length, sorted(((d.length - t - unit) % (d.length or 1), vel) for t, vel in d.hits))
        for v, d in material.voices.items()
    }
    return replace(material, voices=voices)


def augment(material: Material, factor: float) -> Material:
    return _scale_time(material, factor)


def diminish(material: Material, factor: float) -> Material:
    return _scale_time(material, 1 / factor)


def _rotate(start: int, dur: int, ticks: int, length: int) -> list[tuple[int, int]]:
    """(start, dur) pieces of a span moved later by `ticks` round a loop of `length`."""
    start = (start + ticks) % length
    if start + dur <= length:
        return [(start, dur)]
    return [(start, length - start), (0, start + dur - length)]


def displace(material: Material, ticks: int) -> Material:
    """Rotate later by `ticks` within the material's own length; what overhangs wraps to the start."""
    if isinstance(material, Notes):
        length = material.length or 1
        events = [
            replace(e, start=at, dur=dur) for e in material.events for at, dur in _rotate(e.start, e.dur, ticks, length)
        ]
        return _notes(material, events)
    if isinstance(material, Progression):
        length = material.length or 1
        pieces = [
            replace(s, start=at, dur=dur) for s in material.slots for at, dur in _rotate(s.start, s.dur, ticks, length)
        ]
        return replace(material, slots=sorted(pieces, key=lambda s: s.start))
    voices = {
        v: DrumVoice(d.length, sorted(((t + ticks) % (d.length or 1), vel) for t, vel in d.hits))
        for v, d in material.voices.items()
    }
    return replace(material, voices=voices)


def thin(material: Material, amount: float) -> Material:
    """Drop the given share of events, weakest metric positions first."""
    if isinstance(material, Notes):
        drop = set(_weakest_first([e.start for e in material.events])[: _share(amount, len(material.events))])
        return _notes(material, [e for i, e in enumerate(material.events) if i not in drop])
    if isinstance(material, Progression):
        drop = set(_weakest_first([s.start for s in material.slots])[: _share(amount, len(material.slots))])
        return replace(material, slots=[s for i, s in enumerate(material.slots) if i not in drop])
    voices = {}
    for name, voice in material.voices.items():
        drop = set(_weakest_first([t for t, _ in voice.hits])[: _share(amount, len(voice.hits))])
        voices[name] = DrumVoice(voice.length, [h for i, h in enumerate(voice.hits) if i not in drop])
    return replace(material, voices=voices)


def repeat(material: Material, times: int) -> Material:
    if isinstance(material, Notes):
        length = material.length
        events = [replace(e, start=e.start + k * length) for k in range(times) for e in material.events]
        return _notes(material, events, length * times)
    if isinstance(material, Progression):
        length = material.length
        slots = [replace(s, start=s.start + k * length) for k in range(times) for s in material.slots]
        return replace(material, slots=slots, length=length * times)
    voices = {
        v: DrumVoice(d.length * times, [(t + k * d.length, vel) for k in range(times) for t, vel in d.hits])
        for v, d in material.voices.items()
    }
    return replace(material, voices=voices)


ALL = frozenset({"theme", "prog", "groove"})
TRANSFORMS: dict[str, TransformSpec] = {
    "transpose": TransformSpec(
        (Arg("int", None, -48, 48),), frozenset({"theme", "prog"}), "move by semitones", transpose
    ),
    "octave": TransformSpec((Arg("int", None, -4, 4),), frozenset({"theme", "prog"}), "move by octaves", octave),
    "invert": TransformSpec(
        (Arg("pitch", -1),), frozenset({"theme"}), "mirror pitches around a note (the first by default)", invert
    ),
    "retrograde": TransformSpec((), ALL, "play backwards", retrograde),
    "augment": TransformSpec(
        (Arg("number", 2, 1, 16),), ALL, "lengthen every value by a factor (2 by default)", augment
    ),
    "diminish": TransformSpec(
        (Arg("number", 2, 1, 16),), ALL, "shorten every value by a factor (2 by default)", diminish
    ),
    "displace": TransformSpec((Arg("fraction"),), ALL, "shift later by a note value, wrapping around", displace),
    "thin": TransformSpec((Arg("number", None, 0, 1),), ALL, "drop a share of events, weakest beats first", thin),
    "repeat": TransformSpec((Arg("int", None, 1, 64),), ALL, "play several times in a row", repeat),
}

_PITCH = re.compile(r"([a-gA-G])(##|#|bb|b|♯|♭)?(-1|\d)$")


def _read_arg(arg: Arg, value: n.Value | None, transform: str, diagnostics: Diagnostics) -> float | int | None:
    if value is None:
        return None if arg.default == -1 else arg.default
    if arg.kind == "pitch":
        match = _PITCH.match(value.text)
        if not match:
            diagnostics.error(f"`{transform}` takes a pitch such as `c5`", value.span)
            return None
        return midi_pitch(match.group(1), match.group(2), int(match.group(3)))
    if arg.kind == "fraction":
        dots = value.text.count(".")
        if value.kind != "fraction" or value.second not in (1, 2, 4, 8, 16, 32, 64) or dots > 2:
            diagnostics.error(f"`{transform}` takes a note value such as `1/8` or `1/8.`", value.span)
            return None
        return round(WHOLE * value.number / value.second * (2 - 0.5**dots))
    if value.kind != "number" or value.unit not in (None, "st", "x"):
        diagnostics.error(f"`{transform}` takes a number here", value.span)
        return None
    number = value.number
    if arg.kind == "int" and number != int(number):
        diagnostics.error(f"`{transform}` takes a whole number", value.span)
        return None
    if (arg.low is not None and number < arg.low) or (arg.high is not None and number > arg.high):
        diagnostics.error(f"`{transform}` takes a value from {arg.low:g} to {arg.high:g}", value.span)
        return None
    return int(number) if arg.kind == "int" else number


def apply_transform(material: Material, kind: str, step: n.Transform, diagnostics: Diagnostics) -> Material | None:
    """Apply one `| name args` step; None (with a diagnostic) when it cannot."""
    name = step.name.text
    spec = TRANSFORMS.get(name)
    if spec is None:
        diagnostics.error(
            f"unknown transform `{name}`", step.name.span, did_you_mean(name, TRANSFORMS) or "see docs/language.md"
        )
        return None
    if kind not in spec.kinds:
        kinds = " and ".join(f"{k}s" for k in ("theme", "prog", "groove") if k in spec.kinds)
        diagnostics.error(f"`{name}` does not apply to a {kind}", step.name.span, f"`{name}` works on {kinds}")
        return None
    if len(step.args) > len(spec.args):
        extra = step.args[len(spec.args)]
        diagnostics.error(f"`{name}` takes {len(spec.args)} value{'s' if len(spec.args) != 1 else ''}", extra.span)
        return None
    values = []
    for index, arg in enumerate(spec.args):
        given = step.args[index] if index < len(step.args) else None
        if given is None and arg.default is None:
            diagnostics.error(f"`{name}` needs a value", step.span, f"for example `| {name} {_example(arg)}`")
            return None
        value = _read_arg(arg, given, name, diagnostics)
        if value is None and given is not None:
            return None
        values.append(value)
    if name == "repeat" and _size(material) * values[0] > MAX_EVENTS:
        diagnostics.error(
            f"this would make {_size(material) * values[0]:,} events; the most one material may hold is {MAX_EVENTS:,}",
            step.span,
            "repeat less; a scene loops material by itself",
        )
        return None
    return spec.apply(material, *values)


MAX_EVENTS = 100_000


def _size(material: Material) -> int:
    if isinstance(material, Notes):
        return len(material.events)
    if isinstance(material, Progression):
        return len(material.slots)
    return sum(len(v.hits) for v in material.voices.values())


def _example(arg: Arg) -> str:
    return {"fraction": "1/8", "pitch": "c5", "int": "2"}.get(arg.kind, "0.5")
