"""`harmonc`: check, build and inspect `.circle` songs.

argparse (not typer/rich) keeps start-up inside the cold-build budget; each
output kind's writer is imported only when that kind is asked for.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmonlang import __version__
from harmonlang.cli_story import add_fill_options, add_story_commands, fill_options
from harmonlang.diagnostics import Diagnostic, SourceCache, render_all, wants_colour

if TYPE_CHECKING:
    from harmonlang.compiler import CompileResult
    from harmonlang.output import Blob

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


def _ast_json(result: CompileResult) -> bytes:
    return result.ast.model_dump_json(indent=2).encode() + b"\n"


def _ir_json(result: CompileResult) -> bytes:
    import orjson

    return orjson.dumps(result.ir, option=orjson.OPT_INDENT_2) + b"\n"


def _score_json(result: CompileResult) -> bytes:
    import orjson

    return orjson.dumps(result.filled, option=orjson.OPT_INDENT_2) + b"\n"


def _once(result: CompileResult, kind: str, make: Callable[[], bytes]) -> bytes:
    """An output made once per build, however many others reuse it (the Logic template holds the MIDI's layout
    and the MusicXML)."""
    if kind not in result.rendered:
        result.rendered[kind] = make()
    return result.rendered[kind]


def _midi(result: CompileResult) -> bytes:
    from harmonlang.runtime.midi import midi_bytes

    return _once(result, "midi", lambda: midi_bytes(result.filled_score))


def _events(result: CompileResult) -> bytes:
    from harmonlang.runtime.events import dump_midi

    return dump_midi(data=_midi(result)).encode()


def _musicxml(result: CompileResult) -> bytes:
    from harmonlang.runtime.musicxml import musicxml_bytes

    def make() -> bytes:
        notices: list[str] = []
        data = musicxml_bytes(result.filled_score, notices)
        for notice in notices:
            print(f"harmonc: note: {notice}", file=sys.stderr)
        return data

    return _once(result, "musicxml", make)


def _dawproject(result: CompileResult) -> bytes:
    from harmonlang.runtime.dawproject import dawproject_bytes

    return dawproject_bytes(result.filled_score)


def _logic(result: CompileResult) -> dict[str, Blob]:
    from harmonlang.runtime.logic import logic_files

    return logic_files(result.filled_score, result.stem, _musicxml(result), result.rendered_stems)


def _rendered(result: CompileResult) -> dict[Path, Blob]:
    """The audio kinds' files, rendered once for all of them before the writers run (see cli_audio)."""
    return result.rendered_audio


UNFILLED_KINDS = {"ast", "ir"}  # the outputs made before the agents fill the holes
# kind -> (file suffix, writer); a writer that returns a dict of names writes a folder of those files, and one
# that returns a dict of paths has placed its files itself.
EMITTERS: dict[str, tuple[str, Callable[[CompileResult], bytes | dict[str, Blob] | dict[Path, Blob]]]] = {
    "ast": (".ast.json", _ast_json),
    "ir": (".ir.json", _ir_json),
    "score": (".score.json", _score_json),
    "midi": (".mid", _midi),
    "events": (".events.txt", _events),
    "musicxml": (".musicxml", _musicxml),
    "dawproject": (".dawproject", _dawproject),
    "logic": (".logic", _logic),
    # the audio kinds place their own files: DIR/<stem>.wav and .master.json, DIR/stems/, DIR/<stem>.sp404/
    "audio": (".wav", _rendered),
    "stems": ("stems", _rendered),
    "sp404": (".sp404", _rendered),
}


def _report(diagnostics: list[Diagnostic], sources: SourceCache) -> None:
    if diagnostics:
        print(render_all(diagnostics, sources, wants_colour(sys.stderr)), file=sys.stderr)


STDIN = "-"
STDIN_LABEL = "<stdin>"


def _compile(path: str, library_ok: bool = False, genre: str | None = None) -> CompileResult | None:
    """Compile and print diagnostics; `-` reads the song from standard input (imports resolve from here)."""
    from harmonlang.compiler import CompileFailure, compile_file

    text = None
    if path == STDIN:
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as error:
            print(f"error: cannot read standard input: it is not UTF-8 text (byte {error.start})", file=sys.stderr)
            return None
    try:
        result = compile_file(STDIN_LABEL if path == STDIN else path, text=text, library_ok=library_ok, genre=genre)
    except CompileFailure as failure:
        _report(failure.diagnostics, failure.sources)
        return None
    _report(result.diagnostics, result.program.sources)
    return result


def _duration(ir: dict[str, Any]) -> float:
    seconds, points = 0.0, ir["tempo_map"]
    for index, point in enumerate(points):
        end = points[index + 1]["tick"] if index + 1 < len(points) else ir["length"]
        seconds += (end - point["tick"]) / ir["ppq"] * 60 / point["bpm"]
    return seconds


