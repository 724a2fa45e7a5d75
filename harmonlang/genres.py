"""A genre's instrumentation and mix template: its `role NAME { ... }` blocks.

Everything else a genre states (tempo, grooves, progressions, style words,
how each step sounds) is an ordinary setting or named material, read by the
scopes like a song's. The role blocks say which General MIDI program and which
rig device play each role, and the role's level, pan, sends and style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harmonlang import nodes as n
from harmonlang.devices import Router, Routing
from harmonlang.diagnostics import Diagnostics, Span, did_you_mean, one_of
from harmonlang.roles import ROLES
from harmonlang.settings import SETTINGS, SettingError, level_db, number, send
from harmonlang.styles import DRUM_KITS, PART_STYLES

ROLE_SETTINGS = ("program", "rig", "style", "level", "pan", "send")


@dataclass
class RoleStyle:
    role: str
    span: Span
    program: int | None = None  # General MIDI, 0-based
    program_name: str | None = None
    rig: n.Target | None = None
    rig_text: str | None = None
    style: str | None = None
    mix: dict[str, Any] = field(default_factory=lambda: {"level_db": 0.0, "pan": 0.0, "sends": {}})

    def to_ir(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "program_name": self.program_name,
            "rig": self.rig_text,
            "style": self.style,
            "mix": self.mix,
        }


def read_roles(block: n.Block | None, router: Router, diagnostics: Diagnostics) -> dict[str, RoleStyle]:
    """The genre's role blocks, each checked against the roles, the GM programs and the rig's devices."""
    roles: dict[str, RoleStyle] = {}
    for statement in block.body if block else []:
        if not isinstance(statement, n.Setting) or statement.name.text != "role":
            continue
        if len(statement.values) != 1 or statement.block is None:
            diagnostics.error(
                "a role block names one role", statement.span, 'write `role bass { program "Synth Bass 1" }`'
            )
            continue
        name = statement.values[0].text
        if name not in ROLES:
            diagnostics.error(
                f"unknown role `{name}`",
                statement.values[0].span,
                did_you_mean(name, ROLES) or f"roles: {one_of(ROLES)}",
            )
            continue
        if name in roles:
            diagnostics.error(f"role `{name}` is described twice", statement.values[0].span)
            continue
        roles[name] = _read_role(name, statement, router, diagnostics)
    return roles


def _read_role(role: str, statement: n.Setting, router: Router, diagnostics: Diagnostics) -> RoleStyle:
    assert statement.block is not None
    style = RoleStyle(role, statement.values[0].span)
    for inner in statement.block.body:
        if not isinstance(inner, n.Setting) or inner.name.text not in ROLE_SETTINGS or inner.block is not None:
            span = inner.name.span if isinstance(inner, n.Setting) else inner.span
            wrong = inner.name.text if isinstance(inner, n.Setting) else ""
            diagnostics.error(
                f"`{wrong or 'this'}` is not a role setting",
                span,
                did_you_mean(wrong, ROLE_SETTINGS) or f"role settings: {one_of(ROLE_SETTINGS)}",
            )
            continue
        try:
            _role_setting(style, inner, router, diagnostics)
        except SettingError as error:
            if error.hint is None:
                error.hint = f"for example `{SETTINGS[inner.name.text].example}`"
            error.report(diagnostics, inner)
    return style


def _role_setting(style: RoleStyle, inner: n.Setting, router: Router, diagnostics: Diagnostics) -> None:
    name, values = inner.name.text, inner.values
    if name == "program" and style.role == "drums":
        text = SETTINGS["program"].read(name, values)
        kit = next((k for k in DRUM_KITS if k.lower() == text.lower()), None)
        if kit is None:
            raise SettingError(f"no drum kit `{text}`", values[0], did_you_mean(text, DRUM_KITS) or one_of(DRUM_KITS))
        style.program, style.program_name = DRUM_KITS[kit], kit
    elif name == "program":
        text = SETTINGS["program"].read(name, values)
        gm = router.device("gm", None)
        programs = gm.outputs["main"].programs if gm and "main" in gm.outputs else []
        lowered = [p.lower() for p in programs]
        if text.lower() not in lowered:
            raise SettingError(f"no General MIDI program `{text}`", values[0], did_you_mean(text, programs))
        style.program, style.program_name = lowered.index(text.lower()), programs[lowered.index(text.lower())]
    elif name == "rig":
        target = n.Target.model_construct(device=values[0], options=list(values[1:]), span=inner.span)
        if values[0].kind not in ("name", "dotted"):
            raise SettingError("`rig` names a device, as `on` does", values[0], "write `rig t8.bass`")
        routing = router.route(target, style.role)
        if routing is None:
            return
        role = ROLES[style.role]
        where = routing.device if routing.output == "main" else f"{routing.device}.{routing.output}"
        if role.drum_notes and not routing.drum_map:
            raise SettingError(f"{where} has no drum notes for the drums", values[0], "write `rig t8.drums`")
        if not role.fixed_pitch and routing.drum_map:
            raise SettingError(
                f"{where} plays pads or drum voices, not a {style.role} part's notes",
                values[0],
                "write `rig gm` or `rig s1`",
            )
        style.rig, style.rig_text = target, " ".join(v.text for v in values)
    elif name == "style":
        word = SETTINGS["style"].read(name, values)
        known = PART_STYLES[style.role]
        if word not in known:
            raise SettingError(
                f"a {style.role} part has no style `{word}`",
                values[0],
                did_you_mean(word, known) or f"styles: {one_of(known)}",
            )
        style.style = word
    else:
        apply_mix_setting(style.mix, name, values, router)


def apply_mix_setting(mix: dict[str, Any], name: str, values: list[n.Value], router: Router) -> None:
    """`level`, `pan` or `send NAME AMOUNT` into a mix, as parts and genre roles write them."""
    if name == "send":
        router.check_send(values[0] if values else None)
        mix["sends"][values[0].text if values else ""] = send(name, values)["amount"]
    else:
        mix["pan" if name == "pan" else "level_db"] = (number(-1, 1) if name == "pan" else level_db)(name, values)


def genre_routing(router: Router, style: RoleStyle | None, use_rig: bool, role: str) -> Routing | None:
    """Where a part without `on` plays: the genre's rig device when asked, else General MIDI."""
    if use_rig and style is not None and style.rig is not None:
        routing = router.route(style.rig, role)
        named = any(o.kind == "string" or o.text == "program" for o in style.rig.options)
    else:
        routing, named = router.route(None, role), False
    if routing and style and style.program is not None and routing.program is not None and not named:
        routing.program = style.program
    elif routing and style and style.program is not None and role == "drums" and routing.device == "gm" and not named:
        routing.program = style.program  # the kit, on the drum channel
    return routing


