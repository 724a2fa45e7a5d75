"""Live benchmark: `harmonc watch --play` on a JACK server of its own, a save every 2 s, for 2 minutes.

    python bench/live.py [--seconds 120] [--every 2] [--song examples/digital-dreams.circle] [--no-realtime]

It copies the song's folder to a temporary one, starts `jackd` on the dummy
driver (realtime, `-R`, when allowed; `--no-realtime` for the plain `-r`)
and `jack_midi_dump -a` as the sink, then runs `harmonc watch --play` into it.
Every few seconds it edits one scene (a part's level there, toggled) and times the
save until the new MIDI file is on disk. At the end it prints, from the
sink's frame timestamps:

- clock jitter: each clock's time at the sink against its ideal time from the
  score's tempo map, after removing the latency and the two clocks' rate
  difference (a straight-line fit), and also against a moving 2-beat average
  (what the ear hears as jitter; the slow wander of the dummy driver's clock
  against the system's is left out there);
- save-to-MIDI latency;
- clock ticks received against those expected for the time played, and against
  those the player says it sent.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from jack_support import JackError, MidiSink, clocks, start_jack_server, stop_jack_server  # noqa: E402

from harmonlang.compiler import compile_file  # noqa: E402
from harmonlang.runtime.live_plan import build_performance  # noqa: E402

RATE = 48000
EDIT_LINE = "scene IIa.search.1a {{ mix dark {level}dB }}"
TARGETS = {"jitter p99 ms": 1.0, "jitter max ms": 3.0, "latency max ms": 150.0}


def _percentiles(values: list[float] | np.ndarray) -> str:
    data = np.asarray(values, dtype=float)
    if not len(data):
        return "n/a"
    return f"p50 {np.percentile(data, 50):.2f}  p99 {np.percentile(data, 99):.2f}  max {data.max():.2f}"


def _edit(text: str, number: int) -> str:
    """The song with its one-scene edit: the dark part's level there, -2 dB and -5 dB in turn."""
    return text.replace(EDIT_LINE.format(level=-2), EDIT_LINE.format(level=-2 if number % 2 == 0 else -5))


