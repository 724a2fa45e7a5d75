"""Mastering: loudness and true peak measured independently (a fresh pyloudnorm meter, resample_poly)."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from harmonlang.runtime.audio_base import RATE
from harmonlang.runtime.master import integrated_lufs, limit_peaks, master, true_peak_dbtp


def measured_lufs(audio: np.ndarray) -> float:
    return pyloudnorm.Meter(RATE).integrated_loudness(audio)


def measured_true_peak_db(audio: np.ndarray) -> float:
    return 20 * math.log10(np.abs(resample_poly(audio, 4, 1, axis=0)).max())


def music_like(seconds: float, seed: int = 0, peak: float = 1.5) -> np.ndarray:
    """Noise struck on every beat and decaying, over a bass and a bright sine, peaking at `peak` (over 0 dBFS)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = (1 - (t * 2.1 % 1)) ** 4
    tone = 0.3 * np.sin(2 * np.pi * 55 * t) + 0.05 * np.sin(2 * np.pi * 5000 * t + 1.0)
    audio = rng.standard_normal((len(t), 2)) * envelope[:, None] + tone[:, None]
    return (audio * peak / np.abs(audio).max()).astype(np.float32)


def at_lufs(audio: np.ndarray, lufs: float) -> np.ndarray:
    return (audio * 10 ** ((lufs - measured_lufs(audio)) / 20)).astype(np.float32)


@pytest.fixture(scope="module")
def loud() -> np.ndarray:
    return music_like(20.0137)  # not a whole number of 1 ms blocks or 100 ms segments


@pytest.fixture(scope="module")
def loud_mastered(loud: np.ndarray) -> tuple[np.ndarray, object]:
    return master(loud)


@pytest.mark.parametrize("kind", ["loud", "quiet", "dense"])
def test_master_reaches_the_loudness_target_under_the_true_peak_ceiling(kind: str, loud: np.ndarray) -> None:
    mix = {
        "loud": loud,
        "quiet": at_lufs(music_like(12.5, seed=1), -35.0),
        "dense": at_lufs(np.random.default_rng(2).standard_normal((RATE * 8, 2)).astype(np.float32), -8.0),
    }[kind]
    out, _ = master(mix)
    assert abs(measured_lufs(out) - -14.0) <= 0.1
    assert measured_true_peak_db(out) <= -1.0


def test_master_returns_float32_of_the_same_shape_and_leaves_the_mix_alone(loud: np.ndarray) -> None:
    before = loud.copy()
    out, _ = master(loud)
    assert out.dtype == np.float32
    assert out.shape == loud.shape
    assert np.array_equal(loud, before)


def test_the_report_matches_independent_measurements(loud: np.ndarray, loud_mastered: tuple) -> None:
    out, report = loud_mastered
    assert report.input_lufs == pytest.approx(measured_lufs(loud), abs=0.01)
    assert report.integrated_lufs == pytest.approx(measured_lufs(out), abs=0.01)
    assert report.true_peak_dbtp == pytest.approx(measured_true_peak_db(out), abs=0.01)
    assert report.sample_peak_dbfs == pytest.approx(20 * math.log10(np.abs(out).max()), abs=1e-4)
    # The gain actually applied, frame by frame, is the static gain times the limiter's (stereo-linked) gain.
    static = 10 ** (report.gain_db / 20)
    audible = np.abs(loud).max(axis=1) > 0.05
    applied = np.abs(out[audible]).max(axis=1) / (static * np.abs(loud[audible]).max(axis=1))
    assert report.limiter_max_reduction_db == pytest.approx(-20 * math.log10(applied.min()), abs=0.05)
    assert report.limiter_max_reduction_db > 1.0  # the loud mix did need limiting
    expected_range = pyloudnorm.Meter(RATE).loudness_range(out)
    assert report.loudness_range_lu == pytest.approx(expected_range, abs=1.0)
    figures = report.as_dict()
    assert set(figures) >= {"input_lufs", "gain_db", "integrated_lufs", "true_peak_dbtp", "sample_peak_dbfs"}
    assert all(value is None or math.isfinite(value) for value in figures.values())


def test_the_limiter_is_stereo_linked(loud_mastered: tuple, loud: np.ndarray) -> None:
    out, report = loud_mastered
    static = 10 ** (report.gain_db / 20)
    both = (np.abs(loud) > 0.05).all(axis=1)
    gain = out[both] / (static * loud[both])
    np.testing.assert_allclose(gain[:, 0], gain[:, 1], rtol=1e-5)


