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


def prepare(kinds: list[str], args: argparse.Namespace, out: Path) -> object | None:
    """The render's options, checked before anything is compiled; None when the build renders no audio.

    Raises AudioRefused for a usage error.
    """
    asked = [k for k in kinds if k in AUDIO_KINDS]
    if asked and args.synth == "none":
        raise AudioRefused(f"--emit {','.join(asked)} needs a synth; drop --synth none")
    if args.soundfont and args.synth in ("embedded", "none"):
        raise AudioRefused(f"--soundfont has no use with --synth {args.synth}; use --synth auto or soundfont")
    if "stems" in kinds and (out / "stems").exists() and not (out / "stems").is_dir():
        raise AudioRefused(f"a file stands where the stems folder goes: {out / 'stems'}")
    if not asked and ("logic" not in kinds or args.synth == "none"):
        return None
    return _options(args, progress=not args.quiet)


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
    result: CompileResult, out: Path, kinds: list[str], options: object
) -> tuple[dict[Path, Blob], dict[str, Blob], Path, dict[str, object]]:
    """Render once: the files each audio kind puts in `out`, the stems for a Logic template, the staging folder
    (remove it after the move) and the master's figures. Raises AudioRefused when the files cannot be written."""
    import soundfile

    from harmonlang.runtime.audio import render_audio

    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".harmonc-render-", dir=out))
    try:
        wanted = {k for k in kinds if k in AUDIO_KINDS} | ({"logic"} if "logic" in kinds else set())
        audio = render_audio(result.filled_score, staging, result.stem, wanted, options)  # type: ignore[arg-type]
    except soundfile.SoundFileError as error:  # a full disk, most likely: libsndfile says no more than that
        shutil.rmtree(staging, ignore_errors=True)
        raise AudioRefused(f"cannot write the audio in {out}: {error}") from None
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
    gain, reduction = report.get("gain_db") or 0.0, report.get("limiter_max_reduction_db") or 0.0
    return (
        f"mastered: {lufs:.1f} LUFS integrated, true peak {peak:.1f} dBTP "
        f"(gain {gain:+.1f} dB, limiter at most {reduction:.1f} dB)"
    )


# kind -> (folder under DIR, pattern) whose earlier files a build replaces wholesale: a renamed part's old stem
# or a pad the layout no longer uses must not linger beside the new ones
OWNED_FOLDERS: dict[str, tuple[str, str]] = {
    "stems": ("stems", "*.wav"),
    "sp404": ("{stem}.sp404/IMPORT", "*.WAV"),
    "logic": ("{stem}.logic/stems", "*.wav"),
}


def remove_stale(out: Path, stem: str, kinds: list[str], written: set[Path]) -> None:
    """After a build, the files in the render's own folders that this build did not write."""
    for kind in kinds:
        if kind in OWNED_FOLDERS:
            folder, pattern = OWNED_FOLDERS[kind]
            for path in (out / folder.format(stem=stem)).glob(pattern):
                if path not in written and path.is_file():
                    path.unlink()
