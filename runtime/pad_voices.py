"""The SP-404MKII's pads as the embedded synth plays them: sixteen one-shots per bank, in the song's key.

Until a part names its own samples, each bank gets a palette: chord stabs, vocal formants, percussion
and effects. Another bank shifts and transposes the palette so two banks do not sound alike. The same
sounds go into the SP-404 sample set, so the hardware plays what the render played. A pad plays its
whole sample whatever the note's length: the SP-404 ignores Note Off.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from harmonlang.runtime import dsp
from harmonlang.runtime.audio_base import RATE, CarryVoice, SampleNote

Array = np.ndarray
FIRST_PAD_NOTE = 36  # MIDI mode A: pads 1-16 are notes 36-51
BANKS = "ABCDEFGHIJ"


def _n(time: float) -> int:
    return int(time * RATE)


def stab(root: int, intervals: tuple[int, ...]) -> Array:
    n = _n(0.45)
    wave = sum(dsp.saw(dsp.hz(root + i), n, 0.17 * k) for k, i in enumerate(intervals)) / len(intervals)
    return dsp.lowpass4(wave, dsp.sweep(5000, 700, n, 0.12), 1.4) * dsp.decay(n, 0.16, 0.003)


FORMANTS = {"ah": (800, 1150, 2900), "oh": (450, 800, 2830), "ee": (270, 2300, 3000), "oo": (325, 700, 2530)}


def vowel(root: int, name: str) -> Array:
    n = _n(0.5)
    source = dsp.saw(dsp.hz(root), n)
    voice = sum(dsp.filtered(source, "bandpass", f, 9.0) / (k + 1) for k, f in enumerate(FORMANTS[name]))
    envelope = dsp.adsr(_n(0.3), 0.02, 0.1, 0.9, 0.15)[:n]
    return voice * np.pad(envelope, (0, n - len(envelope))) * 3.0


def perc(kind: str) -> Array:
    n = _n(0.25)
    if kind == "snap":
        return dsp.filtered(dsp.noise(n, 11), "bandpass", 2500, 3.0) * dsp.decay(n, 0.02) * 3
    if kind == "shaker":
        return dsp.filtered(dsp.noise(n, 12), "highpass", 7000) * dsp.decay(n, 0.04, 0.015)
    if kind == "block":
        return dsp.filtered(dsp.sine(1100, n) + dsp.pulse(2200, n), "bandpass", 1500, 4) * dsp.decay(n, 0.02)
    return dsp.sine(dsp.sweep(300, 180, n, 0.02), n) * dsp.decay(n, 0.07)  # a low conga


def riser() -> Array:
    n = _n(1.8)
    cutoff = np.geomspace(300, 12000, n).astype(np.float32)
    return dsp.filtered(dsp.noise(n, 13), "bandpass", cutoff, 2.0) * np.linspace(0, 1, n, dtype=np.float32) ** 2 * 3


def downlifter() -> Array:
    n = _n(1.4)
    cutoff = np.geomspace(10000, 200, n).astype(np.float32)
    return dsp.filtered(dsp.noise(n, 14), "bandpass", cutoff, 2.0) * dsp.decay(n, 0.5) * 3


def impact(root: int) -> Array:
    n = _n(1.6)
    boom = dsp.sine(dsp.sweep(dsp.hz(root - 12) * 3, dsp.hz(root - 12), n, 0.08), n) * dsp.decay(n, 0.5)
    crack = dsp.filtered(dsp.noise(n, 15), "lowpass", 3000) * dsp.decay(n, 0.12)
    return dsp.soft_clip(boom + 0.5 * crack, 1.5)


def zap(root: int) -> Array:
    n = _n(0.3)
    return dsp.sine(dsp.sweep(dsp.hz(root + 36), dsp.hz(root), n, 0.05), n) * dsp.decay(n, 0.1)


# pad 1-16 -> its one-shot, from the key's tonic (a MIDI pitch around C4)
PALETTE: tuple[Callable[[int], Array], ...] = (
    lambda r: stab(r, (0, 3, 7, 10)),
    lambda r: stab(r + 5, (0, 3, 7)),
    lambda r: stab(r + 7, (0, 4, 7, 10)),
    lambda r: stab(r - 4, (0, 4, 7, 11)),
    lambda r: vowel(r, "ah"),
    lambda r: vowel(r + 3, "oh"),
    lambda r: vowel(r + 7, "ee"),
    lambda r: vowel(r - 2, "oo"),
    lambda r: perc("snap"),
    lambda r: perc("shaker"),
    lambda r: perc("block"),
    lambda r: perc("conga"),
    lambda r: riser(),
    lambda r: downlifter(),
    impact,
    zap,
)


@cache
def pad_sound(bank: str, pad: int, tonic: int) -> Array:
    """Pad 1-16 of a bank: mono float32, peaking at 0.5."""
    shift = BANKS.index(bank) if bank in BANKS else 0
    recipe = PALETTE[(pad - 1 + 4 * shift) % len(PALETTE)]
    wave = np.asarray(recipe(60 + tonic % 12 + (shift % 3) * 7 - 12 * (shift % 2)), dtype=np.float32)
    return wave * (0.5 / (float(np.max(np.abs(wave))) or 1.0))


class PadVoice(CarryVoice):
    """One SP-404 bank: notes 36-51 fire pads 1-16; others are not pads and stay silent."""

    def __init__(self, bank: str, tonic: int) -> None:
        super().__init__()
        self.bank, self.tonic = bank, tonic

    def note_sound(self, note: SampleNote) -> Array:
        pad = note.pitch - FIRST_PAD_NOTE + 1
        if not 1 <= pad <= 16:
            return np.zeros(0, dtype=np.float32)
        return pad_sound(self.bank, pad, self.tonic) * dsp.velocity_gain(note.velocity)
