"""`--emit events`: any Standard MIDI File as readable text, the golden tests' view of the MIDI output.

One line per event in absolute ticks with its bar and beat, notes paired
with their Note Off into one line with a length; everything read back from
the file's bytes, so the dump shows what a DAW would load.
"""

from __future__ import annotations

import bisect
import io
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mido

from harmonlang.theory import SHARP_NAMES


def note_name(pitch: int) -> str:
    return f"{SHARP_NAMES[pitch % 12]}{pitch // 12 - 1}"


class _Bars:
    """Bar and beat positions from the time signatures in the file's first track."""

    def __init__(self, midi: mido.MidiFile) -> None:
        self.ppq = midi.ticks_per_beat
        # (tick, bar number there, numerator, denominator); 4/4 until the file says otherwise, as the SMF spec has it
        self.points: list[tuple[int, int, int, int]] = [(0, 1, 4, 4)]
        for tick, message in _absolute(midi.tracks[0]) if midi.tracks else []:
            if message.type == "time_signature":
                self._add(tick, message.numerator, message.denominator)
        self.ticks = [point[0] for point in self.points]

    def _add(self, tick: int, numerator: int, denominator: int) -> None:
        if self.points and self.points[-1][0] == tick:
            self.points.pop()
        bar = 1
        if self.points:
            start, first, num, den = self.points[-1]
            bar = first + -(-(tick - start) // self._bar(num, den))
        self.points.append((tick, bar, numerator, denominator))

    def _bar(self, numerator: int, denominator: int) -> int:
        return max(1, self.ppq * 4 * numerator // max(1, denominator))  # a malformed file still gets a dump

    def position(self, tick: int) -> str:
        start, first, numerator, denominator = self.points[max(0, bisect.bisect_right(self.ticks, tick) - 1)]
        bar_length, beat = self._bar(numerator, denominator), max(1, self.ppq * 4 // max(1, denominator))
        bars, offset = divmod(tick - start, bar_length)
        return f"{first + bars}.{offset // beat + 1}.{offset % beat:03d}"


def _absolute(track: mido.MidiTrack) -> list[tuple[int, Any]]:
    tick, timed = 0, []
    for message in track:
        tick += message.time
        timed.append((tick, message))
    return timed


def _is_off(message: Any) -> bool:
    return message.type == "note_off" or (message.type == "note_on" and message.velocity == 0)


def _notes_paired(timed: list[tuple[int, Any]]) -> tuple[dict[int, int], set[int]]:
    """For each Note On (by index) the length to its Note Off, first in first out per channel and key."""
    waiting: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
    lengths: dict[int, int] = {}
    offs: set[int] = set()
    for index, (tick, message) in enumerate(timed):
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if _is_off(message):
            if waiting[key]:
                on_index, on_tick = waiting[key].popleft()
                lengths[on_index] = tick - on_tick
                offs.add(index)
        else:
            waiting[key].append((index, tick))
    return lengths, offs


def text_of(raw: str) -> str:
    """Meta-event text as written: UTF-8 where it decodes (harmonc writes UTF-8), else latin-1 as read."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


DESCRIBE: dict[str, Callable[[Any], str]] = {
    "set_tempo": lambda m: f"tempo {mido.tempo2bpm(m.tempo):.2f} bpm",
    "time_signature": lambda m: f"meter {m.numerator}/{m.denominator}",
    "key_signature": lambda m: f"key {m.key}",
    "marker": lambda m: f"marker {text_of(m.text)!r}",
    "cue_marker": lambda m: f"cue {text_of(m.text)!r}",
    "text": lambda m: f"text {text_of(m.text)!r}",
    # Programs print counted from 1, as the language writes them.
    "program_change": lambda m: f"program  ch{m.channel + 1:<2} {m.program + 1}",
    "control_change": lambda m: f"cc       ch{m.channel + 1:<2} {m.control:>3} = {m.value}",
}


def _describe(message: Any, length: int | None) -> str:
    if message.type == "note_on" and length is not None:
        where = f"ch{message.channel + 1:<2} {note_name(message.note):<4}{message.note:>3}"
        return f"note     {where} len {length:<5} vel {message.velocity}"
    if message.type in ("note_on", "note_off"):  # unpaired: a hanging note or a stray Note Off
        return f"{message.type:<8} ch{message.channel + 1:<2} {note_name(message.note):<4}{message.note:>3} (unpaired)"
    describe = DESCRIBE.get(message.type)
    return describe(message) if describe else message.type


def dump_midi(path: Path | str | None = None, data: bytes | None = None) -> str:
    midi = mido.MidiFile(file=io.BytesIO(data)) if data is not None else mido.MidiFile(str(path))
    bars = _Bars(midi)
    lines = [f"type {midi.type}, ppq {midi.ticks_per_beat}, {len(midi.tracks)} tracks"]
    for number, track in enumerate(midi.tracks):
        lines.append(f"track {number}: {text_of(track.name)!r}")
        timed = _absolute(track)
        lengths, offs = _notes_paired(timed)
        for index, (tick, message) in enumerate(timed):
            if index not in offs and message.type != "track_name":  # the name heads the track
                lines.append(f"  {tick:>7} {bars.position(tick):>10}  {_describe(message, lengths.get(index))}")
    return "\n".join(lines) + "\n"
