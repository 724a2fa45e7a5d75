"""MIDI ports for live play, through python-rtmidi: CoreMIDI on macOS, ALSA or JACK on Linux.

Each destination's port is found by its pattern (runtime/ports.py). A handle
survives its port: when the port vanishes, sends are dropped and the monitor
thread reopens it when it comes back, so the player never waits on a port.
rtmidi is imported here only, when playing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from harmonlang.runtime.ports import find_port

API_NAMES = ("auto", "jack", "alsa", "coremidi")
API_ENV = "HARMONC_MIDI_API"
CLIENT_NAME = "harmonc"
MONITOR_SECONDS = 0.25
CONTROL_CHANGE, ALL_NOTES_OFF, RESET_CONTROLLERS, ALL_SOUND_OFF = 0xB0, 123, 121, 120


class PortError(Exception):
    """A port that cannot be opened; the message says which ports there are."""


def _rtmidi() -> Any:
    try:
        import rtmidi
    except ImportError as error:  # pragma: no cover - a core dependency
        raise PortError(f"python-rtmidi is not installed ({error}); `pip install python-rtmidi`") from None
    return rtmidi


def api_number(name: str | None) -> int:
    """The rtmidi API for `--midi-api` (or HARMONC_MIDI_API): auto, jack, alsa or coremidi."""
    rtmidi = _rtmidi()
    name = (name or os.environ.get(API_ENV) or "auto").lower()
    table = {
        "auto": rtmidi.API_UNSPECIFIED,
        "jack": rtmidi.API_UNIX_JACK,
        "alsa": rtmidi.API_LINUX_ALSA,
        "coremidi": rtmidi.API_MACOSX_CORE,
    }
    if name not in table:
        raise PortError(f"unknown MIDI API `{name}`; choose from {', '.join(API_NAMES)}")
    if table[name] != rtmidi.API_UNSPECIFIED and table[name] not in rtmidi.get_compiled_api():
        have = ", ".join(rtmidi.get_api_name(api) for api in rtmidi.get_compiled_api()) or "none"
        raise PortError(f"this python-rtmidi was built without the {name} API (it has: {have})")
    return table[name]


def _open(kind: str, api: int) -> Any:
    rtmidi = _rtmidi()
    make = rtmidi.MidiOut if kind == "out" else rtmidi.MidiIn
    try:
        return make(api, name=CLIENT_NAME)
    except rtmidi.SystemError as error:
        hint = " (is the JACK server running?)" if api == rtmidi.API_UNIX_JACK else ""
        raise PortError(f"cannot open the MIDI system: {error}{hint}") from None


def _listing(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names) if names else "none"


class OutPort:
    """One destination's port. `send` never raises: a port gone away drops messages until it returns."""

    def __init__(self, pattern: str, api: int) -> None:
        self.pattern, self.api = pattern, api
        self.name: str | None = None
        self._midi: Any = None
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self._midi is not None

    def connect(self, names: list[str], probe: Any) -> bool:
        """Open the port if a name matches; returns whether it is open."""
        name = find_port(self.pattern, names)
        if name is None:
            return False
        midi = _open("out", self.api)
        try:
            midi.open_port(midi.get_ports().index(name), f"to {self.pattern}"[:60])
        except (ValueError, _rtmidi().RtMidiError):
            midi.delete()
            return False
        with self._lock:
            self._midi, self.name = midi, name
        return True

    def drop(self) -> None:
        with self._lock:
            midi, self._midi = self._midi, None
        if midi is not None:
            try:
                midi.close_port()
                midi.delete()
            except Exception:  # noqa: BLE001 - a port torn down under us is already closed
                pass

    def send(self, message: list[int]) -> bool:
        with self._lock:
            midi = self._midi
            if midi is None:
                return False
            try:
                midi.send_message(message)
            except Exception:  # noqa: BLE001 - rtmidi raises on a port that vanished mid-send
                return False
        return True


