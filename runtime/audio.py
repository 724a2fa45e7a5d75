"""`--emit audio`, `stems` and `sp404`: the whole song synthesized, mixed and mastered, scene by scene.

The song is rendered one scene at a time: each part's voices make the scene's block, the mixer turns
the blocks into the mix bus (and the stems, streamed to disk as they come), and the mix bus fills the
output buffer. Memory is that buffer plus one scene. Then the master is limited to −14 LUFS and
−1 dBTP, and written with its measured figures; the SP-404MKII set is cut from the master.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile

from harmonlang.ir import Phrase, Scene, Score
from harmonlang.runtime.audio_base import RATE, TAIL_SECONDS, SampleNote, Voice, sample_positions
from harmonlang.runtime.drum_voices import DrumVoice, sound
from harmonlang.runtime.mixer import Mixer
from harmonlang.runtime.pad_voices import PadVoice, pad_sound
from harmonlang.runtime.timeline import cell_where
from harmonlang.runtime.voices import Route, Synth, embedded_voice, emulation, gm_program, home_route, plays_soundfont

Array = np.ndarray
WORKERS = 2  # the numpy and pedalboard work releases the GIL, so parts render side by side
BLOCK = 1 << 18  # frames: 5.5 s
SOUNDFONT_GAIN = 1.0  # FluidSynth's gain: a GM part then sits at the level of the embedded voices
STEM_LIMIT = 0.999  # stems are written in fixed point: a louder sample is clipped, never wrapped


@dataclass
class AudioOptions:
    synth: Synth = "auto"
    soundfont: Path | None = None  # resolved by the caller; None plays everything on the embedded synth
    progress: bool = False


@dataclass
class AudioResult:
    files: dict[str, Path] = field(default_factory=dict)  # output name -> the staged file
    report: dict[str, object] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


@dataclass
class PartPlan:
    """One part's voices (one per place it plays) and its notes, block by block."""

    name: str
    voices: dict[Route, Voice | None]  # None: the route plays in the SoundFont rack
    notes: list[dict[Route, list[SampleNote]]]


def _routes_and_notes(score: Score, index: int, block_starts: Array) -> tuple[list[Route], list[dict]]:
    part = score.parts[index]
    home = home_route(part)
    per_block: list[dict[Route, list[SampleNote]]] = [{} for _ in range(len(block_starts))]
    routes: list[Route] = []
    for scene in score.scenes:
        for phrase in scene.phrases:
            cell = phrase.cells[index]
            device, output, _, channel, program = cell_where(part, cell)
            route = Route(device, output, channel, program)
            if route not in routes:
                routes.append(route)
            if not cell.events:
                continue
            events = np.array(cell.events, dtype=np.int64)
            starts = sample_positions(score, events[:, 0])
            ends = sample_positions(score, events[:, 0] + events[:, 1])
            blocks = np.searchsorted(block_starts, starts, side="right") - 1
            for (start, end, block), event in zip(zip(starts, ends, blocks, strict=True), events, strict=True):
                note = SampleNote(int(start), max(1, int(end - start)), int(event[2]), int(event[3]))
                per_block[int(block)].setdefault(route, []).append(note)
    for block in per_block:
        for notes in block.values():
            notes.sort(key=lambda n: n.start)
    return routes or [home], per_block


def kick_starts(score: Score, plans: list[PartPlan]) -> Array:
    """Where the kicks land: the sidechain's trigger, read from the drum parts' notes."""
    starts: list[int] = []
    for plan in plans:
        for route, voice in plan.voices.items():
            if emulation(score, route) != "drums":
                continue
            keys = voice.keys if isinstance(voice, DrumVoice) else DrumVoice({}).keys
            kicks = {key for key, name in keys.items() if name == "kick"}
            starts += [n.start for block in plan.notes for n in block.get(route, []) if n.pitch in kicks]
    return np.array(sorted(starts), dtype=np.int64)


