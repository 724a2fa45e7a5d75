"""What the live player plays: a filled score flattened into MIDI messages per destination port.

Built off the hot path (in the compiling process), then handed to the player,
which only walks it. Times stay in ticks; the player turns them into seconds
from the tempo map (as master) or from the incoming clock (as follower).
A destination is one port pattern with the devices behind it and the clock
messages they obey, so device quirks (the S-1 has no Continue, the SP-404MKII
ignores Song Position Pointer) are decided here once.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from harmonlang.ir import Score
from harmonlang.runtime.midi import part_track
from harmonlang.runtime.timeline import Timeline, cell_where

CLOCKS_PER_QUARTER = 24
SIXTEENTHS_PER_QUARTER = 4
NOTE_ON, NOTE_OFF = 0x90, 0x80
ORDER_CONTROL_MAX = 1  # part_track orders: 0 program, 1 controller, 2 note off, 3 note on
SWAP_POINTS = ("bar", "phrase", "scene")


@dataclass(frozen=True)
class Destination:
    """One MIDI port and what the devices behind it take."""

    pattern: str  # matched against port names (runtime/ports.py)
    devices: tuple[str, ...]
    clock: bool  # sends it timing clock (and Start and Stop)
    continue_ok: bool  # every clocked device there obeys Continue; otherwise a mid-song start is a Start
    spp: bool  # some device there obeys Song Position Pointer
    setup: tuple[str, ...]  # what to set on the units first (the T-8's SYNC AUTO, the SP-404MKII's remote mode)


@dataclass
class Performance:
    """Every message of a song in tick order, with where it goes, and the song's clock and boundaries."""

    title: str
    source: str
    ppq: int
    length: int
    clock_role: str  # master, follow or off
    clock_source: str | None  # the port pattern of the device that sends clock, when following
    destinations: list[Destination]
    ticks: np.ndarray  # int64, sorted
    dests: np.ndarray  # int16, index into destinations
    data: np.ndarray  # uint8 (n, 3): status and up to two data bytes
    sizes: np.ndarray  # uint8: bytes used in each row of data
    tempo_ticks: list[int]
    tempo_bpm: list[float]
    tempo_seconds: list[float]
    boundaries: dict[str, list[int]]  # bar, phrase and scene starts, each list sorted and ending at the song's end
    scenes: list[tuple[str, int, int]]  # (id, start, end)
    controls: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # program and CC rows
    unrouted: list[str] = field(default_factory=list)  # parts with no port to play on

    @property
    def clock_step(self) -> int:
        return self.ppq // CLOCKS_PER_QUARTER

    def __len__(self) -> int:
        return len(self.ticks)

    def message(self, index: int) -> list[int]:
        return self.data[index, : self.sizes[index]].tolist()

    def seconds(self, tick: float) -> float:
        """Seconds from the song's start at a tick; the tempo map is a step function, as in the MIDI file."""
        index = max(0, bisect.bisect_right(self.tempo_ticks, tick) - 1)
        return self.tempo_seconds[index] + (tick - self.tempo_ticks[index]) / self.ppq * 60 / self.tempo_bpm[index]

    def bpm_at(self, tick: int) -> float:
        return self.tempo_bpm[max(0, bisect.bisect_right(self.tempo_ticks, tick) - 1)]

    def first_index(self, tick: int) -> int:
        """The first message at or after a tick."""
        return int(np.searchsorted(self.ticks, tick, side="left"))

    def scene(self, scene_id: str) -> tuple[str, int, int] | None:
        return next((scene for scene in self.scenes if scene[0] == scene_id), None)

    def scene_at(self, tick: int) -> tuple[str, int, int] | None:
        return next((scene for scene in self.scenes if scene[1] <= tick < scene[2]), None)

    def next_boundary(self, kind: str, after: int) -> int:
        """The first `kind` boundary strictly after a tick (the song's end if none is left)."""
        points = self.boundaries[kind]
        index = bisect.bisect_right(points, after)
        return points[index] if index < len(points) else self.length

    def bar_number(self, tick: int) -> int:
        return bisect.bisect_right(self.boundaries["bar"], tick)

    def chase(self, tick: int) -> list[tuple[int, list[int]]]:
        """The program and controller messages in force at a tick, as (destination, message): what a
        player starting or swapping there sends first, so a part sounds as it would have got there.
        Vectorized: the player calls it at a swap, between two clock ticks."""
        rows = self.controls[: int(np.searchsorted(self.ticks[self.controls], tick, side="left"))]
        if not len(rows):
            return []
        data = self.data[rows].astype(np.int64)
        controller = np.where(data[:, 0] & 0xF0 == 0xB0, data[:, 1], 255)
        keys = (self.dests[rows].astype(np.int64) << 16) | (data[:, 0] << 8) | controller
        _, last = np.unique(keys[::-1], return_index=True)  # the latest message of each kind
        chosen = np.sort(rows[::-1][last])
        return [(int(self.dests[i]), self.message(int(i))) for i in chosen]


