"""The circle in time: what a block of the source covers, and the song as an outline of symbols.

Both read the lowered Score IR (holes unfilled): its scenes carry their act, step, sequence and
letter, their bars and start ticks, and the tempo map turns ticks into clock time.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from harmonlang import nodes as n
from harmonlang.lsp.locations import Lines
from harmonlang.lsp.syntax import SECTION_LEVELS, Container, Placed, covers, scene_key
from harmonlang.tempo import TempoMap

PHRASE_TITLES = {"A": "chorus A", "A'": "chorus A'", "B": "bridge B", "T": "transition"}
SHOWN_SCENES = 16  # a hover lists at most this many scenes, then says how many more


class Timeline(TempoMap):
    """The IR's tempo map (a song without one plays at 120 BPM), with clock times."""

    def __init__(self, ir: dict[str, Any]) -> None:
        tempo = sorted((entry["tick"], entry["bpm"]) for entry in ir.get("tempo_map") or [])
        if not tempo or tempo[0][0] > 0:
            tempo.insert(0, (0, tempo[0][1] if tempo else 120.0))
        super().__init__(tempo, ir.get("ppq", 480))

    def clock(self, tick: int) -> str:
        return clock_time(self.seconds(tick))


def clock_time(seconds: float) -> str:
    """mm:ss.s"""
    tenths = round(seconds * 10)
    return f"{tenths // 600:02d}:{tenths % 600 / 10:04.1f}"


def scene_id(scene: dict[str, Any]) -> str:
    return scene.get("id") or ".".join(map(str, scene_key(scene)))


def container_name(container: Container) -> str:
    if len(container) == 4:
        return f"{container[0]}.{container[1]}.{container[2]}{container[3]}"
    return ".".join(map(str, container)) or "the song"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _key(phrase: dict[str, Any]) -> str:
    key = phrase.get("key") or {}
    return f"{key.get('tonic', '?')} {key.get('mode', '')}".strip()


def describe_block(placed: Placed, ir: dict[str, Any]) -> str:
    """Markdown for a hover on a block's header: the scenes (or phrases) it covers and when they play."""
    timeline = Timeline(ir)
    scenes = [scene for scene in ir.get("scenes", []) if covers(placed.container, scene)]
    if placed.phrases is not None:
        return _describe_phrases(placed, scenes, timeline)
    section, container = placed.section, placed.container
    title = f"**{section.kind} {section.address.text}**" if section.address else f"**{section.kind}**"
    if not scenes:
        return f"{title}\n\nno scene of the song is here"
    first, last = scenes[0], scenes[-1]
    bars = sum(scene["bars"] for scene in scenes)
    levels = zip(SECTION_LEVELS, container, strict=False)
    where = ", ".join(f"{level} {value}" for level, value in levels)
    above = where.rpartition(", ")[0]  # the levels around the block (an act block has none)
    if len(container) == 4:
        phrase = (first.get("phrases") or [{}])[0]
        lines = [
            f"**scene {scene_id(first)}**: {where}",
            "",
            f"{_plural(first['bars'], 'bar')}, starts at {timeline.clock(first['start'])} "
            f"(ends {timeline.clock(first['end'])})",
            "",
            f"key {_key(phrase)}, {phrase.get('tempo', 0):g} BPM" if phrase else "",
        ]
        phrases = first.get("phrases") or []
        if phrases:
            lines += ["", "phrases: " + ", ".join(f"{p['name']} ({_plural(p['bars'], 'bar')})" for p in phrases)]
        return "\n".join(lines).rstrip()
    lines = [
        f"{title}: {above}" if above else title,
        "",
        f"{_plural(len(scenes), 'scene')}, {scene_id(first)} to {scene_id(last)}",
        "",
        f"{_plural(bars, 'bar')}, from {timeline.clock(first['start'])} to {timeline.clock(last['end'])}",
        "",
    ]
    lines += _scene_list(scenes, timeline)
    return "\n".join(lines)


def _scene_list(scenes: list[dict[str, Any]], timeline: Timeline) -> list[str]:
    shown = [
        f"- {scene_id(scene)}: {_plural(scene['bars'], 'bar')} at {timeline.clock(scene['start'])}"
        for scene in scenes[:SHOWN_SCENES]
    ]
    if len(scenes) > SHOWN_SCENES:
        shown.append(f"- and {len(scenes) - SHOWN_SCENES} more")
    return shown


def _describe_phrases(placed: Placed, scenes: list[dict[str, Any]], timeline: Timeline) -> str:
    section, container = placed.section, placed.container
    kinds = placed.phrases or ()
    name = f"phrase {section.address.text}" if section.kind == "phrase" and section.address else section.kind
    level = ("the song", "act", "step", "sequence", "scene")[len(container)]
    where = f"{level} {container_name(container)}" if container else "every scene"
    found = [(scene, phrase) for scene in scenes for phrase in scene.get("phrases", []) if phrase["kind"] in kinds]
    titles = " and ".join(PHRASE_TITLES.get(kind, kind) for kind in kinds)
    head = f"**{name}** ({titles}) in {where}"
    if not found:
        return f"{head}\n\nno phrase of the song is here"
    bars = sum(phrase["bars"] for _, phrase in found)
    lines = [
        head,
        "",
        f"{_plural(len(found), 'phrase')} in {_plural(len({scene_id(s) for s, _ in found}), 'scene')}, "
        f"{_plural(bars, 'bar')} in all",
        "",
        f"first at {timeline.clock(found[0][1]['start'])}, the last ends at {timeline.clock(found[-1][1]['end'])}",
        "",
    ]
    lines += [
        f"- {scene_id(scene)}: {phrase['name']}, {_plural(phrase['bars'], 'bar')} at {timeline.clock(phrase['start'])}"
        for scene, phrase in found[:SHOWN_SCENES]
    ]
    if len(found) > SHOWN_SCENES:
        lines.append(f"- and {len(found) - SHOWN_SCENES} more")
    return "\n".join(lines)


