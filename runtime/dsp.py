"""The embedded synth's building blocks: band-limited oscillators, envelopes and swept filters, in numpy.

Everything works on whole notes at once (no per-sample Python), so a 13-minute song renders in seconds.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from harmonlang.runtime.audio_base import RATE

Array = np.ndarray
FILTER_SEGMENT = 256  # samples per step of a swept filter: 5 ms, below the ear's zipper threshold


def hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def seconds(frames: int) -> Array:
    return np.arange(frames, dtype=np.float32) / RATE


def phase_of(frequency: float | Array, frames: int, start: float = 0.0) -> Array:
    """Phase in cycles (0-1) of an oscillator at a fixed or per-sample frequency."""
    if np.isscalar(frequency):
        phase = start + np.arange(frames, dtype=np.float64) * (float(frequency) / RATE)
    else:
        phase = start + np.cumsum(np.asarray(frequency, dtype=np.float64) / RATE)
    return np.mod(phase, 1.0)


def _blep(phase: Array, step: float) -> Array:
    """PolyBLEP residual: rounds the jump of a naive waveform so it does not alias."""
    correction = np.zeros_like(phase)
    rising = phase < step
    t = phase[rising] / step
    correction[rising] = t + t - t * t - 1.0
    falling = phase > 1.0 - step
    t = (phase[falling] - 1.0) / step
    correction[falling] = t * t + t + t + 1.0
    return correction


def saw(frequency: float, frames: int, start: float = 0.0) -> Array:
    phase = phase_of(frequency, frames, start)
    return (2.0 * phase - 1.0 - _blep(phase, frequency / RATE)).astype(np.float32)


def pulse(frequency: float, frames: int, width: float = 0.5, start: float = 0.0) -> Array:
    phase = phase_of(frequency, frames, start)
    step = frequency / RATE
    wave = np.where(phase < width, 1.0, -1.0) + _blep(phase, step) - _blep(np.mod(phase + 1.0 - width, 1.0), step)
    return wave.astype(np.float32)


def sine(frequency: float | Array, frames: int, start: float = 0.0) -> Array:
    return np.sin(2 * np.pi * phase_of(frequency, frames, start)).astype(np.float32)


def noise(frames: int, seed: int) -> Array:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, frames).astype(np.float32)


def adsr(held: int, attack: float, decay: float, sustain: float, release: float) -> Array:
    """An envelope for a key held `held` samples: attack, decay to sustain, then release after the key is up."""
    a, d, r = (max(1, int(s * RATE)) for s in (attack, decay, release))
    body = np.full(max(held, 1), sustain, dtype=np.float32)
    rise = np.linspace(0.0, 1.0, a, dtype=np.float32)
    fall = sustain + (1.0 - sustain) * np.exp(-5.0 * np.arange(d, dtype=np.float32) / d)
    shape = np.concatenate([rise, fall])[: len(body)]
    body[: len(shape)] = shape
    level = float(body[-1])
    tail = level * np.exp(-5.0 * np.arange(r, dtype=np.float32) / r)
    return np.concatenate([body, tail])


def decay(frames: int, time: float, attack: float = 0.001) -> Array:
    """A percussive envelope: a short rise, then an exponential fall with time constant `time` seconds."""
    t = seconds(frames)
    rise = np.minimum(1.0, t / attack)
    return (rise * np.exp(-t / time)).astype(np.float32)


def sweep(start: float, end: float, frames: int, time: float) -> Array:
    """A value falling (or rising) exponentially from `start` to `end` with time constant `time`."""
    return (end + (start - end) * np.exp(-seconds(frames) / time)).astype(np.float32)


def _biquad(kind: str, frequency: float, q: float) -> tuple[Array, Array]:
    """RBJ cookbook coefficients."""
    w = 2 * np.pi * min(frequency, RATE * 0.45) / RATE
    alpha = np.sin(w) / (2 * q)
    cos = np.cos(w)
    if kind == "lowpass":
        b = np.array([(1 - cos) / 2, 1 - cos, (1 - cos) / 2])
    elif kind == "highpass":
        b = np.array([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2])
    else:  # bandpass, 0 dB peak
        b = np.array([alpha, 0.0, -alpha])
    a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    return b / a[0], a / a[0]


def filtered(signal: Array, kind: str, frequency: float | Array, q: float = 0.707) -> Array:
    """A biquad filter; a per-sample `frequency` is followed in steps of FILTER_SEGMENT samples."""
    if np.isscalar(frequency):
        b, a = _biquad(kind, float(frequency), q)
        return lfilter(b, a, signal).astype(np.float32)
    out = np.empty_like(signal)
    state = np.zeros(2)
    for begin in range(0, len(signal), FILTER_SEGMENT):
        piece = signal[begin : begin + FILTER_SEGMENT]
        b, a = _biquad(kind, float(frequency[begin]), q)
        out[begin : begin + len(piece)], state = lfilter(b, a, piece, zi=state)
    return out


def lowpass4(signal: Array, frequency: float | Array, resonance: float) -> Array:
    """Two cascaded lowpasses (24 dB/octave), the resonance on the second: an analogue-style ladder."""
    return filtered(filtered(signal, "lowpass", frequency, 0.707), "lowpass", frequency, resonance)


def velocity_gain(velocity: int) -> float:
    return (velocity / 127.0) ** 1.6


def soft_clip(signal: Array, drive: float) -> Array:
    return (np.tanh(signal * drive) / np.tanh(drive)).astype(np.float32)
