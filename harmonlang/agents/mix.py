"""The mix agent: each part's level, pan and sends per scene, for the audio renderer.

It starts from the part's mix (the writer's, or the genre's role template),
adds the story's `mix` moves (`mix antagonist +3dB`), and rides the energy:
accompaniment sits back in quiet scenes, and the space opens (more reverb)
where tension is high and energy low.
"""

from __future__ import annotations

from typing import Any

LEADS = ("protagonist", "antagonist")
QUIET_TRIM_DB = 4.0  # how far accompaniment drops at zero energy
SPACE = 0.25  # extra reverb send at full tension and no energy


def scene_mix(score: dict[str, Any], scene: dict[str, Any], energy: float, tension: float) -> dict[str, Any]:
    moves: dict[str, Any] = {}
    for phrase in scene["phrases"]:
        moves.update(phrase["directives"].get("mix") or {})
    result = {}
    for part in score["parts"]:
        base = part.get("mix") or {}
        level = float(base.get("level_db", 0.0))
        pan = float(base.get("pan", 0.0))
        sends = dict(base.get("sends") or {})
        move = moves.get(part["name"]) or moves.get(part["role"]) or {}
        level += float(move.get("level_db", 0.0))
        pan = float(move.get("pan", pan))
        for bus, amount in (move.get("sends") or {}).items():
            sends[bus] = amount
        if part["role"] not in LEADS:
            level -= QUIET_TRIM_DB * (1.0 - energy)
        if part["role"] in ("protagonist", "antagonist", "chords", "samples"):
            space = SPACE * tension * (1.0 - energy)
            if space > 0.01:
                sends["reverb"] = round(min(1.0, sends.get("reverb", 0.0) + space), 3)
        result[part["name"]] = {"level_db": round(level, 2), "pan": round(pan, 2), "sends": sends}
    return result