# ---- document symbols ---------------------------------------------------------------------

LEVEL_KINDS = {
    1: types.SymbolKind.Namespace,  # act
    2: types.SymbolKind.Class,  # step
    3: types.SymbolKind.Struct,  # sequence
    4: types.SymbolKind.Event,  # scene
}


def _symbol(
    name: str, kind: types.SymbolKind, whole: types.Range, pick: types.Range, detail: str | None = None
) -> types.DocumentSymbol:
    return types.DocumentSymbol(name=name, kind=kind, range=whole, selection_range=pick, detail=detail, children=[])


def statement_symbols(module: n.Module, lines: Lines) -> tuple[list[types.DocumentSymbol], types.Range]:
    """The song header, materials and parts of a file; and the header's range (the file's first line without one)."""
    symbols: list[types.DocumentSymbol] = []
    header = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    found_header = False
    for statement in module.body:
        if isinstance(statement, n.Song):
            whole = lines.range(statement.span)
            title = f'song "{statement.title.text}"' if statement.title else "song"
            symbols.append(_symbol(title, types.SymbolKind.Module, whole, lines.range(statement.span.at(0, 4))))
            if not found_header:
                header, found_header = whole, True
        elif isinstance(statement, n.Material):
            whole, pick = lines.range(statement.span), lines.range(statement.name.span)
            symbols.append(_symbol(statement.name.text, types.SymbolKind.Constant, whole, pick, statement.kind))
        elif isinstance(statement, n.Part):
            detail = f"{statement.role.text}" + (f" on {statement.target.device.text}" if statement.target else "")
            whole, pick = lines.range(statement.span), lines.range(statement.name.span)
            symbols.append(_symbol(statement.name.text, types.SymbolKind.Field, whole, pick, detail))
    if not found_header and module.body:
        header = lines.range(module.body[0].span)
        header = types.Range(start=header.start, end=header.start)
    return symbols, header


def circle_symbols(
    ir: dict[str, Any], placed: list[Placed], lines: Lines, header: types.Range
) -> list[types.DocumentSymbol]:
    """Acts > steps > sequences > scenes, every scene of the IR.

    Each lies at its written block, else at its nearest written ancestor's, else at the song's header;
    a container's range then grows to take in its children's, so every child lies within its parent.
    """
    written: dict[Container, tuple[types.Range, types.Range]] = {}
    for each in placed:
        if each.phrases is None and each.container not in written:
            section = each.section
            pick = section.address.span if section.address else section.span
            written[each.container] = (lines.range(section.span), lines.range(pick))
    timeline = Timeline(ir)
    nodes: dict[Container, types.DocumentSymbol] = {}
    totals: dict[Container, list[int]] = {}  # bars and first tick of each container
    top: list[types.DocumentSymbol] = []
    for scene in ir.get("scenes", []):
        key = scene_key(scene)
        for depth in range(1, 5):
            container = key[:depth]
            if container not in nodes:
                whole, pick = next(
                    (written[key[:up]] for up in range(depth, 0, -1) if key[:up] in written), (header, header)
                )
                symbol = nodes[container] = _circle_symbol(container, scene, whole, pick)
                parent = nodes[key[: depth - 1]].children if depth > 1 else top
                assert parent is not None
                parent.append(symbol)
                totals[container] = [0, scene["start"]]
            totals[container][0] += scene["bars"]
    for container, symbol in nodes.items():
        bars, start = totals[container]
        symbol.detail = f"{_plural(bars, 'bar')} at {timeline.clock(start)}"
    for symbol in top:
        _enclose(symbol)
    return top


def _circle_symbol(
    container: Container, scene: dict[str, Any], whole: types.Range, pick: types.Range
) -> types.DocumentSymbol:
    depth = len(container)
    level = ("act", "step", "sequence")[depth - 1] if depth < 4 else "scene"
    name = scene_id(scene) if depth == 4 else f"{level} {container[-1]}"
    return _symbol(name, LEVEL_KINDS[depth], whole, pick)


def _position(position: types.Position) -> tuple[int, int]:
    return position.line, position.character


def _enclose(symbol: types.DocumentSymbol) -> None:
    """Grow a symbol's range (children first) to take in its children's."""
    for child in symbol.children or []:
        _enclose(child)
        if _position(child.range.start) < _position(symbol.range.start):
            symbol.range = types.Range(start=child.range.start, end=symbol.range.end)
        if _position(child.range.end) > _position(symbol.range.end):
            symbol.range = types.Range(start=symbol.range.start, end=child.range.end)
