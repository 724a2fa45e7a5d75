"""Live play on a real MIDI path: harmonc plays through python-rtmidi's JACK API into `jack_midi_dump -a`.

Each test runs `harmonc play` or `harmonc watch --play` as a user would, and
checks what arrives at the sink, with JACK's frame timestamps.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jack_support import MidiSink, SinkEvent, VirtualDestination, VirtualSource, clocks, controls, notes_on
from support import EXAMPLES

from harmonlang.compiler import compile_file
from harmonlang.runtime.live_plan import build_performance

LIVE = Path(__file__).parent / "data" / "live"
HARMONC = [sys.executable, "-m", "harmonlang"]
RATE = 48000
PERIOD_SECONDS = 64 / RATE
CLOCKS_PER_BAR = 96  # 4/4 at 24 per quarter


class Harmonc:
    """harmonc running in the background, its output collected line by line."""

    def __init__(self, *args: str, cwd: Path | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*HARMONC, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, text: str, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)
                return any(text in line for line in self.lines)
            time.sleep(0.02)
        return False

    def interrupt(self, timeout: float = 10) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        self._reader.join(2)
        return code

    def output(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def harmonc() -> Iterator[list[Harmonc]]:
    started: list[Harmonc] = []
    yield started
    for run in started:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def _start(started: list[Harmonc], *args: str) -> Harmonc:
    run = Harmonc(*args)
    started.append(run)
    return run


def _after(events: list[SinkEvent], data: bytes) -> list[SinkEvent]:
    index = next(i for i, event in enumerate(events) if event.data == data)
    return events[index + 1 :]


def test_play_sends_position_start_and_clock_before_the_scenes_notes(
    midi_sink: MidiSink, harmonc: list[Harmonc]
) -> None:
    run = _start(harmonc, "play", str(EXAMPLES / "rig.circle"), "--midi-api", "jack", "--port", midi_sink.port,
                 "--from", "IIa.go.1a")  # fmt: skip
    assert midi_sink.wait_for(lambda events: len(clocks(events)) >= 2 * CLOCKS_PER_BAR + 1, 20), run.output()
    assert run.interrupt() == 0
    events = midi_sink.events()
    kinds = [event.data[0] for event in events]
    first_note = next(i for i, event in enumerate(events) if event.data[0] & 0xF0 == 0x90)
    assert kinds.index(0xF2) < kinds.index(0xFA) < kinds.index(0xF8) < first_note  # SPP, Start, clock, then notes
    perf = build_performance(compile_file(str(EXAMPLES / "rig.circle")).filled_score, {"*": midi_sink.port})
    _, start, _ = perf.scene("IIa.go.1a")  # type: ignore[misc]
    spp = next(event for event in events if event.data[0] == 0xF2)
    assert spp.data[1] | spp.data[2] << 7 == start * 4 // perf.ppq  # the position, in sixteenths
    assert 0xFB not in kinds  # the S-1 and T-8 take no Continue: a mid-song start is a Start
    # The first two bars' notes, each where the clock says its tick is: the sink's own frames are the
    # measure, so the notes are checked against the clock that came with them.
    ticks = [event.frame for event in clocks(events)]
    window = start + 2 * perf.ppq * 4
    expected = [
        (int(perf.ticks[i]) - start, perf.message(i)[0] & 0x0F, perf.message(i)[1])
        for i in range(perf.first_index(start), perf.first_index(window))
        if perf.message(i)[0] & 0xF0 == 0x90 and perf.message(i)[2] > 0
    ]
    got = [(frame, channel - 1, note) for frame, channel, note, _ in notes_on(events) if frame < ticks[192] - 200]
    assert sorted((ch, n) for _, ch, n in expected) == sorted((ch, n) for _, ch, n in got)
    for tick, channel, note in expected:
        clock, part = divmod(tick, perf.clock_step)
        at = ticks[clock] + (ticks[clock + 1] - ticks[clock]) * part / perf.clock_step
        nearest = min(abs(frame - at) for frame, ch, n in got if (ch, n) == (channel, note))
        assert nearest / RATE <= 0.003, (tick, channel, note, nearest)
    # Timed by the server's frame clock, each clock lands in the JACK cycle its time falls in (rtmidi writes
    # at a cycle's first frame): on the ideal grid to within a period or two, with no drift. Timed by the
    # system clock, the dummy driver's cycles wander against it by milliseconds within seconds.
    assert "timing by the JACK server's frame clock" in run.output()
    ideal = [ticks[0] + (perf.seconds(start + k * perf.clock_step) - perf.seconds(start)) * RATE for k in range(192)]
    off = sorted(abs(frame - at) for frame, at in zip(ticks, ideal, strict=False))
    assert off[len(off) * 95 // 100] <= 2 * PERIOD_SECONDS * RATE, off[-10:]


def test_ctrl_c_sends_stop_and_all_notes_off_to_every_device(jack_server: str, harmonc: list[Harmonc]) -> None:
    sinks = {device: MidiSink(jack_server) for device in ("t8", "s1", "keystep37", "sp404mk2")}
    try:
        ports = [f"--port={device}={sink.port}" for device, sink in sinks.items()]
        run = _start(harmonc, "play", str(EXAMPLES / "rig.circle"), "--midi-api", "jack", *ports)
        assert sinks["t8"].wait_for(lambda events: len(notes_on(events)) >= 4, 20), run.output()
        assert run.interrupt() == 0
        assert "all notes off" in run.output()
        for device, sink in sinks.items():
            assert sink.wait_for(lambda events: len(controls(events, 121)) >= 16, 5), device
            events = sink.events()
            assert bytes([0xFC]) in [event.data for event in events], device  # Stop to every clocked device
            assert {channel for _, channel, _ in controls(events, 123)} == set(range(1, 17)), device
            assert {channel for _, channel, _ in controls(events, 121)} == set(range(1, 17)), device
            sounding: set[tuple[int, int]] = set()
            for event in events:
                if event.data[0] & 0xF0 == 0x90 and event.data[2] > 0:
                    sounding.add((event.data[0] & 0x0F, event.data[1]))
                elif event.data[0] & 0xF0 == 0x80:
                    sounding.discard((event.data[0] & 0x0F, event.data[1]))
            assert not sounding, f"{device}: notes left on {sounding}"
    finally:
        for sink in sinks.values():
            sink.close()


def _swap_song(path: Path, channel: int) -> None:
    """The swap song with its lead on the S-1's channel `channel`: a save whose every note is told apart."""
    text = (LIVE / "swap.circle").read_text(encoding="utf-8")
    path.write_text(text.replace("on s1", f"on s1 channel {channel}"), encoding="utf-8")


