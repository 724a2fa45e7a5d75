"""Drum sounds in the spirit of the T-8's TR section (808/909-style), synthesized once per sound.

A drum part strikes keys; `DRUM_KEYS` (General MIDI's percussion map) or the part's own drum map says
which sound each key is. Each sound is a short recipe of oscillators, noise and envelopes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from harmonlang.runtime import dsp
from harmonlang.runtime.audio_base import RATE, CarryVoice, SampleNote

Array = np.ndarray


def _frames(time: float) -> int:
    return int(time * RATE)


def kick(tune: float = 1.0) -> Array:
    n = _frames(0.7)
    body = dsp.sine(dsp.sweep(160 * tune, 48 * tune, n, 0.045), n) * dsp.decay(n, 0.32, 0.0015)
    click = dsp.filtered(dsp.noise(_frames(0.01), 1), "highpass", 2000) * dsp.decay(_frames(0.01), 0.002)
    body[: len(click)] += 0.3 * click
    return dsp.soft_clip(body, 1.6)


def snare() -> Array:
    n = _frames(0.35)
    tone = (dsp.sine(dsp.sweep(240, 180, n, 0.03), n) + 0.5 * dsp.sine(330, n)) * dsp.decay(n, 0.06)
    rattle = dsp.filtered(dsp.noise(n, 2), "bandpass", 5000, 0.6) * dsp.decay(n, 0.11)
    return 0.55 * tone + 1.2 * rattle


def clap() -> Array:
    n = _frames(0.45)
    burst = dsp.filtered(dsp.noise(n, 3), "bandpass", 1200, 1.4)
    t = dsp.seconds(n)
    envelope = 0.8 * np.exp(-t / 0.12)
    for offset in (0.0, 0.011, 0.022):  # the 909's three quick slaps before the tail
        envelope += np.where(t >= offset, np.exp(-np.maximum(t - offset, 0) / 0.006), 0)
    return (2.4 * burst * envelope).astype(np.float32)


@cache
def _metal(frames: int) -> Array:
    """The 808's six square oscillators at inharmonic ratios: the metallic core of hats and cymbals."""
    wave = sum(dsp.pulse(f, frames) for f in (205.3, 304.4, 369.6, 522.7, 540.0, 800.0))
    return dsp.filtered(dsp.filtered(wave / 6, "bandpass", 9000, 0.8), "highpass", 7000)


def hat(time: float = 0.05, length: float = 0.25) -> Array:
    n = _frames(length)
    shimmer = _metal(n) + 0.3 * dsp.filtered(dsp.noise(n, 4), "highpass", 8000)
    return (2.2 * shimmer * dsp.decay(n, time)).astype(np.float32)


def cymbal(time: float = 0.9, length: float = 2.5) -> Array:
    n = _frames(length)
    wash = 0.6 * _metal(n) + 0.6 * dsp.filtered(dsp.noise(n, 5), "highpass", 5000)
    return (1.6 * wash * dsp.decay(n, time)).astype(np.float32)


def tom(pitch: float = 110.0) -> Array:
    n = _frames(0.5)
    return dsp.sine(dsp.sweep(pitch * 1.6, pitch, n, 0.05), n) * dsp.decay(n, 0.18)


def rim() -> Array:
    n = _frames(0.08)
    return (dsp.filtered(dsp.pulse(1700, n) + dsp.sine(480, n), "bandpass", 1800, 2.0) * dsp.decay(n, 0.012)) * 1.5


def cowbell() -> Array:
    n = _frames(0.4)
    wave = dsp.pulse(540, n) + dsp.pulse(800, n)
    return 0.6 * dsp.filtered(wave, "bandpass", 800, 1.5) * dsp.decay(n, 0.09)


def shaker() -> Array:
    n = _frames(0.12)
    return 0.9 * dsp.filtered(dsp.noise(n, 6), "highpass", 6000) * dsp.decay(n, 0.03, 0.01)


def conga(pitch: float = 200.0) -> Array:
    n = _frames(0.3)
    return dsp.sine(dsp.sweep(pitch * 1.2, pitch, n, 0.01), n) * dsp.decay(n, 0.09)


# sound name -> its recipe; the names are the drum voices the language knows, plus General MIDI's extras.
SOUNDS: dict[str, Callable[[], Array]] = {
    "kick": kick,
    "snare": snare,
    "clap": clap,
    "hat": hat,
    "openhat": lambda: hat(0.28, 0.8),
    "pedalhat": lambda: hat(0.025, 0.15),
    "tom": tom,
    "lowtom": lambda: tom(80.0),
    "hightom": lambda: tom(160.0),
    "rim": rim,
    "cowbell": cowbell,
    "crash": cymbal,
    "ride": lambda: cymbal(0.6, 1.8) * 0.6,
    "shaker": shaker,
    "conga": conga,
    "lowconga": lambda: conga(140.0),
}

# General MIDI percussion keys (35-81) -> the nearest sound.
DRUM_KEYS: dict[int, str] = {
    35: "kick", 36: "kick", 37: "rim", 38: "snare", 39: "clap", 40: "snare", 41: "lowtom", 42: "hat",
    43: "lowtom", 44: "pedalhat", 45: "tom", 46: "openhat", 47: "tom", 48: "hightom", 49: "crash", 50: "hightom",
    51: "ride", 52: "crash", 53: "ride", 54: "shaker", 55: "crash", 56: "cowbell", 57: "crash", 59: "ride",
    60: "conga", 61: "lowconga", 62: "conga", 63: "conga", 64: "lowconga", 69: "shaker", 70: "shaker",
    75: "rim", 76: "rim", 77: "rim",
}  # fmt: skip


@cache
def sound(name: str) -> Array:
    """A drum sound at full velocity, peaking near 0.5 so a kit has headroom."""
    wave = SOUNDS[name]().astype(np.float32)
    peak = float(np.max(np.abs(wave))) or 1.0
    return wave * (0.5 / peak)


class DrumVoice(CarryVoice):
    """A drum kit: each key strikes one synthesized sound, scaled by velocity; notes' lengths do not matter."""

    def __init__(self, drum_map: dict[str, int]) -> None:
        super().__init__()
        self.keys = dict(DRUM_KEYS)
        # the part's own map first: a T-8 names its notes kick/snare/..., so those keys play those sounds
        self.keys.update({key: name for name, key in drum_map.items() if name in SOUNDS})

    def note_sound(self, note: SampleNote) -> Array:
        name = self.keys.get(note.pitch, "rim")
        return sound(name) * dsp.velocity_gain(note.velocity)
