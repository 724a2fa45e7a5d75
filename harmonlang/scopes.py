"""Where each setting was stated, and what a phrase inherits.

Settings live in scopes: the song root, an act, a step, a sequence or a scene,
each with optional phrase-specific settings (`bridge { ... }`). There are three
layers, searched in order: the writer's files, the genre, the circle template.
Within a layer the innermost scope wins, and at each scope phrase-specific
settings beat scope-wide ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostics, Span, did_you_mean
from harmonlang.settings import PHRASE_GROUPS, PHRASE_NAMES, SETTINGS, SettingError, read_setting

Container = tuple[Any, ...]  # (), (act,), (act, step), (act, step, seq), (act, step, seq, letter)
LEVEL_OF_DEPTH = ("song", "act", "step", "sequence", "scene")
SCENE_LETTERS = "ab"


@dataclass
class Entry:
    value: Any
    span: Span
    layer: int  # 0 song, 1 genre, 2 template
    depth: int  # length of the container: 0 root .. 4 scene
    phrase: bool
    container: Container = ()


@dataclass
class Scope:
    span: Span | None = None
    settings: dict[str, Entry] = field(default_factory=dict)
    phrases: dict[str, dict[str, Entry]] = field(default_factory=dict)


@dataclass
class Structure:
    acts: list[str]
    steps: dict[str, list[str]]

    @cached_property
    def act_of(self) -> dict[str, str]:
        return {step: act for act, steps in self.steps.items() for step in steps}


@dataclass
class Layer:
    index: int
    scopes: dict[Container, Scope] = field(default_factory=dict)
    part_overrides: list[n.PartOverride] = field(default_factory=list)

    def scope(self, container: Container, span: Span | None) -> Scope:
        if container not in self.scopes:
            self.scopes[container] = Scope(span)
        return self.scopes[container]


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def read_structure(block: n.Block, diagnostics: Diagnostics) -> Structure | None:
    """The acts and steps a circle template declares (`acts ...`, `act X { steps ... }`)."""
    acts: list[str] = []
    steps: dict[str, list[str]] = {}
    for statement in block.body:
        if isinstance(statement, n.Setting) and statement.name.text == "acts":
            acts = [v.text for v in statement.values]
        if isinstance(statement, n.Section) and statement.kind == "act" and statement.address:
            for inner in statement.block.body:
                if isinstance(inner, n.Setting) and inner.name.text == "steps":
                    steps[statement.address.text] = [v.text for v in inner.values]
    if not acts or any(act not in steps for act in acts):
        diagnostics.error("a circle template names its `acts` and each act's `steps`", block.span)
        return None
    return Structure(acts, steps)


class LayerBuilder:
    def __init__(self, layer: Layer, structure: Structure, diagnostics: Diagnostics, template: bool = False) -> None:
        self.layer, self.structure, self.diagnostics, self.template = layer, structure, diagnostics, template
        self.act_of = structure.act_of

    def collect(
        self, body: list[Any], container: Container, phrases: tuple[str, ...] | None, span: Span | None
    ) -> None:
        scope = self.layer.scope(container, span)
        level = "phrase" if phrases else LEVEL_OF_DEPTH[len(container)]
        for statement in body:
            if isinstance(statement, n.Setting):
                self.setting(statement, scope, container, phrases, level)
            elif isinstance(statement, n.PartOverride):
                if self.layer.index > 0:
                    self.diagnostics.error(
                        "a genre or template cannot change a song's parts", statement.span, "set this in the song"
                    )
                    continue
                self.layer.part_overrides.append(statement)
                for key, value in (("plays", statement.plays), ("on", statement.target)):
                    if value is not None:
                        self.store(scope, phrases, f"{key}:{statement.part.text}", value, statement.span, container)
            elif isinstance(statement, n.Section):
                self.section(statement, container, phrases)
            elif container or phrases or (span is not None and self.layer.index == 0) or not self.fits_layer(statement):
                what = type(statement).__name__.lower()
                where = "inside the circle" if container or phrases else "in the song header"
                where = where if self.layer.index == 0 else "in a genre or template"
                self.diagnostics.error(
                    f"{_article(what)} cannot stand {where}",
                    statement.span,
                    "define it at the top level of the song's file",
                )

    def fits_layer(self, statement: object) -> bool:
        """At the top of a genre or template: settings, sections and named material only."""
        return self.layer.index == 0 or isinstance(statement, n.Material)

    def setting(self, statement: n.Setting, scope: Scope, container: Container, phrases: Any, level: str) -> None:
        name = statement.name.text
        spec = SETTINGS.get(name)
        if spec is None:
            here = [k for k, s in SETTINGS.items() if level in s.levels or (self.template and "circle" in s.levels)]
            if statement.block is not None:  # `stepp need { ... }` is a misspelled section, not a setting
                sections = ("act", "step", "sequence", "scene", "phrase", "chorus", "bridge", "transition")
                hint = did_you_mean(name, (*sections, "song", "genre", "device", "circle"))
                self.diagnostics.error(
                    f"unknown section `{name}`", statement.name.span, hint or f"sections: {', '.join(sections)}"
                )
                return
            self.diagnostics.error(
                f"unknown setting `{name}`",
                statement.name.span,
                did_you_mean(name, here) or did_you_mean(name, SETTINGS) or "docs/language.md lists every setting",
            )
            return
        allowed = set(spec.levels)
        if self.layer.index == 1 and "genre" in allowed:
            allowed |= {"song"}  # a genre's own settings stand at its top
            if name == "role":
                return  # read with its block by harmonlang.genres
        if self.template:
            allowed |= {"song"} if "circle" in allowed else set()
            allowed |= {"act"} if "circle-act" in allowed else set()
        if level not in allowed:
            where = ", ".join(sorted(spec.levels))
            self.diagnostics.error(
                f"`{name}` cannot be set in {_article(level)}", statement.name.span, f"`{name}` belongs in: {where}"
            )
            return
        if statement.block is not None:
            self.diagnostics.error(f"`{name}` takes no block", statement.block.span)
            return
        try:
            key, value = read_setting(statement)
        except SettingError as error:
            error.report(self.diagnostics, statement)
            return
        self.store(scope, phrases, key, value, statement.span, container)

    def store(self, scope: Scope, phrases: Any, key: str, value: Any, span: Span, container: Container) -> None:
        targets = [scope.phrases.setdefault(p, {}) for p in phrases] if phrases else [scope.settings]
        for target in targets:
            if key in target:
                diagnostic = self.diagnostics.error(f"`{key.split(':')[0]}` is set twice here", span)
                diagnostic.notes.append(("first set here", target[key].span))
                return
            target[key] = Entry(value, span, self.layer.index, len(container), bool(phrases), container)

    def section(self, section: n.Section, container: Container, phrases: Any) -> None:
        if phrases:
            self.diagnostics.error("nothing can be nested inside a phrase", section.span)
            return
        if section.kind in PHRASE_GROUPS or section.kind == "phrase":
            kinds = self.phrase_kinds(section)
            if kinds:
                self.collect(section.block.body, container, kinds, section.span)
            return
        child = self.child_container(section, container)
        if child is not None:
            self.collect(section.block.body, child, None, section.span)

    def phrase_kinds(self, section: n.Section) -> tuple[str, ...] | None:
        if section.kind != "phrase":
            return PHRASE_GROUPS[section.kind]
        assert section.address is not None
        name = section.address.text
        if name not in PHRASE_NAMES:
            hint = "phrases are A, B, A' and T (or write `chorus`, `bridge`, `transition`)"
            self.diagnostics.error(f"unknown phrase `{name}`", section.address.span, hint)
            return None
        return (PHRASE_NAMES[name],)

    def child_container(self, section: n.Section, container: Container) -> Container | None:
        assert section.address is not None
        address, span = section.address.text, section.address.span
        depth_needed = {"act": 0, "step": 1, "sequence": 2, "scene": 3}[section.kind]
        if "." in address:
            return self.dotted(section.kind, address, span, container)
        if section.kind == "act":
            if container:
                return self.misplaced(section, "an act stands at the top level")
            return self.known_act(address, span)
        if section.kind == "step":
            if len(container) > 1:
                return self.misplaced(section, "a step stands at the top level or inside its act")
            act = self.act_of.get(address)
            if act is None:
                self.diagnostics.error(
                    f"unknown step `{address}`", span, did_you_mean(address, self.act_of) or self.steps_hint()
                )
                return None
            if container and container[0] != act:
                self.diagnostics.error(
                    f"step `{address}` belongs to act {act}, not {container[0]}",
                    span,
                    f"write it inside `act {act} {{ ... }}`, or at the top level",
                )
                return None
            return (act, address)
        if len(container) < 2:
            example = "sequence 2" if section.kind == "sequence" else "scene 2b"
            where = f"`step need {{ {example} {{ ... }} }}`"
            full = "`sequence I.need.2`" if section.kind == "sequence" else "`scene I.need.2b`"
            return self.misplaced(section, f"write it inside a step, {where}, or give its full id, {full}")
        if section.kind == "sequence":
            if len(container) != depth_needed:
                return self.misplaced(section, "a sequence stands inside a step")
            return self.sequence_number(address, span, container)
        if len(container) == 2:
            return self.scene_id(address, span, container)
        if len(container) == 3:
            if address in tuple(SCENE_LETTERS):
                return (*container, address)
            local = self.scene_id(address, span, container[:2])
            if local is not None and local[2] != container[2]:
                self.diagnostics.error(f"scene {address} is not in sequence {container[2]}", span)
                return None
            return local
        return self.misplaced(section, "a scene stands inside a step or a sequence")

    def misplaced(self, section: n.Section, hint: str) -> None:
        self.diagnostics.error(f"this {section.kind} cannot stand here", section.span, hint)
        return None

    def steps_hint(self) -> str:
        return "steps: " + ", ".join(self.act_of)

    def known_act(self, act: str, span: Span) -> Container | None:
        if act not in self.structure.acts:
            self.diagnostics.error(
                f"unknown act `{act}`", span, did_you_mean(act, self.structure.acts) or "acts: I, IIa, IIb, III"
            )
            return None
        return (act,)

    def sequence_number(self, text: str, span: Span, container: Container) -> Container | None:
        if not text.isdigit() or not 1 <= int(text) <= 3:
            self.diagnostics.error(f"`{text}` is not a sequence number", span, "sequences are numbered 1 to 3")
            return None
        return (*container[:2], int(text))

    def scene_id(self, text: str, span: Span, step: Container) -> Container | None:
        if len(text) != 2 or text[0] not in "123" or text[1] not in SCENE_LETTERS:
            self.diagnostics.error(
                f"`{text}` is not a scene", span, "scenes are a sequence number and a letter: 1a, 1b, 2a ... 3b"
            )
            return None
        return (*step, int(text[0]), text[1])

    def dotted(self, kind: str, address: str, span: Span, container: Container) -> Container | None:
        parts = address.split(".")
        expected = {"act": 1, "step": 2, "sequence": 3, "scene": 3}[kind]
        if container or len(parts) != expected:
            shape = {"step": "I.need", "sequence": "I.need.2", "scene": "I.need.2b", "act": "I"}[kind]
            self.diagnostics.error(
                f"`{address}` is not a {kind} id", span, f"a full {kind} id looks like `{shape}`, at the top level"
            )
            return None
        act = self.known_act(parts[0], span)
        if act is None:
            return None
        step = parts[1]
        if self.act_of.get(step) != parts[0]:
            hint = (
                did_you_mean(step, self.structure.steps[parts[0]])
                or f"act {parts[0]} has {', '.join(self.structure.steps[parts[0]])}"
            )
            self.diagnostics.error(f"act {parts[0]} has no step `{step}`", span, hint)
            return None
        if kind == "step":
            return (parts[0], step)
        if kind == "sequence":
            return self.sequence_number(parts[2], span, (parts[0], step))
        return self.scene_id(parts[2], span, (parts[0], step))


def chain(container: Container) -> list[Container]:
    """The container and all that enclose it, outermost first."""
    return [container[:depth] for depth in range(len(container) + 1)]


def effective(layers: list[Layer], container: Container, phrase: str | None) -> dict[str, Entry]:
    """Every setting in force at a container (and phrase), most specific winning."""
    merged: dict[str, Entry] = {}
    containers = chain(container)
    for layer in reversed(layers):  # given as song, genre, template: the song's own settings win
        for each in containers:
            scope = layer.scopes.get(each)
            if scope is None:
                continue
            merged.update(scope.settings)
            if phrase is not None and phrase in scope.phrases:
                merged.update(scope.phrases[phrase])
    return merged
