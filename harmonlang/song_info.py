"""The Score IR's header: parts, named material, the genre's style and the devices.

`lower()` joins these to the expanded scenes; each is plain JSON data.
"""

from __future__ import annotations

from typing import Any

from harmonlang.check import CheckedSong
from harmonlang.diagnostics import Diagnostics
from harmonlang.ir_version import IR_VERSION
from harmonlang.lower import Lowerer, _key_info
from harmonlang.music import Groove, Material, Notes, Progression
from harmonlang.roles import ROLES
from harmonlang.scopes import Entry, effective
from harmonlang.styles import COMPRESSION, REVERBS
from harmonlang.theory import PPQ


def _event(tick: int, dur: int, pitch: int, vel: int) -> list[int]:
    return [tick, dur, pitch, vel]


def material_info(kind: str, material: Material | None) -> dict[str, Any] | None:
    if material is None:
        return None
    info: dict[str, Any] = {"kind": kind, "length": material.length}
    if isinstance(material, Notes):
        info["events"] = [_event(e.start, e.dur, e.pitch, e.vel) for e in material.events]
    elif isinstance(material, Progression):
        info["chords"] = [s.text for s in material.slots]
        info["slots"] = [[s.start, s.dur] for s in material.slots]
        info["bar"] = material.bar
        info["transpose"] = material.transpose
    elif isinstance(material, Groove):
        info["voices"] = list(material.voices)
        info["hits"] = {name: [list(hit) for hit in voice.hits] for name, voice in material.voices.items()}
        info["voice_lengths"] = {name: voice.length for name, voice in material.voices.items()}
        if material.swing:
            info["swing"] = material.swing
    return info


def parts_info(song: CheckedSong) -> list[dict[str, Any]]:
    parts = []
    for part in song.parts.values():
        routing = part.routing
        assert routing is not None
        parts.append(
            {
                "name": part.name,
                "role": part.role,
                "device": routing.device,
                "output": routing.output,
                "port": routing.port,
                "channel": routing.channel,
                "program": routing.program,
                "drum_map": routing.drum_map if ROLES[part.role].fixed_pitch else {},
                "program_channel": routing.program_channel,
                "range": routing.range,
                "material": part.material_name,
                "mix": part.mix,
            }
        )
    return parts


def style_info(song: CheckedSong, root: dict[str, Entry]) -> dict[str, Any]:
    """The style in force for the whole song: the genre's words, overridden by the song's own."""

    def value(name: str, default: Any = None) -> Any:
        return root[name].value if name in root else default

    compression = value("compression", "none")
    reverb = value("reverb", "dry")
    genre_materials = {name: d.kind for name, d in song.materials.items() if d.from_genre}
    return {
        "genre": song.genre,
        "about": value("about"),
        "tempo_range": value("tempo-range"),
        "swing": value("swing", 0.5),
        "scales": value("scales", []),
        "chords": value("chords", []),
        "bass_style": value("bass-style"),
        "compression": {"name": compression, **COMPRESSION[compression]},
        "reverb": {"name": reverb, **REVERBS[reverb]},
        "grooves": [name for name, kind in genre_materials.items() if kind == "groove"],
        "progressions": [name for name, kind in genre_materials.items() if kind == "prog"],
        "roles": {role: style.to_ir() for role, style in song.genre_roles.items()},
        "mixer": value("mixer"),
    }


def lower(song: CheckedSong, diagnostics: Diagnostics | None = None) -> dict[str, Any]:
    """Expand a checked song into Score IR data (plain JSON; `harmonlang.ir.Score` validates it).

    What only the expanded song reveals (notes out of a device's range after a key
    change) is reported as warnings into `diagnostics`.
    """
    lowerer = Lowerer(song)
    body = lowerer.lower()
    for message, span, hint in lowerer.warnings if diagnostics is not None else []:
        diagnostics.warning(message, span, hint)
    root = effective(song.layers, (), None)
    clock = root["clock"].value if "clock" in root else {"role": "off", "source": None}
    named = [(name, d.kind, d.material) for name, d in song.materials.items()]
    named += [(name, kind, material) for name, (kind, material) in song.pipelines.items()]
    materials = {name: info for name, kind, m in named if (info := material_info(kind, m)) is not None}
    data = {
        "title": song.title,
        "source": song.program.entry.label,
        "genre": song.genre,
        "template": song.template,
        "seed": root["seed"].value,
        "home_key": _key_info(song.home_key),
        "clock": clock,
        "parts": parts_info(song),
        "materials": materials,
        "style": style_info(song, root),
        "devices": {name: device.to_ir() for name, device in song.devices.items()},
        "tempo_map": lowerer.tempo_map,
        "meter_map": lowerer.meter_map,
        "key_map": lowerer.key_map,
        **body,
    }
    return {"ir_version": IR_VERSION, "ppq": PPQ, **data}
