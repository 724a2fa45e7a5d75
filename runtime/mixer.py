"""The mix, with pedalboard: a channel strip per part, send buses, and a mix bus that follows the story.

Each part gets its role's EQ and compression, then its scene's level, pan and sends (the mixing
agent's decisions, read from the score). The sends feed a reverb, a tempo-synced delay and the Zoom
L-12's pedal sends (a DS-1-style distortion and a CS-3-style compressor). The genre's compression
sits on the mix bus, and in genres that pump, the kick ducks every other part. The energy arc of
each scene opens or darkens the top end, tightens or loosens the bus, and dries or wets the reverb.
The mixer is fed scene by scene and keeps its effects' state between blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pedalboard as pb

from harmonlang.ir import Mix, Phrase, Scene, Score
from harmonlang.runtime.audio_base import RATE
from harmonlang.styles import COMPRESSION

Array = np.ndarray
RAMP = int(0.02 * RATE)  # level and pan moves glide over 20 ms: no clicks at scene changes

Band = tuple[str, float, float, float]  # kind, Hz, dB, Q
Dynamics = tuple[float, float, float, float]  # threshold dB, ratio, attack ms, release ms
# role -> high-pass Hz, EQ bands, compressor or None
ROLE_STRIPS: dict[str, tuple[float, list[Band], Dynamics | None]] = {
    "drums": (30, [("peak", 4000, 2.0, 0.8), ("low", 60, 1.5, 0.7)], (-14, 3.0, 15, 120)),
    "bass": (32, [("low", 90, 2.0, 0.7), ("peak", 700, -2.0, 1.0), ("high", 5000, -3.0, 0.7)], (-18, 4.0, 10, 150)),
    "protagonist": (160, [("peak", 3000, 2.0, 0.9), ("peak", 400, -1.5, 1.0)], (-16, 2.5, 8, 120)),
    "antagonist": (120, [("peak", 900, 2.0, 1.0), ("high", 8000, -2.0, 0.7)], (-16, 2.5, 8, 120)),
    "chords": (200, [("peak", 500, -2.0, 1.0), ("high", 9000, 1.5, 0.7)], (-20, 2.0, 20, 200)),
    "samples": (90, [("peak", 2500, 1.0, 0.9)], (-16, 2.0, 5, 100)),
}
DEFAULT_STRIP = ROLE_STRIPS["samples"]
EQ_FILTERS: dict[str, Callable[[float, float, float], pb.Plugin]] = {
    "peak": lambda hz, db, q: pb.PeakFilter(cutoff_frequency_hz=hz, gain_db=db, q=q),
    "low": lambda hz, db, q: pb.LowShelfFilter(cutoff_frequency_hz=hz, gain_db=db, q=q),
    "high": lambda hz, db, q: pb.HighShelfFilter(cutoff_frequency_hz=hz, gain_db=db, q=q),
}


def strip(role: str) -> pb.Pedalboard:
    highpass, bands, compression = ROLE_STRIPS.get(role, DEFAULT_STRIP)
    plugins: list[pb.Plugin] = [pb.HighpassFilter(cutoff_frequency_hz=highpass)]
    plugins += [EQ_FILTERS[kind](hz, db, q) for kind, hz, db, q in bands]
    if compression:
        threshold, ratio, attack, release = compression
        plugins.append(pb.Compressor(threshold_db=threshold, ratio=ratio, attack_ms=attack, release_ms=release))
    return pb.Pedalboard(plugins)


def reverb_bus(score: Score) -> pb.Pedalboard:
    space = score.style.reverb
    return pb.Pedalboard(
        [
            pb.HighpassFilter(cutoff_frequency_hz=250),
            pb.Reverb(room_size=float(space.get("room_size", 0.5)), damping=float(space.get("damping", 0.5)),
                      wet_level=1.0, dry_level=0.0, width=1.0),
        ]
    )  # fmt: skip


def delay_bus(score: Score) -> pb.Pedalboard:
    return pb.Pedalboard(
        [
            pb.HighpassFilter(cutoff_frequency_hz=300),
            pb.Delay(delay_seconds=0.375, feedback=0.38, mix=1.0),
            pb.LowpassFilter(cutoff_frequency_hz=4500),
        ]
    )


def distortion_bus(score: Score) -> pb.Pedalboard:
    """A DS-1: a hard-clipping drive with its tone control rolling off the fizz."""
    return pb.Pedalboard(
        [
            pb.HighpassFilter(cutoff_frequency_hz=100),
            pb.Gain(gain_db=24),  # the drive: set per scene from its energy
            pb.Clipping(threshold_db=-6),  # the DS-1's diodes clip hard
            pb.LowpassFilter(cutoff_frequency_hz=3800),
            pb.Gain(gain_db=-24),  # the level knob: the drive taken back, so quiet sends stay quiet
        ]
    )


def compressor_bus(score: Score) -> pb.Pedalboard:
    """A CS-3: heavy, quick compression that sustains, with the level made back up."""
    return pb.Pedalboard([pb.Compressor(threshold_db=-32, ratio=10, attack_ms=4, release_ms=250), pb.Gain(gain_db=12)])


# send name or a mixer bus's effect -> its chain
BUS_CHAINS: dict[str, Callable[[Score], pb.Pedalboard]] = {
    "reverb": reverb_bus,
    "delay": delay_bus,
    "distortion": distortion_bus,
    "compressor": compressor_bus,
}


def bus_effect(score: Score, name: str) -> str | None:
    """What a send feeds: a built-in bus, or the effect of a bus on the song's mixer device."""
    if name in BUS_CHAINS:
        return name
    for device in score.devices.values():
        if name in device.buses:
            effect = str(device.buses[name].get("effect", ""))
            return effect if effect in BUS_CHAINS else None
    return None


