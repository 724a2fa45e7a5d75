"""The embedded synth's pitched voices, each a recipe in the spirit of the rig's instruments.

`acid` is the T-8's TB-style bass, `poly` the S-1, `mono` the voice a KeyStep 37 drives over CV; the
General MIDI families (keys, organ, pluck, pad, brass, ...) stand in for a SoundFont when none is found.
A note's sound is cached by pitch and length: songs repeat themselves, so most notes cost a lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from harmonlang.runtime import dsp
from harmonlang.runtime.audio_base import RATE, CarryVoice, SampleNote

Array = np.ndarray
CACHE_FRAMES = 6_000_000  # ~24 MB of cached notes per voice
LENGTH_STEP = RATE // 200  # note lengths are rounded to 5 ms for the cache


def acid(pitch: int, held: int) -> Array:
    """Saw through a resonant 24 dB lowpass whose envelope snaps shut: the 303 squelch."""
    envelope = dsp.adsr(held, 0.003, 0.08, 0.8, 0.02)
    n = len(envelope)
    cutoff = dsp.sweep(2600 + 8 * pitch, 260, n, 0.09)
    wave = dsp.lowpass4(dsp.saw(dsp.hz(pitch), n), cutoff, 5.0)
    return dsp.soft_clip(wave * envelope, 1.8) * 0.8


def poly(pitch: int, held: int) -> Array:
    """Two detuned saws and a square sub through an enveloped lowpass: the S-1 lead."""
    envelope = dsp.adsr(held, 0.005, 0.25, 0.7, 0.18)
    n = len(envelope)
    f = dsp.hz(pitch)
    wave = dsp.saw(f * 1.004, n) + dsp.saw(f * 0.996, n, 0.3) + 0.4 * dsp.pulse(f / 2, n)
    cutoff = dsp.sweep(6500, 1900, n, 0.18)
    return dsp.lowpass4(wave * 0.4, cutoff, 1.1) * envelope


def mono(pitch: int, held: int) -> Array:
    """Square and saw, a slow filter: a CV-driven monosynth."""
    envelope = dsp.adsr(held, 0.004, 0.15, 0.85, 0.06)
    n = len(envelope)
    f = dsp.hz(pitch)
    wave = 0.6 * dsp.pulse(f, n, 0.42) + 0.5 * dsp.saw(f * 1.002, n)
    return dsp.lowpass4(wave, dsp.sweep(3800, 1400, n, 0.25), 1.8) * envelope * 0.8


def pad(pitch: int, held: int) -> Array:
    """Four detuned saws under a soft lowpass, slow in and out (the reverb send gives it its width)."""
    envelope = dsp.adsr(held, 0.35, 0.5, 0.85, 0.9)
    n = len(envelope)
    f = dsp.hz(pitch)
    detuned = ((0.993, 0.0), (1.004, 0.5), (1.007, 0.25), (0.998, 0.75))
    wave = sum(dsp.saw(f * ratio, n, phase) for ratio, phase in detuned)
    return dsp.filtered(wave, "lowpass", 1900) * envelope * 0.15


def keys(pitch: int, held: int) -> Array:
    """Two-operator FM with a falling index: an electric piano's tine and bell."""
    envelope = dsp.adsr(held, 0.002, 1.4, 0.25, 0.3)
    n = len(envelope)
    f = dsp.hz(pitch)
    index = dsp.sweep(3.0, 0.4, n, 0.35)
    modulator = dsp.sine(f, n) * index
    carrier = np.sin(2 * np.pi * dsp.phase_of(f, n) + modulator)
    bell = 0.15 * dsp.sine(f * 14, n) * dsp.decay(n, 0.05)
    return ((carrier + bell) * envelope * 0.6).astype(np.float32)


def organ(pitch: int, held: int) -> Array:
    """Drawbar sines: sub, fundamental and three harmonics."""
    envelope = dsp.adsr(held, 0.008, 0.01, 1.0, 0.05)
    n = len(envelope)
    f = dsp.hz(pitch)
    wave = sum(level * dsp.sine(f * ratio, n) for ratio, level in ((0.5, 0.5), (1, 0.8), (2, 0.5), (3, 0.3), (4, 0.2)))
    return wave * envelope * 0.35


