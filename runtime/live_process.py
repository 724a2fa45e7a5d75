"""The player in a process of its own, for watch mode: compiling never competes with it for the GIL.

The parent sends commands down a pipe (`play`, `swap`, `stop`), each new
score already built as a Performance of numpy arrays, which cross the pipe
as a copy; the child answers with the lines to print. The child ignores
Ctrl-C: the parent asks it to stop, so its all-notes-off goes out first, and
if the parent dies the closed pipe stops it the same way.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from harmonlang.runtime.live_plan import Performance
from harmonlang.runtime.live_player import PlayOptions
from harmonlang.runtime.live_ports import PortError

STOP_SECONDS = 5.0
SWITCH_SECONDS = 0.0005  # receiving a new score must not hold the GIL past a clock tick (default: 5 ms)


def _serve(conn: Connection, api: str | None, options: PlayOptions) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.setswitchinterval(SWITCH_SECONDS)
    from harmonlang.runtime.live_player import Player
    from harmonlang.runtime.live_ports import ClockInput, Ports

    lock = threading.Lock()

    def say(kind: str, text: Any) -> None:
        with lock:
            try:
                conn.send((kind, text))
            except OSError:  # the parent is gone; the closed pipe stops us below
                pass

    player: Player | None = None
    clock: ClockInput | None = None
    ports: Ports | None = None
    try:
        ports = Ports(api, on_change=lambda event, pattern: player.port_changed(event, pattern) if player else None)
        player = Player(ports, options, lambda line: say("log", line))
        while True:
            if player.finished:
                if player.error is not None:
                    say("log", f"the player stopped: {type(player.error).__name__}: {player.error}")
                break
            try:
                if not conn.poll(0.1):
                    continue
                command, payload = conn.recv()
            except (EOFError, OSError):
                break
            if command == "play":
                player.play(payload)
                if player.role == "follow":
                    clock = ClockInput(ports, payload.clock_source, player.clock_in)
                ports.watch()
                say("ok", None)
            elif command == "swap":
                player.swap(payload)
            elif command == "stop":
                break
    except PortError as error:
        say("error", str(error))
    finally:
        if player is not None:
            player.stop()
        if clock is not None:
            clock.close()
        if ports is not None:
            ports.close()
        say("stopped", player.state if player is not None else None)


class PlayerProcess:
    """The parent's handle on the player process."""

    def __init__(self, api: str | None, options: PlayOptions, log: Callable[[str], None]) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no compiler state, no forked locks
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, api, options), name="harmonc-player", daemon=True)
        self._process.start()
        child.close()
        self._log = log
        self._replies: list[tuple[str, Any]] = []
        self._ready = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="harmonc-player-pipe", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                kind, payload = self._conn.recv()
            except (EOFError, OSError):
                kind, payload = "stopped", None
            if kind == "log":
                self._log(payload)
                continue
            with self._ready:
                self._replies.append((kind, payload))
                self._ready.notify_all()
            if kind == "stopped":
                return

    def _reply(self, kinds: tuple[str, ...], timeout: float) -> tuple[str, Any]:
        with self._ready:
            self._ready.wait_for(lambda: any(k in kinds for k, _ in self._replies), timeout)
            for number, (kind, payload) in enumerate(self._replies):
                if kind in kinds:
                    del self._replies[number]
                    return kind, payload
        return "timeout", None

    def play(self, perf: Performance) -> None:
        """Start playing; a port that cannot be opened raises PortError here."""
        self._conn.send(("play", perf))
        kind, payload = self._reply(("ok", "error", "stopped"), 30)
        if kind == "error":
            raise PortError(payload)
        if kind != "ok":
            raise PortError("the player process stopped before it played")

    def swap(self, perf: Performance) -> None:
        self._conn.send(("swap", perf))

    @property
    def finished(self) -> bool:
        with self._ready:
            return any(kind in ("stopped", "error") for kind, _ in self._replies) or not self._process.is_alive()

    def stop(self) -> Any:
        """Stop playing (all notes off first) and end the process; returns the player's last state."""
        try:
            self._conn.send(("stop", None))
        except OSError:
            pass
        kind, state = self._reply(("stopped",), STOP_SECONDS)
        self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.terminate()
        return state
