"""`harmonc report`: the song's metrics against its targets, as JSON and an arc plot.

The heavy libraries (music21 for key analysis, matplotlib for the plot) are imported here
only, and this module only by the `report` command: the compile path never loads them.
"""

from __future__ import annotations

import io
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

from harmonlang import metrics
from harmonlang.metrics import Event, Json, mean_or_none, rounded
from harmonlang.output import write_all_atomic, write_atomic

TARGETS = {"key_consistency": 0.9, "chord_tone_ratio": 0.75, "energy_correlation": 0.8}


def _music21_key(events: list[Event], ppq: int) -> tuple[int, str]:
    """music21's own `analyze('key')` of the notes, placed in quarter lengths."""
    from music21 import note, stream

    start = min(event[0] for event in events)
    region = stream.Stream()
    for tick, dur, pitch, _ in events:
        sound = note.Note(pitch, quarterLength=Fraction(dur, ppq))
        region.insert(Fraction(tick - start, ppq), sound)
    key = region.analyze("key")
    return key.tonic.pitchClass, key.mode


def key_consistency_music21(score: Json, scene: Json) -> float | None:
    """`metrics.key_consistency` with music21's `Stream.analyze('key')` as the estimate (the reference)."""
    return metrics.key_consistency(score, scene, _music21_key)


def build_report(score: Json) -> Json:
    """`metrics.summary` plus music21 key consistency, the targets, and which are met.

    Adds per scene `key_consistency`; overall `key_consistency` (mean over the scenes of
    `metrics.KEY_STEPS`) and `key_consistency_by_step` (every step, in song order); `targets` and
    `passed` (target -> whether the overall value reaches it; a missing value does not).
    """
    report = metrics.summary(score)
    by_step: dict[str, list[float]] = {}
    for entry, scene in zip(report["scenes"], score["scenes"], strict=True):
        value = key_consistency_music21(score, scene)
        entry["key_consistency"] = rounded(value)
        if value is not None:
            by_step.setdefault(scene["step"], []).append(value)
    overall = report["overall"]
    overall["key_consistency_by_step"] = {step: rounded(mean_or_none(values)) for step, values in by_step.items()}
    settled = [value for step in metrics.KEY_STEPS for value in by_step.get(step, [])]
    overall["key_consistency"] = rounded(mean_or_none(settled))
    report["targets"] = dict(TARGETS)
    report["passed"] = {name: overall[name] is not None and overall[name] >= goal for name, goal in TARGETS.items()}
    return report


def _arc_png(report: Json) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    scenes = report["scenes"]
    indices = list(range(len(scenes)))

    def series(name: str) -> list[float]:
        return [math.nan if scene[name] is None else scene[name] for scene in scenes]  # gaps where unset

    figure, axes = pyplot.subplots(figsize=(max(8.0, len(scenes) * 0.25), 4.5), dpi=100)
    try:
        axes.plot(indices, series("energy_target"), label="energy target", color="tab:blue")
        axes.plot(indices, series("energy_measured"), label="energy measured", color="tab:orange")
        axes.plot(indices, series("tension_target"), label="tension target", color="tab:red", ls="--")
        boundaries = [i for i, s in enumerate(scenes) if i == 0 or s["step"] != scenes[i - 1]["step"]]
        axes.set_xticks(boundaries, [scenes[i]["step"] for i in boundaries], rotation=30, ha="right")
        for boundary in boundaries[1:]:
            axes.axvline(boundary - 0.5, color="0.85", lw=0.8, zorder=0)
        axes.set_xlim(-0.5, max(len(scenes) - 0.5, 0.5))
        axes.set_ylim(0, 1.05)
        axes.set_xlabel("scene")
        axes.set_ylabel("0..1")
        axes.set_title("story arc: energy and tension")
        axes.legend(loc="upper left", fontsize="small")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        pyplot.close(figure)
    return buffer.getvalue()


def plot_arc(report: Json, path: Path) -> None:
    """A PNG of the arc: per scene index (steps labelled where they begin), the energy target and the
    measured energy, and the tension target dashed. Written atomically."""
    write_atomic(Path(path), _arc_png(report))


def _report_json(report: Json) -> str:
    return json.dumps(report, sort_keys=True, indent=2, allow_nan=False) + "\n"


def write_report(score: Json, out_dir: Path | str, stem: str, report: Json | None = None) -> list[Path]:
    """Write `<stem>.report.json` and `<stem>.arc.png` into `out_dir`, both rendered before either is written.

    `report` is `build_report(score)` when the caller has it already.
    """
    if report is None:
        report = build_report(score)
    folder = Path(out_dir)
    files = {
        folder / f"{stem}.report.json": _report_json(report).encode(),
        folder / f"{stem}.arc.png": _arc_png(report),
    }
    write_all_atomic(files)
    return list(files)


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_table(report: Json) -> str:
    """The few numbers to read first: key consistency per step, then each target and its verdict."""
    overall = report["overall"]
    lines = ["key consistency by step:"]
    for step, value in overall["key_consistency_by_step"].items():
        lines.append(f"  {step:<10} {_cell(value)}{'  (scored)' if step in metrics.KEY_STEPS else ''}")
    lines.append("")
    lines.append(f"  {'metric':<20} {'value':>6} {'target':>7}  result")
    for name, goal in report["targets"].items():
        verdict = "PASS" if report["passed"][name] else "FAIL"
        lines.append(f"  {name:<20} {_cell(overall[name]):>6} {goal:>7.2f}  {verdict}")
    return "\n".join(lines)