def pluck(pitch: int, held: int) -> Array:
    """Harmonics that die faster the higher they are: a plucked string."""
    n = int(min(held / RATE + 0.15, 3.0) * RATE)
    f = dsp.hz(pitch)
    t = dsp.seconds(n)
    wave = np.zeros(n, dtype=np.float32)
    for k in range(1, 11):
        if f * k < RATE * 0.45:
            wave += (0.9**k / k) * np.sin(2 * np.pi * f * k * t) * np.exp(-t * (1.5 + 0.9 * k))
    gate = np.minimum(1.0, np.maximum(0.0, (held + 0.08 * RATE - np.arange(n)) / (0.08 * RATE)))
    return (wave * gate * 0.9).astype(np.float32)


def brass(pitch: int, held: int) -> Array:
    """A saw whose filter opens with a swell: brass and horn sections."""
    envelope = dsp.adsr(held, 0.05, 0.2, 0.8, 0.12)
    n = len(envelope)
    cutoff = 600 + 2600 * (1 - np.exp(-dsp.seconds(n) / 0.08))
    return dsp.lowpass4(dsp.saw(dsp.hz(pitch), n), cutoff, 0.9) * envelope * 0.6


def bass(pitch: int, held: int) -> Array:
    """A round synth bass: saw and sine sub, a closing filter."""
    envelope = dsp.adsr(held, 0.003, 0.3, 0.7, 0.05)
    n = len(envelope)
    f = dsp.hz(pitch)
    wave = 0.5 * dsp.saw(f, n) + 0.8 * dsp.sine(f, n)
    return dsp.lowpass4(wave, dsp.sweep(1800, 500, n, 0.12), 1.2) * envelope * 0.7


def lead(pitch: int, held: int) -> Array:
    """A square lead with a little vibrato."""
    envelope = dsp.adsr(held, 0.01, 0.1, 0.8, 0.12)
    n = len(envelope)
    vibrato = dsp.hz(pitch) * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * dsp.seconds(n)) * np.minimum(1, dsp.seconds(n)))
    phase = dsp.phase_of(vibrato, n)
    wave = np.where(phase < 0.5, 1.0, -1.0).astype(np.float32)
    return dsp.filtered(wave, "lowpass", 3500) * envelope * 0.35


RECIPES: dict[str, Callable[[int, int], Array]] = {
    "acid": acid,
    "poly": poly,
    "mono": mono,
    "pad": pad,
    "keys": keys,
    "organ": organ,
    "pluck": pluck,
    "brass": brass,
    "bass": bass,
    "lead": lead,
}

# General MIDI's sixteen program families (8 programs each) -> the nearest embedded recipe.
GM_FAMILIES = (
    "keys", "pluck", "organ", "pluck", "bass", "pad", "pad", "brass",
    "lead", "lead", "lead", "pad", "pad", "pluck", "pluck", "pad",
)  # fmt: skip


def gm_recipe(program: int | None) -> str:
    return GM_FAMILIES[(program or 0) // 8]


class SynthVoice(CarryVoice):
    """A pitched part on one recipe; each distinct (pitch, length) is synthesized once."""

    def __init__(self, recipe: str) -> None:
        super().__init__()
        self.recipe = RECIPES[recipe]
        self._cache: OrderedDict[tuple[int, int], Array] = OrderedDict()
        self._cached_frames = 0

    def note_sound(self, note: SampleNote) -> Array:
        held = max(LENGTH_STEP, round(note.length / LENGTH_STEP) * LENGTH_STEP)
        key = (note.pitch, held)
        sound = self._cache.get(key)
        if sound is None:
            sound = np.asarray(self.recipe(note.pitch, held), dtype=np.float32)
            self._cache[key] = sound
            self._cached_frames += len(sound)
            while self._cached_frames > CACHE_FRAMES and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._cached_frames -= len(dropped)
        else:
            self._cache.move_to_end(key)
        return sound * dsp.velocity_gain(note.velocity)
