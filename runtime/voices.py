"""Which voice plays a part: its device's emulation, or a General MIDI sound for a sound module.

A table keyed by device and output, then by the device's kind, decides; a part the song moves to
another device plays through that device's voice from there on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harmonlang.ir import PartInfo, Score
from harmonlang.runtime.audio_base import Voice
from harmonlang.runtime.drum_voices import DrumVoice
from harmonlang.runtime.pad_voices import PadVoice
from harmonlang.runtime.synth_voices import SynthVoice, gm_recipe

Synth = Literal["auto", "embedded", "soundfont"]
GM_DRUM_CHANNEL = 10

# (device, output) -> the emulation; `*` matches any output of the device.
DEVICE_VOICES: dict[tuple[str, str], str] = {
    ("t8", "drums"): "drums",
    ("t8", "bass"): "acid",
    ("s1", "*"): "poly",
    ("keystep37", "*"): "mono",  # its CV/Gate out drives a monosynth
    ("sp404mk2", "*"): "pads",
}
# A device outside the table sounds as its kind suggests.
KIND_VOICES: dict[str, str] = {
    "drum-machine": "drums",
    "synth": "poly",
    "controller": "mono",
    "sampler": "pads",
    "sound-module": "gm",
}


@dataclass(frozen=True)
class Route:
    """Where a note plays: the song's own routing or a cell's override."""

    device: str
    output: str
    channel: int
    program: int | None


def home_route(part: PartInfo) -> Route:
    return Route(part.device, part.output, part.channel, part.program)


def emulation(score: Score, route: Route) -> str:
    """The voice name for a route: drums, acid, poly, mono, pads, or gm (a General MIDI program)."""
    for key in ((route.device, route.output), (route.device, "*")):
        if key in DEVICE_VOICES:
            return DEVICE_VOICES[key]
    device = score.devices.get(route.device)
    name = KIND_VOICES.get(device.kind or "", "gm") if device else "gm"
    if name == "gm" and (route.output == "drums" or route.channel == GM_DRUM_CHANNEL):
        return "drums"
    return name


def role_program(score: Score, part: PartInfo) -> int | None:
    role = score.style.roles.get(part.role)
    return role.program if role else None


def gm_program(score: Score, part: PartInfo, route: Route) -> int:
    """The General MIDI program a part plays in a SoundFont: its own, else its role's in the genre."""
    if route.program is not None:
        return route.program
    return role_program(score, part) or 0


def tonic_pitch_class(score: Score) -> int:
    from harmonlang.theory import pitch_class

    tonic = score.home_key.tonic
    return pitch_class(tonic[0].lower(), tonic[1:])


def embedded_voice(score: Score, part: PartInfo, route: Route) -> Voice:
    """The embedded synth's voice for a route."""
    name = emulation(score, route)
    if name == "drums":
        return DrumVoice(part.drum_map)
    if name == "pads":
        return PadVoice(route.output, tonic_pitch_class(score))
    if name == "gm":
        return SynthVoice(gm_recipe(gm_program(score, part, route)))
    return SynthVoice(name)


def plays_soundfont(score: Score, route: Route, synth: Synth) -> bool:
    """Whether a route plays through the SoundFont: a GM module's parts in `auto`, everything in `soundfont`."""
    if synth == "soundfont":
        return True
    return synth == "auto" and route.device == "gm"  # a General MIDI module: what a SoundFont is for
