"""The live player: one look-ahead thread that sends a Performance on time, as clock master or follower.

Every send time is computed from a fixed origin: as master, from the moment
playback started through the tempo map; as follower, from the last clock that
came in and the tempo its ticks give. Nothing accumulates, and nothing but
sending runs on this thread: a new score arrives already built, and takes over
at the next bar, phrase or scene, mapped by scene id so an edit earlier in the
song does not move the playhead. At the swap, notes still sounding are ended
and the new score's programs and controllers are sent, so nothing hangs.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from harmonlang.runtime.live_plan import NOTE_OFF, NOTE_ON, Performance, song_position
from harmonlang.runtime.live_ports import OutPort, Ports, panic_messages
from harmonlang.runtime.live_time import Timebase, WallTime, open_timebase

CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
LEAD_SECONDS = 0.2  # from pressing play to the first beat: time to send the start messages first
START_AHEAD_SECONDS = 0.005  # Start and Song Position Pointer go this long before the first clock
FOLLOW_INTERVALS = 12  # clocks averaged for the follower's tempo: half a beat
NEVER = float("inf")
REALTIME_PRIORITY = 2  # below JACK: its server thread runs at 10, its clients' process threads at 5


def _realtime_priority() -> None:
    """Ask for a realtime slot for this thread, below JACK's own (Linux; needs root or rtprio, else no-op)."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))  # 0: the calling thread
    except (AttributeError, OSError):
        pass


@dataclass
class PlayOptions:
    start_scene: str | None = None  # the scene id to start from
    loop_scenes: list[str] | None = None  # scene ids played round and round, first to last
    swap: str = "bar"  # bar, phrase or scene
    clock: str | None = None  # master, follow or off; the song's own when None


@dataclass
class Swap:
    """A swap that happened: at `old_tick` of the old score, `new_tick` of the new one took over."""

    old_tick: int
    new_tick: int
    bar: int  # the bar of the new score it landed on, counted from 1
    scene: str | None
    at: float  # on the player's timebase (seconds)


@dataclass
class _Planned:
    at: int
    perf: Performance
    out: list[OutPort]
    to: int


@dataclass
class PlayerState:
    clocks: int = 0
    swaps: list[Swap] = field(default_factory=list)
    # On the player's timebase, in seconds: the system clock, or the JACK server's frames when it plays
    # through JACK as clock master (so "time played" is the audio's own).
    started: float | None = None  # the first beat
    stopped: float | None = None  # when playing stopped

    def summary(self) -> str:
        played = self.stopped - self.started if self.started is not None and self.stopped is not None else 0.0
        return f"after {self.clocks} clocks in {played:.3f} s"


