"""`harmonc` commands about what the agents made: `explain`, `freeze`, and the fill options.

`--seed N` sets the agents' seed; `--reseed SCENE=N` (repeatable) composes one
scene, or every scene of an act, step or sequence (`IIa.search`), afresh
while the rest stays bit-identical.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harmonlang.compiler import CompileResult

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
PHRASE_TITLES = {"A": "chorus A", "B": "bridge B", "A'": "chorus A′", "T": "transition"}


def add_fill_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, metavar="N", help="the agents' seed (default: the song's `seed`)")
    parser.add_argument(
        "--reseed",
        action="append",
        default=[],
        metavar="SCENE=N",
        help="compose a scene (or an act, step or sequence: IIa.search) afresh with reseed number N; repeatable",
    )


def _scene_ids(result: CompileResult) -> list[str]:
    return [scene["id"] for scene in result.ir["scenes"]]


def _matching(region: str, ids: list[str]) -> list[str]:
    return [i for i in ids if i == region or i.startswith(region + ".") or _sequence_of(i) == region]


def _sequence_of(scene_id: str) -> str:
    return scene_id[:-1]  # IIa.search.2a -> IIa.search.2


def _unknown_scene(region: str, ids: list[str]) -> str:
    from harmonlang.diagnostics import did_you_mean

    regions = sorted({i.rsplit(".", n)[0] for i in ids for n in (1, 2)} | {_sequence_of(i) for i in ids})
    hint = did_you_mean(region, [*regions, *ids]) or ""
    return f"harmonc: error: no scene `{region}` in this song{hint and '; ' + hint}"


def fill_options(result: CompileResult, args: argparse.Namespace) -> bool:
    """Put `--seed` and `--reseed` on the result; False (after saying why) when one is malformed."""
    result.seed = getattr(args, "seed", None)
    ids = _scene_ids(result)
    for text in getattr(args, "reseed", []) or []:
        region, _, number = text.partition("=")
        if not number.strip().lstrip("-").isdigit():
            print(f"harmonc: error: --reseed takes SCENE=N (e.g. IIa.search.2a=1), not `{text}`", file=sys.stderr)
            return False
        scenes = _matching(region.strip(), ids)
        if not scenes:
            print(_unknown_scene(region.strip(), ids), file=sys.stderr)
            return False
        for scene in scenes:
            result.reseed[scene] = int(number)
    return True


def add_story_commands(commands: Any) -> None:
    explain = commands.add_parser("explain", help="say which agent made each part of a scene, and why")
    explain.add_argument("file", metavar="FILE", help="the song")
    explain.add_argument("scene", metavar="SCENE", help="a scene id, e.g. IIa.search.2a")
    explain.add_argument("--genre", metavar="GENRE", help="render the song in another genre first")
    add_fill_options(explain)
    explain.set_defaults(run=command_explain)
    freeze = commands.add_parser("freeze", help="write a scene's generated notes into the song as editable text")
    freeze.add_argument("file", metavar="FILE", help="the song (rewritten in place)")
    freeze.add_argument("scene", metavar="SCENE", help="a scene id, e.g. IIa.search.2a")
    freeze.add_argument("--dry-run", action="store_true", help="print the new text instead of writing it")
    add_fill_options(freeze)
    freeze.set_defaults(run=command_freeze, genre=None)


def _load(args: argparse.Namespace) -> tuple[CompileResult, dict[str, Any]] | int:
    from harmonlang.cli import _compile

    result = _compile(args.file, genre=getattr(args, "genre", None))
    if result is None:
        return EXIT_ERRORS
    if not fill_options(result, args):
        return EXIT_USAGE
    ids = _scene_ids(result)
    if args.scene not in ids:
        print(_unknown_scene(args.scene, ids), file=sys.stderr)
        return EXIT_USAGE
    scene = next(s for s in result.filled["scenes"] if s["id"] == args.scene)
    return result, scene


def command_explain(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if isinstance(loaded, int):
        return loaded
    result, scene = loaded
    sys.stdout.write(explain_scene(result.filled, scene))
    return EXIT_OK


def explain_scene(score: dict[str, Any], scene: dict[str, Any]) -> str:
    """The provenance of every part of a scene, as text."""
    brief = scene.get("brief") or {}
    arc = scene["arc"]
    lines = [
        f"{scene['id']}: act {scene['act']}, step {scene['step']}, {scene['bars']} bars in "
        f"{scene['meter'][0]}/{scene['meter'][1]}",
        f"  act agent: {brief.get('about', '-')}",
        f"  story: energy {_number(arc.get('energy'))}, tension {_number(arc.get('tension'))}"
        + (
            f"; intent: {scene['phrases'][0]['directives']['intent']}"
            if "intent" in scene["phrases"][0]["directives"]
            else ""
        ),
        f"  brief: dynamics x{brief.get('velocity_scale', 1)}, density {brief.get('density', '-')}, "
        f"A′ by {' + '.join(brief.get('variation') or ['-'])}",
    ]
    critique = scene.get("critique")
    if critique:
        totals = ", ".join(
            f"{c['total']:.2f}" + ("*" if i == critique["chosen"] else "") for i, c in enumerate(critique["candidates"])
        )
        kept = critique["candidates"][critique["chosen"]]["scores"]
        shown = ", ".join(
            f"{name} {_number(kept.get(name))}" for name in ("chord_tones", "key", "energy", "similarity")
        )
        lines.append(
            f"  critic: kept candidate {critique['chosen'] + 1} of {len(critique['candidates'])} ({totals}); {shown}"
        )
    for note_part, note in (brief.get("texture_notes") or {}).items():
        lines.append(f"  arrangement: {note_part}: {note}")
    roles = {part["name"]: part for part in score["parts"]}
    for phrase in scene["phrases"]:
        key = f"{phrase['key']['tonic']} {phrase['key']['mode']}"
        lines.append(f"  {PHRASE_TITLES[phrase['kind']]} ({key}, {phrase['bars']} bars)")
        chords = " | ".join(f"{c['symbol']}" for c in phrase["harmony"])
        lines.append(f"    harmony: {chords or '-'}")
        for chord in phrase["harmony"]:
            if chord.get("note"):
                lines.append(f"      {chord['symbol']}: {chord['note']}")
        for cell in phrase["cells"]:
            lines += _cell_lines(cell, roles.get(cell["part"], {}))
    return "\n".join(lines) + "\n"


def _cell_lines(cell: dict[str, Any], part: dict[str, Any]) -> list[str]:
    name = f"{cell['part']} ({part.get('role', '?')})"
    provenance = cell.get("provenance") or {}
    if cell["status"] == "literal":
        material = provenance.get("material")
        where = provenance.get("source") or "the song"
        extra = f"; {provenance['note']}" if provenance.get("note") else ""
        return [f"    {name}: the writer's {'`' + material + '`' if material else 'notes'} ({where}){extra}"]
    if cell["status"] == "rest":
        who = provenance.get("agent") or "the form"
        return [f"    {name}: rests ({who}: {provenance.get('note') or 'the role rests in this phrase'})"]
    if cell["status"] == "hole":
        return [f"    {name}: open (not filled)"]
    result = []
    counts = [0] * len(cell["origins"])
    for index in cell["event_origins"]:
        counts[index] += 1
    for origin, count in zip(cell["origins"], counts, strict=True):
        result.append(f"    {name}: {origin.get('agent')} agent, {count} notes: {origin.get('note')}")
    return result or [f"    {name}: generated, no notes"]


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def command_freeze(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if isinstance(loaded, int):
        return loaded
    result, _ = loaded
    from harmonlang.freeze import FreezeError, freeze_scene

    path = Path(args.file)
    text = path.read_text(encoding="utf-8")
    try:
        new_text, summary = freeze_scene(text, result.filled, args.scene, path=str(path))
    except FreezeError as error:
        print(f"harmonc: error: {error}", file=sys.stderr)
        return EXIT_ERRORS
    if args.dry_run:
        sys.stdout.write(new_text)
        return EXIT_OK
    if new_text != text:
        from harmonlang.output import write_atomic

        write_atomic(path, new_text)
    for line in summary:
        print(line)
    return EXIT_OK
