"""The Logic Pro template: a folder Logic opens as a story-circle project.

Logic's project format is undocumented, but its File > Open on a type-1 SMF
makes a project with the file's named tracks, markers, tempo map and
meters. So the template is that SMF laid out as 16 fixed tracks (the same
slot for the same role in every song, each named with where it plays), the
MusicXML, the stems when audio was rendered in the same build, an
AppleScript that opens the SMF, a routing sheet and a README.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harmonlang.ir import PartInfo, Score
from harmonlang.runtime.midi import PartTrack, Timed, part_track, tracks_to_midi
from harmonlang.runtime.timeline import Route, Timeline, part_notes, part_routes, playable

ANY = ("protagonist", "antagonist", "chords", "bass", "drums", "samples")
FX = "fx"  # sample parts for effects and risers, told apart by name
FX_WORDS = ("fx", "riser", "sweep", "noise", "impact", "sfx")
MAKERS = ("Roland ", "Arturia ", "Zoom ")  # dropped from device titles in track names


@dataclass(frozen=True)
class Slot:
    label: str
    takes: tuple[str, ...]  # roles (or FX) a part may have to sit here
    default_role: str | None  # whose rig device names the slot while it is empty


# The story-circle template: the same 16 tracks in the same order for every song.
SLOTS = (
    Slot("Protagonist lead", ("protagonist",), "protagonist"),
    Slot("Protagonist double", ("protagonist",), "protagonist"),
    Slot("Antagonist", ("antagonist",), "antagonist"),
    Slot("Antagonist 2", ("antagonist",), "antagonist"),
    Slot("Chords", ("chords",), "chords"),
    Slot("Chords 2", ("chords",), "chords"),
    Slot("Bass", ("bass",), "bass"),
    Slot("Bass 2", ("bass",), "bass"),
    Slot("Drums", ("drums",), "drums"),
    Slot("Percussion", ("drums",), "drums"),
    Slot("Sampler", ("samples",), "samples"),
    Slot("Sampler 2", ("samples",), "samples"),
    Slot("Sampler 3", ("samples",), "samples"),
    Slot("FX and risers", (FX, "samples"), "samples"),
    Slot("Spare 1", ANY, None),
    Slot("Spare 2", ANY, None),
)


@dataclass(frozen=True)
class Track:
    number: int  # 1-based, after the conductor track
    label: str
    part: int | None  # index into score.parts; None for an empty slot
    destination: str  # where it plays, e.g. "S-1 ch3"

    def name(self, score: Score) -> str:
        if self.part is None:
            return f"{self.number:02d} {self.label} > {self.destination} (empty)"
        return f"{self.number:02d} {self.label}: {score.parts[self.part].name} > {self.destination}"


def _is_fx(part: PartInfo) -> bool:
    return part.role == "samples" and any(word in part.name.lower() for word in FX_WORDS)


def device_name(score: Score, device: str) -> str:
    """The device as its front panel says: `S-1`, `SP-404MKII`, `General MIDI synth`."""
    info = score.devices.get(device)
    if info is None:
        return device
    return next((info.title.removeprefix(maker) for maker in MAKERS if info.title.startswith(maker)), info.title)


def _where(score: Score, route: Route) -> str:
    output = "" if route.output == "main" else f" {route.output}"
    return f"{device_name(score, route.device)}{output} ch{route.channel}"


def destination(score: Score, index: int, timeline: Timeline) -> str:
    """Where a part plays, and where the song moves it: `S-1 ch3, gm ch2 from bar 289`."""
    first, *moves = part_routes(score, index)
    later = [f"{_where(score, r)} from bar {timeline.bar_at(r.tick).number}" for r in moves]
    return ", ".join([_where(score, first), *later])


def _empty_destination(score: Score, slot: Slot) -> str:
    style = score.style.roles.get(slot.default_role or "")
    if style is None or not style.rig:
        return "free"
    device, _, output = style.rig.replace(" bank ", ".").partition(".")
    return f"{device_name(score, device)}{' ' + output if output else ''}"


def layout(score: Score, timeline: Timeline | None = None) -> list[Track]:
    """Each part in the first free slot for its role (effects first to FX and risers), then the spares.

    Parts beyond the template's slots get tracks 17 and up, so nothing is ever dropped.
    """
    timeline = timeline or Timeline(score)
    taken: dict[int, int] = {}  # slot index -> part index
    extra: list[int] = []
    for index, part in enumerate(score.parts):
        wanted = [FX, part.role] if _is_fx(part) else [part.role]
        free = next(
            (s for want in wanted for s, slot in enumerate(SLOTS) if want in slot.takes and s not in taken),
            None,
        )
        if free is None:
            extra.append(index)
        else:
            taken[free] = index
    tracks = [
        Track(
            number + 1,
            slot.label,
            taken.get(number),
            destination(score, taken[number], timeline) if number in taken else _empty_destination(score, slot),
        )
        for number, slot in enumerate(SLOTS)
    ]
    for offset, index in enumerate(extra, start=len(SLOTS) + 1):
        tracks.append(Track(offset, "Extra", index, destination(score, index, timeline)))
    return tracks


def template_midi(score: Score, tracks: list[Track]) -> bytes:
    events: list[tuple[str, list[Timed] | PartTrack]] = [
        (track.name(score), part_track(score, track.part) if track.part is not None else []) for track in tracks
    ]
    return tracks_to_midi(score, events)


def applescript(stem: str) -> str:
    quoted = stem.replace("\\", "\\\\").replace('"', '\\"')  # inside an AppleScript string
    return f"""-- Opens {stem}.mid in Logic Pro, which makes a project of its 16 named tracks,