def test_watch_hot_swaps_a_save_at_the_next_bar_and_keeps_playing_through_errors(
    midi_sink: MidiSink, harmonc: list[Harmonc], tmp_path: Path
) -> None:
    song = tmp_path / "swap.circle"
    _swap_song(song, 3)
    run = _start(harmonc, "watch", str(song), "-o", str(tmp_path / "out"), "--emit", "midi", "--play",
                 "--midi-api", "jack", "--port", midi_sink.port, "--loop", "I.you.1a")  # fmt: skip
    assert midi_sink.wait_for(lambda events: len(notes_on(events)) >= 6, 30), run.output()
    old, new = 3, 5
    assert {channel for _, channel, _, _ in notes_on(midi_sink.events())} == {old}
    song.write_text("song oops {", encoding="utf-8")  # a broken save: errors printed, the music goes on
    assert run.wait_line("error", 10), run.output()
    playing = len(clocks(midi_sink.events()))
    assert midi_sink.wait_for(lambda events: len(clocks(events)) >= playing + 48, 5), "the clock stopped"
    saved = len(clocks(midi_sink.events()))
    _swap_song(song, new)
    assert midi_sink.wait_for(lambda events: any(c == new for _, c, _, _ in notes_on(events)), 15), run.output()
    assert midi_sink.wait_for(lambda events: len(clocks(events)) >= saved + 3 * CLOCKS_PER_BAR, 15)
    assert run.interrupt() == 0
    events = _after(midi_sink.events(), bytes([0xFA]))
    ticks = clocks(events)
    # The new score's first message on its channel (the chased volume and pan, sent as it takes over)
    # lands on a bar: as many clocks came before it as there are in whole bars since Start, and the
    # bar's clock follows it in the same JACK cycle.
    swap = next(i for i, e in enumerate(events) if e.data[0] < 0xF0 and (e.data[0] & 0x0F) + 1 == new)
    first_new = events[swap].frame
    before = len(clocks(events[:swap]))
    assert before % CLOCKS_PER_BAR == 0, before
    assert abs(ticks[before].frame - first_new) <= 64, (before, first_new, ticks[before].frame)
    assert not [frame for frame, channel, _, _ in notes_on(events) if channel == old and frame > first_new]
    # No old note outlives the swap, and the clock ran on: no tick dropped or doubled.
    sounding: set[tuple[int, int]] = set()
    for event in events[:swap]:
        if event.data[0] & 0xF0 == 0x90 and event.data[2] > 0:
            sounding.add((event.data[0] & 0x0F, event.data[1]))
        elif event.data[0] & 0xF0 == 0x80:
            sounding.discard((event.data[0] & 0x0F, event.data[1]))
    assert not sounding, f"notes left on at the swap: {sounding}"
    # Every clock the player sent arrived, and it sent as many as the time it played holds: none dropped
    # or doubled across the swaps. (The sink's frame gaps are no measure here: the dummy driver's own clock
    # stalls under load; bench/live.py reports the timing.)
    found = re.search(r"after (\d+) clocks in ([0-9.]+) s", run.output())
    assert found, run.output()
    sent, played = int(found[1]), float(found[2])
    assert len(clocks(events[: next(i for i, e in enumerate(events) if e.data == bytes([0xFC]))])) == sent
    assert abs(sent - (played / (60 / 150 / 24) + 1)) <= 1.5, (sent, played)  # swap.circle's 150 BPM
    assert "swapped in the new score at bar" in run.output()
    assert (tmp_path / "out" / "swap.mid").exists()


