"""Mastering: the mix brought to a loudness target (BS.1770, gated as pyloudnorm gates) under a true-peak ceiling.

A static gain sets the loudness, a look-ahead brick-wall limiter catches what it pushes over a sample ceiling just
under the true-peak target, and the gain is iterated, as limiting lowers the loudness. A 13-minute song is ~37 M
frames, so nothing runs per sample in Python: the mix is K-weighted once into 1 ms energies, iterations predict the
limited loudness from those and the limiter's slowly moving gain (to ~0.001 LU), and only the rendered result is
measured again, where the limiter acted. True peaks are oversampled only around the loudest samples.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import cache, cached_property

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly, sosfilt

from harmonlang.runtime.audio_base import RATE

ABSOLUTE_GATE_LUFS = -70.0
CHANNEL_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.41, 1.41])  # BS.1770 L, R, C, Ls, Rs, as pyloudnorm weighs them
SEGMENT = RATE // 10  # 100 ms: a 400 ms gating block is 4 segments, and blocks step by one
BLOCK = RATE // 1000  # 1 ms: the limiter decides its gain per block
SAMPLE_CEILING_MARGIN_DB = 0.5  # the limiter's sample ceiling sits this far under the true-peak target
CEILING_SAFETY = 1.0 - 1e-6  # absorbs float32 rounding of the gain and the product, so a ceiling holds exactly
RETRY_MARGIN = 10 ** (-0.05 / 20)  # after a true-peak over, the lowered ceiling aims 0.05 dB under the target
LOOKAHEAD_BLOCKS = 5  # the gain ramps down over the 5 ms before a peak ...
HOLD_BLOCKS = 50  # ... and holds for 50 ms after it before ramping back up (the release)
OVERSAMPLING = 4
TAPS_EACH_SIDE = 10  # resample_poly(x, 4, 1) interpolates between samples from 10 input samples on each side
TRUE_PEAK_SEARCH = 0.5  # only samples within 6 dB of the sample peak can make the inter-sample peak
LOUDNESS_TOLERANCE_LU = 0.1  # of the measured result
MODEL_TOLERANCE_LU = 0.01  # of the prediction, which is cheap to iterate
MAX_MODEL_STEPS = 8
MAX_ROUNDS = 4  # render, measure, and correct the ceiling (true-peak over) or the gain (prediction missed)
CHUNK_SEGMENTS = 64  # 6.4 s K-weighted per call: cache-friendly, and few enough calls to cost nothing


@dataclass(frozen=True)
class MasterReport:
    """What mastering did and what the result measures; levels of silence are float('-inf')."""

    input_lufs: float  # integrated loudness of the mix before mastering
    gain_db: float  # the static gain applied before the limiter
    integrated_lufs: float  # of the final output
    true_peak_dbtp: float  # of the final output, 4x oversampled
    sample_peak_dbfs: float
    limiter_max_reduction_db: float
    loudness_range_lu: float | None  # EBU Tech 3342; None when the song is too short or too quiet

    def as_dict(self) -> dict[str, float | None]:
        """The figures for `<stem>.master.json`; -inf (silence: nothing to measure) becomes None, which JSON holds."""
        return {
            key: None if value is None or not math.isfinite(value) else value for key, value in asdict(self).items()
        }


@dataclass(frozen=True)
class _Limiter:
    """The limiter's gain for one static gain and ceiling: 1, except across `blocks`, where it is linear per block."""

    held: np.ndarray  # per block: the needed gain, held at its minimum over [j - HOLD, j + LOOKAHEAD]
    blocks: np.ndarray  # the sorted blocks where the gain dips below 1
    start: np.ndarray  # the gain at each such block's first sample
    slope: np.ndarray  # and its change per sample across the block

    def rows(self, chosen: slice | np.ndarray) -> np.ndarray:
        """The per-sample gain of blocks[chosen], shape (blocks, BLOCK), float32 (never above 1, even by rounding)."""
        start, slope = self.start[chosen, None].astype(np.float32), self.slope[chosen, None].astype(np.float32)
        return np.minimum(start + slope * np.arange(BLOCK, dtype=np.float32), np.float32(1.0))

    def block_rows(self, blocks: np.ndarray) -> np.ndarray:
        """The per-sample gain of any sorted blocks (1 where the limiter is idle), the same values as rows()."""
        where = self._index[np.minimum(blocks, len(self.held))]
        gain = np.ones((len(blocks), BLOCK), dtype=np.float32)
        gain[where >= 0] = self.rows(where[where >= 0])
        return gain

    @cached_property
    def _index(self) -> np.ndarray:
        """Per block, its place in `blocks`, or -1; the extra last entry answers for a block past the end."""
        index = np.full(len(self.held) + 1, -1, dtype=np.int64)
        index[self.blocks] = np.arange(len(self.blocks))
        return index

    def mean_square(self) -> np.ndarray:
        """The mean of gain**2 over each of the blocks, in closed form, as the gain is linear in each."""
        mean_i, mean_i2 = (BLOCK - 1) / 2, (BLOCK - 1) * (2 * BLOCK - 1) / 6
        return self.start**2 + 2 * self.start * self.slope * mean_i + self.slope**2 * mean_i2

    def reduction_db(self) -> float:
        return 20 * math.log10(1.0 / min(float(self.held.min(initial=1.0)), 1.0))


