"""Device profiles (from `device NAME { ... }` definitions) and part routing.

A device has outputs (`out drums { channel 10 ... }`); a device without any
has one output, `main`. `on t8.bass`, `on s1 channel 4`, `on gm "String Ensemble 1"`
and `on sp404mk2 bank A` pick an output and its channel and program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostics, Span, did_you_mean
from harmonlang.resolve import Program
from harmonlang.roles import ROLES
from harmonlang.settings import SETTINGS, SettingError
from harmonlang.styles import BUILTIN_SENDS, DRUM_KITS

OUT_FIELDS = ("channel", "notes", "accepts", "range", "voices", "programs", "cc")


@dataclass
class Output:
    name: str
    channel: int | str = "auto"
    notes: dict[str, int] = field(default_factory=dict)
    accepts: dict[str, int] = field(default_factory=dict)
    range: list[int] = field(default_factory=lambda: [0, 127])
    voices: int = 16
    programs: list[str] = field(default_factory=list)
    cc: dict[str, int] = field(default_factory=dict)


@dataclass
class Device:
    name: str
    title: str
    port: str | None
    settings: dict[str, Any]
    outputs: dict[str, Output]
    span: Span | None
    buses: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_ir(self) -> dict[str, Any]:
        """What the runtime needs to talk to the unit: ports, clock behaviour, sample rules, buses."""
        settings = self.settings
        return {
            "title": self.title,
            "about": settings.get("about"),
            "kind": settings.get("kind"),
            "midi": settings.get("midi", True),
            "port": self.port,
            "clock_in": settings.get("clock-in", []),
            "clock_out": settings.get("clock-out", []),
            "clock_setup": settings.get("clock-setup"),
            "clock_forward": settings.get("clock-forward", False),
            "sync_sources": settings.get("sync-sources", []),
            "note_off": settings.get("note-off", True),
            "program_channel": settings.get("program-channel"),
            "program_range": settings.get("program-range", [0, 127]),
            "samples": {
                key.removeprefix("sample-"): settings[key]
                for key in ("sample-formats", "sample-bits", "sample-rates", "sample-names", "sample-folders")
                if key in settings
            },
            "buses": self.buses,
            "outputs": {
                name: {"channel": out.channel, "notes": out.notes, "accepts": out.accepts, "range": out.range,
                       "voices": out.voices, "cc": out.cc}
                for name, out in self.outputs.items()
            },
        }  # fmt: skip


@dataclass
class Routing:
    device: str
    output: str
    port: str | None
    channel: int | str
    program: int | None
    drum_map: dict[str, int]
    range: list[int]
    voices: int = 16
    program_channel: int | None = None  # where Program Change goes, when not the note channel


def _read_block(block: n.Block, level: str, diagnostics: Diagnostics) -> tuple[dict[str, Any], list[n.Setting]]:
    values: dict[str, Any] = {}
    outs: list[n.Setting] = []
    for statement in block.body:
        if not isinstance(statement, n.Setting):
            diagnostics.error("a device holds settings and `out` blocks only", statement.span)
            continue
        name = statement.name.text
        spec = SETTINGS.get(name)
        if spec is None or level not in spec.levels:
            hint = did_you_mean(name, [k for k, s in SETTINGS.items() if level in s.levels]) or "see docs/language.md"
            diagnostics.error(f"`{name}` is not a device setting", statement.name.span, hint)
            continue
        if name in ("out", "bus"):
            if level != "device" or statement.block is None:
                diagnostics.error(f"`{name} NAME {{ ... }}` stands directly in a device", statement.span)
                continue
            outs.append(statement)
            continue
        try:
            values[name] = spec.read(name, statement.values)
        except SettingError as error:
            error.report(diagnostics, statement)
    return values, outs


def read_device(definition: n.Definition, diagnostics: Diagnostics) -> Device:
    assert definition.name is not None
    settings, outs = _read_block(definition.block, "device", diagnostics)
    shared = {k: v for k, v in settings.items() if k in OUT_FIELDS}
    outputs: dict[str, Output] = {}
    buses: dict[str, dict[str, Any]] = {}
    for out in outs:
        assert out.block is not None
        name = out.values[0].text if out.values else "main"
        if out.name.text == "bus":
            bus, _ = _read_block(out.block, "bus", diagnostics)
            buses[name] = {"title": bus.get("title", name), "effect": bus.get("effect"), "side": bus.get("side")}
            continue
        own, _ = _read_block(out.block, "out", diagnostics)
        for setting in [k for k in own if k not in OUT_FIELDS]:
            own.pop(setting)
            diagnostics.error(f"`{setting}` belongs to the device, not to one output", out.block.span)
        outputs[name] = Output(name, **{**shared, **own})
    if not outputs and settings.get("midi", True):
        outputs["main"] = Output("main", **shared)
    title = settings.get("title", definition.name.text)
    return Device(definition.name.text, title, settings.get("port"), settings, outputs, definition.name.span, buses)


class Router:
    """Resolves `on ...` targets, loading device profiles on first use."""

    def __init__(self, program: Program, diagnostics: Diagnostics) -> None:
        self.program, self.diagnostics = program, diagnostics
        self.devices: dict[str, Device | None] = {}
        self.sends: tuple[str, ...] = BUILTIN_SENDS  # and the mixer's buses, once it is known

    def use_mixer(self, name: str, span: Span | None) -> None:
        mixer = self.device(name, span)
        if mixer is None:
            return
        if mixer.settings.get("kind") != "mixer":
            self.diagnostics.error(f"{name} is not a mixer", span, "name a device with `kind mixer`, such as zoom-l12")
            return
        self.sends = (*BUILTIN_SENDS, *mixer.buses)

    def check_send(self, value: n.Value | None) -> None:
        if value is not None and value.text not in self.sends:
            self.diagnostics.error(
                f"no send `{value.text}`",
                value.span,
                did_you_mean(value.text, self.sends) or f"sends here: {', '.join(self.sends)}",
            )

    def device(self, name: str, span: Span | None) -> Device | None:
        if name not in self.devices:
            found = self.program.find_definition("device", name, span, self.diagnostics)
            self.devices[name] = read_device(found[0], self.diagnostics) if found else None
        return self.devices[name]

    def route(self, target: n.Target | None, role: str) -> Routing | None:
        if target is None:
            device = self.device("gm", None)
            output = self._output_for(device, role, None, None) if device else None
            return self._routing(device, output, [], role) if device and output else None
        device_name, _, out_name = target.device.text.partition(".")
        device = self.device(device_name, target.device.span)
        if device is None:
            return None
        if not device.outputs:
            self.diagnostics.error(
                f"{device.name} has no MIDI, so no part can play on it",
                target.device.span,
                f"route parts to an instrument; send to {device.name}'s buses with `send NAME 0.3`"
                if device.buses
                else "route parts to an instrument",
            )
            return None
        options = list(target.options)
        out_span = target.device.span
        for index, option in enumerate(options[:-1]):
            if option.text == "bank":  # `bank X` picks the output, wherever it stands
                out_name, out_span = options[index + 1].text, options[index + 1].span
                options = options[:index] + options[index + 2 :]
                break
        output = self._output_for(device, role, out_name or None, out_span)
        if output is None:
            return None
        return self._routing(device, output, options, role)

    def _output_for(self, device: Device, role: str, wanted: str | None, span: Span | None) -> Output | None:
        outputs = device.outputs
        if wanted is not None:
            if wanted not in outputs:
                self.diagnostics.error(
                    f"{device.name} has no output `{wanted}`",
                    span,
                    did_you_mean(wanted, outputs) or f"{device.name} has {', '.join(outputs)}",
                )
                return None
            return outputs[wanted]
        if role in outputs:
            return outputs[role]
        if "main" in outputs and role != "drums":
            return outputs["main"]
        if len(outputs) == 1:
            return next(iter(outputs.values()))
        choices = " or ".join(f"`on {device.name}.{o}`" for o in outputs)
        self.diagnostics.error(f"{device.name} has several outputs", span, f"write {choices}")
        return None

    def _routing(self, device: Device, output: Output, options: list[n.Value], role: str) -> Routing | None:
        channel: int | str = output.channel
        program: int | None = None
        index = 0
        while index < len(options):
            option = options[index]
            following = options[index + 1] if index + 1 < len(options) else None
            if option.kind == "string":
                program = self._program_number(device, output, option, role)
                index += 1
            elif option.text in ("channel", "program") and following is not None and following.kind == "number":
                # Programs count from 1, as manuals and the General MIDI list print them.
                limit = 16 if option.text == "channel" else 128
                if not 1 <= following.number <= limit or following.number != int(following.number):
                    self.diagnostics.error(f"a {option.text} runs from 1 to {limit}", following.span)
                elif option.text == "channel":
                    channel = int(following.number)
                else:
                    program = int(following.number) - 1
                index += 2
            elif option.text in ("channel", "program", "bank"):
                self.diagnostics.error(f"`{option.text}` needs a value", option.span, f"write `{option.text} 2`")
                return None
            else:
                self.diagnostics.error(
                    "unknown device option",
                    option.span,
                    "options are `channel N`, `program N`, a program name in quotes, and `bank X`",
                )
                return None
        if program is None and output.programs and not output.notes:
            program = ROLES[role].default_program if role in ROLES else 0
        low, high = device.settings.get("program-range", [0, 127])
        if program is not None and not low <= program <= high:
            where = next((o for o in options if o.kind == "number"), options[0] if options else None)
            self.diagnostics.error(
                f"{device.name} takes programs {low + 1} to {high + 1}",
                where.span if where else None,
                "programs count from 1, as the unit's manual prints them",
            )
            return None
        return Routing(
            device.name,
            output.name,
            device.port,
            channel,
            program,
            dict(output.notes),
            list(output.range),
            output.voices,
            device.settings.get("program-channel"),
        )

    def _program_number(self, device: Device, output: Output, option: n.Value, role: str) -> int | None:
        kits = {k.lower(): v for k, v in DRUM_KITS.items()}
        if output.notes and role == "drums" and device.name == "gm":
            if option.text.lower() in kits:
                return kits[option.text.lower()]
            hint = did_you_mean(option.text, DRUM_KITS) or "kits: " + ", ".join(DRUM_KITS)
            self.diagnostics.error(f"no drum kit `{option.text}`", option.span, hint)
            return None
        names = output.programs
        if not names:
            self.diagnostics.error(f"{device.name} has no named programs", option.span, "use `program N`")
            return None
        lowered = [p.lower() for p in names]
        if option.text.lower() in lowered:
            return lowered.index(option.text.lower())
        words = [w[:3] for w in option.text.lower().split() if len(w) >= 3]
        related = [p for p in names if any(w in p.lower() for w in words)][:5]
        hint = did_you_mean(option.text, names) or (
            "related programs: " + ", ".join(f'"{p}"' for p in related)
            if related
            else "see the device's `programs` list"
        )
        self.diagnostics.error(f"{device.name} has no program `{option.text}`", option.span, hint)
        return None


def assign_channels(routings: list[Routing]) -> list[Routing]:
    """Give `auto` channels the lowest free ones per device; drums take 10.

    Returns the routings left without a channel (every one is taken).
    """
    stranded: list[Routing] = []
    used: dict[str, set[int]] = {}
    for routing in routings:
        if isinstance(routing.channel, int):
            used.setdefault(routing.device, set()).add(routing.channel)
    for routing in routings:
        if routing.channel != "auto":
            continue
        taken = used.setdefault(routing.device, set())
        if routing.drum_map:
            routing.channel = 10
        else:
            free = [c for c in range(1, 17) if c != 10 and c not in taken]
            if not free:
                stranded.append(routing)
                routing.channel = 1
                continue
            routing.channel = free[0]
        taken.add(int(routing.channel))
    return stranded
