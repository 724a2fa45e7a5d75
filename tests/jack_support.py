"""Live-MIDI test harness: a private JACK server (dummy driver, no sound card), a recording MIDI sink
(`jack_midi_dump`) and rtmidi virtual ports that stand in for hardware ("T-8", "KeyStep 37").

rtmidi and the JACK tools connect to the server named by the environment variable JACK_DEFAULT_SERVER,
so set it (the `jack_server` fixture does) before creating any rtmidi object.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import rtmidi

JACK_SERVER = f"harmonc-test-{os.getpid()}"  # one server per test session: sessions never share one
SAMPLE_RATE = 48000
PERIOD = 64  # frames per JACK cycle; rtmidi's JACK output puts every message at the start of a cycle

CLOCK = 0xF8
_names = itertools.count()
# `jack_midi_dump -a` prints "%7d:" (frames since the dump client started), " %02x" per byte, then for
# note on/off and control change a description ("note on  (channel  0): pitch  60, velocity 100").
_DUMP_LINE = re.compile(r"^\s*(\d+):((?: [0-9a-f]{2}(?![0-9a-z]))+)")


class JackError(RuntimeError):
    """The JACK server or a harness client misbehaved."""


def _jack_env(server: str) -> dict[str, str]:
    """The environment for a JACK tool: this server, and never auto-start another one."""
    return {**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1"}


def _server(server: str | None) -> str:
    return server or os.environ.get("JACK_DEFAULT_SERVER") or JACK_SERVER


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def jack_ports(server: str | None = None) -> list[str] | None:
    """Every port's full name ("client:port") on the server, or None when it does not answer."""
    name = _server(server)
    try:
        done = subprocess.run(["jack_lsp", "-s", name], env=_jack_env(name), capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        return None
    return done.stdout.splitlines() if done.returncode == 0 else None


def jack_connect(source: str, destination: str, server: str | None = None) -> None:
    """Connect an output port to an input port (full JACK names)."""
    _jack_connection("jack_connect", source, destination, server)


def jack_disconnect(source: str, destination: str, server: str | None = None) -> None:
    """Undo `jack_connect`."""
    _jack_connection("jack_disconnect", source, destination, server)


def _jack_connection(tool: str, source: str, destination: str, server: str | None) -> None:
    name = _server(server)
    done = subprocess.run(
        [tool, "-s", name, source, destination], env=_jack_env(name), capture_output=True, text=True, timeout=5
    )
    if done.returncode != 0:
        raise JackError(f"{tool} {source!r} {destination!r} failed: {(done.stdout + done.stderr).strip()}")


class _JackdProcess(subprocess.Popen[bytes]):
    log_path: Path


def start_jack_server(name: str, timeout: float = 10.0, realtime: bool = True) -> subprocess.Popen[bytes]:
    """Start `jackd -n NAME` on the dummy driver (48 kHz, 64-frame periods); return once it answers.

    It runs in synchronous mode (`-S`): with JACK2's default asynchronous mode a client that is late on a
    busy machine silently loses (or repeats) MIDI messages. `realtime` asks for realtime priority (`-R`),
    which keeps cycles on time under load; without the privilege jackd warns and carries on (as `-r`).
    """
    if jack_ports(name) is not None:
        raise JackError(
            f"a JACK server named {name!r} is already running (another test session, or a leftover: "
            f"`pgrep -af 'jackd -n {name}'`)"
        )
    log_path = Path(tempfile.mkdtemp(prefix="harmonc-jackd-")) / "jackd.log"
    mode = "-R" if realtime else "-r"
    command = ["jackd", "-n", name, mode, "-S", "-d", "dummy", "-r", str(SAMPLE_RATE), "-p", str(PERIOD)]
    with log_path.open("wb") as log:
        proc = _JackdProcess(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    proc.log_path = log_path
    if not _wait_until(lambda: proc.poll() is not None or jack_ports(name) is not None, timeout, 0.05):
        stop_jack_server(proc)
        raise JackError(f"JACK server {name!r} did not answer within {timeout} s; log:\n{_tail(log_path)}")
    if proc.poll() is not None:
        raise JackError(f"jackd -n {name} exited with {proc.returncode}; log:\n{_tail(log_path)}")
    return proc


def stop_jack_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server from `start_jack_server` (SIGTERM, then SIGKILL) and remove its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log_path: Path | None = getattr(proc, "log_path", None)
    if log_path is not None:
        shutil.rmtree(log_path.parent, ignore_errors=True)


@dataclass(frozen=True)
class SinkEvent:
    """One MIDI message as the sink received it: its frame (since the sink started) and its bytes."""

    frame: int
    data: bytes

    @property
    def seconds(self) -> float:
        return self.frame / SAMPLE_RATE


def clocks(events: Iterable[SinkEvent]) -> list[SinkEvent]:
    """The MIDI clock ticks (0xF8)."""
    return [event for event in events if event.data == bytes([CLOCK])]


def notes_on(events: Iterable[SinkEvent]) -> list[tuple[int, int, int, int]]:
    """Note-ons with velocity > 0, as (frame, channel 1-16, note, velocity)."""
    return [
        (event.frame, (event.data[0] & 0x0F) + 1, event.data[1], event.data[2])
        for event in events
        if len(event.data) >= 3 and event.data[0] & 0xF0 == 0x90 and event.data[2] > 0
    ]


def controls(events: Iterable[SinkEvent], number: int) -> list[tuple[int, int, int]]:
    """Control changes of one controller, as (frame, channel 1-16, value)."""
    return [
        (event.frame, (event.data[0] & 0x0F) + 1, event.data[2])
        for event in events
        if len(event.data) >= 3 and event.data[0] & 0xF0 == 0xB0 and event.data[1] == number
    ]


class _Closes:
    """A context manager that calls `close()` on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class _VirtualPort(_Closes):
    """A JACK port of rtmidi's own: full name `port` ("<client>:<name>"; the client defaults to the name)."""

    def __init__(self, name: str, client: str | None) -> None:
        self.client = client or name
        self.port = f"{self.client}:{name}"
        _require_free(self.port)
        self._closed = False


class MidiSink(_Closes):
    """A JACK MIDI input port (`jack_midi_dump -a`) that records every message it receives.

    `port` is its full JACK name ("harmonc-sink-<pid>-<n>:input"). Frames count from the sink's start.
    jack_midi_dump holds about 127 messages per JACK cycle (more are dropped) and aborts on a note or
    control message that is not 3 bytes long; either makes `events` and `wait_for` raise JackError.
    """

    def __init__(self, server: str | None = None, name: str | None = None, timeout: float = 5.0) -> None:
        self.server = _server(server)
        self.name = name or f"harmonc-sink-{os.getpid()}-{next(_names)}"
        self.port = f"{self.name}:input"
        self._events: list[SinkEvent] = []
        self._stderr: list[str] = []
        self._stderr_done = False
        self._closing = False
        self._changed = threading.Condition()
        self._proc = subprocess.Popen(
            ["jack_midi_dump", "-a", self.name],
            env=_jack_env(self.server),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._readers = [
            threading.Thread(target=self._read_stdout, name=f"{self.name}-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name=f"{self.name}-stderr", daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            self._probe(timeout)
        except BaseException:
            self.close()
            raise

    def _read_stdout(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:  # jack_midi_dump flushes once per JACK cycle, so no stdbuf is needed
            match = _DUMP_LINE.match(line)
            if match:
                event = SinkEvent(int(match[1]), bytes.fromhex(match[2]))
                with self._changed:
                    self._events.append(event)
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            with self._changed:
                self._stderr.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._stderr_done = True
            self._changed.notify_all()

    def _probe(self, timeout: float) -> None:
        """Wait until the dump client is active: send active-sensing bytes until one comes through."""
        if not _wait_until(
            lambda: self._proc.poll() is not None or self.port in (jack_ports(self.server) or ()), timeout
        ):
            raise JackError(f"{self.port} did not appear on JACK server {self.server!r}")
        self.events()  # raises if jack_midi_dump already exited
        probe = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"{self.name}-probe")
        try:
            probe.open_virtual_port("out")
            source = f"{self.name}-probe:out"
            deadline = time.monotonic() + timeout
            while True:
                try:
                    jack_connect(source, self.port, self.server)
                    break
                except JackError:  # JACK refuses connections to a client that is not active yet
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            while True:
                probe.send_message([0xFE])
                if self.wait_for(lambda events: bool(events), 0.05):
                    break
                if time.monotonic() > deadline:
                    raise JackError(f"{self.port} received nothing within {timeout} s")
        finally:
            probe.close_port()
            probe.delete()
        time.sleep(4 * PERIOD / SAMPLE_RATE)
        self.clear()

    def _check(self) -> None:
        """Raise if jack_midi_dump died or dropped messages (call with the lock held)."""
        dropped = sum("ringbuffer was full" in line for line in self._stderr)
        if dropped:
            raise JackError(f"{self.port} dropped {dropped} message(s): more than ~127 in one JACK cycle")
        if self._proc.poll() is not None and not self._closing:
            self._changed.wait_for(lambda: self._stderr_done, 1.0)
            stderr = "\n".join(self._stderr[-10:])
            raise JackError(f"jack_midi_dump for {self.port} exited with {self._proc.returncode}:\n{stderr}")

    def events(self) -> list[SinkEvent]:
        """Every message received so far, in arrival order."""
        with self._changed:
            self._check()
            return list(self._events)

    def wait_for(self, predicate: Callable[[list[SinkEvent]], bool], timeout: float) -> bool:
        """Wait until `predicate(events)` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                self._check()
                if predicate(list(self._events)):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.1))

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._changed:
            self._events.clear()

    def close(self) -> None:
        """Stop jack_midi_dump (SIGINT, its clean exit)."""
        self._closing = True
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for reader in self._readers:
            reader.join(timeout=2)


class VirtualSource(_VirtualPort):
    """A JACK MIDI output port made by rtmidi, standing in for a device that sends (e.g. "KeyStep 37").

    Its full JACK name is `port` ("<client>:<name>"; the client defaults to the port's name, and must be
    unique: a device that both sends and receives needs `client=` on one side). rtmidi sends each message
    at the start of the next JACK cycle.
    """

    def __init__(self, name: str, client: str | None = None) -> None:
        super().__init__(name, client)
        self.midi = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=self.client)
        self.midi.open_virtual_port(name)
        _require_port(self.port, self.close)

    def send(self, message: bytes | Sequence[int]) -> None:
        """Send one MIDI message."""
        self.midi.send_message(list(message))

    def connect(self, destination: str) -> None:
        """Connect this port to an input port (full JACK name), e.g. a `MidiSink.port`."""
        jack_connect(self.port, destination)

    def close(self) -> None:
        """Close the port and its JACK client."""
        if not self._closed:
            self._closed = True
            self.midi.close_port()
            self.midi.delete()


class VirtualDestination(_VirtualPort):
    """A JACK MIDI input port made by rtmidi, standing in for a device that receives (e.g. "T-8").

    It records every message (clock included, active sensing ignored) as (time.perf_counter(), bytes).
    """

    def __init__(self, name: str, client: str | None = None) -> None:
        super().__init__(name, client)
        self._messages: list[tuple[float, bytes]] = []
        self._changed = threading.Condition()
        self.midi = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=self.client)
        self.midi.ignore_types(sysex=False, timing=False, active_sense=True)
        self.midi.set_callback(self._received)
        self.midi.open_virtual_port(name)
        _require_port(self.port, self.close)

    def _received(self, event: tuple[list[int], float], data: object = None) -> None:
        now = time.perf_counter()  # rtmidi calls back on JACK's process thread
        with self._changed:
            self._messages.append((now, bytes(event[0])))
            self._changed.notify_all()

    def messages(self) -> list[tuple[float, bytes]]:
        """Every message received so far, as (time.perf_counter() on arrival, bytes)."""
        with self._changed:
            return list(self._messages)

    def wait_for(self, predicate: Callable[[list[tuple[float, bytes]]], bool], timeout: float) -> bool:
        """Wait until `predicate(messages)` holds; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self._messages)), timeout)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._changed:
            self._messages.clear()

    def close(self) -> None:
        """Close the port and its JACK client."""
        if not self._closed:
            self._closed = True
            self.midi.cancel_callback()
            self.midi.close_port()
            self.midi.delete()


def _require_free(port: str) -> None:
    """Fail clearly rather than let JACK rename a client whose name is taken ("T-8-01")."""
    client = port.partition(":")[0] + ":"
    if any(existing.startswith(client) for existing in jack_ports() or ()):
        raise JackError(f"JACK client name {client[:-1]!r} (for {port!r}) is already taken; pass client=...")


def _require_port(port: str, close: Callable[[], None]) -> None:
    """Fail clearly when the port never appeared."""
    if not _wait_until(lambda: port in (jack_ports() or ()), 2.0):
        close()
        raise JackError(f"JACK port {port!r} did not appear")
