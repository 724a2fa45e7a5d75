"""How fast the audio renders, and in how much memory, on the 48-scene example (about 13 minutes of music).

This prints numbers; it gates nothing (it exits 0 whether or not a target is met).

    python bench/audio.py                     # digital-dreams, 3 runs of each
    python bench/audio.py --runs 1 --song examples/rig.circle

Each run is a whole `harmonc build --emit audio` in a fresh process, so the figures include start-up,
compiling and filling (shown apart, from a `--emit score` build). What is measured:

1. the embedded synth (`--synth embedded`): render, mix and master, as a multiple of real time, and the
   process's peak resident memory;
2. side by side, the same song through the General MIDI SoundFont (`--synth soundfont`), against
   `fluidsynth -F` rendering the song's MIDI file with the same SoundFont and the same instruments (each
   part's General MIDI program set as harmonc plays it), with FluidSynth's reverb and chorus on, as a
   user would run it, and off, as harmonc runs it before its own mix.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SONG = REPO / "examples" / "digital-dreams.circle"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
# from the audio issue; reported against, never adjusted
REALTIME_TARGET = 30.0
MEMORY_TARGET_MIB = 1024.0
FLUIDSYNTH_RATIO_TARGET = 1.5


def run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of a command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}\n{process.stderr.read().decode() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def harmonc(song: Path, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "harmonlang", "build", str(song), "-o", str(out), "-q", *options]


def gm_midi(song: Path, midi: Path) -> Path:
    """The song's MIDI file as `--synth soundfont` plays it: each part on a channel of its own with the General
    MIDI program harmonc gives it (drums on channel 10), so FluidSynth renders the same instruments."""
    import mido

    from harmonlang.compiler import compile_file
    from harmonlang.runtime.voices import emulation, gm_program, home_route

    score = compile_file(str(song)).filled_score
    smf = mido.MidiFile(str(midi))
    melodic = iter(c for c in range(16) if c != 9)
    for part, track in zip(score.parts, smf.tracks[1:], strict=True):
        route = home_route(part)
        drums = emulation(score, route) == "drums"
        channel = 9 if drums else next(melodic)
        kept = [m.copy(channel=channel) if hasattr(m, "channel") else m for m in track if m.type != "program_change"]
        track[:] = [mido.Message("program_change", channel=channel, program=gm_program(score, part, route)), *kept]
    path = midi.with_name(midi.stem + ".gm.mid")
    smf.save(str(path))
    return path


def best(times: list[float]) -> str:
    return f"{min(times):6.2f} s best, {statistics.median(times):6.2f} s median"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--song", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="harmonc-bench-audio-"))
    stem = args.song.name.removesuffix(".circle")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"song: {args.song.relative_to(REPO) if args.song.is_relative_to(REPO) else args.song}")

    base = [run(harmonc(args.song, out, "--emit", "score"))[0] for _ in range(args.runs)]
    embedded = [run(harmonc(args.song, out, "--emit", "audio", "--synth", "embedded")) for _ in range(args.runs)]
    figures = json.loads((out / f"{stem}.master.json").read_text())
    music = float(figures["seconds"])
    print(f"music: {music:.1f} s ({music / 60:.1f} min); master {figures['integrated_lufs']:.2f} LUFS, "
          f"true peak {figures['true_peak_dbtp']:.2f} dBTP")  # fmt: skip
    print(f"\ncompile + fill (--emit score):          {best(base)}")
    whole = [t for t, _ in embedded]
    audio_only = [t - min(base) for t in whole]
    memory = max(m for _, m in embedded)
    print(f"embedded synth, whole build:            {best(whole)}  = {music / min(whole):5.1f}x real time")
    print(
        f"embedded synth, render + mix + master:  {best(audio_only)}  = {music / min(audio_only):5.1f}x real time"
        f"  (target >= {REALTIME_TARGET:.0f}x)"
    )
    print(f"peak resident memory:                   {memory:6.0f} MiB  (target <= {MEMORY_TARGET_MIB:.0f} MiB)")

    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None or not SOUNDFONT.exists():
        print("\nno fluidsynth or FluidR3_GM.sf2: no SoundFont comparison (apt install fluidsynth fluid-soundfont-gm)")
        return 0
    run(harmonc(args.song, out, "--emit", "midi"))
    midi = gm_midi(args.song, out / f"{stem}.mid")
    ours = [run(harmonc(args.song, out, "--emit", "audio", "--synth", "soundfont"))[0] for _ in range(args.runs)]
    render = [fluidsynth, "-ni", "-q", "-r", "48000", "-F", str(out / "fs.wav")]
    theirs = [run([*render, str(SOUNDFONT), str(midi)])[0] for _ in range(args.runs)]
    dry = [run([*render, "-R", "0", "-C", "0", str(SOUNDFONT), str(midi)])[0] for _ in range(args.runs)]
    ours_audio = [t - min(base) for t in ours]
    print(f"\nsoundfont synth, whole build:           {best(ours)}")
    print(f"soundfont synth, render + mix + master: {best(ours_audio)}")
    print(f"fluidsynth -F (reverb, chorus on):      {best(theirs)}")
    print(f"fluidsynth -F -R 0 -C 0:                {best(dry)}")
    ratio = min(ours) / min(theirs)
    print(f"ratio, whole build / fluidsynth -F:     {ratio:5.2f}x  (target <= {FLUIDSYNTH_RATIO_TARGET}x)")
    print(f"ratio, render+mix+master / -F:          {min(ours_audio) / min(theirs):5.2f}x")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