def test_the_limiter_never_raises_a_sample_above_its_ceiling() -> None:
    audio = music_like(6.0, seed=3, peak=4.0)
    audio[RATE : RATE + 3] = [[5.0, -6.0], [-7.0, 2.0], [6.5, 6.5]]  # isolated spikes between samples too
    ceiling_db = -1.5
    limited, reduction_db = limit_peaks(audio, ceiling_db)
    assert np.abs(limited).max() <= np.float32(10 ** (ceiling_db / 20))
    assert np.all(np.abs(limited) <= np.abs(audio))  # a limiter only ever turns down
    assert reduction_db == pytest.approx(20 * math.log10(7.0 / 10 ** (ceiling_db / 20)), abs=0.01)


def test_the_limiter_leaves_a_signal_under_its_ceiling_unchanged() -> None:
    audio = music_like(3.0, seed=4, peak=0.5)
    limited, reduction_db = limit_peaks(audio, -1.5)
    assert np.array_equal(limited, audio)
    assert reduction_db == 0.0


def test_master_only_applies_the_static_gain_when_no_peak_reaches_the_ceiling() -> None:
    t = np.arange(RATE * 5) / RATE
    sine = np.stack([np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 1000 * t + 0.5)], axis=1)
    mix = at_lufs(sine, -35.0)  # a sine's crest is 3 dB: at -14 LUFS it peaks near -11 dBFS
    out, report = master(mix)
    assert report.limiter_max_reduction_db == 0.0
    assert np.array_equal(out, mix * np.float32(10 ** (report.gain_db / 20)))
    assert abs(measured_lufs(out) - -14.0) <= 0.1


def test_true_peak_finds_the_peaks_between_samples() -> None:
    # A sine at a quarter of the rate, 45 degrees off: every sample is 3 dB under the waveform's peak.
    n = np.arange(RATE)
    sine = (0.5 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)
    sample_peak_db = 20 * math.log10(np.abs(sine).max())
    assert sample_peak_db == pytest.approx(20 * math.log10(0.5) - 3.01, abs=0.01)
    assert true_peak_dbtp(sine) == pytest.approx(measured_true_peak_db(sine), abs=0.1)
    assert true_peak_dbtp(sine) >= sample_peak_db + 2.9


@pytest.mark.parametrize("kind", ["music", "bright noise", "18 kHz cut off at full level", "a few samples"])
def test_true_peak_agrees_with_resample_poly(kind: str) -> None:
    t = np.arange(RATE) / RATE
    audio = {
        "music": music_like(4.0, seed=5),
        # Its overs also fall between samples that are not crests of |x|.
        "bright noise": np.diff(np.random.default_rng(1).standard_normal(RATE + 1)),
        "18 kHz cut off at full level": np.sin(2 * np.pi * 18000 * t + 1.17),  # resample_poly rings where it stops
        "a few samples": np.random.default_rng(5).standard_normal((7, 2)),
    }[kind].astype(np.float32)
    assert true_peak_dbtp(audio) == pytest.approx(measured_true_peak_db(audio), abs=0.1)


@pytest.mark.parametrize("shape", [(RATE * 3 + 17, 2), (RATE * 2 + 4801,), (RATE * 1 + 5, 5)])
def test_integrated_lufs_agrees_with_pyloudnorm(shape: tuple[int, ...]) -> None:
    audio = (np.random.default_rng(7).standard_normal(shape) * 0.1).astype(np.float32)
    audio[: RATE // 2] *= 0.001  # a quiet start that the gates drop
    assert integrated_lufs(audio) == pytest.approx(measured_lufs(audio), abs=0.01)


def test_integrated_lufs_of_silence_and_too_short_audio_is_minus_infinity() -> None:
    assert integrated_lufs(np.zeros((RATE, 2), dtype=np.float32)) == -math.inf
    assert integrated_lufs(np.ones((RATE // 4, 2), dtype=np.float32) * 0.5) == -math.inf


@pytest.mark.parametrize("level", [0.0, 1e-6])
def test_silence_and_audio_under_the_gate_come_back_unchanged(level: float) -> None:
    mix = (np.random.default_rng(8).standard_normal((RATE * 2, 2)) * level).astype(np.float32)
    out, report = master(mix)
    assert np.array_equal(out, mix)
    assert not np.isnan(out).any()
    assert report.input_lufs == -math.inf and report.gain_db == 0.0
    figures = report.as_dict()
    assert figures["input_lufs"] is None and figures["integrated_lufs"] is None
    assert not any(isinstance(value, float) and math.isnan(value) for value in figures.values())
