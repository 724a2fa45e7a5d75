"""`harmonc build --emit audio,stems,sp404` (and the Logic template's stems): one render shared by all.

The renderer writes into a hidden staging folder inside the output folder; the build then moves the
files into place with everything else, so a failed render leaves the earlier outputs as they were.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harmonlang.compiler import CompileResult
    from harmonlang.output import Blob

AUDIO_KINDS = ("audio", "stems", "sp404")
SYNTH_CHOICES = ("auto", "embedded", "soundfont", "none")


def add_audio_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--synth",
        choices=SYNTH_CHOICES,
        default="auto",
        help="auto: each device's emulation, General MIDI parts in a SoundFont when one is found; embedded: the "
        "built-in synth only; soundfont: every part in the SoundFont; none: no audio (a Logic template without "
        "stems)",
    )
    parser.add_argument(
        "--soundfont",
        metavar="SF2",
        help="the General MIDI SoundFont (default: /usr/share/sounds/sf2/FluidR3_GM.sf2 when it is there)",
    )


class AudioRefused(Exception):
    """A reason the audio cannot be rendered as asked, for the user."""


def wants_render(kinds: list[str], args: argparse.Namespace) -> bool:
    asked = [k for k in kinds if k in AUDIO_KINDS]
    if asked and args.synth == "none":
        raise AudioRefused(f"--emit {','.join(asked)} needs a synth; drop --synth none")
    return bool(asked) or ("logic" in kinds and args.synth != "none")


def _options(args: argparse.Namespace, progress: bool) -> object:
    from harmonlang.runtime.audio import AudioOptions
    from harmonlang.runtime.soundfont import SoundFontError, find_soundfont, fluidsynth_available

    soundfont = None
    if args.synth != "embedded":
        try:
            soundfont = find_soundfont(args.soundfont)
        except SoundFontError as error:
            raise AudioRefused(str(error)) from None
        if soundfont is not None and not fluidsynth_available():
            raise AudioRefused("cannot load the FluidSynth library for the SoundFont; install Debian's libfluidsynth3")
        if soundfont is None and args.synth == "soundfont":
            raise AudioRefused("--synth soundfont needs a SoundFont: give --soundfont PATH")
    return AudioOptions(synth=args.synth, soundfont=soundfont, progress=progress)


def render(
    result: CompileResult, out: Path, kinds: list[str], args: argparse.Namespace
) -> tuple[dict[Path, Blob], dict[str, Blob], Path, dict[str, object]]:
    """Render once: the files each audio kind puts in `out`, the stems for a Logic template, the staging folder
    (remove it after the move) and the master's figures."""
    from harmonlang.runtime.audio import render_audio

    options = _options(args, progress=not args.quiet)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".harmonc-render-", dir=out))
    try:
        wanted = {k for k in kinds if k in AUDIO_KINDS} | ({"logic"} if "logic" in kinds else set())
        audio = render_audio(result.filled_score, staging, result.stem, wanted, options)  # type: ignore[arg-type]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for notice in audio.notices:
        print(f"harmonc: note: {notice}", file=sys.stderr)
    placed: dict[Path, Blob] = {}
    stems: dict[str, Blob] = {}
    for name, path in audio.files.items():
        if name.startswith("stems/"):
            stems[name.removeprefix("stems/")] = path
            if "stems" in kinds:
                placed[out / name] = path
        elif name.endswith(".sp404") or ".sp404/" in name:
            if "sp404" in kinds:
                placed[out / name] = path
        elif "audio" in kinds:
            placed[out / name] = path
    return placed, stems, staging, audio.report


def summary(report: dict[str, object]) -> str:
    lufs, peak = report.get("integrated_lufs"), report.get("true_peak_dbtp")
    if not isinstance(lufs, float) or not isinstance(peak, float):
        return "mastered: silent (nothing to normalize)"
    return f"mastered: {lufs:.1f} LUFS integrated, true peak {peak:.1f} dBTP"