class _Progress:
    """A progress bar on a terminal (rich), silent otherwise."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.bar = None
        if enabled and sys.stderr.isatty():
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("rendering", total=total)

    def advance(self, label: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"rendering {label}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def render_audio(score: Score, folder: Path, stem: str, kinds: set[str], options: AudioOptions) -> AudioResult:
    """Render the song into `folder` (a staging folder): `<stem>.wav`, `<stem>.master.json`, `stems/*.wav`,
    `<stem>.sp404/IMPORT/*`, as `kinds` ask."""
    from harmonlang.runtime.master import master

    started = time.perf_counter()
    result = AudioResult()
    song_end = int(sample_positions(score, np.array([score.length]))[0])
    total = song_end + int(TAIL_SECONDS * RATE)
    block_starts, block_places = _blocks(score, song_end, total)
    rack, plans = _voices(score, block_starts, options, result)
    part_pool, bus_pool, ahead = (ThreadPoolExecutor(max_workers=n) for n in (WORKERS, WORKERS, 1))
    mixer = Mixer(score, kick_starts(score, plans), "stems" in kinds or "logic" in kinds, bus_pool)
    buffer = np.zeros((total, 2), dtype=np.float32) if kinds & {"audio", "sp404"} else None
    bounds = zip(block_starts, [*block_starts[1:], total], strict=True)
    spans = [(block, int(begin), int(end)) for block, (begin, end) in enumerate(bounds) if end > begin]

    def voiced(span: tuple[int, int, int]) -> dict[str, Array]:
        block, begin, end = span
        return _render_block(plans, rack, mixer, part_pool, block_places[block], block, begin, end - begin)

    progress = _Progress(options.progress, len(spans))  # a step per block: a scene is a few blocks
    names = _StemNames()
    with ExitStack() as files:
        files.callback(progress.close)  # also when the render fails: the terminal gets its cursor back
        for pool in (part_pool, bus_pool, ahead):
            files.enter_context(pool)
        stems: dict[str, soundfile.SoundFile] = {}
        # The next scene is voiced (on its own thread, the SoundFont's only one) while this one is mixed.
        pending = ahead.submit(voiced, spans[0])
        for index, (block, begin, end) in enumerate(spans):
            parts = pending.result()
            if index + 1 < len(spans):
                pending = ahead.submit(voiced, spans[index + 1])
            scene, phrase = block_places[block]
            mix, stem_blocks = mixer.process(scene, phrase, parts, _tempo(score, scene))
            if buffer is not None:
                buffer[begin:end] = mix.T
            for name, audio in stem_blocks.items():
                if name not in stems:
                    path = folder / "stems" / names.file(name)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    stems[name] = files.enter_context(
                        soundfile.SoundFile(path, "w", RATE, 2, subtype="PCM_24", format="WAV")
                    )
                    _write_silence(stems[name], begin)
                    result.files[f"stems/{path.name}"] = path
                stems[name].write(np.clip(audio, -STEM_LIMIT, STEM_LIMIT).T)
            progress.advance(scene.id if scene else "tail")  # type: ignore[union-attr]
    if rack is not None:
        rack.close()
    rendered = time.perf_counter()
    report: dict[str, object] = {"seconds": round(song_end / RATE, 3)}
    if buffer is None:  # only stems were asked for: nothing to master
        result.report = report
        return result
    mastered, figures = master(buffer)
    del buffer
    report.update(figures.as_dict())
    if "audio" in kinds:
        wav = folder / f"{stem}.wav"
        soundfile.write(wav, mastered, RATE, subtype="PCM_24", format="WAV")
        result.files[wav.name] = wav
        info = folder / f"{stem}.master.json"
        info.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        result.files[info.name] = info
    if "sp404" in kinds:
        result.files.update(_sp404(score, plans, mastered, folder / f"{stem}.sp404", result))
    report["render_seconds"] = round(rendered - started, 3)
    report["master_seconds"] = round(time.perf_counter() - rendered, 3)
    result.report = report
    return result


Place = tuple[Scene | None, Phrase | None]  # where a block is in the story; (None, None) for the tail


def _blocks(score: Score, song_end: int, total: int) -> tuple[Array, list[Place]]:
    """Where each block starts, and its scene and phrase: every phrase cut into blocks of at most BLOCK frames
    (a phrase's directives hold for the whole block), then the tail."""
    places: list[Place] = [(scene, phrase) for scene in score.scenes for phrase in scene.phrases]
    ticks = np.array([phrase.start for _, phrase in places], dtype=np.int64)
    edges = [*(int(x) for x in sample_positions(score, ticks)), song_end, total]
    if not places or edges[0] > 0:  # the song starts before its first phrase
        places.insert(0, (places[0][0] if places else None, None))
        edges.insert(0, 0)
    places.append((None, None))
    starts: list[int] = []
    owners: list[Place] = []
    for place, begin, end in zip(places, edges[:-1], edges[1:], strict=True):
        cuts = list(range(begin, end, BLOCK)) or [begin]
        starts += cuts
        owners += [place] * len(cuts)
    return np.array(starts, dtype=np.int64), owners


def _tempo(score: Score, scene: Scene | None) -> float:
    if scene is not None and scene.phrases:
        return scene.phrases[0].tempo
    return score.tempo_map[-1].bpm


def _voices(score: Score, block_starts: Array, options: AudioOptions, result: AudioResult) -> tuple[object, list]:
    rack = None
    plans: list[PartPlan] = []
    routed = [_routes_and_notes(score, index, block_starts) for index in range(len(score.parts))]
    in_rack = sum(plays_soundfont(score, route, options.synth) for routes, _ in routed for route in routes)
    for part, (routes, notes) in zip(score.parts, routed, strict=True):
        voices: dict[Route, Voice | None] = {}
        for route in routes:
            if options.soundfont is not None and plays_soundfont(score, route, options.synth):
                if rack is None:
                    from harmonlang.runtime.soundfont import SoundFontRack

                    rack = SoundFontRack(options.soundfont, parts=in_rack, gain=SOUNDFONT_GAIN)
                rack.add_part(_rack_key(part.name, route), gm_program(score, part, route), _is_drums(score, route))
                voices[route] = None
            else:
                voices[route] = embedded_voice(score, part, route)
        plans.append(PartPlan(part.name, voices, notes))
    return rack, plans


def _is_drums(score: Score, route: Route) -> bool:
    return emulation(score, route) == "drums"


def _rack_key(part: str, route: Route) -> str:
    return f"{part}|{route.device}.{route.output}.{route.channel}.{route.program}"


def _render_block(
    plans: list[PartPlan],
    rack: object,
    mixer: Mixer,
    pool: Executor,
    place: Place,
    block: int,
    start: int,
    length: int,
) -> dict[str, Array]:
    """Every part's block, voiced and through its channel strip; the parts run side by side on the pool."""
    from_rack: dict[str, Array] = {}
    if rack is not None:
        wanted = {
            _rack_key(plan.name, route): plan.notes[block].get(route, [])
            for plan in plans
            for route, voice in plan.voices.items()
            if voice is None
        }
        from_rack = rack.block(wanted, start, length)  # type: ignore[attr-defined]
    scene, phrase = place
    duck = mixer.duck(start, length, mixer.character(phrase))

    def voiced(plan: PartPlan) -> Array:
        sounds = []
        for route, voice in plan.voices.items():
            if voice is None:  # in mono, like every voice: the mixer pans it, the reverb widens it
                stereo = from_rack[_rack_key(plan.name, route)]
                sounds.append((stereo[:, 0] + stereo[:, 1])[None, :])
            else:
                sounds.append(voice.block(plan.notes[block].get(route, []), start, length))
        audio = sounds[0] if len(sounds) == 1 else _sum(sounds)
        return mixer.channel_strip(scene, plan.name, audio, duck)

    return dict(zip((plan.name for plan in plans), pool.map(voiced, plans), strict=True))


def _write_silence(stream: soundfile.SoundFile, frames: int) -> None:
    """A stem that starts late starts with silence, written a second at a time."""
    quiet = np.zeros((RATE, 2), dtype=np.float32)
    for done in range(0, frames, RATE):
        stream.write(quiet[: min(RATE, frames - done)])


def _sum(sounds: list[Array]) -> Array:
    channels = max(s.shape[0] for s in sounds)
    total = np.zeros((channels, sounds[0].shape[1]), dtype=np.float32)
    for part_sound in sounds:
        total += part_sound
    return total


class _StemNames:
    """Each stem's file name: the part's name with anything a file system might refuse replaced, made unique
    (`lead'` and `lead_` are two parts, and a part may be called `return-reverb`)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def file(self, name: str) -> str:
        base = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "part"
        candidate, number = base, 1
        while candidate.lower() in self.taken:  # file systems that ignore case would merge them too
            number += 1
            candidate = f"{base}-{number}"
        self.taken.add(candidate.lower())
        return f"{candidate}.wav"


def _sp404(score: Score, plans: list[PartPlan], mastered: Array, folder: Path, result: AudioResult) -> dict[str, Path]:
    from harmonlang.runtime.sp404 import write_sp404_set

    part_pads: dict[tuple[str, int], Array] = {}
    for plan in plans:
        for voice in plan.voices.values():
            if isinstance(voice, PadVoice):
                for pad in range(1, 17):
                    part_pads[(voice.bank, pad)] = np.repeat(pad_sound(voice.bank, pad, voice.tonic)[:, None], 2, 1)
    one_shots = {name: np.repeat(sound(name)[:, None], 2, axis=1) for name in ONE_SHOTS}
    result.notices += write_sp404_set(score, mastered, part_pads, one_shots, folder)
    return {str(path.relative_to(folder.parent)): path for path in sorted(folder.rglob("*")) if path.is_file()}


ONE_SHOTS = ("kick", "snare", "clap", "hat", "openhat", "tom", "rim", "cowbell", "crash", "shaker")