def _summary(result: CompileResult) -> str:
    ir = result.ir
    minutes, seconds = divmod(round(_duration(ir)), 60)
    bars = sum(s["bars"] for s in ir["scenes"])
    holes = sum(c["status"] == "hole" for s in ir["scenes"] for p in s["phrases"] for c in p["cells"])
    parts = _count(len(ir["parts"]), "part")
    if result.was_filled:  # what the agents added
        added = len(result.filled["parts"]) - len(ir["parts"])
        parts += f" (+{added} added by the arrangement)" if added else ""
    holes_text = _count(holes, "hole") + (" filled" if result.was_filled else "")
    scenes = _count(len(ir["scenes"]), "scene")
    return f"{ir['source']}: {scenes}, {_count(bars, 'bar')}, {minutes}:{seconds:02d}, {parts}, {holes_text}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _definitions(result: CompileResult) -> str:
    checked = result.checked
    own = sum(1 for _, loaded in result.program.definitions.values() if not loaded.stdlib)
    counts = [(len(checked.parts), "part"), (len(checked.materials), "named material"), (own, "definition")]
    return ", ".join(_count(number, noun) for number, noun in counts)


def command_check(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.files:
        result = _compile(path, library_ok=True, genre=args.genre)
        if result is None:
            status = EXIT_ERRORS
        elif not args.quiet and not result.checked.has_header:
            print(f"ok  {result.program.entry.label}: a library module ({_definitions(result)})")
        elif not args.quiet:
            print(f"ok  {_summary(result)}")
    return status


def _compile_for_output(args: argparse.Namespace) -> tuple[CompileResult, Path, str] | int:
    """The song compiled with its fill options, the output folder and the file stem; or an exit code."""
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        print(f"harmonc: error: -o {args.output} is a file; outputs go in a folder", file=sys.stderr)
        return EXIT_USAGE
    result = _compile(args.file, genre=args.genre)
    if result is None:
        return EXIT_ERRORS
    if not fill_options(result, args):
        return EXIT_USAGE
    result.stem = "stdin" if args.file == STDIN else Path(args.file).name.removesuffix(".circle")
    return result, out, result.stem


def command_build(args: argparse.Namespace) -> int:
    kinds = parse_kinds(args.emit)
    if kinds is None:
        return EXIT_USAGE
    from harmonlang import cli_audio

    try:  # the audio options are checked before the song is compiled: a typo costs nothing
        audio_options = cli_audio.prepare(kinds, args, Path(args.output))
    except cli_audio.AudioRefused as refusal:
        print(f"harmonc: error: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    loaded = _compile_for_output(args)
    if isinstance(loaded, int):
        return loaded
    result, out, stem = loaded
    return emit_outputs(result, out, stem, kinds, audio_options, args.quiet)


def parse_kinds(text: str) -> list[str] | None:
    """The `--emit` kinds, in order; None (after saying why) when one is unknown."""
    kinds = list(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in EMITTERS]
    if unknown or not kinds:
        print(
            f"harmonc: error: unknown --emit kind {', '.join(unknown) or '(none)'}; choose from {', '.join(EMITTERS)}",
            file=sys.stderr,
        )
        return None
    return kinds


def emit_outputs(
    result: CompileResult, out: Path, stem: str, kinds: list[str], audio_options: Any, quiet: bool, freeze: bool = True
) -> int:
    """Render every kind, then write them all atomically: a failure part-way writes nothing at all."""
    from harmonlang import cli_audio
    from harmonlang.output import write_all_atomic

    if set(kinds) - UNFILLED_KINDS:
        result.filled_score  # noqa: B018 - fill and validate once, before the writers share it
    if freeze:
        # The song's objects live until harmonc exits: moved out of the collector's reach, they are not walked
        # again by every collection the writers' many small allocations set off.
        gc.freeze()
    staging, figures = None, None
    try:
        if audio_options is not None:
            try:
                result.rendered_audio, result.rendered_stems, staging, figures = cli_audio.render(
                    result, out, kinds, audio_options
                )
            except cli_audio.AudioRefused as refusal:
                print(f"harmonc: error: {refusal}", file=sys.stderr)
                return EXIT_ERRORS
        rendered: dict[Path, Blob] = {}
        targets = []
        for kind in kinds:
            suffix, writer = EMITTERS[kind]
            target, data = out / f"{stem}{suffix}", writer(result)
            if isinstance(data, dict) and all(isinstance(name, Path) for name in data):
                targets += sorted({_top(out, path) for path in data} - set(targets))  # type: ignore[arg-type]
                rendered.update(data)  # type: ignore[arg-type]
                continue
            targets.append(target)
            if isinstance(data, dict):
                rendered.update({target / name: blob for name, blob in data.items()})  # type: ignore[operator]
            else:
                rendered[target] = data
        write_all_atomic(rendered)
        cli_audio.remove_stale(out, stem, kinds, set(rendered))
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    if not quiet:
        print(f"built {_summary(result)}")
        if figures is not None and "integrated_lufs" in figures:
            print(f"  {cli_audio.summary(figures)}")
        for target in targets:
            print(f"  wrote {target}{'/' if target.is_dir() else ''}")
    return EXIT_OK


def _top(out: Path, path: Path) -> Path:
    """The output a placed file belongs to: itself, or the first folder under `out` that holds it."""
    return out / path.relative_to(out).parts[0]


def command_report(args: argparse.Namespace) -> int:
    """Compile, let the agents fill the holes, then measure the song against its targets."""
    loaded = _compile_for_output(args)
    if isinstance(loaded, int):
        return loaded
    result, out, stem = loaded
    from harmonlang.report import build_report, format_table, write_report

    filled = result.filled
    report = build_report(filled)
    paths = write_report(filled, out, stem, report=report)
    print(format_table(report))
    for path in paths:
        print(f"  wrote {path}")
    return EXIT_OK  # missed targets are findings, not failures


def command_schema(args: argparse.Namespace) -> int:
    if args.messages:
        from harmonlang.agents.messages import json_schema
    else:
        from harmonlang.ir import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        from harmonlang.output import write_atomic

        write_atomic(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def command_docs(args: argparse.Namespace) -> int:
    """Generate the stdlib reference; with --check, fail when the file on disk is stale."""
    from harmonlang.compiler import CompileFailure
    from harmonlang.stdlib_docs import generate

    try:
        text = generate()
    except CompileFailure as failure:  # a broken stdlib file: say where, as for any song
        _report(failure.diagnostics, failure.sources)
        return EXIT_ERRORS
    if args.check:
        path = Path(args.check)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            print(f"{path} is stale: run `harmonc docs -o {path}`", file=sys.stderr)
            return EXIT_ERRORS
        return EXIT_OK
    if args.output:
        from harmonlang.output import write_atomic

        write_atomic(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harmonc", description="The HarmonLang compiler: songs shaped as a story.")
    parser.add_argument("--version", action="version", version=f"harmonc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser("check", help="check songs and report every problem")
    check.add_argument("files", nargs="+", metavar="FILE", help="songs to check; `-` reads one from standard input")
    check.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    check.add_argument("--genre", metavar="GENRE", help="check the songs in another genre")
    check.set_defaults(run=command_check)
    build = commands.add_parser("build", help="compile a song and write its outputs")
    build.add_argument("file", metavar="FILE", help="the song; `-` reads it from standard input")
    build.add_argument("-o", "--output", default="out", metavar="DIR", help="output folder (default: out)")
    build.add_argument(
        "--emit", default="ir,midi", metavar="KINDS", help=f"comma-separated: {', '.join(EMITTERS)} (default: ir,midi)"
    )
    build.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    build.add_argument(
        "--genre", metavar="GENRE", help="re-render the song in another genre, keeping its themes and form"
    )
    add_fill_options(build)
    from harmonlang.cli_audio import add_audio_options

    add_audio_options(build)
    build.set_defaults(run=command_build)
    report = commands.add_parser("report", help="fill a song's holes and measure it against its story's targets")
    report.add_argument("file", metavar="FILE", help="the song; `-` reads it from standard input")
    report.add_argument("-o", "--output", default="out", metavar="DIR", help="output folder (default: out)")
    report.add_argument("--genre", metavar="GENRE", help="render the song in another genre first")
    add_fill_options(report)
    report.set_defaults(run=command_report)
    add_story_commands(commands)
    from harmonlang.cli_live import add_live_commands

    add_live_commands(commands)
    from harmonlang.cli_editor import add_editor_commands

    add_editor_commands(commands)
    schema = commands.add_parser("schema", help="print the Score IR's JSON Schema")
    schema.add_argument("-o", "--output", metavar="FILE", help="write to a file instead")
    schema.add_argument("--messages", action="store_true", help="the agents' message schema instead")
    schema.set_defaults(run=command_schema)
    docs = commands.add_parser("docs", help="generate the stdlib reference (docs/stdlib.md) from the stdlib files")
    docs.add_argument("-o", "--output", metavar="FILE", help="write to a file instead")
    docs.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from what would be generated")
    docs.set_defaults(run=command_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as error:
        print(f"harmonc: error: {error.strerror}: {error.filename}", file=sys.stderr)
        return EXIT_ERRORS
    except Exception as error:  # a bug in harmonc, never the song's fault: say so instead of a traceback
        if os.environ.get("HARMONC_DEBUG"):
            raise
        print(f"harmonc: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print(
            "  this is a bug in harmonc; please report it with the song (HARMONC_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