@dataclass(frozen=True)
class Story:
    """How a scene's energy (0-1) colours the mix bus."""

    brightness_db: float  # high shelf at 6 kHz
    reverb_return: float  # gain on the reverb bus's return
    drive_db: float  # the DS-1's gain


def story(energy: float | None) -> Story:
    e = 0.5 if energy is None else min(1.0, max(0.0, energy))
    return Story(brightness_db=-3.0 + 5.0 * e, reverb_return=1.35 - 0.7 * e, drive_db=16 + 16 * e)


def gains(mix: Mix) -> Array:
    """Left and right gains: the fader and a constant-power pan (unity in the centre)."""
    level = 10 ** (mix.level_db / 20)
    angle = (min(1.0, max(-1.0, mix.pan)) + 1) * np.pi / 4
    return (level * np.sqrt(2) * np.array([np.cos(angle), np.sin(angle)])).astype(np.float32)


def apply_gain(audio: Array, before: Array, after: Array) -> Array:
    """Planar `audio` (1 or 2, frames) times a gain per output channel gliding from `before` to `after` over RAMP."""
    out = audio * after[:, None]
    ramp = min(RAMP, audio.shape[1])
    if ramp and not np.array_equal(before, after):
        curve = before[:, None] + (after - before)[:, None] * (np.arange(ramp, dtype=np.float32) / RAMP)
        out[:, :ramp] = audio[:, :ramp] * curve
    return out


@cache
def dip_kernel(attack: float, release: float) -> Array:
    """The sidechain's gain dip, indexed by samples since the kick: down over the attack, back over the release."""
    since = np.arange(int(attack + 6 * release) + 1, dtype=np.float32)
    return np.minimum(1.0, since / attack) * np.exp(-np.maximum(since - attack, 0) / release)