def _wait_changed(path: Path, before: str, timeout: float) -> float | None:
    """Poll (1 ms) until the file's bytes differ from `before`; the time it was seen, or None."""
    deadline = time.perf_counter() + timeout
    seen = None
    while time.perf_counter() < deadline:
        try:
            stat = path.stat()
            if seen != (stat.st_mtime_ns, stat.st_size):
                seen = (stat.st_mtime_ns, stat.st_size)
                if hashlib.sha256(path.read_bytes()).hexdigest() != before:
                    return time.perf_counter()
        except FileNotFoundError:
            pass
        time.sleep(0.001)
    return None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--song", default=str(ROOT / "examples" / "digital-dreams.circle"))
    parser.add_argument("--no-realtime", action="store_true", help="run jackd with -r, as the brief writes it")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="harmonc-live-bench-"))
    source = Path(args.song).resolve()
    for file in source.parent.glob("*.circle"):
        shutil.copy(file, work / file.name)
    song = work / source.name
    text = song.read_text(encoding="utf-8") + "\n" + EDIT_LINE.format(level=-2) + "\n"
    song.write_text(text, encoding="utf-8")
    midi = work / "out" / f"{song.stem}.mid"

    server_name = f"harmonc-bench-{os.getpid()}"
    os.environ["JACK_DEFAULT_SERVER"] = server_name
    os.environ["JACK_NO_START_SERVER"] = "1"
    realtime = not args.no_realtime
    try:
        server = start_jack_server(server_name, realtime=realtime)
    except JackError:
        realtime = False
        server = start_jack_server(server_name)
    lines: list[tuple[float, str]] = []
    try:
        with MidiSink(server_name) as sink:
            command = [sys.executable, "-m", "harmonlang", "watch", str(song), "-o", str(work / "out"), "--emit",
                       "midi", "--play", "--midi-api", "jack", "--port", sink.port, "-q"]  # fmt: skip
            watch = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ}
            )

            def read() -> None:
                assert watch.stdout is not None
                for line in watch.stdout:
                    lines.append((time.perf_counter(), line.rstrip("\n")))

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            if not sink.wait_for(lambda events: len(clocks(events)) > 24, 60):
                print("harmonc never started playing:", *(line for _, line in lines), sep="\n")
                return 1
            started = time.perf_counter()
            latencies: list[float] = []
            missed = 0
            number = 1
            while time.perf_counter() - started < args.seconds:
                before = _digest(midi)
                saved = time.perf_counter()
                song.write_text(_edit(text, number), encoding="utf-8")
                seen = _wait_changed(midi, before, timeout=args.every)
                if seen is None:
                    missed += 1
                else:
                    latencies.append((seen - saved) * 1000)
                number += 1
                time.sleep(max(0.0, saved + args.every - time.perf_counter()))
            watch.send_signal(signal.SIGINT)
            watch.wait(30)
            reader.join(5)
            time.sleep(0.3)
            events = sink.events()
    finally:
        log = getattr(server, "log_path", None)
        xruns = log.read_text(errors="replace").count("XRun") if log and log.exists() else None
        stop_jack_server(server)
        shutil.rmtree(work, ignore_errors=True)

    start = next(i for i, event in enumerate(events) if event.data == b"\xfa")
    stop = next((i for i, event in enumerate(events) if event.data == b"\xfc"), len(events))
    ticks = np.array([event.frame for event in clocks(events[start:stop])], dtype=float) / RATE
    perf = build_performance(compile_file(str(ROOT / "examples" / "digital-dreams.circle")).filled_score)
    ideal = np.array([perf.seconds(k * perf.clock_step) for k in range(len(ticks))])
    slope, offset = np.polyfit(ideal, ticks, 1)
    residual = (ticks - (slope * ideal + offset)) * 1000
    window = 2 * 24 + 1  # two beats of clocks
    kernel = np.ones(window) / window
    smooth = np.convolve(residual, kernel, mode="same")
    inner = slice(window, len(residual) - window)
    local = np.abs(residual - smooth)[inner]
    intervals = np.abs(np.diff(ticks) - np.diff(ideal)) * 1000
    sent = next((int(m[1]) for _, line in lines if (m := re.search(r"after (\d+) clocks", line))), None)
    played = next((float(m[1]) for _, line in lines if (m := re.search(r"clocks in ([0-9.]+) s", line))), None)
    expected = None
    if played is not None:
        expected = sum(1 for k in range(len(ideal) + 200) if perf.seconds(k * perf.clock_step) < played)
    swaps = sum("swapped in the new score" in line for _, line in lines)
    builds = [float(m[1]) for _, line in lines if (m := re.search(r"built in (\d+) ms", line))][1:]

    print(f"live benchmark: {song.name}, {args.seconds:.0f} s of playback, a save every {args.every:g} s")
    print(f"  JACK dummy driver, 48 kHz, 64-frame periods, {'realtime (-R)' if realtime else 'not realtime (-r)'}; "
          f"server xruns: {xruns}")  # fmt: skip
    print(f"  clock jitter at the sink (ms), vs a 2-beat moving average: {_percentiles(local)}")
    print(f"  clock jitter at the sink (ms), vs a straight-line fit:    {_percentiles(np.abs(residual))}")
    print(f"  clock interval error (ms):                              {_percentiles(intervals)}")
    print(f"  sink clock rate against the score's: {slope:.5f}")
    print(f"  save -> new MIDI on disk (ms), {len(latencies)} saves: {_percentiles(latencies)}; missed {missed}")
    print(f"  of which harmonc's rebuild and write (ms): {_percentiles(builds)}")
    print(f"  swaps heard: {swaps}")
    print(f"  clock ticks: received {len(ticks)}, sent {sent}, expected for the time played {expected}")
    gaps = int(np.sum(np.diff(ticks) > 1.5 * np.diff(ideal))) if len(ticks) > 1 else 0
    doubled = int(np.sum(np.diff(ticks) < 0.5 * np.diff(ideal))) if len(ticks) > 1 else 0
    print(f"  intervals over 1.5x (a dropped tick looks like this): {gaps}; under 0.5x (doubled): {doubled}")
    p99, worst = (float(np.percentile(local, 99)), float(local.max())) if len(local) else (float("nan"),) * 2
    top = max(latencies) if latencies else float("nan")
    exact = sent == len(ticks) and expected is not None and abs(expected - len(ticks)) <= 1
    verdicts = [("jitter p99 <= 1 ms", p99 <= 1.0), ("jitter max <= 3 ms", worst <= 3.0),
                ("latency max <= 150 ms", top <= 150), ("no tick dropped or doubled", exact)]  # fmt: skip
    print("  targets: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
