"""The arrangement agent: which parts the song needs, and which play in each scene.

A song that states only a lead and a beat still needs harmony and a bass:
the agent adds the genre's missing roles as parts on the General MIDI module
(with the genre's programs and mix). Across the circle, parts enter and
leave with the story's energy: each role has the energy at which it comes in,
raised by `thin`. The writer's literal material always plays.
"""

from __future__ import annotations

from typing import Any

from harmonlang.roles import ROLES

ADDED_ROLES = ("chords", "bass", "drums", "antagonist")
# The energy at which a role's open part comes in (and below which it leaves).
ENTRY: dict[str, float] = {
    "protagonist": 0.0,
    "antagonist": 0.35,
    "chords": 0.0,
    "drums": 0.0,
    "bass": 0.3,
    "samples": 0.45,
}
THIN_RAISE = 0.35  # `thin 1` raises every entry point by this much
GM = "gm"


def complete_parts(score: dict[str, Any]) -> list[str]:
    """Add a part for each of the genre's roles the song lacks, with a hole in every phrase it plays."""
    device = score["devices"].get(GM)
    if device is None:
        return []
    present = {part["role"] for part in score["parts"]}
    used = {part["channel"] for part in score["parts"] if part["device"] == GM}
    names = {part["name"] for part in score["parts"]}
    roles = score["style"].get("roles") or {}
    added = []
    for role in ADDED_ROLES:
        if role in present:
            continue
        output = "drums" if role == "drums" else "main"
        info = device["outputs"].get(output)
        if info is None:
            continue
        channel = _free_channel(info["channel"], used, role == "drums")
        if channel is None:
            continue
        used.add(channel)
        style = roles.get(role) or {}
        name = _unique(role if role != "antagonist" else "counter", names)
        names.add(name)
        program = style.get("program")
        mix = style.get("mix") or {"level_db": -6.0, "pan": 0.0, "sends": {}}
        score["parts"].append(
            {
                "name": name,
                "role": role,
                "device": GM,
                "output": output,
                "port": device.get("port"),
                "channel": channel,
                "program": program if program is not None else ROLES[role].default_program,
                "drum_map": dict(info["notes"]) if role == "drums" else {},
                "program_channel": None,
                "range": list(info["range"]),
                "material": None,
                "mix": {
                    "level_db": mix.get("level_db", 0.0),
                    "pan": mix.get("pan", 0.0),
                    "sends": mix.get("sends", {}),
                },
                "added_by": "arrangement",
            }
        )
        _add_cells(score, score["parts"][-1])
        added.append(name)
    return added


def _free_channel(channel: int | str, used: set[int], drums: bool) -> int | None:
    if isinstance(channel, int) and drums:
        return channel if channel not in used else None
    free = [c for c in range(1, 17) if c not in used and c != 10]
    return free[0] if free else None


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}{number}" in taken:
        number += 1
    return f"{name}{number}"


def _add_cells(score: dict[str, Any], part: dict[str, Any]) -> None:
    role = ROLES[part["role"]]
    drum_voices = sorted(part["drum_map"])
    for scene in score["scenes"]:
        for phrase in scene["phrases"]:
            action = role.plan[phrase["kind"]]
            if action == "rest":
                phrase["cells"].append({"part": part["name"], "status": "rest"})
                continue
            constraints = {
                "key": phrase["key"],
                "meter": scene["meter"],
                "tempo": phrase["tempo"],
                "bars": phrase["bars"],
                "start": phrase["start"],
                "end": phrase["end"],
                "directives": phrase["directives"],
                "range": part["range"],
                "drum_voices": drum_voices,
                "source_material": None,
            }
            kind = role.hole if action == "play" else action
            hole = {"id": f"{scene['id']}/{phrase['kind']}/{part['name']}", "kind": kind, "constraints": constraints}
            phrase["cells"].append({"part": part["name"], "status": "hole", "hole": hole})


def texture(score: dict[str, Any], scene: dict[str, Any], energy: float) -> tuple[dict[str, bool], dict[str, str]]:
    """Which open parts play in this scene, and why."""
    thin = max(float(p["directives"].get("thin") or 0.0) for p in scene["phrases"])
    plays, why = {}, {}
    for part in score["parts"]:
        entry = ENTRY[part["role"]]
        entry += THIN_RAISE * thin if entry > 0 else 0.0  # the lead, the chords and the beat never leave
        plays[part["name"]] = energy >= entry
        if entry <= 0:
            why[part["name"]] = "plays throughout"
        elif energy >= entry:
            why[part["name"]] = f"in: the energy {energy:.2f} reaches its entry at {entry:.2f}"
        else:
            why[part["name"]] = f"out: the energy {energy:.2f} is under its entry at {entry:.2f}"
            if thin:
                why[part["name"]] += f" (raised by `thin {thin:g}`)"
    return plays, why