class Player:
    """Plays one Performance after another: `play` starts, `swap` queues a new score, `stop` ends cleanly."""

    def __init__(self, ports: Ports, options: PlayOptions, log: Callable[[str], None]) -> None:
        self.ports, self.options, self.log = ports, options, log
        self.state = PlayerState()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._queued: tuple[Performance, list[OutPort]] | None = None
        self._inbox: deque[tuple[float, list[int]]] = deque()
        self._port_events: deque[tuple[str, str]] = deque()
        self._stopping = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._active: set[tuple[OutPort, int, int]] = set()
        self._planned: _Planned | None = None
        self.timebase: Timebase = WallTime()

    # ---- the public side: called from other threads ---------------------------------------------------

    def play(self, perf: Performance) -> None:
        """Open every port (a missing one raises PortError) and start playing."""
        self.perf, self.out = perf, self._bind(perf, required=True)
        self.role = self.options.clock or perf.clock_role
        if self.role == "follow" and not perf.clock_source:
            self.role = "master"
        self._thread = threading.Thread(target=self._run, name="harmonc-player", daemon=True)
        self._thread.start()

    def swap(self, perf: Performance) -> None:
        """Queue a new score; it takes over at the next boundary. Ports it adds are opened first."""
        out = self._bind(perf, required=False)
        with self._lock:
            self._queued = (perf, out)
        self._wake.set()

    def clock_in(self, at: float, message: list[int]) -> None:
        """An incoming clock message (follower), with the perf_counter time it arrived."""
        self._inbox.append((at, message))
        self._wake.set()

    def port_changed(self, event: str, pattern: str) -> None:
        self._port_events.append((event, pattern))
        self._wake.set()

    def stop(self) -> None:
        """Stop now: Stop to the clocked devices, then all-notes-off and reset-controllers to every port."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    # ---- the player thread ---------------------------------------------------------------------------------

    def _bind(self, perf: Performance, required: bool) -> list[OutPort]:
        out = []
        for destination in perf.destinations:
            why = "devices " + ", ".join(destination.devices)
            port = self.ports.open(destination.pattern, why, required=required)
            if not port.alive:
                self.log(f'no port matches "{destination.pattern}" yet; {why} stay silent until it appears')
            out.append(port)
        return out

    def _run(self) -> None:
        _realtime_priority()
        try:
            self._begin()
            while not self._stopping and not self._done.is_set():
                self._take_commands()
                if self._stopping:
                    break
                tick, kind = self._next_item()
                if self.following and (not self.running or tick >= self.position):
                    self._wake.wait(0.05)  # wait for the next clock to open the window
                    self._wake.clear()
                    continue
                if self._sleep_until(self._time(tick)):
                    self._do(kind, tick)
        except BaseException as error:  # noqa: BLE001 - reported to the caller, after the panic below
            self.error = error
        finally:
            self._end()
            self._done.set()

    def _begin(self) -> None:
        perf, options = self.perf, self.options
        start = 0
        if options.start_scene:
            start = perf.scene(options.start_scene)[1]  # type: ignore[index] - checked by the caller
        self.loop = options.loop_scenes
        self.end = self._end_tick(perf)
        self.index = perf.first_index(start)
        self.last_tick = start - 1
        self.following = self.role == "follow"
        if not self.following and self.ports.jack:  # a follower times itself by the clock coming in
            self.timebase = open_timebase(True, self.log)
            self.log(f"timing by {self.timebase.name}")
        self.clocked = self._clock_ports(perf, self.out) if self.role == "master" else []
        self.running, self.position = not self.following, start
        self.follow_start = start
        self.clock_tick, self.clock_time, self.last_clock = start, 0.0, None
        self.intervals: deque[float] = deque(maxlen=FOLLOW_INTERVALS)
        self.anchor_tick, self.anchor_time = start, self.timebase.now() + LEAD_SECONDS
        self.next_clock = start if self.clocked else NEVER
        self._send_chase(perf, self.out, start)
        if self.following:
            self.log(f"waiting for clock from {perf.clock_source}")
            return
        while not self._sleep_until(self.anchor_time - START_AHEAD_SECONDS) and not self._stopping:
            pass  # a command arrived early: it waits for the loop; the start keeps its time
        for port, destination in self.clocked:
            if destination.spp:
                port.send(song_position(start, perf.ppq))
            port.send([START if start == 0 or not destination.continue_ok else CONTINUE])
        self.state.started = self.anchor_time

    def _end(self) -> None:
        self.state.stopped = self.timebase.now()
        for port, _ in getattr(self, "clocked", []):
            port.send([STOP])
        self._notes_off()
        for port in self.ports.opened():
            for message in panic_messages():
                port.send(message)
        self.timebase.close()

    def _loop_range(self, perf: Performance) -> tuple[int, int] | None:
        scenes = [perf.scene(scene_id) for scene_id in self.loop or []]
        found = [scene for scene in scenes if scene is not None]
        return (min(s[1] for s in found), max(s[2] for s in found)) if found else None

    def _end_tick(self, perf: Performance) -> int:
        if self.loop:
            found = self._loop_range(perf)
            if found is not None:
                return found[1]
            self.log("the looped scenes are gone from the new score; playing on without the loop")
            self.loop = None
        return perf.length

    @staticmethod
    def _clock_ports(perf: Performance, out: list[OutPort]) -> list[tuple[OutPort, object]]:
        seen: dict[int, tuple[OutPort, object]] = {}
        for port, destination in zip(out, perf.destinations, strict=True):
            if destination.clock and id(port) not in seen:
                seen[id(port)] = (port, destination)
        return list(seen.values())

    def _time(self, tick: float) -> float:
        if self.following:
            return self.clock_time + (tick - self.clock_tick) / self.perf.clock_step * self._interval()
        perf = self.perf
        return self.anchor_time + perf.seconds(tick) - perf.seconds(self.anchor_tick)

    def _interval(self) -> float:
        if self.intervals:
            return sum(self.intervals) / len(self.intervals)
        return 60 / (self.perf.bpm_at(int(self.clock_tick)) * 24)

    def _sleep_until(self, deadline: float) -> bool:
        """Wait for a send time; False when a command came first (the caller looks again)."""
        return self.timebase.wait(deadline, self._wake)

    def _next_item(self) -> tuple[float, str]:
        """The next thing due, in tick order: a jump (swap, loop or end) first, then clock, then messages."""
        jump = self.end if self._planned is None else min(self._planned.at, self.end)
        message = int(self.perf.ticks[self.index]) if self.index < len(self.perf) else NEVER
        if jump <= self.next_clock and jump <= message:
            return jump, "jump"
        if self.next_clock <= message:
            return self.next_clock, "clock"
        return message, "message"

    def _do(self, kind: str, tick: float) -> None:
        self.last_tick = int(tick)
        if kind == "clock":
            for port, _ in self.clocked:
                port.send([CLOCK])
            self.state.clocks += 1
            self.next_clock += self.perf.clock_step
        elif kind == "message":
            self._send(self.index)
            self.index += 1
        elif self._planned is not None and self._planned.at <= tick:
            self._jump(self._planned)
        elif self.loop:
            start = self._loop_range(self.perf)[0]  # type: ignore[index]
            self._jump(_Planned(self.end, self.perf, self.out, start), swapped=False)
        else:
            self._done.set()

    def _send(self, index: int) -> None:
        perf = self.perf
        message = perf.message(index)
        port = self.out[perf.dests[index]]
        kind = message[0] & 0xF0
        if kind == NOTE_ON and message[2] > 0:
            self._active.add((port, message[0] & 0x0F, message[1]))
        elif kind in (NOTE_ON, NOTE_OFF):
            key = (port, message[0] & 0x0F, message[1])
            if key not in self._active:
                return  # its Note On was before we started, or it was ended at a swap already
            self._active.discard(key)
        port.send(message)

    def _notes_off(self, only: OutPort | None = None) -> None:
        for port, channel, note in sorted(self._active, key=lambda key: (id(key[0]), key[1], key[2])):
            if only is None or port is only:
                port.send([NOTE_OFF | channel, note, 0])
        self._active = {key for key in self._active if only is not None and key[0] is not only}

    def _send_chase(self, perf: Performance, out: list[OutPort], tick: int) -> None:
        for dest, message in perf.chase(tick):
            out[dest].send(message)

    def _jump(self, planned: _Planned, swapped: bool = True) -> None:
        """Move from `planned.at` of this score to `planned.to` of the planned one, the clock running on."""
        at_time = self._time(planned.at)
        self._notes_off()
        self.perf, self.out, old_at = planned.perf, planned.out, planned.at
        self._planned = None
        offset = planned.to - old_at
        self.anchor_tick, self.anchor_time = planned.to, at_time
        self.next_clock += offset
        self.clock_tick += offset
        self.position += offset
        self.index = self.perf.first_index(planned.to)
        self.last_tick = planned.to - 1
        if swapped:
            self.clocked = self._clock_ports(self.perf, self.out) if self.role == "master" else []
            self.end = self._end_tick(self.perf)
            scene = self.perf.scene_at(planned.to)
            swap = Swap(old_at, planned.to, self.perf.bar_number(planned.to), scene[0] if scene else None, at_time)
            self.state.swaps.append(swap)
            self.log(f"swapped in the new score at bar {swap.bar}" + (f" ({swap.scene})" if swap.scene else ""))
        self._send_chase(self.perf, self.out, planned.to)

    # ---- commands, applied on the player thread between sends ----------------------------------------

    def _take_commands(self) -> None:
        with self._lock:
            queued, self._queued = self._queued, None
        if queued is not None:
            self._plan(*queued)
        while self._port_events:
            event, pattern = self._port_events.popleft()
            if event == "vanished":
                self.log(f'port "{pattern}" vanished: all notes off everywhere; it plays again when it returns')
                for port in self.ports.opened():
                    if port.pattern == pattern:
                        self._active = {key for key in self._active if key[0] is not port}
                self._notes_off()
                for port in self.ports.opened():
                    for message in panic_messages():
                        port.send(message)
            else:
                self.log(f'port "{pattern}" is back: playing to it again')
                self._send_chase(self.perf, self.out, max(self.last_tick, 0))
        while self._inbox:
            self._follow(*self._inbox.popleft())

    def _plan(self, new: Performance, out: list[OutPort]) -> None:
        """Choose where the new score takes over: the next boundary, and the same place in the new score."""
        old = self.perf
        at = min(old.next_boundary(self.options.swap, self.last_tick), self.end)
        scene = old.scene_at(at)
        to = at
        if self.loop and at == self.end and self._loop_range(new) is not None:
            to = self._loop_range(new)[0]  # type: ignore[index]
        elif scene is not None and new.scene(scene[0]) is not None:
            _, start, end = new.scene(scene[0])  # type: ignore[misc]
            to = min(start + at - scene[1], end)
        elif at >= old.length:
            to = new.length
        to = min(to, new.length)
        bars = new.boundaries["bar"]
        to = next((bar for bar in bars if bar >= to), new.length)
        self._planned = _Planned(at, new, out, to)

    def _follow(self, at: float, message: list[int]) -> None:
        """An incoming clock message: clock opens the next window; Start, Stop, Continue and SPP move us."""
        status = message[0] if message else 0
        perf = self.perf
        if status == CLOCK and self.running:
            if self.last_clock is not None and 0 < at - self.last_clock < 1.0:
                self.intervals.append(at - self.last_clock)
            self.last_clock = at
            self.clock_tick, self.clock_time = self.position, at
            self.position += perf.clock_step
            self.state.clocks += 1
            if self.state.started is None:
                self.state.started = at
        elif status in (START, CONTINUE):
            if status == START:
                self._relocate(self.follow_start)
            self.running, self.last_clock = True, None
            self.log(("started" if status == START else "continued") + f" at bar {perf.bar_number(self.position)}")
        elif status == STOP and self.running:
            self.running = False
            self._notes_off()
            self.log(f"stopped at bar {perf.bar_number(self.position)}")
        elif status == SONG_POSITION and len(message) == 3 and not self.running:
            self._relocate((message[1] | message[2] << 7) * perf.ppq // 4)

    def _relocate(self, tick: int) -> None:
        self._notes_off()
        self.position = self.clock_tick = max(0, min(tick, self.perf.length))
        self.index = self.perf.first_index(self.position)
        self.last_tick = self.position - 1
        self._send_chase(self.perf, self.out, self.position)
