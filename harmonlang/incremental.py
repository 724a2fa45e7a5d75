"""Rebuilding one song again and again, as watch mode does on every save.

A save usually changes one scene. `IncrementalBuilder.rebuild` compiles the
whole file (parsing and lowering are cheap next to the rest), then lets the
agents compose only the scenes whose inputs changed (the `FillCache`), and
validates into pydantic models only the scenes it has not validated before.
The result is the same, value for value, as a cold `compile_file(path).filled_score`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmonlang.agents import FillCache, fill
from harmonlang.compiler import CompileResult, compile_file
from harmonlang.ir import Scene, Score
from harmonlang.memory import paused_gc

CACHE_SIZE = 512  # scenes kept, both filled and validated: ten 48-scene songs' worth of edits


@dataclass
class RebuildStats:
    seconds: float  # compile + fill + validate
    scenes: int  # scenes in the song
    refilled: list[str]  # ids of the scenes the agents composed anew this time (cache misses)


class IncrementalBuilder:
    """Compiles, fills and validates a song, reusing every scene the last builds already made.

    Successive results share the `Scene` models and the filled scene dicts of the scenes an edit left alone:
    treat `filled` and `filled_score` as read-only (every writer does), or a change made to one result
    shows in the next.
    """

    def __init__(self, seed: int | None = None, reseed: dict[str, int] | None = None, genre: str | None = None) -> None:
        self.seed, self.reseed, self.genre = seed, dict(reseed or {}), genre
        self.fills = FillCache(CACHE_SIZE, shared=True)  # results are read-only, as said above
        # Validated scenes by their fill key: the hash of everything the agents made the scene from. Fill
        # is deterministic, so one key always gives the same filled scene, and hashing the filled scene
        # itself (a megabyte for 48 scenes) would cost more than the whole validation it saves.
        self.scenes: OrderedDict[str, Scene] = OrderedDict()

    def rebuild(self, path: str) -> tuple[CompileResult, RebuildStats]:
        """The song compiled and filled, `filled` and `filled_score` set. Raises CompileFailure on errors."""
        with paused_gc():
            return self._rebuild(path)

    def _rebuild(self, path: str) -> tuple[CompileResult, RebuildStats]:
        started = time.perf_counter()
        result = compile_file(path, genre=self.genre)
        result.seed, result.reseed = self.seed, dict(self.reseed)
        result.stem = Path(path).name.removesuffix(".circle")
        filled = fill(result.ir, seed=result.seed, reseed=result.reseed, cache=self.fills)
        models = [self._scene(key, scene) for key, scene in zip(self.fills.keys, filled["scenes"], strict=True)]
        # A model instance passes pydantic's validation as it is (revalidate_instances is "never"), so only
        # the song's header is validated here: the result equals Score.model_validate(filled).
        score = Score.model_validate({**filled, "scenes": models})
        result.adopt_fill(filled, score)
        stats = RebuildStats(time.perf_counter() - started, len(models), list(self.fills.refilled))
        return result, stats

    def _scene(self, key: str, scene: dict[str, Any]) -> Scene:
        model = self.scenes.get(key)
        if model is None:
            model = self.scenes[key] = Scene.model_validate(scene)
            while len(self.scenes) > CACHE_SIZE:
                self.scenes.popitem(last=False)
        else:
            self.scenes.move_to_end(key)
        return model
