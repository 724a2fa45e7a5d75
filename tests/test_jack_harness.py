"""The live-MIDI harness itself, through a real JACK server: sink, virtual ports and JACK's timing."""

from __future__ import annotations

import itertools
import statistics
import time

import pytest
import rtmidi
from jack_support import (
    PERIOD,
    JackError,
    MidiSink,
    VirtualDestination,
    VirtualSource,
    clocks,
    controls,
    jack_ports,
    notes_on,
)

CYCLE = PERIOD / 48000  # seconds per JACK cycle


def test_sink_starts_empty_and_is_listed(jack_server: str, midi_sink: MidiSink) -> None:
    assert midi_sink.events() == []  # the start-up probe leaves nothing behind
    assert midi_sink.port in (jack_ports(jack_server) or [])


def test_sink_sees_clock_and_note_in_order(midi_sink: MidiSink) -> None:
    sent = [b"\xf8", b"\x90\x3c\x64", b"\xb2\x07\x50", b"\xf8", b"\x80\x3c\x00", b"\xf0\x7d\x01\x02\xf7"]
    with VirtualSource("KeyStep 37") as source:
        source.connect(midi_sink.port)
        for message in sent:
            source.send(message)
            time.sleep(4 * CYCLE)  # each message in a JACK cycle of its own
        assert midi_sink.wait_for(lambda events: len(events) >= len(sent), timeout=2)
    events = midi_sink.events()
    assert [event.data for event in events] == sent
    frames = [event.frame for event in events]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)
    assert [event.frame for event in clocks(events)] == [frames[0], frames[3]]
    assert notes_on(events) == [(frames[1], 1, 60, 100)]
    assert controls(events, 7) == [(frames[2], 3, 80)]
    assert controls(events, 1) == []
    assert events[1].seconds == pytest.approx(frames[1] / 48000)


def test_message_reaches_virtual_destination(jack_server: str) -> None:
    with VirtualDestination("T-8") as t8:
        out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="harness-sender")
        try:
            ports = out.get_ports()
            out.open_port(next(i for i, port in enumerate(ports) if "T-8" in port))
            before = time.perf_counter()
            for message in ([0xFA], [0xF8], [0x99, 36, 127], [0xFE], [0x89, 36, 0]):
                out.send_message(message)
            assert t8.wait_for(lambda messages: len(messages) >= 4, timeout=2)
        finally:
            out.close_port()
            out.delete()
        received = t8.messages()
        assert [data for _, data in received] == [b"\xfa", b"\xf8", b"\x99\x24\x7f", b"\x89\x24\x00"]  # no 0xFE
        assert all(before <= arrival < before + 1 for arrival, _ in received)
        t8.clear()
        assert t8.messages() == []


def test_clock_timing_survives_jack(midi_sink: MidiSink) -> None:
    """50 clocks 20 ms apart arrive 960 frames apart, give or take a few JACK cycles.

    This sending thread is not realtime (nor is the server, without the privilege), so on a busy machine
    the odd message is late: the check is on the typical gap and the overall rate.
    """
    count, spacing = 50, 0.020
    with VirtualSource("clock-source") as source:
        source.connect(midi_sink.port)
        start = time.perf_counter() + 0.01
        for index in range(count):
            time.sleep(max(0.0, start + index * spacing - time.perf_counter()))
            source.send([0xF8])
        assert midi_sink.wait_for(lambda events: len(clocks(events)) >= count, timeout=2)
    frames = [event.frame for event in clocks(midi_sink.events())]
    assert len(frames) == count
    gaps = [later - earlier for earlier, later in itertools.pairwise(frames)]
    assert all(gap > 0 for gap in gaps), gaps
    assert abs(statistics.median(gaps) - 960) <= PERIOD, gaps
    assert sum(abs(gap - 960) <= 3 * PERIOD for gap in gaps) >= 0.9 * len(gaps), gaps
    assert abs((frames[-1] - frames[0]) / (count - 1) - 960) <= 2 * PERIOD, gaps


def test_sink_reports_dropped_messages(midi_sink: MidiSink) -> None:
    """jack_midi_dump keeps ~127 messages per cycle; a bigger burst must fail loudly, not silently."""
    with VirtualSource("burst-source") as source:
        source.connect(midi_sink.port)
        for index in range(300):
            source.send([0x90, index % 128, 1])
        time.sleep(20 * CYCLE)
    with pytest.raises(JackError, match="dropped"):
        midi_sink.events()


def test_a_taken_client_name_fails_clearly(jack_server: str) -> None:
    with VirtualSource("KeyStep 37"):
        with pytest.raises(JackError, match="already taken"):
            VirtualDestination("KeyStep 37")
        with VirtualDestination("KeyStep 37", client="KeyStep 37 in") as destination:
            assert destination.port == "KeyStep 37 in:KeyStep 37"
            assert destination.port in (jack_ports() or [])
