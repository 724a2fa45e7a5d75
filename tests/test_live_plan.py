"""The live plan: a filled score flattened into per-port messages, with each device's clock quirks."""

from __future__ import annotations

from functools import cache

from support import EXAMPLES

from harmonlang.compiler import compile_file
from harmonlang.runtime.live_plan import Performance, build_performance, song_position
from harmonlang.runtime.midi import midi_bytes


@cache
def _rig(ports: tuple[tuple[str, str], ...] = ()) -> Performance:
    return build_performance(compile_file(str(EXAMPLES / "rig.circle")).filled_score, dict(ports))


def test_each_device_gets_its_own_port_and_its_clock_quirks() -> None:
    destinations = {d.pattern: d for d in _rig().destinations}
    assert set(destinations) == {"T-8", "S-1", "KeyStep 37", "SP-404MKII"}
    assert destinations["S-1"].clock and not destinations["S-1"].continue_ok  # the S-1 has no Continue
    assert not destinations["SP-404MKII"].spp  # the SP-404MKII ignores Song Position Pointer
    assert destinations["KeyStep 37"].continue_ok and destinations["KeyStep 37"].spp
    assert any("AUTO" in line for line in destinations["T-8"].setup)  # the T-8 follows clock only in AUTO
    assert any("remote" in line for line in destinations["SP-404MKII"].setup)


def test_one_port_for_all_merges_the_devices_and_keeps_the_strictest_start() -> None:
    (destination,) = _rig((("*", "monitor"),)).destinations
    assert destination.pattern == "monitor"
    assert set(destination.devices) == {"t8", "s1", "keystep37", "sp404mk2"}
    assert destination.clock and not destination.continue_ok and destination.spp


def test_the_plan_holds_exactly_the_midi_files_notes() -> None:
    import io

    import mido

    score = compile_file(str(EXAMPLES / "rig.circle")).filled_score
    perf = build_performance(score, {"*": "monitor"})
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(score)))
    expected = sorted(
        (tick, m.channel, m.note)
        for track in midi.tracks
        for tick, m in _absolute(track)
        if m.type == "note_on" and m.velocity > 0
    )
    ons = sorted(
        (int(perf.ticks[i]), perf.message(i)[0] & 0x0F, perf.message(i)[1])
        for i in range(len(perf))
        if perf.message(i)[0] & 0xF0 == 0x90
    )
    assert ons == expected and len(ons) > 100
    assert list(perf.ticks) == sorted(perf.ticks)


def _absolute(track: list) -> list:
    tick, out = 0, []
    for message in track:
        tick += message.time
        out.append((tick, message))
    return out


def test_boundaries_and_seconds_follow_the_score() -> None:
    perf = _rig()
    bar = perf.ppq * 4
    assert perf.boundaries["bar"][:3] == [0, bar, 2 * bar]
    assert perf.next_boundary("bar", 0) == bar and perf.next_boundary("bar", bar - 1) == bar
    assert perf.next_boundary("scene", 0) == perf.scenes[1][1]
    assert abs(perf.seconds(perf.ppq) - 60 / 124) < 1e-9  # one beat at the rig's 124 BPM
    assert perf.next_boundary("bar", perf.length) == perf.length


def test_chase_gives_the_programs_and_controllers_in_force() -> None:
    perf = _rig()
    chased = perf.chase(perf.scenes[3][1])
    controllers = {(m[0], m[1]) for _, m in chased if m[0] & 0xF0 == 0xB0}
    assert (0xB0 | 2, 7) in controllers and (0xB0 | 2, 10) in controllers  # the S-1's volume and pan
    assert len(chased) == len({(d, m[0], m[1] if m[0] & 0xF0 == 0xB0 else -1) for d, m in chased})


def test_song_position_counts_sixteenths_low_byte_first() -> None:
    assert song_position(0, 480) == [0xF2, 0, 0]
    assert song_position(480 * 4 * 33, 480) == [0xF2, (33 * 16) & 0x7F, (33 * 16) >> 7]
