"""`--emit sp404`: the song as a Roland SP-404MKII sample set, banks and pads laid out by story position.

The folder is the SD card's `IMPORT/` layout: 16-bit 48 kHz stereo WAVs with short ASCII names that start
with their bank and pad, so they sort in pad order, and `PADS.md`, the sheet of what is where. Banks that
the song's SP-404 parts play hold exactly the pad sounds the render played, so the hardware sounds the
same; the other banks hold, in order, each act's scene loops, a bank of phrase loops and a bank of
one-shots. A loop is the master cut at its scene's or phrase's first and last sample, so it loops in time.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from harmonlang.ir import Score
from harmonlang.runtime.audio_base import RATE, sample_positions
from harmonlang.runtime.timeline import PHRASE_WORDS, Timeline, part_routes

BANKS = "ABCDEFGHIJ"
PADS = 16  # per bank
FIRST_PAD_NOTE = 36  # MIDI mode A: pads 1-16 are notes 36-51, bank A-J on channels 1-10
SP404_DEVICES = frozenset({"sp404mk2"})
PART_SECTION = "part bank"
PHRASE_KINDS = ("A", "B", "A'", "T")
KIND_TAGS = {"A": "A", "B": "B", "A'": "A2", "T": "T"}  # A and A' must not sanitize to one name
TAG_LENGTH = 8  # "B01-" + 8 + ".WAV": 16 characters, short enough for the SP-404's file list
SILENCE = 10 ** (-60 / 20)  # a one-shot's tail below -60 dBFS is trimmed
FADE_FRAMES = round(0.005 * RATE)  # 5 ms fade-out, so a trimmed one-shot ends without a click
BLOCK = 1 << 16  # frames quantized and written at a time: memory stays flat for long loops
FULL_SCALE = 32768  # int16 = round(x * 32768): what soundfile reads back as x


@dataclass(frozen=True)
class PadSample:
    """One WAV on one pad, as written."""

    bank: str  # "A".."J"
    pad: int  # 1..16
    file: str  # relative to IMPORT/, e.g. "B01-YOU1A.WAV"
    what: str  # e.g. "scene loop I.you.1a", "one-shot kick", "chops pad 5 (note 40)"
    bars: int | None
    tempo: float | None  # at its first beat
    frames: int
    tempo_mean: float | None = None  # a loop's beats over its time: the BPM to sync it at, when a drift runs in it


@dataclass(frozen=True)
class PadSource:
    """What goes on a pad: a cut of the master (`span`), a named one-shot (`shot`) or a part's pad sound."""

    tag: str  # the file name's [A-Z0-9] part after the bank and pad
    what: str
    bars: int | None = None
    tempo: float | None = None
    tempo_mean: float | None = None
    span: tuple[int, int] | None = None  # master samples [start, end)
    shot: str | None = None  # a key of `one_shots`


@dataclass(frozen=True)
class PadPlan:
    bank: str
    pad: int
    section: str  # what the bank holds, as PADS.md's bank list says it
    source: PadSource

    @property
    def file(self) -> str:
        return f"{self.bank}{self.pad:02d}-{self.source.tag}.WAV"

    def written(self, frames: int) -> PadSample:
        s = self.source
        return PadSample(self.bank, self.pad, self.file, s.what, s.bars, s.tempo, frames, s.tempo_mean)


