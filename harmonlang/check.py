"""Stage 3, check: give the resolved program its meaning, or say why it has none.

Builds the three setting layers (song, genre, template), evaluates named
material with its transforms, routes parts to devices, and checks that every
name a setting mentions exists. All problems found are reported together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harmonlang import nodes as n
from harmonlang.devices import Device, Router, Routing, assign_channels
from harmonlang.diagnostics import Diagnostics, Span, did_you_mean
from harmonlang.genres import RoleStyle, check_story_names, read_roles
from harmonlang.music import (
    DRUM_VOICES,
    Material,
    Notes,
    read_groove,
    read_notes,
    read_progression,
)
from harmonlang.parts import PartChecks, PartDef
from harmonlang.resolve import LoadedModule, Program
from harmonlang.roles import ROLES
from harmonlang.scopes import SCENE_LETTERS, Layer, LayerBuilder, Structure, effective, read_structure
from harmonlang.theory import Key, bar_ticks, spell_key
from harmonlang.transforms import apply_transform

DEFAULT_TEMPLATE = "harmon"
REQUIRED_DEFAULTS = ("key", "tempo", "meter", "length", "sequences", "scenes", "seed")


@dataclass
class MaterialDef:
    name: str
    kind: str
    node: n.Material
    material: Material | None = None
    done: bool = False
    from_genre: bool = False


@dataclass
class CheckedSong:
    program: Program
    structure: Structure
    layers: list[Layer]
    title: str
    genre: str | None
    template: str
    materials: dict[str, MaterialDef]
    parts: dict[str, PartDef]
    home_key: Key
    override_materials: dict[int, tuple[str | None, Material | None]]
    override_routes: dict[int, Routing | None]
    has_header: bool = True
    pipelines: dict[str, tuple[str, Material]] = field(default_factory=dict)
    genre_roles: dict[str, RoleStyle] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)  # every device the song plays, follows or mixes on


def _header_setting(program: Program, name: str) -> n.Setting | None:
    for loaded in program.user_modules:
        for statement in loaded.module.body:
            body = statement.block.body if isinstance(statement, n.Song) else [statement]
            for item in body:
                if isinstance(item, n.Setting) and item.name.text == name:
                    return item
    return None


class Checker(PartChecks):
    def __init__(
        self, program: Program, diagnostics: Diagnostics, library_ok: bool = False, genre: str | None = None
    ) -> None:
        self.program, self.diagnostics, self.library_ok = program, diagnostics, library_ok
        self.genre_override = genre
        self.router = Router(program, diagnostics)
        self.materials: dict[str, MaterialDef] = {}
        self.meter_bar = bar_ticks(4, 4)
        self.override_materials: dict[int, tuple[str | None, Material | None]] = {}
        self.override_routes: dict[int, Routing | None] = {}
        self.override_owner: dict[int, str] = {}
        self.override_spans: dict[int, Span] = {}
        self.pipelines: dict[str, tuple[str, Material]] = {}
        self.template_span: Span | None = None
        self.scene_bars = 8
        self.genre_block: n.Block | None = None
        self.genre_roles: dict[str, RoleStyle] = {}
        self.use_rig = False

    # ---- the layers ---------------------------------------------------------------------
    def definition_block(self, kind: str, default: str | None) -> tuple[str | None, n.Block | None]:
        setting = _header_setting(self.program, kind)
        name = setting.values[0].text if setting and setting.values else default
        if kind == "genre" and self.genre_override is not None:  # `--genre`: the same song in another style
            name, setting = self.genre_override, None
        if name is None:
            return None, None
        found = self.program.find_definition(kind, name, setting.values[0].span if setting else None, self.diagnostics)
        return name, found[0].block if found else None

    def layers(self) -> tuple[Structure, list[Layer], str, str | None]:
        template_name, template_block = self.definition_block("circle", DEFAULT_TEMPLATE)
        self.template_span = template_block.span if template_block else None
        structure = read_structure(template_block, self.diagnostics) if template_block else None
        self.diagnostics.stop_if_errors()
        assert structure is not None and template_name is not None
        template = Layer(2)
        LayerBuilder(template, structure, self.diagnostics, template=True).collect(template_block.body, (), None, None)
        genre_name, genre_block = self.definition_block("genre", None)
        self.genre_block = genre_block
        genre = Layer(1)
        if genre_block is not None:
            LayerBuilder(genre, structure, self.diagnostics).collect(genre_block.body, (), None, None)
        song = Layer(0)
        builder = LayerBuilder(song, structure, self.diagnostics)
        songs = [s for m in self.program.user_modules for s in m.module.body if isinstance(s, n.Song)]
        for extra in songs[1:]:
            diagnostic = self.diagnostics.error("a song has one `song { ... }` header", extra.span)
            diagnostic.notes.append(("the header is here", songs[0].span))
        if not songs and not self.library_ok:
            self.diagnostics.error(
                "this file has no `song` header",
                Span(file=self.program.entry.label, line=1, col=1, end_line=1, end_col=2),
                'start the song with `song "Title" { key A minor; tempo 124 }`; '
                "a file without one can be imported, and checked with `harmonc check`",
            )
        for loaded in self.program.user_modules:
            builder.collect(loaded.module.body, (), None, None)
        for header in songs[:1]:
            builder.collect(header.block.body, (), None, header.span)
        return structure, [song, genre, template], template_name, genre_name

    # ---- material -------------------------------------------------------------------------
    def collect_materials(self, modules: list[LoadedModule]) -> None:
        for loaded in modules:
            for statement in loaded.module.body:
                if not isinstance(statement, n.Material):
                    continue
                name = statement.name.text
                if name in self.materials:
                    diagnostic = self.diagnostics.error(f"`{name}` is defined twice", statement.name.span)
                    diagnostic.notes.append(("first defined here", self.materials[name].node.name.span))
                    continue
                self.materials[name] = MaterialDef(name, statement.kind, statement)

    def collect_genre_materials(self, genre: str | None) -> None:
        """The genre's grooves and progressions, usable by name; the writer's own names win.

        A genre material the writer's shadows stays reachable as `GENRE.NAME`, which is
        what the genre's and the template's `pattern` and `progression` then mean.
        """
        for statement in self.genre_block.body if self.genre_block else []:
            if isinstance(statement, n.Material):
                name = statement.name.text
                if name in self.materials:
                    name = f"{genre}.{name}"
                self.materials[name] = MaterialDef(name, statement.kind, statement, from_genre=True)

    def material(self, name: str, stack: tuple[str, ...]) -> Material | None:
        definition = self.materials[name]
        if not definition.done:
            if name in stack:
                cycle = " -> ".join([*stack[stack.index(name) :], name])
                self.diagnostics.error(f"`{name}` is defined in terms of itself: {cycle}", definition.node.name.span)
                return None
            definition.material = self.evaluate(definition.node.expr, definition.kind, (*stack, name))
            definition.done = True
        return definition.material

    def evaluate(self, expr: n.Expr, kind: str, stack: tuple[str, ...] = ()) -> Material | None:
        base = expr.base
        material: Material | None = None
        if isinstance(base, n.Ref):
            found = self.materials.get(base.name)
            if found is None:
                self.diagnostics.error(
                    f"unknown name `{base.name}`",
                    base.span,
                    did_you_mean(base.name, self.materials) or "no theme, prog or groove has this name",
                )
                return None
            if found.kind != kind:
                self.diagnostics.error(f"`{base.name}` is a {found.kind}, but a {kind} is needed here", base.span)
                return None
            material = self.material(base.name, stack)
        elif isinstance(base, n.Strings):
            if kind == "groove":
                self.diagnostics.error(
                    "a groove is a block of drum lines", base.span, 'write `groove beat = { kick "x...x..." }`'
                )
                return None
            reader = read_notes if kind == "theme" else read_progression
            material = reader(base.parts, self.meter_bar, self.diagnostics)
        else:
            if kind != "groove":
                example = '"a4/8 c5/8 e5/4"' if kind == "theme" else '"i VI III VII"'
                self.diagnostics.error(f"a {kind} is written in quotes", base.span, f"write `{kind} name = {example}`")
                return None
            material = read_groove(base, self.diagnostics)
        for step in expr.transforms:
            if material is None:
                return None
            material = apply_transform(material, kind, step, self.diagnostics)
            if isinstance(material, Notes) and any(not 0 <= e.pitch <= 127 for e in material.events):
                self.diagnostics.error(
                    "this puts notes outside the MIDI range", step.span, "MIDI notes run from c-1 to g9"
                )
                return None
        return material

    def expr_kind(self, expr: n.Expr, role: str) -> str:
        if isinstance(expr.base, n.Ref) and expr.base.name in self.materials:
            return self.materials[expr.base.name].kind
        return "groove" if isinstance(expr.base, n.Block) else ROLES[role].kinds[0]

    def part_material(self, expr: n.Expr, role: str, part: str) -> tuple[str | None, Material | None]:
        kind = self.expr_kind(expr, role)
        if kind not in ROLES[role].kinds:
            wanted = " or ".join(ROLES[role].kinds)
            example = {"theme": 'theme NAME = "a4/8 c5/8"', "prog": 'prog NAME = "i VI III VII"'}
            example["groove"] = 'groove NAME = { kick "x...x..." }'
            self.diagnostics.error(
                f"a {role} part plays a {wanted}, not a {kind}",
                expr.span,
                f"give `{part}` a {ROLES[role].kinds[0]}: `{example[ROLES[role].kinds[0]]}`, or change its role",
            )
            return None, None
        material = self.evaluate(expr, kind)
        if not isinstance(expr.base, n.Ref):
            return None, material
        if not expr.transforms:
            return expr.base.name, material
        # A pipeline is named by its own text, and kept with the named material for the agents.
        steps = " | ".join(" ".join([t.name.text, *(a.text for a in t.args)]) for t in expr.transforms)
        name = f"{expr.base.name} | {steps}"
        if material is not None:
            self.pipelines[name] = (kind, material)
        return name, material

    def references(self, layers: list[Layer], parts: dict[str, PartDef], structure: Structure) -> None:
        part_names = set(parts) | set(ROLES)
        for layer in layers[:1]:
            for container, scope in layer.scopes.items():
                self.scene_exists(container, scope, layers, structure)
                for entries in [scope.settings, *scope.phrases.values()]:
                    for key, entry in entries.items():
                        name, _, target = key.partition(":")
                        if name == "mix" and target not in part_names:
                            self.diagnostics.error(
                                f"`mix` names no part `{target}`", entry.span, did_you_mean(target, parts) or None
                            )
                        elif name == "mute":
                            for muted in entry.value:
                                if muted not in part_names:
                                    self.diagnostics.error(
                                        f"`mute` names no part `{muted}`", entry.span, did_you_mean(muted, parts)
                                    )
                        elif name == "fuse":
                            for each in (entry.value["a"], entry.value["b"]):
                                if each not in part_names and each not in self.materials:
                                    self.diagnostics.error(
                                        f"`fuse` names no theme or part `{each}`",
                                        entry.span,
                                        did_you_mean(each, [*parts, *self.materials]),
                                    )
                        elif name == "polyrhythm" and entry.value.get("voice", "hat") not in DRUM_VOICES:
                            voice = entry.value["voice"]
                            self.diagnostics.error(
                                f"unknown drum voice `{voice}`", entry.span, did_you_mean(voice, DRUM_VOICES)
                            )

    def unused_definitions(self, structure: Structure, genre: str | None) -> None:
        """The writer's own genres and devices are checked even when this song does not use them."""
        for (kind, name), (definition, loaded) in self.program.definitions.items():
            if loaded.stdlib:
                continue
            if kind == "device" and name not in self.router.devices:
                self.router.device(name, definition.name.span if definition.name else None)
            elif kind == "genre" and name != genre:
                LayerBuilder(Layer(1), structure, self.diagnostics).collect(definition.block.body, (), None, None)

    def scene_exists(self, container: tuple[Any, ...], scope: Any, layers: list[Layer], structure: Structure) -> None:
        if len(container) < 3:
            return
        counts = effective(layers, container[:2], None)
        sequences, scenes = counts["sequences"].value, counts["scenes"].value
        step = container[1]
        if container[2] > sequences:
            counted = f"{sequences} sequence{'s' if sequences != 1 else ''}"
            self.diagnostics.error(
                f"step {step} has {counted}, so sequence {container[2]} does not exist",
                scope.span,
                "raise `sequences`, or address a sequence that exists",
            )
        elif len(container) == 4 and SCENE_LETTERS.index(container[3]) >= scenes:
            counted = f"{scenes} scene{'s' if scenes != 1 else ''}"
            self.diagnostics.error(
                f"sequences in step {step} have {counted}, so scene {container[2]}{container[3]} does not exist",
                scope.span,
                "raise `scenes`, or address a scene that exists",
            )


