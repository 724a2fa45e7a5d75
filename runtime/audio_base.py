"""What every audio stage shares: the sample rate, a note in samples, and the streaming voice contract.

The renderer works scene by scene. A voice is asked for one block at a time and is given only the
notes that start inside that block; it keeps the tails of earlier notes itself, so memory never
grows with the song's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from harmonlang.ir import Score

RATE = 48_000  # every render, stem and sample is 48 kHz
TAIL_SECONDS = 3.0  # rendered after the last bar, so releases, reverbs and delays ring out


def sample_positions(score: Score, ticks: np.ndarray) -> np.ndarray:
    """Ticks to sample frames from the song's start, through the tempo map (a step function, as in the SMF)."""
    points = score.tempo_map
    starts = np.array([p.tick for p in points], dtype=np.float64)
    per_tick = np.array([60.0 / (p.bpm * score.ppq) for p in points])
    offsets = np.concatenate([[0.0], np.cumsum(np.diff(starts) * per_tick[:-1])])
    index = np.maximum(0, np.searchsorted(starts, ticks, side="right") - 1)
    return np.rint((offsets[index] + (ticks - starts[index]) * per_tick[index]) * RATE).astype(np.int64)


@dataclass(frozen=True)
class SampleNote:
    """One note, in samples from the song's start."""

    start: int
    length: int  # how long the key is held; voices add their own release after it
    pitch: int  # MIDI note: a pitch, a drum key or an SP-404 pad (36-51)
    velocity: int  # 1-127


class Voice(Protocol):
    """A sound source for one part (on one device): a streaming renderer of float32 blocks."""

    channels: int  # 1: a mono voice, which the mixer pans; 2: stereo

    def block(self, notes: list[SampleNote], start: int, length: int) -> np.ndarray:
        """The voice's sound for samples [start, start + length): planar, shape (channels, length), float32.

        `notes` are the notes that start inside the block, in time order. Sound of earlier notes that
        rings into this block must be included; sound that rings past its end is kept for the next call.
        """
        ...


class CarryVoice:
    """A voice that adds each note's whole sound at once and carries what spills past the block.

    Subclasses implement `note_sound`, the sound of one note from its start: (frames,) or (channels, frames).
    """

    channels = 1

    def __init__(self) -> None:
        self._carry = np.zeros((self.channels, 0), dtype=np.float32)

    def note_sound(self, note: SampleNote) -> np.ndarray:
        raise NotImplementedError

    def block(self, notes: list[SampleNote], start: int, length: int) -> np.ndarray:
        sounds = [(note.start - start, self.note_sound(note)) for note in notes]
        carried = self._carry.shape[1]
        size = max([length, carried] + [offset + sound.shape[-1] for offset, sound in sounds])
        buffer = np.zeros((self.channels, size), dtype=np.float32)
        buffer[:, :carried] += self._carry
        for offset, sound in sounds:
            buffer[:, offset : offset + sound.shape[-1]] += sound
        self._carry = buffer[:, length:]
        return buffer[:, :length]
