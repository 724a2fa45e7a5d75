"""The syntax tree as the editor features read it: every statement, and where each circle block belongs.

A block of the circle (`act I { ... }`, `step need { ... }`, `scene III.change.3b { ... }`, `bridge { ... }`)
addresses a container of scenes; `place_sections` works out which, as the checker does
(`harmonlang.scopes.LayerBuilder`), but quietly: a block it cannot place is simply left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harmonlang import nodes as n
from harmonlang.diagnostics import CompileError, Diagnostics
from harmonlang.parser import parse_source
from harmonlang.readers import PHRASE_GROUPS, PHRASE_NAMES
from harmonlang.scopes import SCENE_LETTERS, Structure

Container = tuple[Any, ...]  # (act,), (act, step), (act, step, sequence), (act, step, sequence, letter)
SECTION_LEVELS = ("act", "step", "sequence", "scene")


def parse_quietly(text: str, label: str) -> n.Module | None:
    """The text's syntax tree, or None when it does not parse (the diagnostics say why)."""
    try:
        return parse_source(text, label, Diagnostics())
    except CompileError:
        return None
    except RecursionError:
        return None


def blocks_of(statement: Any) -> list[n.Block]:
    if isinstance(statement, n.Song):
        return [statement.block]
    if isinstance(statement, n.Section | n.Definition):
        return [statement.block]
    if isinstance(statement, n.Setting | n.Part) and statement.block is not None:
        return [statement.block]
    return []


def walk(body: list[Any]) -> Iterator[Any]:
    """Every statement in a body and in the blocks inside it, in source order."""
    for statement in body:
        yield statement
        for block in blocks_of(statement):
            yield from walk(block.body)


def targets(body: list[Any]) -> Iterator[n.Target]:
    """Every `on DEVICE` in a body: parts' and part overrides'."""
    for statement in walk(body):
        if isinstance(statement, n.Part | n.PartOverride) and statement.target is not None:
            yield statement.target


@dataclass
class Placed:
    """A circle block and the scenes it addresses (phrases: the phrase kinds of a phrase block)."""

    section: n.Section
    container: Container
    phrases: tuple[str, ...] | None = None

    @property
    def level(self) -> str:
        return "phrase" if self.phrases is not None else SECTION_LEVELS[len(self.container) - 1]


def place_sections(module: n.Module, structure: Structure) -> list[Placed]:
    """Every circle block of a file that addresses scenes of the song, outermost first."""
    placed: list[Placed] = []

    def visit(body: list[Any], container: Container) -> None:
        for statement in body:
            if not isinstance(statement, n.Section):
                continue
            if statement.kind in PHRASE_GROUPS or statement.kind == "phrase":
                kinds = _phrase_kinds(statement)
                if kinds and container:
                    placed.append(Placed(statement, container, kinds))
                elif kinds:  # a phrase block at the top level: every scene's phrases of that kind
                    placed.append(Placed(statement, (), kinds))
                continue
            child = _child(statement, container, structure)
            if child is not None:
                placed.append(Placed(statement, child))
                visit(statement.block.body, child)

    visit(module.body, ())
    return placed


def _phrase_kinds(section: n.Section) -> tuple[str, ...] | None:
    if section.kind != "phrase":
        return PHRASE_GROUPS.get(section.kind)
    name = PHRASE_NAMES.get(section.address.text) if section.address else None
    return (name,) if name else None


def _child(section: n.Section, container: Container, structure: Structure) -> Container | None:
    if section.address is None:
        return None
    address, kind = section.address.text, section.kind
    if "." in address:
        return None if container else _dotted(kind, address, structure)
    if kind == "act":
        return (address,) if not container and address in structure.acts else None
    if kind == "step":
        act = structure.act_of.get(address)
        if act is None or len(container) > 1 or (container and container[0] != act):
            return None
        return (act, address)
    if kind == "sequence":
        return (*container, int(address)) if len(container) == 2 and _sequence(address) else None
    if kind == "scene":
        if len(container) == 3 and address in tuple(SCENE_LETTERS):
            return (*container, address)
        if len(container) in (2, 3) and _scene(address):
            local = (*container[:2], int(address[0]), address[1])
            return local if len(container) == 2 or local[2] == container[2] else None
    return None


def _dotted(kind: str, address: str, structure: Structure) -> Container | None:
    parts = address.split(".")
    expected = {"step": 2, "sequence": 3, "scene": 3}.get(kind)
    if expected is None or len(parts) != expected or structure.act_of.get(parts[1]) != parts[0]:
        return None
    if kind == "step":
        return (parts[0], parts[1])
    if kind == "sequence":
        return (parts[0], parts[1], int(parts[2])) if _sequence(parts[2]) else None
    return (parts[0], parts[1], int(parts[2][0]), parts[2][1]) if _scene(parts[2]) else None


def _sequence(text: str) -> bool:
    return text.isdigit() and 1 <= int(text) <= 3


def _scene(text: str) -> bool:
    return len(text) == 2 and text[0] in "123" and text[1] in SCENE_LETTERS


def header_contains(section: n.Section, line: int, col: int) -> bool:
    """Whether a 1-based position is on a block's header: from its keyword to its `{`."""
    start, brace = (section.span.line, section.span.col), (section.block.span.line, section.block.span.col)
    return start <= (line, col) <= brace


def scene_key(scene: dict[str, Any]) -> Container:
    return (scene["act"], scene["step"], scene["sequence"], scene["scene"])


def covers(container: Container, scene: dict[str, Any]) -> bool:
    return scene_key(scene)[: len(container)] == container
