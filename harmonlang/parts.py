"""The part checks: routing, whether a device can play a part, mixes and channels.

Mixed into `harmonlang.check.Checker`; they report through its diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harmonlang import nodes as n
from harmonlang.devices import Router, Routing
from harmonlang.diagnostics import Diagnostics, Span, did_you_mean, one_of
from harmonlang.genres import RoleStyle, apply_mix_setting, genre_routing
from harmonlang.music import Groove, Material, Notes, Progression
from harmonlang.roles import ROLES
from harmonlang.scopes import Layer
from harmonlang.settings import SETTINGS, SettingError
from harmonlang.theory import Key


@dataclass
class PartDef:
    name: str
    role: str
    node: n.Part
    material: Material | None
    material_name: str | None
    routing: Routing | None
    mix: dict[str, Any] = field(default_factory=dict)


def max_polyphony(material: Material | None) -> int:
    """The most notes the material sounds at once."""
    if isinstance(material, Progression):
        return max((len(chord.voicing()) for _, chord in material.chords(Key(0, "C", "major"))), default=0)
    if not isinstance(material, Notes):
        return 0
    edges = sorted([(e.start, 1) for e in material.events] + [(e.start + e.dur, -1) for e in material.events])
    most = sounding = 0
    for _, change in edges:
        sounding += change
        most = max(most, sounding)
    return most


class PartChecks:
    """What `Checker` provides to these methods."""

    diagnostics: Diagnostics
    router: Router
    meter_bar: int
    scene_bars: int
    override_materials: dict[int, tuple[str | None, Material | None]]
    override_routes: dict[int, Routing | None]
    override_owner: dict[int, str]
    override_spans: dict[int, Span]
    genre_roles: dict[str, RoleStyle]
    use_rig: bool

    def part_material(self, expr: n.Expr, role: str, part: str) -> tuple[str | None, Material | None]:
        raise NotImplementedError

    def parts(self) -> dict[str, PartDef]:
        parts: dict[str, PartDef] = {}
        for loaded in self.program.user_modules:
            for statement in loaded.module.body:
                if isinstance(statement, n.Part):
                    self.part(statement, parts)
        return parts

    def part(self, node: n.Part, parts: dict[str, PartDef]) -> None:
        name, role = node.name.text, node.role.text
        if name in parts:
            diagnostic = self.diagnostics.error(f"part `{name}` is defined twice", node.name.span)
            diagnostic.notes.append(("first defined here", parts[name].node.name.span))
            return
        if role not in ROLES:
            self.diagnostics.error(
                f"unknown role `{role}`", node.role.span, did_you_mean(role, ROLES) or f"roles: {one_of(ROLES)}"
            )
            return
        material_name, material = self.part_material(node.plays, role, name) if node.plays else (None, None)
        if node.target is None:
            routing = genre_routing(self.router, self.genre_roles.get(role), self.use_rig, role)
        else:
            routing = self.router.route(node.target, role)
        where = node.target.span if node.target else node.name.span
        self.playable(material, routing, role, node.plays.span if node.plays else where, where)
        if node.plays is not None:
            self.heard_whole(
                material, f"`{material_name}`" if material_name else "this material", role, node.plays.span
            )
        parts[name] = PartDef(name, role, node, material, material_name, routing, self.part_mix(node, role))

    def heard_whole(self, material: Material | None, name: str, role: str, span: Span) -> None:
        """Material runs from each scene's start; say when some of it can never be heard."""
        if material is None or not material.length:
            return
        bar = self.meter_bar
        # Progressions count in bars of the meter they were written in; notes and drum steps in ticks.
        length = round(material.length * bar / material.bar) if isinstance(material, Progression) else material.length
        bars = -(-length // bar)
        scene_bars = self.scene_bars
        # A protagonist or antagonist plays single phrases, each starting on the material's first bar.
        span_bars = scene_bars if ROLES[role].every_phrase else scene_bars // 4
        if bars > span_bars:
            where = f"{span_bars}-bar phrases" if span_bars < scene_bars else f"{scene_bars}-bar scenes"
            self.diagnostics.warning(
                f"{name} lasts {bars} bars, but this {role} part plays it in {where}: "
                f"only its first {span_bars} bars are heard",
                span,
                "use `scene 16 bars` for longer phrases, or shorter material"
                if scene_bars < 16
                else "split the material into shorter pieces, or trim it",
            )

    def playable(self, material: Material | None, routing: Routing | None, role: str, span: Span, route: Span) -> None:
        """Drums need drum notes on their output; every voice and pitch must exist there."""
        if routing is None:
            return
        output = routing.device if routing.output == "main" else f"{routing.device}.{routing.output}"
        if ROLES[role].drum_notes and not routing.drum_map:
            self.diagnostics.error(
                f"{output} has no drum notes",
                route,
                "route drums to an output with a note map, such as `on gm` or `on t8.drums`",
            )
            return
        if not ROLES[role].fixed_pitch and routing.drum_map:
            self.diagnostics.error(
                f"{output} plays drum voices, not a {role} part's notes",
                route,
                "route it to a melodic output, such as `on t8.bass`, `on s1` or `on gm`",
            )
            return
        voices = max_polyphony(material)
        if voices > routing.voices:
            self.diagnostics.warning(
                f"{output} plays {routing.voices} note{'s' if routing.voices != 1 else ''} at a time, "
                f"but this part plays up to {voices}",
                span,
                "the device will drop notes; route chords to a polyphonic output",
            )
        if isinstance(material, Groove) and not routing.drum_map:
            self.diagnostics.error(
                f"{output} has no named notes, so it cannot play a grid",
                span,
                "route grooves to a drum output or a sampler, such as `on t8.drums` or `on sp404mk2 bank A`",
            )
        if isinstance(material, Groove) and routing.drum_map:
            for voice in material.voices:
                if voice not in routing.drum_map:
                    self.diagnostics.error(
                        f"{output} has no `{voice}`",
                        material.spans.get(voice, span),
                        f"it plays {', '.join(sorted(routing.drum_map))}",
                    )

    def part_mix(self, node: n.Part, role: str) -> dict[str, Any]:
        """The part's own level, pan and sends over its genre's mix template for the role."""
        template = self.genre_roles.get(role)
        mix: dict[str, Any] = {"level_db": 0.0, "pan": 0.0, "sends": {}}
        if template is not None:
            mix = {**template.mix, "sends": dict(template.mix["sends"])}
        seen: dict[str, Span] = {}
        for statement in node.block.body if node.block else []:
            if isinstance(statement, n.Setting):
                key = (
                    statement.name.text
                    + ":"
                    + (statement.values[0].text if statement.name.text == "send" and statement.values else "")
                )
                if key in seen:
                    diagnostic = self.diagnostics.error(f"`{statement.name.text}` is set twice here", statement.span)
                    diagnostic.notes.append(("first set here", seen[key]))
                    continue
                seen[key] = statement.span
            name = statement.name.text if isinstance(statement, n.Setting) else ""
            if name not in ("level", "pan", "send"):
                part_settings = [k for k, s in SETTINGS.items() if "part" in s.levels]
                span = statement.name.span if isinstance(statement, n.Setting) else statement.span
                self.diagnostics.error(
                    f"`{name or 'this'}` is not a part setting",
                    span,
                    did_you_mean(name, part_settings) or f"part settings: {one_of(part_settings)}",
                )
                continue
            try:
                apply_mix_setting(mix, name, statement.values, self.router)
            except SettingError as error:
                error.report(self.diagnostics, statement)
        return mix

    def overrides(self, layer: Layer, parts: dict[str, PartDef]) -> None:
        for override in layer.part_overrides:
            part = parts.get(override.part.text)
            if part is None:
                self.diagnostics.error(
                    f"unknown part `{override.part.text}`",
                    override.part.span,
                    did_you_mean(override.part.text, parts) or None,
                )
                continue
            material, routing = part.material, part.routing
            if override.plays is not None:
                self.override_materials[id(override.plays)] = self.part_material(override.plays, part.role, part.name)
                material = self.override_materials[id(override.plays)][1]
            if override.target is not None:
                routing = self.router.route(override.target, part.role)
                self.override_routes[id(override.target)] = routing
                self.override_owner[id(override.target)] = part.name
                self.override_spans[id(override.target)] = override.target.span
            if override.plays is not None or override.target is not None:
                span = override.plays.span if override.plays else override.span
                self.playable(material, routing, part.role, span, override.target.span if override.target else span)

    # ---- references --------------------------------------------------------------------------
    def shared_channels(self, parts: dict[str, PartDef]) -> None:
        """Two parts on one device and channel with different programs: the later program wins for both."""
        seen: dict[tuple[str, int | str], PartDef] = {}
        for part in parts.values():
            routing = part.routing
            if routing is None or routing.drum_map:
                continue
            first = seen.setdefault((routing.device, routing.channel), part)
            if first is not part and first.routing and first.routing.program != routing.program:
                diagnostic = self.diagnostics.warning(
                    f"`{part.name}` shares {routing.device} channel {routing.channel} with `{first.name}`, "
                    "but asks for another program",
                    part.node.name.span,
                    "on one channel the later Program Change wins for both parts; give one a `channel`",
                )
                diagnostic.notes.append((f"`{first.name}` is here", first.node.name.span))
        # A part moved onto another part's channel inside the circle takes that channel over.
        for key, routing in self.override_routes.items():
            owner = self.override_owner.get(key)
            if routing is None or routing.drum_map:
                continue
            for other in parts.values():
                theirs = other.routing
                if other.name == owner or theirs is None or theirs.drum_map:
                    continue
                if (theirs.device, theirs.channel) == (
                    routing.device,
                    routing.channel,
                ) and theirs.program != routing.program:
                    self.diagnostics.warning(
                        f"here `{owner}` moves onto {routing.device} channel {routing.channel}, which `{other.name}` "
                        "plays on with another program",
                        self.override_spans[key],
                        "both would sound with the new program from here on; give this a free `channel`",
                    )
                    break