def check(
    program: Program, diagnostics: Diagnostics, library_ok: bool = False, genre: str | None = None
) -> CheckedSong:
    """Give a resolved program its meaning. Raises CompileError listing every problem.

    With `library_ok`, a file without a song header is checked as a library module.
    `genre` replaces the genre the song names (the song keeps its themes and form).
    """
    checker = Checker(program, diagnostics, library_ok, genre)
    # A bad header setting is simply not stored, so checking goes on with the defaults below it.
    structure, layers, template, genre = checker.layers()
    root = effective(layers, (), None)
    missing = [name for name in REQUIRED_DEFAULTS if name not in root]
    if missing:
        shown = ", ".join(f"`{m}`" for m in missing)
        raise diagnostics.fail(
            f"nothing sets {shown} for this song",
            checker.template_span,
            f"a circle template gives every song a default for {', '.join(REQUIRED_DEFAULTS)}",
        )
    meter = tuple(root["meter"].value)
    checker.meter_bar = bar_ticks(*meter)
    checker.scene_bars = root["length"].value
    checker.collect_materials(program.user_modules)
    checker.collect_genre_materials(genre)
    for name in list(checker.materials):
        try:
            checker.material(name, ())
        except RecursionError:
            raise diagnostics.fail(
                f"`{name}` is defined through too long a chain of names",
                checker.materials[name].node.name.span,
                "define it more directly",
            ) from None
    if "mixer" in root:
        checker.router.use_mixer(root["mixer"].value, root["mixer"].span)
    checker.genre_roles = read_roles(checker.genre_block, checker.router, diagnostics)
    checker.use_rig = "instruments" in root and root["instruments"].value == "rig"
    parts = checker.parts()
    checker.overrides(layers[0], parts)
    stranded = assign_channels([p.routing for p in parts.values() if p.routing])
    for part in parts.values():
        if part.routing is not None and any(part.routing is r for r in stranded):
            diagnostics.error(
                f"{part.routing.device} has no free channel left for `{part.name}`",
                part.node.name.span,
                "15 melodic channels are in use: move some parts to another device or give them a `channel`",
            )
    checker.shared_channels(parts)
    for key, routing in checker.override_routes.items():
        # Re-routing within the part's own output keeps its channel (a program change, say).
        owner = parts.get(checker.override_owner.get(key, ""))
        own = owner.routing if owner else None
        if (
            routing
            and own
            and routing.channel == "auto"
            and (routing.device, routing.output) == (own.device, own.output)
        ):
            routing.channel = own.channel
    assign_channels(
        [p.routing for p in parts.values() if p.routing] + [r for r in checker.override_routes.values() if r]
    )
    checker.references(layers, parts, structure)
    genre_span = next(
        (d.name.span for (k, nm), (d, _) in program.definitions.items() if k == "genre" and nm == genre), None
    )
    check_story_names(layers, checker.materials, structure.act_of, (genre, genre_span), diagnostics)
    checker.unused_definitions(structure, genre)
    clock = root.get("clock")
    if clock is not None and clock.value["source"] and clock.layer == 0:
        source = checker.router.device(clock.value["source"], clock.span)
        if source is not None and "clock" not in source.settings.get("clock-out", []):
            diagnostics.error(
                f"{source.name} sends no MIDI clock",
                clock.span,
                "follow a device whose profile has `clock-out clock ...`, such as t8 or s1",
            )
    diagnostics.stop_if_errors()
    used = [p.routing.device for p in parts.values() if p.routing]
    used += [r.device for r in checker.override_routes.values() if r]
    used += [root[k].value for k in ("mixer",) if k in root]
    used += [clock.value["source"]] if clock is not None and clock.value["source"] else []
    devices = {name: found for name in used if (found := checker.router.devices.get(name)) is not None}
    songs = [s for m in program.user_modules for s in m.module.body if isinstance(s, n.Song)]
    title = songs[0].title.text if songs and songs[0].title else root["title"].value if "title" in root else "Untitled"
    key = root["key"].value
    return CheckedSong(
        program,
        structure,
        layers,
        title,
        genre,
        template,
        checker.materials,
        parts,
        spell_key(key["tonic"], key["mode"]),
        checker.override_materials,
        checker.override_routes,
        bool(songs),
        checker.pipelines,
        checker.genre_roles,
        devices,
    )