def _lead(events: list[SinkEvent]) -> list[tuple[int, int, int, int]]:
    """The S-1's notes (channel 3): the lead the follow song writes out."""
    return [note for note in notes_on(events) if note[1] == 3]


def test_follows_an_external_clock_start_stop_continue_and_song_position(
    midi_sink: MidiSink, harmonc: list[Harmonc]
) -> None:
    with VirtualSource("KeyStep 37", client="keystep") as keystep:
        run = _start(harmonc, "play", str(LIVE / "follow.circle"), "--midi-api", "jack", "--port", midi_sink.port)
        assert run.wait_line("waiting for clock", 20), run.output()
        keystep.connect(midi_sink.port)  # the sink records the KeyStep's clock too, on the same frame clock
        time.sleep(0.5)
        assert not notes_on(midi_sink.events())  # nothing before Start
        interval = 60 / 100 / 24  # the KeyStep runs at 100 BPM; the song says 120

        def clock_for(count: int) -> None:
            origin = time.perf_counter()
            for number in range(count):
                while time.perf_counter() < origin + number * interval:
                    time.sleep(0.0002)
                keystep.send([0xF8])

        keystep.send([0xFA])
        clock_for(24 * 4 + 12)  # one bar and a half
        keystep.send([0xFC])
        time.sleep(0.3)
        stopped = _lead(midi_sink.events())
        assert [note for _, _, note, _ in stopped] == [60, 62, 64, 65, 67]
        # Each quarter lands on the KeyStep's clock for its beat (the song's own 120 BPM would put beat 4 a
        # whole 0.4 s early). Measured against the received clock, not the wall: the dummy driver's frame
        # clock loses cycles under load.
        beats = clocks(midi_sink.events())[::24]
        offsets = [(frame - beat.frame) / RATE for (frame, *_), beat in zip(stopped, beats, strict=False)]
        assert all(abs(offset) < 0.01 for offset in offsets), offsets
        assert run.wait_line("stopped at bar", 5), run.output()
        time.sleep(0.5)
        assert len(_lead(midi_sink.events())) == len(stopped)  # Stop stops
        keystep.send([0xFB])
        clock_for(24 * 2 + 6)  # Continue: on from where it stopped
        keystep.send([0xFC])
        time.sleep(0.3)
        resumed = [note for _, _, note, _ in _lead(midi_sink.events())][len(stopped) :]
        assert resumed[:2] == [69, 71]
        keystep.send([0xF2, 4, 0])  # Song Position Pointer: the 5th sixteenth, beat 2 of bar 1
        keystep.send([0xFB])
        clock_for(6)
        keystep.send([0xFC])
        time.sleep(0.3)
        assert [note for _, _, note, _ in _lead(midi_sink.events())][-1] == 62
        assert run.interrupt() == 0


def test_a_vanished_port_silences_everything_and_plays_again_when_it_returns(
    midi_sink: MidiSink, harmonc: list[Harmonc]
) -> None:
    t8 = VirtualDestination("T-8", client="t8-unit")
    run = _start(harmonc, "play", str(EXAMPLES / "rig.circle"), "--midi-api", "jack",
                 "--port", f"s1={midi_sink.port}", "--port", f"keystep37={midi_sink.port}",
                 "--port", f"sp404mk2={midi_sink.port}")  # fmt: skip
    try:
        assert t8.wait_for(lambda messages: sum(m[0] & 0xF0 == 0x90 for _, m in messages) >= 4, 20), run.output()
    finally:
        t8.close()
    assert run.wait_line('port "T-8" vanished', 5), run.output()
    assert midi_sink.wait_for(lambda events: len(controls(events, 123)) >= 16, 5)
    t8 = VirtualDestination("T-8", client="t8-unit")
    try:
        assert run.wait_line('port "T-8" is back', 5), run.output()
        assert t8.wait_for(lambda messages: any(m[0] & 0xF0 == 0x90 for _, m in messages), 10)
    finally:
        assert run.interrupt() == 0
        t8.close()


def test_a_missing_port_is_an_error_that_lists_the_ports(midi_sink: MidiSink) -> None:
    done = subprocess.run(
        [*HARMONC, "play", str(EXAMPLES / "rig.circle"), "--midi-api", "jack"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert 'no MIDI output port matches "T-8"' in done.stderr and midi_sink.port in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_scene_is_a_usage_error(jack_server: str) -> None:
    done = subprocess.run(
        [*HARMONC, "play", str(EXAMPLES / "rig.circle"), "--midi-api", "jack", "--from", "IIa.go.1z"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--from names no scene `IIa.go.1z`" in done.stderr
    assert "Traceback" not in done.stderr
