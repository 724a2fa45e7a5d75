"""The player's clock: the system's, or the JACK server's own frame clock.

rtmidi's JACK output writes every message at the first frame of the next
process cycle, so on JACK what the devices hear is quantized to cycles
whatever the player does. Timed by the system clock, a message lands in
whichever cycle follows its send, and the server's cycles wander against the
system clock (a dummy or USB interface's clock drifts; a late cycle shifts
everything after it). `JackCycles` times the song in the server's frames
instead, and sends each message during the cycle before the one its time falls
in, once that cycle's clients have run: it lands on the first frame of its own
cycle, never more than one period early, and in step with the audio.

Only `last_frame_time` and `frames_since_cycle_start` are read (no process
callback, so no Python runs on JACK's realtime thread).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Protocol

SPIN_SECONDS = 0.0015  # the last stretch before a send is spun, not slept: sleeps overshoot
# The window to send in is most of a cycle (a millisecond at 48 kHz and 64 frames), not an instant: a short
# spin after the sleep is enough, and leaves the CPU to the build.
JACK_SPIN_SECONDS = 0.0004
POLL_SECONDS = 0.00005  # how soon to look again when a cycle is late
MARGIN_FRAMES = 16  # into a cycle before sending for the next: every client has run by then (0.3 ms at 48 kHz)


class Timebase(Protocol):
    name: str

    def now(self) -> float: ...

    def wait(self, deadline: float, wake: threading.Event) -> bool: ...

    def close(self) -> None: ...


class WallTime:
    """The system's monotonic clock (perf_counter)."""

    name = "the system clock"

    def now(self) -> float:
        return time.perf_counter()

    def wait(self, deadline: float, wake: threading.Event) -> bool:
        """Wait for a send time; False when `wake` was set first (the caller looks again)."""
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return True
            if wake.is_set():
                wake.clear()
                return False
            if remaining > SPIN_SECONDS:
                wake.wait(remaining - SPIN_SECONDS)
            else:
                while time.perf_counter() < deadline:
                    time.sleep(0)  # gives the GIL to the MIDI input thread, then looks again

    def close(self) -> None:
        pass


class JackCycles:
    """A JACK server's frame clock, in seconds (frames / sample rate), and sends timed to its cycles."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.rate, self.period = client.samplerate, client.blocksize
        self.name = f"the JACK server's frame clock ({self.rate} Hz, {self.period}-frame cycles)"

    def _frame(self) -> tuple[int, int]:
        return self.client.last_frame_time, self.client.frames_since_cycle_start

    def now(self) -> float:
        cycle, into = self._frame()
        return (cycle + into) / self.rate

    def wait(self, deadline: float, wake: threading.Event) -> bool:
        """Wait until a message due at `deadline` can go: during the cycle before the one holding that frame,
        after its clients ran (or at once, if that cycle has passed). False when `wake` was set first."""
        target = int(deadline * self.rate)
        cycle = target - target % self.period  # rtmidi writes it at this cycle's first frame
        send_from = cycle - self.period
        while True:
            current, into = self._frame()
            read_at = time.perf_counter()
            if current >= cycle or (current >= send_from and into >= MARGIN_FRAMES):
                return True
            if wake.is_set():
                wake.clear()
                return False
            remaining = (send_from + MARGIN_FRAMES - current - into) / self.rate
            if remaining > JACK_SPIN_SECONDS:
                wake.wait(remaining - JACK_SPIN_SECONDS)
                continue
            # Spun on the system clock and then read again: reading the server's clock in a tight loop
            # contends with the server updating it. A late cycle makes the reading come up short: look again.
            until = read_at + max(remaining, POLL_SECONDS)
            while time.perf_counter() < until:
                time.sleep(0)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - the server may be gone already; nothing is left to tidy
            pass


def open_timebase(jack: bool, log: Any = None) -> Timebase:
    """JACK's frame clock when playing through JACK and JACK-Client can reach the server, else the system's."""
    if not jack:
        return WallTime()
    try:
        import jack as jack_client  # JACK-Client: cffi over libjack, loaded only for the JACK API

        client = jack_client.Client(f"harmonc-clock-{os.getpid()}", no_start_server=True)
    except Exception as error:  # noqa: BLE001 - no libjack, or no server: the system clock still plays
        if log is not None:
            log(f"timing by the system clock (the JACK frame clock is out of reach: {error})")
        return WallTime()
    return JackCycles(client)
