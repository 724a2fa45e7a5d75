"""The four act agents: each directs the role agents through its act of the circle.

An act agent is a row of policy (what its act is for, which variation
techniques it reaches for) plus one procedure: brief the scene, then send a
`PartRequest` for every open hole in dependency order (harmony first, then
drums, the bass on the drums' kick, the chords, the melodies, the pads)
and collect each `Proposal` into the candidate scene.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harmonlang.agents import bass, chords, harmony, melody, rhythm
from harmonlang.agents.arrange import texture
from harmonlang.agents.context import MELODY_ROLES, Event, PhraseView, SceneView, rng_for
from harmonlang.agents.messages import PartRequest, Proposal, SceneBrief
from harmonlang.agents.mix import scene_mix


@dataclass(frozen=True)
class ActPolicy:
    about: str
    variation: tuple[str, ...]  # the techniques its A′ phrases draw from


ACTS: dict[str, ActPolicy] = {
    "I": ActPolicy("establish the world: the themes stated plainly", ("ornament", "rhythm")),
    "IIa": ActPolicy("cross into the unknown: sequences and new rhythms", ("sequence", "rhythm", "ornament")),
    "IIb": ActPolicy("the peak and the fall: the theme inverted and pushed", ("invert", "sequence", "octave")),
    "III": ActPolicy("return changed: the theme answered and resolved", ("answer", "ornament", "invert")),
}
FALLBACK_ACT = ACTS["IIa"]
PADS_BELOW = 0.35  # quiet scenes hold the chords as pads, whatever the genre's comping style
# The order role agents are asked in, so each can hear what it plays against.
ORDER = ("drums", "samples", "bass", "chords", "protagonist", "antagonist")


def brief(view: SceneView, seed: int) -> SceneBrief:
    scene = view.data
    policy = ACTS.get(scene["act"], FALLBACK_ACT)
    rng = rng_for(seed, "brief")
    first = scene["phrases"][0]["directives"]
    reprise = first.get("reprise") or scene["phrases"][2]["directives"].get("reprise")
    if reprise == "full":
        techniques = ["ornament"]
    elif reprise == "empty":
        techniques = ["fragment"]
    elif first.get("recall"):
        techniques = ["answer"]
    else:
        techniques = rng.sample(list(policy.variation), k=min(2, len(policy.variation)))
    energy = view.energy
    stated = first.get("density")
    density = float(stated) * (0.4 + 1.2 * energy) if stated is not None else 0.2 + energy
    plays, why = texture(view.score, scene, energy)
    roles = view.score["style"].get("roles") or {}
    fuse = any("fuse" in p["directives"] for p in scene["phrases"])
    return SceneBrief.model_construct(
        act=scene["act"],
        scene=scene["id"],
        step=scene["step"],
        about=policy.about,
        energy=energy,
        tension=view.tension,
        velocity_scale=round(0.45 + 0.7 * energy, 3),
        density=round(min(1.5, density), 3),
        variation=techniques,
        texture=plays,
        texture_notes=why,
        bass_style=(roles.get("bass") or {}).get("style") or view.score["style"].get("bass_style"),
        chords_style=(roles.get("chords") or {}).get("style") if energy >= PADS_BELOW else "pads",
        fuse=fuse,
        seed=seed,
    )


Segment = tuple[list[Event], dict[str, Any]]
Agent = Callable[[SceneView, PhraseView, dict[str, Any], dict[str, Any], random.Random, list[int]], list[Segment]]


def _melody(
    view: SceneView, phrase: PhraseView, part: dict[str, Any], b: dict, rng: random.Random, kicks: list
) -> list[Segment]:
    kind = phrase.cell(part["name"])["hole"]["kind"]  # type: ignore[index]
    return melody.melody_segments(view, phrase, part, kind, b, rng)


ROLE_AGENTS: dict[str, tuple[str, Agent]] = {
    "drums": ("rhythm", lambda v, p, part, b, rng, k: rhythm.drum_segments(v, p, part, b, rng)),
    "samples": ("rhythm", lambda v, p, part, b, rng, k: rhythm.pad_segments(v, p, part, b, rng)),
    "bass": ("bass", lambda v, p, part, b, rng, k: bass.bass_segments(v, p, part, b, k, rng)),
    "chords": ("chords", lambda v, p, part, b, rng, k: chords.chord_segments(v, p, part, b, rng)),
    "protagonist": ("melody", _melody),
    "antagonist": ("melody", _melody),
}


Candidate = list[tuple[dict[str, Proposal], list[Any]]]  # per phrase: proposals by part, and its chords


def compose(view: SceneView, scene_brief: SceneBrief) -> Candidate:
    """One candidate: for every phrase, its chords and a proposal per open hole."""
    seed = scene_brief.seed
    b = scene_brief.model_dump() if hasattr(scene_brief, "model_dump") else dict(scene_brief)
    parts = sorted(view.score["parts"], key=lambda part: ORDER.index(part["role"]))
    result = []
    for index, phrase in enumerate(view.phrases):
        rng = rng_for(seed, "harmony", index)
        harmony.phrase_harmony(view, phrase, _melody_strong(view, phrase), rng)
        proposals: dict[str, Proposal] = {}
        kicks: list[int] = _kicks(view, phrase)
        for part in parts:
            cell = phrase.cell(part["name"])
            if cell is None or cell["status"] != "hole" or not b["texture"].get(part["name"], True):
                continue
            agent_name, agent = ROLE_AGENTS[part["role"]]
            request = PartRequest.model_construct(
                hole=cell["hole"]["id"],
                part=part["name"],
                role=part["role"],
                kind=cell["hole"]["kind"],
                agent=agent_name,
                constraints=cell["hole"]["constraints"],
            )
            segments = agent(view, phrase, part, b, rng_for(seed, request.hole), kicks)
            proposal = _proposal(request, segments)
            proposals[part["name"]] = proposal
            if part["role"] == "drums" and "kick" in part["drum_map"]:
                kick = part["drum_map"]["kick"]
                kicks = sorted(set(kicks) | {e[0] for e in proposal.events if e[2] == kick})
        result.append((proposals, list(phrase.chords)))
    return result


def _proposal(request: PartRequest, segments: list[Segment]) -> Proposal:
    tagged = [(event, index) for index, (events, _) in enumerate(segments) for event in events]
    tagged.sort(key=lambda item: (item[0][0], item[0][2], item[0][1], item[0][3]))
    return Proposal.model_construct(
        hole=request.hole,
        agent=request.agent,
        events=[event for event, _ in tagged],
        origins=[origin for _, origin in segments],
        event_origins=[index for _, index in tagged],
    )


def _melody_strong(view: SceneView, phrase: PhraseView) -> list[tuple[int, int]]:
    """The writer's melody notes on strong beats here: the harmony must fit them."""
    roles = {part["name"]: part["role"] for part in view.score["parts"]}
    notes = []
    for cell in phrase.data["cells"]:
        if cell["status"] == "literal" and roles.get(cell["part"]) in MELODY_ROLES:
            notes += [(e[0], e[2] % 12) for e in cell["events"] if view.is_strong(e[0])]
    return notes


def _kicks(view: SceneView, phrase: PhraseView) -> list[int]:
    """Kick onsets the writer's drums play in this phrase."""
    kicks: set[int] = set()
    for part in view.score["parts"]:
        if part["role"] != "drums" or "kick" not in part["drum_map"]:
            continue
        cell = phrase.cell(part["name"])
        if cell is not None and cell["status"] == "literal":
            kicks |= {e[0] for e in cell["events"] if e[2] == part["drum_map"]["kick"]}
    return sorted(kicks)


def mix_for(view: SceneView) -> dict[str, Any]:
    return scene_mix(view.score, view.data, view.energy, view.tension)