NAMED_BY = {"pattern": "groove", "progression": "prog"}


def check_story_names(
    layers: list[Any],
    materials: dict[str, Any],
    steps: dict[str, str],
    genre: tuple[str | None, Span | None],
    diagnostics: Diagnostics,
) -> None:
    """`pattern`, `progression` and `recall` name grooves, progressions and steps that exist.

    The circle template speaks of the genre's `main`, `variation` and `fill` grooves and
    its `typical` progression; a genre without one is warned about once, at its name.
    In the genre and the template a name means the genre's own material, even where the
    song defines the same name (the entry then names it `GENRE.NAME`).
    """
    genre_name, genre_span = genre
    warned: set[str] = set()
    for layer in layers:
        for scope in layer.scopes.values():
            for entries in [scope.settings, *scope.phrases.values()]:
                for key, entry in entries.items():
                    if key == "recall":
                        for step in entry.value:
                            if step not in steps:
                                diagnostics.error(
                                    f"`recall` names no step `{step}`", entry.span, did_you_mean(step, steps)
                                )
                        continue
                    kind = NAMED_BY.get(key)
                    if kind is None:
                        continue
                    if layer.index > 0 and f"{genre_name}.{entry.value}" in materials:
                        entry.value = f"{genre_name}.{entry.value}"
                    found = materials.get(entry.value)
                    if found is not None and found.kind == kind:
                        continue
                    if layer.index == 2:
                        if genre_span is not None and entry.value not in warned:
                            warned.add(entry.value)
                            diagnostics.warning(
                                f"this genre has no {kind} `{entry.value}`, which the circle template's `{key}` uses",
                                genre_span,
                                f"define `{kind} {entry.value} = ...` in the genre",
                            )
                        continue
                    what = f"a {found.kind}" if found is not None else "not defined"
                    diagnostics.error(
                        f"`{key}` needs a {kind}, and `{entry.value}` is {what}",
                        entry.span,
                        did_you_mean(entry.value, [k for k, m in materials.items() if m.kind == kind]),
                    )