-- its markers (every scene and phrase), its tempo map and its meters.
-- Run it with Script Editor or: osascript open-in-logic.applescript
set templateFolder to do shell script "dirname " & quoted form of POSIX path of (path to me)
set songFile to POSIX file (templateFolder & "/{quoted}.mid")
tell application id "com.apple.logic10" -- Logic Pro (and Logic Pro X)
\tactivate
\topen songFile
end tell
"""


def routing_sheet(score: Score, tracks: list[Track], stem: str, timeline: Timeline) -> str:
    lines = [
        f"# {score.title}: routing",
        "",
        f"Made by harmonc from `{score.source}`. {len(score.scenes)} scenes, {len(timeline.bars)} bars, "
        f"{timeline.clock(score.length)} long; the clock is `{score.clock.role}`"
        + (f" (from {score.clock.source})" if score.clock.source else "")
        + ".",
        "",
        "## Tracks",
        "",
        "| track | slot | part | role | device | port | channel | program | notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for track in tracks:
        if track.part is None:
            lines.append(f"| {track.number} | {track.label} | (empty) | | {track.destination} | | | | |")
            continue
        part = score.parts[track.part]
        count = len(playable(part_notes(score, track.part)))
        for number, route in enumerate(part_routes(score, track.part)):
            device = score.devices.get(route.device)
            where = f"{device.title if device else route.device}{'' if route.output == 'main' else ' ' + route.output}"
            program = "" if route.program is None else str(route.program + 1)
            row = [str(track.number), track.label, part.name, part.role] if number == 0 else ["", "", "", ""]
            note = f"{count} notes" if number == 0 else f"from bar {timeline.bar_at(route.tick).number} ({route.scene})"
            row += [where, route.port or "(none)", str(route.channel), program, note]
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Devices", ""]
    used = sorted({r.device for t in tracks if t.part is not None for r in part_routes(score, t.part)})
    for name in used:
        device = score.devices.get(name)
        if device is None:
            continue
        facts = [f"port `{device.port}`" if device.port else "no MIDI port"]
        facts.append(f"takes {', '.join(device.clock_in)}" if device.clock_in else "ignores clock")
        if device.clock_setup:
            facts.append(device.clock_setup)
        if not device.note_off:
            facts.append("ignores Note Off")
        lines.append(f"- **{device.title}** (`{name}`): {'; '.join(facts)}.")
    lines += [
        "",
        "## Scenes",
        "",
        "| scene | act | step | bar | time | bars | meter | tempo | key | phrases (bar) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scene in score.scenes:
        first = scene.phrases[0]
        phrases = " · ".join(f"{p.kind} {timeline.bar_at(p.start).number}" for p in scene.phrases)
        lines.append(
            f"| {scene.id} | {scene.act} | {scene.step} | {timeline.bar_at(scene.start).number} | "
            f"{timeline.clock(scene.start)} | {scene.bars} | {scene.meter[0]}/{scene.meter[1]} | "
            f"{first.tempo:g} | {first.key.tonic} {first.key.mode} | {phrases} |"
        )
    lines += ["", f"Open `{stem}.mid` in Logic Pro (File > Open, or run `open-in-logic.applescript`).", ""]
    return "\n".join(lines)


def readme(stem: str, with_stems: bool) -> str:
    stems = (
        "- `stems/`: one WAV per part (48 kHz, 24-bit, after its fader, before the master), plus one per effect "
        "return (`return-reverb.wav`, ...), all aligned to the song's start. Drag them into the project at bar 1 "
        "to hear the song without the rig.\n"
        if with_stems
        else "- `stems/`: not rendered in this build (`--emit logic` renders them unless `--synth none` is given).\n"
    )
    return f"""# {stem}.logic: a Logic Pro template