class Mixer:
    """Mixes blocks of part audio; `process` returns the mix bus and, when asked, each stem."""

    def __init__(self, score: Score, kick_starts: Array, want_stems: bool, pool: Executor) -> None:
        self.score = score
        self.pool = pool
        self.silent: dict[str, bool] = {}
        self.want_stems = want_stems
        self.strips = {part.name: strip(part.role) for part in score.parts}
        self.parts = {part.name: part for part in score.parts}
        self.ducked = {part.name for part in score.parts if part.role != "drums"}
        self.sends = sorted({name for m in self._mixes() for name in m.sends if bus_effect(score, name)})
        self.buses = {name: BUS_CHAINS[str(bus_effect(score, name))](score) for name in self.sends}
        self.kick_starts = kick_starts
        self.home = dict(score.style.compression)  # the genre's; a phrase's `compression` overrides it there
        self.bus = pb.Pedalboard(
            [pb.HighShelfFilter(cutoff_frequency_hz=6000, gain_db=0.0, q=0.7), pb.Compressor(ratio=1.0)]
        )
        self.last: dict[str, Array] = {}
        self.last_sends: dict[tuple[str, str], np.float32] = {}

    def _mixes(self) -> list[Mix]:
        return [part.mix for part in self.score.parts] + [m for s in self.score.scenes for m in s.mix.values()]

    def character(self, phrase: Phrase | None) -> dict[str, Any]:
        """The compression in force: the phrase's `compression` directive, else the genre's."""
        name = phrase.directives.get("compression") if phrase is not None else None
        return dict(COMPRESSION[name]) if isinstance(name, str) and name in COMPRESSION else self.home

    def _set_bus_compressor(self, character: dict[str, Any]) -> None:
        compressor = self.bus[1]
        compressor.ratio = max(1.0, float(character.get("ratio", 1.0)))
        compressor.threshold_db = float(character.get("threshold_db", 0.0))
        compressor.attack_ms = float(character.get("attack_ms", 10))
        compressor.release_ms = float(character.get("release_ms", 100))

    def duck(self, start: int, frames: int, character: dict[str, Any]) -> Array | None:
        """The pump: a gain curve that dips at every kick and recovers over the compression's release time."""
        if not character.get("sidechain") or not len(self.kick_starts):
            return None
        attack = max(1.0, float(character.get("attack_ms", 1))) / 1000 * RATE
        dip = dip_kernel(attack, float(character.get("release_ms", 150)) / 1000 * RATE)
        depth = min(0.6, max(0.2, -float(character.get("threshold_db", -24)) / 60))
        first = np.searchsorted(self.kick_starts, start, side="right") - 1
        kicks = self.kick_starts[max(first, 0) : np.searchsorted(self.kick_starts, start + frames)]
        if not len(kicks):
            return None
        # samples since the latest kick, at every sample: a running maximum of the kick positions
        latest = np.full(frames, -(10**9), dtype=np.int64)
        inside = kicks[kicks >= start] - start
        latest[inside] = inside
        if kicks[0] < start:
            latest[0] = max(latest[0], kicks[0] - start)
        np.maximum.accumulate(latest, out=latest)
        since = np.minimum(np.arange(frames) - latest, len(dip) - 1)
        return (1.0 - depth * dip[since]).astype(np.float32)

    def _scene_mix(self, scene: Scene | None, name: str, fallback: Mix) -> Mix:
        return scene.mix.get(name, fallback) if scene is not None else fallback

    def channel_strip(self, scene: Scene | None, name: str, audio: Array, duck: Array | None) -> Array:
        """A part's block through its strip and fader, panned to stereo; thread-safe across parts."""
        processed = self._through(self.strips[name], name, audio)
        if duck is not None and name in self.ducked:
            processed = processed * duck
        target = gains(self._scene_mix(scene, name, self.parts[name].mix))
        faded = apply_gain(processed, self.last.get(name, target), target)
        self.last[name] = target
        return faded

    def _through(self, board: pb.Pedalboard, key: str, audio: Array) -> Array:
        if not audio.any():
            if self.silent.get(key, True):
                return audio
            self.silent[key] = True  # one silent block lets the effect's tail ring out
        else:
            self.silent[key] = False
        return board(np.ascontiguousarray(audio), RATE, reset=False)

    def process(
        self, scene: Scene | None, phrase: Phrase | None, parts: dict[str, Array], tempo: float
    ) -> tuple[Array, dict]:
        """The mix bus for one block of faded planar stereo part audio (from `channel_strip`), and the stems."""
        frames = next(iter(parts.values())).shape[1] if parts else 0
        colour = story(scene.arc.energy if scene is not None else None)
        mix = np.zeros((2, frames), dtype=np.float32)
        sends = {name: np.zeros((2, frames), dtype=np.float32) for name in self.sends}
        stems: dict[str, Array] = {}
        for part in self.score.parts:
            faded = parts[part.name]
            mix += faded
            setting = self._scene_mix(scene, part.name, part.mix)
            for name in self.sends:
                amount = np.float32(setting.sends.get(name, 0.0))
                before = self.last_sends.get((part.name, name), amount)
                self.last_sends[(part.name, name)] = amount
                if amount or before:
                    sends[name] += apply_gain(faded, np.array([before]), np.array([amount]))
            if self.want_stems:
                stems[part.name] = faded
        for name in self.sends:
            self._colour_bus(name, colour, tempo)
        returns = self.pool.map(lambda name: self._through(self.buses[name], "bus:" + name, sends[name]), self.sends)
        for name, wet in zip(self.sends, returns, strict=True):
            if bus_effect(self.score, name) == "reverb":
                wet *= colour.reverb_return
            mix += wet
            if self.want_stems:
                stems[f"return-{name}"] = wet
        self.bus[0].gain_db = colour.brightness_db
        self._set_bus_compressor(self.character(phrase))
        return self.bus(mix, RATE, reset=False), stems

    def _colour_bus(self, name: str, colour: Story, tempo: float) -> None:
        bus = self.buses[name]
        effect = bus_effect(self.score, name)
        if effect == "delay":
            bus[1].delay_seconds = 0.75 * 60 / tempo  # a dotted eighth
        elif effect == "distortion":
            bus[1].gain_db, bus[4].gain_db = colour.drive_db, -colour.drive_db
