"""How long `harmonc` takes to compile a whole 48-scene song, and how much memory it uses.

This prints numbers; it is not a test and it gates nothing (it exits 0 whether
or not the targets are met). Run it from anywhere:

    python bench/compile.py                 # 10 cold runs, 30 warm runs
    python bench/compile.py --runs 20 --warm-runs 100

cold: `harmonc build SONG -o TMP --emit ir` as a new process, Python start-up
      included, after a few untimed warm-up runs (they also fill the parsed-stdlib
      cache, a legitimate per-install cache). The bare interpreter start-up
      (`python -c pass`) is timed the same way, for comparison.
warm: `harmonlang.compiler.compile_file(SONG)` repeated in this process, and the
      same plus validating the IR into the pydantic models (`result.score`).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# The targets from the performance issue. They are reported against, never adjusted.
COLD_TARGET_S = 0.4
WARM_TARGET_MS = 30.0

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SONG = REPO / "examples" / "digital-dreams.circle"


def harmonc_command() -> list[str]:
    """The `harmonc` script installed beside this interpreter, else `python -m harmonlang`."""
    script = Path(sys.executable).parent / "harmonc"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "harmonlang"]


def run_child(argv: Sequence[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run one process to completion: (wall seconds, its own peak RSS in KiB, its stderr)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, env=env
        )
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the maximum over every child so far.
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {child.returncode}:\n{stderr}")
    peak_kib = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss  # bytes on macOS
    return elapsed, peak_kib, stderr


def time_children(argv: Sequence[str], env: dict[str, str], warmups: int, runs: int) -> tuple[list[float], int]:
    """Wall times of `runs` timed runs after `warmups` untimed ones, and the largest peak RSS (KiB) among them."""
    for _ in range(warmups):
        run_child(argv, env)
    times, peak = [], 0
    for _ in range(runs):
        elapsed, peak_kib, _ = run_child(argv, env)
        times.append(elapsed)
        peak = max(peak, peak_kib)
    return times, peak


def time_calls(call: Callable[[], Any], warmups: int, runs: int) -> list[float]:
    """Seconds per call of `call`, `runs` timed calls after `warmups` untimed ones."""
    for _ in range(warmups):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "OVER"


def cold_row(label: str, seconds: float) -> str:
    return f"  {label:<7}{seconds:8.3f} s   {verdict(seconds, COLD_TARGET_S)}  (target <= {COLD_TARGET_S} s)"


def warm_row(label: str, seconds: float) -> str:
    ms = seconds * 1000
    return f"  {label:<7}{ms:8.1f} ms  {verdict(ms, WARM_TARGET_MS)}  (target <= {WARM_TARGET_MS:g} ms)"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("song", nargs="?", default=str(DEFAULT_SONG), help="the .circle file (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=10, help="timed cold runs, each a new process (default: 10)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed cold runs first (default: 3)")
    parser.add_argument("--warm-runs", type=int, default=30, help="timed in-process compiles (default: 30)")
    parser.add_argument("--warm-warmups", type=int, default=3, help="untimed in-process compiles first (default: 3)")
    parser.add_argument(
        "--as-environment",
        action="store_true",
        help="time cold runs only as this environment is (by default, when PYTHONDONTWRITEBYTECODE is set, "
        "cold runs are also timed with bytecode cached, as after a normal install)",
    )
    args = parser.parse_args(argv)
    for name in ("runs", "warm_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    song = Path(args.song).resolve()
    harmonc = harmonc_command()

    print("harmonc compile benchmark")
    print(f"  python    {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    print(f"  platform  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    load = " ".join(f"{average:.2f}" for average in os.getloadavg())
    print(f"  load      {load} (1/5/15-minute averages; other work on the machine skews timings)")
    print(f"  harmonc   {' '.join(harmonc)}")
    print(f"  harmonlang {_harmonlang_version()}")
    cache = os.environ.get("HARMONLANG_CACHE_DIR")
    print(f"  cache     HARMONLANG_CACHE_DIR={cache!r}" if cache is not None else "  cache     default (user cache)")

    # Cold: new processes. A normal install has harmonlang's bytecode cached (pip compiles it, or
    # the first run writes it); this environment may forbid that, so both are timed and labelled.
    # The environment as it is runs first. The cached series then keeps its bytecode in a folder
    # of its own (PYTHONPYCACHEPREFIX, filled by its warm-ups), so the first cannot borrow it.
    as_is = dict(os.environ)
    variants: list[tuple[str, dict[str, str]]] = [("as this environment is", as_is)]
    if as_is.get("PYTHONDONTWRITEBYTECODE") and not args.as_environment:
        cached = {k: v for k, v in as_is.items() if k != "PYTHONDONTWRITEBYTECODE"}
        variants = [
            ("as this environment is: PYTHONDONTWRITEBYTECODE is set, so harmonlang's .pyc files are not kept", as_is),
            ("bytecode cached (the warm-ups write it), as after a normal install", cached),
        ]
    colds: list[tuple[str, list[float], float]] = []
    with tempfile.TemporaryDirectory(prefix="harmonc-bench-") as scratch:
        out = Path(scratch) / "out"
        command = [*harmonc, "build", str(song), "-o", str(out), "--emit", "ir"]
        for label, env in variants:
            if "PYTHONDONTWRITEBYTECODE" not in env:
                env = {**env, "PYTHONPYCACHEPREFIX": str(Path(scratch) / "pycache")}
            try:
                times, peak = time_children(command, env, args.warmups, args.runs)
            except RuntimeError as error:
                print(f"\nthe build failed, so there is nothing to measure:\n{error}", file=sys.stderr)
                return 2
            colds.append((label, times, peak))
        ir_bytes = sum(p.stat().st_size for p in out.iterdir())
    bare, bare_peak = time_children([sys.executable, "-c", "pass"], as_is, args.warmups, args.runs)

    # Warm: in this process.
    started = time.perf_counter()
    from harmonlang.compiler import compile_file

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    result = compile_file(str(song))
    first_s = time.perf_counter() - started

    ir = result.ir
    bars = sum(scene["bars"] for scene in ir["scenes"])
    parts = [part["name"] for part in ir["parts"]]
    print(f"\nsong  {song.relative_to(REPO) if song.is_relative_to(REPO) else song}: {ir['title']!r}")
    print(f"  {len(ir['scenes'])} scenes, {bars} bars, {len(parts)} parts ({', '.join(parts)}); IR {ir_bytes:,} bytes")

    def compile_only() -> None:
        compile_file(str(song))

    def compile_and_validate() -> None:
        _ = compile_file(str(song)).score

    warm = time_calls(compile_only, args.warm_warmups, args.warm_runs)
    validated = time_calls(compile_and_validate, args.warm_warmups, args.warm_runs)
    tracemalloc.start()
    compile_file(str(song))
    _, warm_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    bare_median = statistics.median(bare)
    for label, cold, _ in colds:
        cold_median = statistics.median(cold)
        print(f"\ncold  `harmonc build SONG -o TMP --emit ir`, {args.runs} runs after {args.warmups} warm-ups")
        print(f"  ({label})")
        print(cold_row("min", min(cold)))
        print(cold_row("median", cold_median))
        print(cold_row("max", max(cold)))
        print(f"  so harmonc's own share of the median is {cold_median - bare_median:.3f} s")
    print(f"  python -c pass: min {min(bare):.3f} s, median {bare_median:.3f} s, max {max(bare):.3f} s")

    print(f"\nwarm  compile_file(SONG) in-process, {args.warm_runs} runs after {args.warm_warmups} warm-ups")
    print(warm_row("min", min(warm)))
    print(warm_row("median", statistics.median(warm)))
    print("  compile_file + result.score (IR validated into pydantic models):")
    print(warm_row("min", min(validated)))
    print(warm_row("median", statistics.median(validated)))
    print(f"  for reference: `import harmonlang.compiler` {import_s * 1000:.0f} ms", end="")
    print(f", then the first compile_file {first_s * 1000:.0f} ms")

    print("\nmemory")
    cold_peak = max(peak for _, _, peak in colds)
    print(f"  cold peak RSS (harmonc process)    {mib(cold_peak)}  (python -c pass: {mib(bare_peak)})")
    print(f"  warm compile, tracemalloc peak     {warm_peak / 2**20:.1f} MiB")
    print(f"  this process, peak RSS             {mib(_self_peak_kib())}")
    return 0


def _harmonlang_version() -> str:
    import harmonlang  # the package's __init__ holds only the version; the compiler is imported later, timed

    return f"{harmonlang.__version__} ({Path(harmonlang.__file__).parent})"


def _self_peak_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


if __name__ == "__main__":
    sys.exit(main())
