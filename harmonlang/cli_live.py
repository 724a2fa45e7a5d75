"""`harmonc play` and `harmonc watch`: the rig played live, and every save heard at the next bar.

`play` runs the player in this process: nothing else runs while it plays.
`watch` compiles here and plays in a process of its own (runtime/live_process.py),
so a rebuild never delays a clock tick. A save with errors prints them and
changes nothing: the last good outputs stay on disk and the last good score
keeps playing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmonlang.cli_story import _matching, add_fill_options, fill_options
from harmonlang.diagnostics import did_you_mean

if TYPE_CHECKING:
    from harmonlang.compiler import CompileResult
    from harmonlang.runtime.live_plan import Performance
    from harmonlang.runtime.live_player import PlayOptions

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
SWAP_CHOICES = ("bar", "phrase", "scene")
WATCH_DEBOUNCE_MS = 10  # watchfiles' default waits 1.6 s for a quiet spell; a save is one write
WATCH_STEP_MS = 5


def add_live_commands(commands: Any) -> None:
    play = commands.add_parser("play", help="play a song on the rig over MIDI, as clock master or follower")
    play.add_argument("file", metavar="FILE", nargs="?", help="the song")
    _add_play_options(play)
    play.add_argument("--list-ports", action="store_true", help="list the MIDI ports there are, then exit")
    play.set_defaults(run=command_play)
    watch = commands.add_parser("watch", help="rebuild on every save; with --play, hear each save at the next bar")
    watch.add_argument("file", metavar="FILE", help="the song")
    watch.add_argument("-o", "--output", default="out", metavar="DIR", help="output folder (default: out)")
    watch.add_argument(
        "--emit",
        default="ir,midi",
        metavar="KINDS",
        help="what each good build writes (default: ir,midi)",
    )
    watch.add_argument("--play", action="store_true", help="play while watching; each save takes over at --swap")
    watch.add_argument("-q", "--quiet", action="store_true", help="print only problems and swaps")
    _add_play_options(watch)
    from harmonlang.cli_audio import add_audio_options

    add_audio_options(watch)
    watch.set_defaults(run=command_watch)


def _add_play_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", metavar="SCENE", help="start at a scene (or an act or step)")
    parser.add_argument("--loop", metavar="SCENE", help="play a scene (or an act, step or sequence) round and round")
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="[DEVICE=]NAME",
        help="send a device's MIDI (or, without DEVICE=, every device's) to the port matching NAME; repeatable",
    )
    parser.add_argument(
        "--midi-api", choices=("auto", "jack", "alsa", "coremidi"), help="the MIDI system (default: HARMONC_MIDI_API)"
    )
    parser.add_argument("--clock", choices=("master", "follow", "off"), help="override the song's `clock`")
    parser.add_argument("--swap", choices=SWAP_CHOICES, default="bar", help="where a new build takes over (watch)")
    add_fill_options(parser)


def _fail(message: str, hint: str | None = None) -> None:
    print(f"harmonc: error: {message}", file=sys.stderr)
    if hint:
        print(f"  hint: {hint}", file=sys.stderr)


def _port_map(args: argparse.Namespace, devices: list[str]) -> dict[str, str] | None:
    ports: dict[str, str] = {}
    for text in args.port:
        device, sep, name = text.partition("=")
        if not sep:
            device, name = "*", text
        if not name.strip():
            _fail(f"--port takes NAME or DEVICE=NAME, not `{text}`")
            return None
        if device != "*" and device not in devices:
            _fail(f"--port names device `{device}`, which the song does not use", did_you_mean(device, devices))
            return None
        ports[device.strip()] = name.strip()
    return ports


def _options(args: argparse.Namespace, result: CompileResult) -> PlayOptions | None:
    from harmonlang.runtime.live_player import PlayOptions

    ids = [scene["id"] for scene in result.ir["scenes"]]
    picked: dict[str, list[str]] = {}
    for flag, region in (("--from", args.start), ("--loop", args.loop)):
        if region is None:
            continue
        picked[flag] = _matching(region, ids)
        if not picked[flag]:
            _fail(f"{flag} names no scene `{region}`", did_you_mean(region, ids) or "scene ids look like I.you.1a")
            return None
    start = picked.get("--from", picked.get("--loop", [None]))[0]
    return PlayOptions(start_scene=start, loop_scenes=picked.get("--loop"), swap=args.swap, clock=args.clock)


def _performance(result: CompileResult, ports: dict[str, str]) -> Performance:
    from harmonlang.runtime.live_plan import build_performance

    return build_performance(result.filled_score, ports)


def _describe(perf: Performance, options: PlayOptions) -> list[str]:
    role = options.clock or perf.clock_role
    lines = []
    for destination in perf.destinations:
        lines.append(f'  {", ".join(destination.devices)} -> port "{destination.pattern}"')
        lines += [f"  set-up: {setup}" for setup in destination.setup if role == "master"]
    if perf.unrouted:
        lines.append(f"  not played (no MIDI port): {', '.join(perf.unrouted)}")
    return lines


def _list_ports(api: str | None) -> int:
    from harmonlang.runtime.live_ports import Ports

    ports = Ports(api)
    try:
        print("MIDI outputs:", *(f"  {name}" for name in ports.names()) or ["  (none)"], sep="\n")
        print("MIDI inputs:", *(f"  {name}" for name in ports.input_names()) or ["  (none)"], sep="\n")
    finally:
        ports.close()
    return EXIT_OK


def _interruptible() -> None:
    """SIGTERM stops playing the way Ctrl-C does: all notes off, then exit."""

    def stop(_signal: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def command_play(args: argparse.Namespace) -> int:
    from harmonlang.cli import _compile
    from harmonlang.runtime.live_ports import PortError

    try:
        if args.list_ports:
            return _list_ports(args.midi_api)
        if args.file is None:
            _fail("play needs a song: harmonc play FILE")
            return EXIT_USAGE
        from harmonlang.runtime.live_ports import api_number

        api_number(args.midi_api)
    except PortError as error:
        _fail(str(error))
        return EXIT_USAGE
    result = _compile(args.file)
    if result is None:
        return EXIT_ERRORS
    if not fill_options(result, args):
        return EXIT_USAGE
    options = _options(args, result)
    ports_map = _port_map(args, list(result.ir["devices"]))
    if options is None or ports_map is None:
        return EXIT_USAGE
    perf = _performance(result, ports_map)
    from harmonlang.runtime.live_player import Player
    from harmonlang.runtime.live_ports import ClockInput, Ports

    _interruptible()
    player: Player | None = None
    ports: Ports | None = None
    clock = None
    try:
        ports = Ports(args.midi_api, on_change=lambda event, pattern: player.port_changed(event, pattern))
        player = Player(ports, options, lambda line: print(line, flush=True))
        player.play(perf)
        if player.role == "follow":
            clock = ClockInput(ports, perf.clock_source or "", player.clock_in)
        ports.watch()
        print(_headline(perf, options, player.role), *_describe(perf, options), sep="\n", flush=True)
        while not player.wait(0.2):
            pass
        print(f"played to the end, {player.state.summary()}", flush=True)
    except PortError as error:
        _fail(str(error), "connect the device, or send its part elsewhere with --port DEVICE=NAME (--list-ports)")
        return EXIT_ERRORS
    except KeyboardInterrupt:
        print("stopping: all notes off", flush=True)
    finally:
        if player is not None:
            player.stop()
            print(f"stopped {player.state.summary()}", flush=True)
        if clock is not None:
            clock.close()
        if ports is not None:
            ports.close()
    if player is not None and player.error is not None:
        raise player.error
    return EXIT_OK


def _headline(perf: Performance, options: PlayOptions, role: str) -> str:
    start = perf.scene(options.start_scene) if options.start_scene else None
    where = f"from {start[0]}" if start else "from the top"
    loop = f", looping {options.loop_scenes[0]}..{options.loop_scenes[-1]}" if options.loop_scenes else ""
    clock = {"master": "clock master", "follow": f"following clock from {perf.clock_source}", "off": "no clock"}[role]
    tempo = perf.bpm_at(start[1] if start else 0)
    return f'playing "{perf.title}" {where} at {tempo:g} BPM{loop}, {clock}; Ctrl-C stops'


def command_watch(args: argparse.Namespace) -> int:
    from harmonlang import cli_audio
    from harmonlang.cli import emit_outputs, parse_kinds

    kinds = parse_kinds(args.emit)
    if kinds is None:
        return EXIT_USAGE
    try:
        audio_options = cli_audio.prepare(kinds, args, Path(args.output))
    except cli_audio.AudioRefused as refusal:
        _fail(str(refusal))
        return EXIT_USAGE
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        _fail(f"-o {args.output} is a file; outputs go in a folder")
        return EXIT_USAGE
    if args.play:
        from harmonlang.runtime.live_ports import PortError, api_number

        try:
            api_number(args.midi_api)
        except PortError as error:
            _fail(str(error))
            return EXIT_USAGE
    _interruptible()
    session = _WatchSession(args, kinds, audio_options, out)
    try:
        return session.run(emit_outputs)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        session.close()


class _WatchSession:
    def __init__(self, args: argparse.Namespace, kinds: list[str], audio_options: Any, out: Path) -> None:
        from harmonlang.incremental import IncrementalBuilder

        self.args, self.kinds, self.audio_options, self.out = args, kinds, audio_options, out
        self.builder = IncrementalBuilder(seed=args.seed)
        self.player: Any = None
        self.ports_map: dict[str, str] | None = None
        self.stem = Path(args.file).name.removesuffix(".circle")

    def say(self, line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)

    def run(self, emit_outputs: Any) -> int:
        from watchfiles import watch

        watched = self.build(emit_outputs)
        while watched is not None:
            self.say(f"watching {', '.join(sorted(str(p) for p in watched))}; Ctrl-C stops")
            for changes in watch(
                *watched, debounce=WATCH_DEBOUNCE_MS, step=WATCH_STEP_MS, rust_timeout=500, yield_on_timeout=True
            ):
                if self.player is not None and self.player.finished:
                    self.say("the player stopped")
                    self.player = None
                if not any(Path(path).suffix == ".circle" for _, path in changes):
                    continue
                found = self.build(emit_outputs)
                if found != watched:  # an import came or went (or a usage error): watch the new set of folders
                    watched = found
                    break
        return EXIT_USAGE

    def build(self, emit_outputs: Any) -> set[Path] | None:
        """Rebuild; the folders to watch, or None on a usage error. A song with errors changes nothing."""

        from harmonlang.memory import paused_gc

        started = time.perf_counter()
        with paused_gc():  # a full collection costs ~100 ms: it waits for the idle time after the write
            return self._build(emit_outputs, started)

    def _build(self, emit_outputs: Any, started: float) -> set[Path] | None:
        from harmonlang.cli import _report
        from harmonlang.compiler import CompileFailure

        try:
            result, stats = self.builder.rebuild(self.args.file)
        except CompileFailure as failure:
            _report(failure.diagnostics, failure.sources)
            kept = "the last good build stays" + (" and keeps playing" if self.player is not None else "")
            self.say(f"{sum(d.severity == 'error' for d in failure.diagnostics)} error(s); {kept}")
            return self.folders(failure.sources)
        _report(result.diagnostics, result.program.sources)
        if self.args.reseed and not self.builder.reseed:  # scene names are known once the song compiles
            if not fill_options(result, self.args):
                return None
            self.builder.reseed = dict(result.reseed)
            result, stats = self.builder.rebuild(self.args.file)
        result.stem = self.stem
        status = emit_outputs(result, self.out, self.stem, self.kinds, self.audio_options, quiet=True, freeze=False)
        took = (time.perf_counter() - started) * 1000
        if status == EXIT_OK:
            refilled = f"{len(stats.refilled)} of {stats.scenes} scenes composed"
            self.say(f"built in {took:.0f} ms ({refilled}); wrote {', '.join(self.kinds)} to {self.out}")
        if self.args.play:
            self.play(result)
        return self.folders(result.program.sources)

    def folders(self, sources: Any) -> set[Path]:
        """The folders of the song and of the writer's own files it imports (not the stdlib's)."""
        from harmonlang.resolve import stdlib_root

        stdlib = Path(str(stdlib_root())).resolve()
        paths = {Path(self.args.file).resolve().parent}
        for label in sources.texts:
            path = Path(label)
            if path.suffix == ".circle" and path.exists() and not path.resolve().is_relative_to(stdlib):
                paths.add(path.resolve().parent)
        return paths

    def play(self, result: CompileResult) -> None:
        from harmonlang.runtime.live_ports import PortError
        from harmonlang.runtime.live_process import PlayerProcess

        if self.ports_map is None:
            self.ports_map = _port_map(self.args, list(result.ir["devices"]))
            options = _options(self.args, result) if self.ports_map is not None else None
            if options is None:
                raise SystemExit(EXIT_USAGE)
            self.options = options
        perf = _performance(result, self.ports_map)
        if self.player is None:
            self.player = PlayerProcess(self.args.midi_api, self.options, self.say)
            try:
                self.player.play(perf)
            except PortError as error:
                self.player.stop()
                self.player = None
                _fail(str(error), "connect the device, or send its part elsewhere with --port DEVICE=NAME")
                raise SystemExit(EXIT_ERRORS) from None
            print(_headline(perf, self.options, self.options.clock or perf.clock_role), flush=True)
            print(*_describe(perf, self.options), sep="\n", flush=True)
        else:
            self.player.swap(perf)

    def close(self) -> None:
        if self.player is not None:
            state = self.player.stop()
            self.say(f"stopped {state.summary() if state is not None else ''}; all notes off sent")