def destination_pattern(device: str, port: str | None, ports: dict[str, str]) -> str | None:
    """The port a device plays on: `--port DEVICE=NAME`, else `--port NAME` for all, else its profile's."""
    return ports.get(device) or ports.get("*") or port


def build_performance(score: Score, ports: dict[str, str] | None = None) -> Performance:
    """The filled score as live messages. `ports` maps a device name (or `*`, every device) to a port name."""
    ports = ports or {}
    timeline = Timeline(score)
    patterns: dict[str, list[str]] = {}  # pattern -> devices
    rows: list[tuple[int, int, str, bytes]] = []  # tick, order, pattern, message
    unrouted: set[str] = set()
    for index, part in enumerate(score.parts):
        wheres = [(phrase.start, cell_where(part, phrase.cells[index])) for s in score.scenes for phrase in s.phrases]
        starts = [start for start, _ in wheres]

        def pattern_at(tick: int, wheres: list = wheres, starts: list[int] = starts) -> str | None:
            where = wheres[max(0, bisect.bisect_right(starts, tick) - 1)][1] if wheres else None
            if where is None or not score.devices.get(where[0], None) or not score.devices[where[0]].midi:
                return None
            pattern = destination_pattern(where[0], where[2], ports)
            if pattern is not None:
                patterns.setdefault(pattern, [])
                if where[0] not in patterns[pattern]:
                    patterns[pattern].append(where[0])
            return pattern

        track = part_track(score, index)
        for tick, order, message in track.controls:
            pattern = pattern_at(tick)
            if pattern is not None:
                rows.append((tick, order, pattern, message))
        for tick, pitch, dur, velocity, channel in track.notes.tolist():
            pattern = pattern_at(tick)  # the Note Off goes where its Note On went
            if pattern is None:
                unrouted.add(part.name)
                continue
            rows.append((tick, 3, pattern, bytes((NOTE_ON | channel - 1, pitch, velocity))))
            rows.append((tick + dur, 2, pattern, bytes((NOTE_OFF | channel - 1, pitch, 0))))
    source = None
    if score.clock.role == "follow" and score.clock.source:
        device = score.devices.get(score.clock.source)
        # `--port NAME` sends every device's notes to one port; the clock still comes from the source's own.
        source = ports.get(score.clock.source) or (device.port if device else None)
    destinations = [_destination(score, pattern, devices) for pattern, devices in patterns.items()]
    order = {pattern: number for number, pattern in enumerate(patterns)}
    rows.sort(key=lambda row: (row[0], row[1]))
    count = len(rows)
    data = np.zeros((count, 3), dtype=np.uint8)
    sizes = np.zeros(count, dtype=np.uint8)
    for number, (_, _, _, message) in enumerate(rows):
        data[number, : len(message)] = tuple(message)
        sizes[number] = len(message)
    tempo_ticks = [point.tick for point in score.tempo_map]
    tempo_seconds = [timeline.seconds(tick) for tick in tempo_ticks]
    scenes = [(scene.id, scene.start, scene.end) for scene in score.scenes]
    return Performance(
        title=score.title,
        source=score.source,
        ppq=score.ppq,
        length=score.length,
        clock_role=score.clock.role,
        clock_source=source,
        destinations=destinations,
        ticks=np.fromiter((row[0] for row in rows), dtype=np.int64, count=count),
        dests=np.fromiter((order[row[2]] for row in rows), dtype=np.int16, count=count),
        data=data,
        sizes=sizes,
        tempo_ticks=tempo_ticks,
        tempo_bpm=[point.bpm for point in score.tempo_map],
        tempo_seconds=tempo_seconds,
        boundaries={
            "bar": sorted({bar.start for bar in timeline.bars} | {score.length}),
            "phrase": sorted({p.start for s in score.scenes for p in s.phrases} | {score.length}),
            "scene": sorted({s.start for s in score.scenes} | {score.length}),
        },
        scenes=scenes,
        controls=np.fromiter(
            (number for number, row in enumerate(rows) if row[1] <= ORDER_CONTROL_MAX), dtype=np.int64
        ),
        unrouted=sorted(unrouted),
    )


def _destination(score: Score, pattern: str, devices: list[str]) -> Destination:
    infos = [score.devices[name] for name in devices]
    clocked = [info for info in infos if "clock" in info.clock_in]
    return Destination(
        pattern=pattern,
        devices=tuple(devices),
        clock=bool(clocked),
        continue_ok=bool(clocked) and all("continue" in info.clock_in for info in clocked),
        spp=any("spp" in info.clock_in for info in clocked),
        setup=tuple(f"{info.title}: {info.clock_setup}" for info in clocked if info.clock_setup),
    )


def song_position(tick: int, ppq: int) -> list[int]:
    """Song Position Pointer (F2) for a tick: sixteenth notes since the start, 14 bits, low byte first."""
    sixteenths = min(0x3FFF, tick * SIXTEENTHS_PER_QUARTER // ppq)
    return [0xF2, sixteenths & 0x7F, sixteenths >> 7]