Logic Pro's own project format is undocumented, so harmonc does not write one. What Logic does with each file:

- `{stem}.mid`: a type-1 Standard MIDI File. Logic's File > Open (or dragging it onto the dock icon) makes a new
  project from it: one software-instrument track per MIDI track, named as in the file, with the notes as regions;
  the markers (every scene, and every phrase in it) become Logic markers; the tempo map (drifts included) and the
  meter and key changes go into Logic's global tracks. The 16 tracks are the same for every song: protagonist,
  antagonist, chords, bass, drums, sampler, FX and risers, and spares, each named with its hardware destination
  (device, output and MIDI channel). Set each track's output to that device's port (an External MIDI track, or
  Logic's External Instrument plug-in) once, save the project as your own template, and every song lands in the
  same places. Logic may leave out a slot that has no notes.
- `{stem}.musicxml`: the score. Logic's File > Import > MusicXML opens it in the Score editor; MuseScore, Dorico,
  Finale and Sibelius open it too.
{stems}- `open-in-logic.applescript`: opens `{stem}.mid` in Logic Pro (double-click it in Finder to open it in
  Script Editor, then Run; or `osascript open-in-logic.applescript`).
- `ROUTING.md`: which track plays on which device, port and channel, how each device must be set to follow the
  clock, and where each scene starts (bar and time).

Finder may show this folder as one Logic document (Logic 9 projects used the `.logic` extension): right-click it and
choose Show Package Contents.
"""


def logic_files(
    score: Score, stem: str, musicxml: bytes, stems: dict[str, bytes | Path] | None = None
) -> dict[str, bytes | Path]:
    """The template's files, by path inside `<stem>.logic/`; a stem may be a rendered file to place there."""
    timeline = Timeline(score)
    tracks = layout(score, timeline)
    files: dict[str, bytes | Path] = {
        f"{stem}.mid": template_midi(score, tracks),
        f"{stem}.musicxml": musicxml,
        "open-in-logic.applescript": applescript(stem).encode(),
        "ROUTING.md": routing_sheet(score, tracks, stem, timeline).encode(),
        "README.md": readme(stem, bool(stems)).encode(),
    }
    for name, data in (stems or {}).items():
        files[f"stems/{name}"] = data
    return files