def integrated_lufs(audio: np.ndarray, rate: int = RATE) -> float:
    """Integrated loudness as pyloudnorm.Meter(rate).integrated_loudness measures it, several times faster.

    float('-inf') for silence, audio under the -70 LUFS gate, or audio shorter than one 400 ms gating block.
    """
    frames = _as_frames(audio)
    if rate % 10:  # 100 ms segments need a whole number of samples; other rates take pyloudnorm's slow path
        return float(pyloudnorm.Meter(rate).integrated_loudness(frames)) if len(frames) >= 0.4 * rate else -math.inf
    energies = _weighted_energies(frames, np.arange(-(-len(frames) // (rate // 10))), rate, 1)
    return _gated_loudness(energies, len(frames), rate)


def true_peak_dbtp(audio: np.ndarray, rate: int = RATE) -> float:
    """BS.1770-4 true peak in dBTP: the largest magnitude of the signal oversampled 4x as resample_poly does it.

    `rate` does not matter (the oversampling is relative); it is taken for symmetry with integrated_lufs.
    """
    frames = _as_frames(audio)
    return _to_db(_peaks(frames, _block_peaks(frames))[0])


def limit_peaks(audio: np.ndarray, ceiling_dbfs: float) -> tuple[np.ndarray, float]:
    """The audio through the look-ahead limiter with no static gain, and the largest gain reduction in dB."""
    frames = _as_frames(audio)
    limiter = _limiter(_block_peaks(frames), 1.0, 10 ** (ceiling_dbfs / 20) * CEILING_SAFETY)
    out = np.empty_like(frames)
    _render(frames, 1.0, limiter, out)
    return out.reshape(np.shape(audio)), limiter.reduction_db()


def master(mix: np.ndarray, target_lufs: float = -14.0, ceiling_dbtp: float = -1.0) -> tuple[np.ndarray, MasterReport]:
    """The mastered mix (float32, same shape) at `target_lufs` integrated and at most `ceiling_dbtp` true peak.

    A mix with no measurable loudness (silence, or under the -70 LUFS gate) gets no gain: it comes back unchanged
    (unless its peaks are over the ceiling), and its report shows input_lufs -inf and gain_db 0.
    """
    audio = _as_frames(mix)
    frames = len(audio)
    block_peak = _block_peaks(audio)
    block_energy = _weighted_energies(audio, np.arange(-(-frames // SEGMENT)), RATE, SEGMENT // BLOCK)
    segment_energy = _segments(block_energy)
    input_lufs = _gated_loudness(segment_energy, frames, RATE)
    measurable = math.isfinite(input_lufs)
    gain_db = target_lufs - input_lufs if measurable else 0.0
    true_ceiling = 10 ** (ceiling_dbtp / 20)
    sample_ceiling = 10 ** ((ceiling_dbtp - SAMPLE_CEILING_MARGIN_DB) / 20) * CEILING_SAFETY
    out = np.empty_like(audio)
    bias = 0.0  # measured minus predicted loudness, learned if a prediction ever misses
    for round_number in range(MAX_ROUNDS):
        last_round = round_number == MAX_ROUNDS - 1
        gain_db, limiter, predicted = _settle(
            block_peak, block_energy, frames, gain_db, sample_ceiling, target_lufs - bias
        )
        scale = 10 ** (gain_db / 20)
        true_peak, sample_peak = _peaks(audio, block_peak, scale, limiter)
        if true_peak > true_ceiling and not last_round:
            sample_ceiling *= true_ceiling / true_peak * RETRY_MARGIN  # lower the ceiling by the over, limit again
            continue
        _render(audio, scale, limiter, out)
        energies = _limited_energies(out, segment_energy * scale**2, limiter.blocks)
        output_lufs = _gated_loudness(energies, frames, RATE)
        if not measurable or abs(output_lufs - target_lufs) <= LOUDNESS_TOLERANCE_LU or last_round:
            break
        bias = output_lufs - predicted
    if true_peak > true_ceiling:  # still over after MAX_ROUNDS: a static trim keeps the ceiling a promise
        trim = true_ceiling / true_peak * CEILING_SAFETY
        out *= np.float32(trim)
        energies *= trim**2
        gain_db += 20 * math.log10(trim)
        output_lufs = _gated_loudness(energies, frames, RATE)
        true_peak, sample_peak = _peaks(out, _block_peaks(out))
    report = MasterReport(
        input_lufs=input_lufs,
        gain_db=gain_db,
        integrated_lufs=output_lufs,
        true_peak_dbtp=_to_db(true_peak),
        sample_peak_dbfs=_to_db(sample_peak),
        limiter_max_reduction_db=limiter.reduction_db(),
        loudness_range_lu=_loudness_range(energies, RATE),
    )
    return out.reshape(np.shape(mix)), report


def _settle(
    block_peak: np.ndarray, block_energy: np.ndarray, frames: int, gain_db: float, ceiling: float, target: float
) -> tuple[float, _Limiter, float]:
    """Secant steps on the predicted loudness of the limited mix: (gain in dB, its limiter, predicted loudness)."""
    segment_energy = _segments(block_energy)
    previous: tuple[float, float] | None = None
    for step in range(MAX_MODEL_STEPS):
        scale = 10 ** (gain_db / 20)
        limiter = _limiter(block_peak, scale, ceiling)
        # K-weighting of a slowly moving gain times the mix is, very nearly, the gain times the K-weighted mix.
        change = block_energy[limiter.blocks] * (limiter.mean_square() - 1.0)[:, None]
        segments = limiter.blocks // (SEGMENT // BLOCK)
        shift = [np.bincount(segments, weights=column, minlength=len(segment_energy)) for column in change.T]
        predicted = _gated_loudness((segment_energy + np.stack(shift, axis=1)) * scale**2, frames, RATE)
        error = target - predicted
        if not math.isfinite(predicted) or abs(error) <= MODEL_TOLERANCE_LU or step == MAX_MODEL_STEPS - 1:
            break
        # Limiting makes loudness grow slower than the gain (slope <= 1); the secant learns by how much.
        slope = 1.0 if previous is None else (predicted - previous[1]) / (gain_db - previous[0])
        previous = (gain_db, predicted)
        gain_db += error / min(max(slope, 0.1), 1.0)
    return gain_db, limiter, predicted


def _segments(block_energy: np.ndarray) -> np.ndarray:
    return block_energy.reshape(-1, SEGMENT // BLOCK, block_energy.shape[1]).sum(axis=1)


def _as_frames(audio: np.ndarray) -> np.ndarray:
    frames = np.ascontiguousarray(audio, dtype=np.float32)
    return frames if frames.ndim == 2 else frames[:, None]


def _to_db(amplitude: float) -> float:
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


def _power_to_lufs(power: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(power)


def _rows(signal: np.ndarray, size: int, chosen: np.ndarray) -> np.ndarray:
    """Rows `chosen` (sorted) of `signal` cut into rows of `size` samples; the partial last row is zero-padded."""
    whole = len(signal) // size
    rows = np.zeros((len(chosen), size, *signal.shape[1:]), dtype=signal.dtype)
    complete = chosen < whole
    rows[complete] = signal[: whole * size].reshape(whole, size, *signal.shape[1:])[chosen[complete]]
    if not complete.all():
        rows[-1, : len(signal) - whole * size] = signal[whole * size :]
    return rows


def _block_peaks(frames: np.ndarray) -> np.ndarray:
    """The largest magnitude in each limiter block, over all channels."""
    whole = len(frames) // BLOCK
    peaks = np.empty(-(-len(frames) // BLOCK), dtype=np.float32)
    in_blocks = frames[: whole * BLOCK].reshape(whole, BLOCK * frames.shape[1])
    for start in range(0, whole, 1 << 14):  # max and -min per chunk: no full-size |x| temporary
        rows = in_blocks[start : start + (1 << 14)]
        np.maximum(rows.max(axis=1), -rows.min(axis=1), out=peaks[start : start + len(rows)])
    if whole < len(peaks):
        peaks[-1] = np.abs(frames[whole * BLOCK :]).max()
    return peaks


@cache
def _k_weighting(rate: int) -> np.ndarray:
    """pyloudnorm's own K-weighting stages as second-order sections, so we weight exactly as it does."""
    stages = pyloudnorm.Meter(rate)._filters.values()
    return np.array([np.concatenate([stage.passband_gain * stage.b, stage.a]) for stage in stages])


def _weighted_energies(frames: np.ndarray, segments: np.ndarray, rate: int, parts: int) -> np.ndarray:
    """K-weighted energy (sum of squares) of each of `parts` equal parts of the listed 100 ms segments, per channel.

    Shape (len(segments) * parts, channels). The listed segments are filtered as one continuous signal, so a run
    that does not follow on from the segment listed before it needs a warm-up segment first, whose energy the
    caller ignores: within 100 ms the filters (slowest pole ~4 ms) forget what came before to ~1e-9.
    """
    size = rate // 10
    sos = _k_weighting(rate).astype(np.float32)  # float32 sections: faster, and the energy differs by ~1e-5 dB

    def one_channel(channel: int) -> np.ndarray:
        column = frames[:, channel]
        state = np.zeros((len(sos), 2), dtype=np.float32)
        energies = np.empty(len(segments) * parts)
        for start in range(0, len(segments), CHUNK_SEGMENTS):
            chosen = segments[start : start + CHUNK_SEGMENTS]
            if (chosen[-1] + 1) * size <= len(column) and chosen[-1] - chosen[0] == len(chosen) - 1:
                signal = column[chosen[0] * size : (chosen[-1] + 1) * size]  # consecutive: no gather
            else:
                signal = _rows(column, size, chosen).ravel()  # a partial last segment is zero-padded, as pyloudnorm's
            weighted, state = sosfilt(sos, signal, zi=state)
            weighted = weighted.reshape(-1, size // parts)
            energies[start * parts : start * parts + len(weighted)] = np.einsum("ij,ij->i", weighted, weighted)
        return energies

    with ThreadPoolExecutor(max_workers=frames.shape[1]) as pool:  # sosfilt releases the GIL
        return np.stack(list(pool.map(one_channel, range(frames.shape[1]))), axis=1)


def _gated_loudness(energies: np.ndarray, frames: int, rate: int) -> float:
    """Integrated loudness from segment energies, gated as pyloudnorm gates (same block count and thresholds)."""
    block = 0.4 * rate
    if frames < block:
        return -math.inf
    blocks = int(np.round((frames / rate - 0.4) / (0.4 * 0.25))) + 1  # pyloudnorm's count: 400 ms, 75 % overlap
    padded = np.zeros((blocks + 3, energies.shape[1]))
    kept = min(len(energies), blocks + 3)
    padded[:kept] = energies[:kept]
    mean_square = (padded[:-3] + padded[1:-2] + padded[2:-1] + padded[3:]) / block
    power = mean_square @ CHANNEL_WEIGHTS[: energies.shape[1]]
    loudness = _power_to_lufs(power)
    above_absolute = loudness >= ABSOLUTE_GATE_LUFS
    if not above_absolute.any():
        return -math.inf
    relative_gate = _power_to_lufs(power[above_absolute].mean()) - 10.0
    return float(_power_to_lufs(power[(loudness > relative_gate) & above_absolute].mean()))


def _loudness_range(energies: np.ndarray, rate: int) -> float | None:
    """EBU Tech 3342 loudness range: 3 s windows every 100 ms, the song followed by 1.5 s of silence as specified."""
    channels = energies.shape[1]
    padded = np.concatenate([np.zeros((1, channels)), energies, np.zeros((15, channels))])
    if len(padded) <= 30:  # not one 3 s window
        return None
    running = np.cumsum(padded, axis=0)
    loudness = _power_to_lufs((running[30:] - running[:-30]) / (3.0 * rate) @ CHANNEL_WEIGHTS[:channels])
    loudness = loudness[loudness >= ABSOLUTE_GATE_LUFS]
    if not loudness.size:
        return None
    loudness = loudness[loudness >= 10 * np.log10(np.mean(10 ** (loudness / 10))) - 20.0]
    return float(np.percentile(loudness, 95) - np.percentile(loudness, 10))


def _limiter(block_peak: np.ndarray, scale: float, ceiling: float) -> _Limiter:
    """The look-ahead brick-wall limiter's gain for `scale` times the audio whose block peaks are given.

    The held gain is smoothed by a box of 2 * LOOKAHEAD_BLOCKS * BLOCK + 1 samples centred on each sample. Why it
    never exceeds what the sample needs: every sample in the box lies in a block j within LOOKAHEAD_BLOCKS of this
    sample's block, and j held the minimum over [j - HOLD, j + LOOKAHEAD], which contains this sample's block (as
    HOLD >= LOOKAHEAD); so every value averaged, and hence the average, is at most this block's needed gain.
    """
    needed = ceiling / np.maximum(scale * block_peak, ceiling)  # <= 1: what brings each block's peak to the ceiling
    size = HOLD_BLOCKS + LOOKAHEAD_BLOCKS + 1
    held = minimum_filter1d(needed, size, mode="nearest", origin=HOLD_BLOCKS - size // 2)
    blocks = np.flatnonzero(minimum_filter1d(held, 2 * LOOKAHEAD_BLOCKS + 1, mode="nearest") < 1.0)
    if not blocks.size:
        return _Limiter(held, blocks, np.zeros(0), np.zeros(0))
    # Sample i of block j sees BLOCK - i samples of block j - L, all of blocks j - L + 1 .. j + L - 1 and i + 1
    # samples of block j + L (L = LOOKAHEAD_BLOCKS): so the box average is linear across each block.
    edge = np.pad(held, LOOKAHEAD_BLOCKS, mode="edge")
    behind, ahead = edge[: len(held)][blocks], edge[2 * LOOKAHEAD_BLOCKS :][blocks]
    middle = (uniform_filter1d(held, 2 * LOOKAHEAD_BLOCKS - 1, mode="nearest") * (2 * LOOKAHEAD_BLOCKS - 1))[blocks]
    width = 2 * LOOKAHEAD_BLOCKS * BLOCK + 1
    start = (BLOCK * behind + BLOCK * middle + ahead) / width
    return _Limiter(held, blocks, np.minimum(start, 1.0), (ahead - behind) / width)


def _render(frames: np.ndarray, scale: float, limiter: _Limiter, out: np.ndarray) -> None:
    """out = frames * scale * the limiter's gain, a chunk of blocks at a time (while the chunk is in cache)."""
    chunk = 1 << 12
    for first in range(0, -(-len(frames) // BLOCK), chunk):
        span = slice(first * BLOCK, (first + chunk) * BLOCK)
        source, target = frames[span], out[span]
        np.multiply(source, np.float32(scale), out=target)
        chosen = slice(*np.searchsorted(limiter.blocks, [first, first + chunk]))
        if chosen.start == chosen.stop:
            continue
        gain = np.ones((chunk, BLOCK), dtype=np.float32)
        gain[limiter.blocks[chosen] - first] = limiter.rows(chosen)
        target *= gain.reshape(-1, 1)[: len(target)]


def _limited_energies(out: np.ndarray, unlimited: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Segment energies of the output, measured again only where the limiter acted.

    Elsewhere the output is the scaled input, and K-weighting is linear; the segment after each limited one is
    measured too, because the filters ring on.
    """
    if not blocks.size:
        return unlimited
    count = len(unlimited)
    dirty = np.zeros(count + 1, dtype=bool)
    touched = blocks // (SEGMENT // BLOCK)
    dirty[touched] = dirty[touched + 1] = True
    dirty = dirty[:count]
    warm_up = np.zeros(count, dtype=bool)
    warm_up[:-1] = dirty[1:] & ~dirty[:-1]
    listed = np.flatnonzero(dirty | warm_up)
    fresh = _weighted_energies(out, listed, RATE, 1)
    energies = unlimited.copy()
    energies[listed[dirty[listed]]] = fresh[dirty[listed]]
    return energies


@cache
def _oversampling_kernel() -> np.ndarray:
    """(21, 7): row o + 10 weighs sample n + o into resample_poly(x, 4, 1)[4 n + p], p = -3 .. 3 (both intervals)."""
    impulse = np.zeros(2 * TAPS_EACH_SIDE + 3)
    impulse[TAPS_EACH_SIDE + 1] = 1.0
    response = resample_poly(impulse, OVERSAMPLING, 1)  # response[4 * 11 + t] is the filter's tap t, |t| <= 40
    offsets = np.arange(-TAPS_EACH_SIDE, TAPS_EACH_SIDE + 1)[:, None]
    phases = np.arange(1 - OVERSAMPLING, OVERSAMPLING)
    return response[OVERSAMPLING * (TAPS_EACH_SIDE + 1 - offsets) + phases].astype(np.float32)


def _peaks(
    frames: np.ndarray, block_peak: np.ndarray, scale: float = 1.0, limiter: _Limiter | None = None
) -> tuple[float, float]:
    """(true peak, sample peak), linear, of frames * scale * the limiter's gain, without rendering it all.

    Oversampled, on the intervals either side, are the samples within 6 dB of the sample peak (farther down an
    inter-sample peak cannot reach the top in music) that lie within 2 samples of a crest of |x| (along a smooth
    rise the signal does not overshoot), and all samples near either end. Bounds on each block's peak find the
    blocks to render, with _render's float32 operations, so these are exactly the samples it renders.
    """
    limiter = limiter or _Limiter(np.ones(len(block_peak)), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    high = scale * block_peak.astype(np.float64)
    low = high.copy()
    end = limiter.start + limiter.slope * (BLOCK - 1)  # the gain is linear across a block: extremes at its ends
    high[limiter.blocks] *= np.maximum(limiter.start, end)
    low[limiter.blocks] *= np.minimum(limiter.start, end)
    floor = TRUE_PEAK_SEARCH * float(low.max(initial=0.0)) * CEILING_SAFETY  # <= 6 dB under the sample peak
    if floor <= 0.0:
        return 0.0, 0.0
    candidate = high >= floor
    candidate[:2] = candidate[-2:] = True  # resample_poly rings where a signal starts or stops: look there too
    blocks = np.flatnonzero(candidate)
    kernel = _oversampling_kernel()
    true_peak = sample_peak = 0.0
    ends = np.unique(np.r_[0 : 2 * TAPS_EACH_SIDE, -2 * TAPS_EACH_SIDE : 0] % len(frames))
    for begin in range(0, len(blocks), 1 << 15):
        # Render the chunk's blocks and their neighbours (windows reach 10 samples beyond a block), with zero blocks
        # past either end, so the samples around each one are a contiguous stretch of the rendered rows.
        chosen = blocks[begin : begin + (1 << 15)]
        marked = np.zeros(chosen[-1] - chosen[0] + 3, dtype=bool)
        marked[chosen - chosen[0]] = marked[chosen - chosen[0] + 1] = marked[chosen - chosen[0] + 2] = True
        near = np.flatnonzero(marked) + chosen[0] - 1
        real = slice(int(near[0] < 0), len(near) - int(near[-1] >= len(block_peak)))
        rows = np.zeros((len(near), BLOCK, frames.shape[1]), dtype=np.float32)
        np.multiply(_rows(frames, BLOCK, near[real]), np.float32(scale), out=rows[real])
        rows[real] *= limiter.block_rows(near[real])[..., None]
        mine = ends[np.isin(ends // BLOCK, chosen)]
        at_ends = np.searchsorted(near, mine // BLOCK) * BLOCK + mine % BLOCK
        for channel in range(frames.shape[1]):
            samples = rows[..., channel].ravel()
            magnitude = np.abs(samples)
            sample_peak = max(sample_peak, float(magnitude.max()))
            # Only the chunk's own blocks have samples at or above the floor: their neighbours are under it.
            crest = np.zeros(len(samples), dtype=bool)
            crest[1:-1] = (magnitude[1:-1] >= magnitude[:-2]) & (magnitude[1:-1] >= magnitude[2:])
            around = crest.copy()
            for shift in (1, 2):
                around[:-shift] |= crest[shift:]
                around[shift:] |= crest[:-shift]
            around &= magnitude >= floor
            around[at_ends] = True
            around[:TAPS_EACH_SIDE] = around[-TAPS_EACH_SIDE:] = False
            centres = np.flatnonzero(around)
            windows = np.lib.stride_tricks.sliding_window_view(samples, 2 * TAPS_EACH_SIDE + 1)
            upsampled = windows[centres - TAPS_EACH_SIDE] @ kernel
            if near[0] < 0:  # the chunk holds the start: resample_poly has nothing before the first sample
                upsampled[np.searchsorted(centres, BLOCK), : OVERSAMPLING - 1] = 0.0
            true_peak = max(true_peak, float(np.abs(upsampled).max(initial=0.0)))
    return true_peak, sample_peak