def file_tag(text: str, fallback: str) -> str:
    """`you.1a` -> `YOU1A`, `Café №5` -> `CAFENO5`: uppercase ASCII letters and digits, at most 8."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()
    return re.sub(r"[^A-Z0-9]", "", ascii_text)[:TAG_LENGTH] or fallback


def sp404_part_banks(score: Score) -> dict[str, list[str]]:
    """Each bank an SP-404 part plays anywhere in the song (its own routing or a cell's), with the parts."""
    players: dict[str, list[str]] = defaultdict(list)
    for index, part in enumerate(score.parts):
        for route in part_routes(score, index):
            if route.device in SP404_DEVICES and route.output in BANKS and part.name not in players[route.output]:
                players[route.output].append(part.name)
    return dict(players)


def _loop(timeline: Timeline, tag: str, what: str, bars: int, tempo: float, start: int, end: int) -> PadSource:
    """A cut of the master from tick `start` to tick `end`, at the exact samples the render put them."""
    first, last = (int(x) for x in sample_positions(timeline.score, np.array([start, end], dtype=np.int64)))
    seconds = (last - first) / RATE
    mean = (end - start) / timeline.ppq * 60 / seconds if seconds > 0 else tempo
    return PadSource(tag, what, bars, tempo, mean, span=(first, last))


def _act_sections(score: Score, timeline: Timeline) -> list[tuple[str, list[PadSource], bool]]:
    """One section per act, its scene loops in story order; an act may spill into further banks."""
    acts: dict[str, list[PadSource]] = {}
    for scene in score.scenes:
        tempo = scene.phrases[0].tempo if scene.phrases else score.tempo_map[0].bpm
        tag = file_tag(scene.id.split(".", 1)[-1], "SCENE")
        loop = _loop(timeline, tag, f"scene loop {scene.id}", scene.bars, tempo, scene.start, scene.end)
        acts.setdefault(scene.act, []).append(loop)
    return [(f"act {act} scene loops", loops, True) for act, loops in acts.items()]


def _phrase_section(score: Score, timeline: Timeline) -> tuple[str, list[PadSource], bool]:
    """For each act, the first phrase of each kind it has: its chorus, bridge, reframed chorus and transition."""
    firsts: dict[tuple[str, str], PadSource] = {}
    for scene in score.scenes:
        for phrase in scene.phrases:
            if (scene.act, phrase.kind) not in firsts:
                tag = file_tag(scene.act, "ACT") + KIND_TAGS[phrase.kind]
                what = f"phrase {scene.act} {phrase.kind} {PHRASE_WORDS[phrase.kind]} ({scene.id})"
                loop = _loop(timeline, tag, what, phrase.bars, phrase.tempo, phrase.start, phrase.end)
                firsts[scene.act, phrase.kind] = loop
    acts = list(dict.fromkeys(scene.act for scene in score.scenes))
    loops = [firsts[act, kind] for act in acts for kind in PHRASE_KINDS if (act, kind) in firsts]
    return "phrase loops", loops, False


def _part_plan(bank: str, pad: int, parts: list[str]) -> PadPlan:
    """A pad of a part bank: the sound the song's SP-404 part triggers there, on the note that triggers it."""
    who = ", ".join(parts) or "SP-404 part"
    what = f"{who} pad {pad} (note {FIRST_PAD_NOTE + pad - 1})"
    return PadPlan(bank, pad, f"{PART_SECTION} ({who})", PadSource(f"PAD{pad}", what))


def plan_pads(
    score: Score, one_shot_names: list[str], part_pad_keys: Iterable[tuple[str, int]] = ()
) -> tuple[list[PadPlan], list[str]]:
    """Where every sample goes, in bank and pad order, and notices of what was left out and why.

    `part_pad_keys` are the (bank, pad) sounds the song's SP-404 parts trigger; those banks, and every bank
    an SP-404 part plays, are kept for the parts. The free banks take the story's sections in order.
    """
    timeline = Timeline(score)
    notices: list[str] = []
    keys = sorted(set(part_pad_keys))
    bad = [key for key in keys if key[0] not in BANKS or not 1 <= key[1] <= PADS]
    notices += [f"sp404: no bank {bank} pad {pad} on the SP-404MKII: that part sound is left out" for bank, pad in bad]
    keys = [key for key in keys if key not in bad]
    players = sp404_part_banks(score)
    part_banks = set(players) | {bank for bank, _ in keys}
    plans = [_part_plan(bank, pad, players.get(bank, [])) for bank, pad in keys]
    notices += [
        f"sp404: bank {bank} is played by {', '.join(players[bank])} but no pad sounds were rendered for it"
        for bank in sorted(players)
        if not any(key[0] == bank for key in keys)
    ]
    shots = [PadSource(file_tag(name, "SHOT"), f"one-shot {name}", shot=name) for name in one_shot_names]
    sections = [*_act_sections(score, timeline), _phrase_section(score, timeline), ("one-shots", shots, False)]
    free = [bank for bank in BANKS if bank not in part_banks]
    for section, sources, spills in sections:
        room = len(sources) if spills else PADS
        placed, first_bank = 0, ""
        for at in range(0, min(len(sources), room), PADS):
            if not free:
                break
            bank = free.pop(0)
            first_bank = first_bank or bank
            label = section if at == 0 else f"{section}, continued from bank {first_bank}"
            chunk = sources[at : at + PADS]
            plans += [PadPlan(bank, pad, label, source) for pad, source in enumerate(chunk, 1)]
            placed = at + len(chunk)
        if left := sources[placed:]:
            why = "a bank holds 16 pads" if placed == room else "no bank is free"
            notices.append(f"sp404: {section}: {len(left)} left out ({why}): {', '.join(s.what for s in left)}")
    plans.sort(key=lambda plan: (plan.bank, plan.pad))
    return plans, notices


def as_stereo(audio: np.ndarray) -> np.ndarray:
    """The sound as (frames, 2): a view when it is stereo already, a mono sound doubled onto both sides."""
    audio = audio[:, None] if audio.ndim == 1 else audio
    if audio.ndim != 2 or audio.shape[1] not in (1, 2):
        raise ValueError(f"sp404: a sound must be (frames,) or (frames, 1 or 2), not {audio.shape}")
    return audio if audio.shape[1] == 2 else np.repeat(audio, 2, axis=1)


def trim_one_shot(sound: np.ndarray) -> np.ndarray:
    """The sound up to 5 ms past its last sample above -60 dBFS, faded out over its last 5 ms (a copy)."""
    loud = np.flatnonzero(np.abs(sound).max(axis=1) >= SILENCE) if len(sound) else np.zeros(0, dtype=int)
    end = min(len(sound), (int(loud[-1]) + 1 if len(loud) else 0) + FADE_FRAMES)
    trimmed = np.array(sound[:end], dtype=np.float32) if end else np.zeros((1, 2), dtype=np.float32)
    fade = min(FADE_FRAMES, len(trimmed))
    trimmed[-fade:] *= np.linspace(1.0, 0.0, fade + 1, dtype=np.float32)[1:, None]
    return trimmed


def cut_loop(master: np.ndarray, span: tuple[int, int], what: str, notices: list[str]) -> np.ndarray:
    """The master's samples [start, end) as a view; padded with silence (and said so) if the master ends first."""
    start, end = span
    cut = as_stereo(master[start:end])
    if len(cut) < end - start:
        notices.append(f"sp404: the master ends before {what} does: its loop is padded with silence")
        cut = np.concatenate([cut, np.zeros((end - start - len(cut), 2), dtype=cut.dtype)])
    return cut


def write_pcm16(path: Path, audio: np.ndarray, seed: int) -> int:
    """Write 16-bit 48 kHz stereo PCM, clipped to [-1, 1] and TPDF-dithered, a block at a time; the frames."""
    rng = np.random.default_rng(seed)  # seeded by the file name: a song always gives the same bytes
    with sf.SoundFile(path, "w", samplerate=RATE, channels=2, subtype="PCM_16", format="WAV") as wav:
        for at in range(0, len(audio), BLOCK):
            block = np.clip(audio[at : at + BLOCK], -1.0, 1.0).astype(np.float64) * FULL_SCALE
            block += rng.random(block.shape) - rng.random(block.shape)  # triangular, +-1 LSB
            wav.write(np.clip(np.rint(block), -FULL_SCALE, FULL_SCALE - 1).astype(np.int16))
    return len(audio)


def write_sp404_set(
    score: Score,
    master: np.ndarray,
    part_pads: dict[tuple[str, int], np.ndarray],
    one_shots: dict[str, np.ndarray],
    folder: Path,
) -> list[str]:
    """Write `folder/IMPORT/` (the WAVs and PADS.md) and return the notices: what did not fit, and why."""
    plans, notices = plan_pads(score, list(one_shots), part_pads)
    imports = folder / "IMPORT"
    imports.mkdir(parents=True, exist_ok=True)
    written: list[PadSample] = []
    for plan in plans:
        source = plan.source
        if source.span is not None:
            audio = cut_loop(master, source.span, source.what, notices)
        else:
            sound = one_shots[source.shot] if source.shot is not None else part_pads[plan.bank, plan.pad]
            audio = trim_one_shot(as_stereo(np.asarray(sound)))
        written.append(plan.written(write_pcm16(imports / plan.file, audio, zlib.crc32(plan.file.encode()))))
    sections = {plan.bank: plan.section for plan in plans}
    (imports / "PADS.md").write_text(pads_sheet(score, written, sections, notices), encoding="utf-8")
    return notices


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _tempo(sample: PadSample) -> str:
    """`124.0`, or `124.0 (mean 125.1)` for a loop a tempo drift runs through."""
    if sample.tempo is None:
        return ""
    start = f"{sample.tempo:.1f}"
    mean = f"{sample.tempo_mean:.1f}" if sample.tempo_mean is not None else start
    return start if mean == start else f"{start} (mean {mean})"


def pads_sheet(score: Score, samples: list[PadSample], sections: dict[str, str], notices: list[str]) -> str:
    """PADS.md: how to import the set, what each bank holds, the part banks' MIDI channels, every pad."""
    players = sp404_part_banks(score)
    lines = [
        f"# {score.title}: SP-404MKII sample set",
        "",
        f"{len(samples)} WAVs for the Roland SP-404MKII (16-bit, 48 kHz, stereo), on banks and pads by story position.",
        "",
        "## Importing",
        "",
        "1. Copy the files in this `IMPORT/` folder into the `IMPORT` folder on the SP-404MKII's SD card.",
        "2. On the SP-404MKII, import them one bank at a time onto the bank and pad each name starts with:",
        "   `B01-...WAV` goes on bank B, pad 1. The names sort by bank and pad, so a bank's files list in pad order.",
        "3. Loops are cut on their first and last beat: a loop pad's BPM is its tempo (the mean, if it drifts).",
        "",
        "## Banks",
        "",
        "| bank | holds |",
        "|---|---|",
    ]
    for bank in BANKS:
        if bank in sections or bank in players:
            empty = "" if bank in sections else f"{PART_SECTION} ({', '.join(players[bank])}), no pad sounds rendered"
            lines.append(f"| {bank} | {_cell(sections.get(bank, empty))} |")
    part_banks = sorted(set(players) | {bank for bank, label in sections.items() if label.startswith(PART_SECTION)})
    if part_banks:
        lines += [
            "",
            "## Part banks over MIDI",
            "",
            "The part banks hold exactly the pad sounds the render played, so the SP-404MKII sounds the same when the",
            "song plays it. In MIDI mode A, bank A listens on channel 1 ... bank J on channel 10; pads 1-16 are notes",
            f"{FIRST_PAD_NOTE}-{FIRST_PAD_NOTE + PADS - 1}.",
            "",
        ]
        lines += [
            f"- bank {bank}: channel {BANKS.index(bank) + 1}, {', '.join(players.get(bank, [])) or 'SP-404 part'}"
            for bank in part_banks
        ]
    lines += [
        "",
        "## Pads",
        "",
        "| bank | pad | file | what | bars | tempo | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s.bank} | {s.pad} | {s.file} | {_cell(s.what)} | {'' if s.bars is None else s.bars} | {_tempo(s)} "
        f"| {s.frames / RATE:.3f} |"
        for s in samples
    ]
    if notices:
        lines += ["", "## Left out and notices", ""] + [f"- {notice.removeprefix('sp404: ')}" for notice in notices]
    return "\n".join(lines) + "\n"
