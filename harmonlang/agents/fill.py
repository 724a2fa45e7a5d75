"""Stage 5, fill: the agents compose every hole the writer left open.

`fill(ir)` takes the lowered Score IR and returns the filled score. It is
deterministic: the same IR and seed give the same bytes. Each scene draws
its randomness from (song seed, scene id, reseed number) alone, so
`--reseed SCENE=N` changes that scene and leaves the rest bit-identical, and
a scene whose inputs did not change is taken from the cache by content hash.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import orjson

from harmonlang.agents import acts, critic
from harmonlang.agents.arrange import _add_cells as add_cells
from harmonlang.agents.arrange import complete_parts
from harmonlang.agents.context import MELODY_ROLES, SceneView, derive_seed, scene_view
from harmonlang.agents.melody import theme_for
from harmonlang.agents.messages import Verdict

DEFAULT_CANDIDATES = 3


class FillCache:
    """Filled scenes by the hash of everything they were made from (bounded, least recent out).

    After each `fill` through it, `keys` holds every scene's key in order and `refilled` the ids of the
    scenes composed anew (the misses), so a caller can tell what changed without diffing the scores.
    """

    def __init__(self, size: int = 512, shared: bool = False) -> None:
        self.size = size
        # Kept as bytes, each hit a fresh copy; `shared` keeps and hands out the scenes themselves, for a
        # caller that never changes a filled score (watch mode: a copy of 48 scenes is some 10 ms a save).
        self.shared = shared
        self.scenes: OrderedDict[str, Any] = OrderedDict()
        self.hits = self.misses = 0
        self.keys: list[str] = []
        self.refilled: list[str] = []

    def get(self, key: str) -> dict[str, Any] | None:
        data = self.scenes.get(key)
        if data is None:
            self.misses += 1
            return None
        self.hits += 1
        self.scenes.move_to_end(key)
        return data if self.shared else orjson.loads(data)

    def put(self, key: str, scene: dict[str, Any]) -> None:
        self.scenes[key] = scene if self.shared else orjson.dumps(scene)
        while len(self.scenes) > self.size:
            self.scenes.popitem(last=False)


def fill(
    ir: dict[str, Any],
    seed: int | None = None,
    reseed: dict[str, int] | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    cache: FillCache | None = None,
) -> dict[str, Any]:
    """The filled score: every hole composed, or rested by the arrangement, with provenance."""
    # Only the header is copied up front: a scene is copied (and given cells for the added parts) when the
    # agents compose it, so a cached scene, keyed by the IR's own, costs neither. Nothing returned shares
    # an object with `ir`.
    score = orjson.loads(orjson.dumps({**ir, "scenes": []}))
    if seed is not None:
        score["seed"] = seed
    seed = score["seed"]
    added = complete_parts(score)
    added_parts = [part for part in score["parts"] if part["name"] in added]
    score["scenes"] = list(ir["scenes"])  # read here, replaced scene by scene, never changed in place
    themes = {role: theme_for(score, role, seed) for role in MELODY_ROLES}
    for theme in themes.values():
        if theme["by"] == "agent":
            score["materials"][theme["name"]] = {
                "kind": "theme",
                "length": theme["length"],
                "events": [list(e) for e in theme["events"]],
                "by": "agent",
            }
    # The parts after completion are in `shared`, and they decide the cells completion adds to a scene.
    shared = _digest(score["parts"], score["style"], score["materials"], score["home_key"], candidates)
    reseed = reseed or {}
    if cache is not None:
        cache.keys, cache.refilled = [], []
    for index in range(len(score["scenes"])):
        scene = score["scenes"][index]
        scene_seed = derive_seed(seed, scene["id"], reseed.get(scene["id"], 0))
        view = scene_view(score, index, themes)
        # Everything of its neighbours the agents read: the next scene's first key and main key (the
        # harmony agent's pivot aims at the latter), and the keys heard before.
        near = [str(view.next_key), str(view.next_home), [str(k) for k in view.previous_keys]]
        key = _digest(shared, scene, near, scene_seed)
        cached = cache.get(key) if cache is not None else None
        if cached is None:
            score["scenes"][index] = _completed(scene, added_parts)
            cached = fill_scene(scene_view(score, index, themes), scene_seed, candidates)
            if cache is not None:
                cache.put(key, cached)
                cache.refilled.append(scene["id"])
        if cache is not None:
            cache.keys.append(key)
        score["scenes"][index] = cached
    score["filled"] = True
    return score


def _completed(scene: dict[str, Any], added_parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of an IR scene with the cells of the parts the arrangement added, as `complete_parts` adds them."""
    alone = {"scenes": [orjson.loads(orjson.dumps(scene))]}
    for part in added_parts:
        add_cells(alone, part)
    return alone["scenes"][0]


def fill_scene(view: SceneView, scene_seed: int, candidates: int) -> dict[str, Any]:
    """Compose `candidates` versions of a scene and keep the one the critic scores best."""
    best: dict[str, Any] | None = None
    verdict = []
    for number in range(max(1, candidates)):
        seed = derive_seed(scene_seed, "candidate", number)
        brief = acts.brief(view, seed)
        filled = _apply(view, brief, acts.compose(view, brief))
        scores = critic.score_scene(view.score, filled, view.energy)
        total = critic.total(scores)
        verdict.append({"seed": seed, "scores": scores, "total": total})
        if best is None or total > verdict[best["critique_index"]]["total"]:
            best = {**filled, "critique_index": number}
    assert best is not None
    chosen = best.pop("critique_index")
    message = Verdict.model_construct(scene=view.data["id"], chosen=chosen, candidates=verdict)
    best["critique"] = {"chosen": message.chosen, "candidates": message.candidates}
    return best


def _apply(view: SceneView, brief: Any, candidate: acts.Candidate) -> dict[str, Any]:
    """The scene with the candidate's notes in its holes; literal cells are never touched."""
    b = brief.model_dump()
    phrases = []
    for phrase, (proposals, chords) in zip(view.data["phrases"], candidate, strict=True):
        cells = []
        for cell in phrase["cells"]:
            proposal = proposals.get(cell["part"])
            if proposal is not None:
                cells.append(
                    {
                        **cell,
                        "status": "generated",
                        "events": [list(e) for e in proposal.events],
                        "provenance": proposal.origins[0] if proposal.origins else {"by": "agent"},
                        "origins": proposal.origins,
                        "event_origins": proposal.event_origins,
                    }
                )
            elif cell["status"] == "hole":
                why = b["texture_notes"].get(cell["part"], "left out by the arrangement")
                provenance = {"by": "agent", "agent": "arrangement", "note": why}
                cells.append({**cell, "status": "rest", "provenance": provenance})
            else:
                cells.append(cell)
        harmony = phrase["harmony"] or [
            {
                "tick": tick,
                "dur": dur,
                "symbol": symbol,
                "written": written,
                "pitches": list(pitches),
                "by": "agent",
                "note": why,
            }
            for tick, dur, pitches, symbol, written, why in chords
        ]
        phrases.append({**phrase, "harmony": harmony, "cells": cells})
    return {**view.data, "phrases": phrases, "brief": b, "mix": acts.mix_for(view)}


def _digest(*values: Any) -> str:
    data = orjson.dumps(values, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(data, digest_size=16).hexdigest()