class Ports:
    """Every destination's port, opened by pattern, watched, and reopened when it returns."""

    def __init__(self, api_name: str | None = None, on_change: Callable[[str, str], None] | None = None) -> None:
        self.api = api_number(api_name)
        self._probe = _open("out", self.api)
        self._ports: dict[str, OutPort] = {}
        self._on_change = on_change or (lambda _event, _pattern: None)
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None

    @property
    def jack(self) -> bool:
        """Whether the ports are JACK's (chosen, or what `auto` found)."""
        return self._probe.get_current_api() == _rtmidi().API_UNIX_JACK

    def names(self) -> list[str]:
        return list(self._probe.get_ports())

    def input_names(self) -> list[str]:
        probe = _open("in", self.api)
        try:
            return list(probe.get_ports())
        finally:
            probe.delete()

    def open(self, pattern: str, why: str, required: bool = True) -> OutPort:
        """The port for a pattern, opened now; a missing port is a PortError listing the ports there are."""
        port = self._ports.get(pattern)
        if port is None:
            name = find_port(pattern, self.names())
            # Two patterns for one port share its handle: clock sent twice would double the tempo.
            port = next((p for p in self._ports.values() if name is not None and p.name == name), None)
            port = port or OutPort(pattern, self.api)
            self._ports[pattern] = port
        if not port.alive and not port.connect(self.names(), self._probe) and required:
            del self._ports[pattern]
            raise PortError(
                f'no MIDI output port matches "{pattern}" ({why}); the ports here are: {_listing(self.names())}'
            )
        return port

    def opened(self) -> list[OutPort]:
        return list({id(port): port for port in self._ports.values()}.values())

    def watch(self) -> None:
        """Start the monitor thread: a vanished port is reported and reopened when it is back."""
        if self._monitor is None:
            self._monitor = threading.Thread(target=self._watch, name="harmonc-ports", daemon=True)
            self._monitor.start()

    def _watch(self) -> None:
        while not self._stop.wait(MONITOR_SECONDS):
            try:
                names = self.names()
            except Exception:  # noqa: BLE001 - the MIDI system itself went away; try again next time
                continue
            for port in self.opened():
                if port.alive and port.name not in names:
                    port.drop()
                    self._on_change("vanished", port.pattern)
                elif not port.alive and port.connect(names, self._probe):
                    self._on_change("returned", port.pattern)

    def close(self) -> None:
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=2)
        for port in self._ports.values():
            port.drop()
        self._probe.delete()


class ClockInput:
    """The clock source's port: every message arrives with the perf_counter time it came in."""

    def __init__(self, ports: Ports, pattern: str, deliver: Callable[[float, list[int]], None]) -> None:
        self.pattern = pattern
        self._deliver = deliver
        self._midi = _open("in", ports.api)
        names = list(self._midi.get_ports())
        name = find_port(pattern, names)
        if name is None:
            self._midi.delete()
            raise PortError(
                f'no MIDI input port matches "{pattern}" (the clock source); the ports here are: {_listing(names)}'
            )
        self.name = name
        self._midi.ignore_types(sysex=True, timing=False, active_sense=True)
        self._midi.set_callback(self._arrived)
        self._midi.open_port(names.index(name), f"from {pattern}"[:60])

    def _arrived(self, event: tuple[list[int], float], _data: Any = None) -> None:
        self._deliver(time.perf_counter(), event[0])

    def close(self) -> None:
        try:
            self._midi.cancel_callback()
            self._midi.close_port()
            self._midi.delete()
        except Exception:  # noqa: BLE001 - already gone
            pass


def panic_messages() -> list[list[int]]:
    """All sound off, all notes off and reset controllers on every channel: nothing left hanging."""
    return [
        [CONTROL_CHANGE | channel, control, 0]
        for channel in range(16)
        for control in (ALL_SOUND_OFF, ALL_NOTES_OFF, RESET_CONTROLLERS)
    ]
