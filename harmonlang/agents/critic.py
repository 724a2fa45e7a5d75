"""The critic: scores a scene's candidates with the metrics and keeps the best.

Every score is computed from the candidate's notes by `harmonlang.metrics`
(the same functions `harmonc report` prints): chord tones on strong beats,
agreement with the declared key, closeness to the story's energy target,
and an A′ that is related to A but not a copy.
"""

from __future__ import annotations

from typing import Any

from harmonlang import metrics

WEIGHTS = {"chord_tones": 2.0, "key": 2.0, "energy": 1.5, "variation": 1.0}
VARIATION_WINDOW = (0.45, 0.9)  # related, not identical


def score_scene(score: dict[str, Any], scene: dict[str, Any], target_energy: float) -> dict[str, float | None]:
    hits, total = metrics.chord_tone_ratio(score, scene)
    key = metrics.key_consistency_fast(score, scene)
    energy = metrics.scene_energy(score, scene)
    similarity = _variation(score, scene)
    low, high = VARIATION_WINDOW
    return {
        "chord_tones": hits / total if total else None,
        "key": key,
        "energy": 1.0 - abs(energy - target_energy),
        "energy_measured": round(energy, 4),
        "variation": None if similarity is None else (1.0 if low <= similarity <= high else 0.4),
        "similarity": None if similarity is None else round(similarity, 4),
    }


def total(scores: dict[str, float | None]) -> float:
    return round(sum(weight * (scores.get(name) or 0.0) for name, weight in WEIGHTS.items()), 6)


def _variation(score: dict[str, Any], scene: dict[str, Any]) -> float | None:
    phrases = {p["kind"]: p for p in reversed(scene["phrases"])}
    if "A" not in phrases or "A'" not in phrases:
        return None
    leads = {part["name"] for part in score["parts"] if part["role"] == "protagonist"}

    def notes(phrase: dict[str, Any]) -> list[Any]:
        return [e for c in phrase["cells"] if c["part"] in leads and c["status"] != "rest" for e in c["events"]]

    theme, variation = notes(phrases["A"]), notes(phrases["A'"])
    if not theme or not variation:
        return None
    bar = metrics.bar_length(scene["meter"], score["ppq"])
    return metrics.similarity(variation, theme, bar, a_start=phrases["A'"]["start"], b_start=phrases["A"]["start"])
