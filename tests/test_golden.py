"""Golden-file tests: each `tests/golden/<case>/input.circle` against its expectations.

A case that builds compares `ast.json`, `ir.json` and `midi.txt`; a case that
fails compares `stderr.txt` (the exact diagnostics) and the exit code. Run
`pytest --update-goldens` to rewrite them, then review the diff.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from support import compare_golden

from harmonlang.cli import main
from harmonlang.ir import Score
from harmonlang.runtime.events import dump_midi

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.parent.name for p in GOLDEN.glob("*/input.circle"))


def canonical_json(value: object, indent: str = "") -> str:
    """Stable, diff-friendly JSON: one key per line, arrays of numbers on one line."""
    inner = indent + " "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {canonical_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return "[" + ", ".join(json.dumps(v) for v in value) + "]"
        return "[\n" + ",\n".join(inner + canonical_json(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def _run(case: Path, out: Path) -> tuple[int, str]:
    stderr, stdout = io.StringIO(), io.StringIO()
    with redirect_stderr(stderr), redirect_stdout(stdout):
        code = main(["build", "input.circle", "-o", str(out), "--emit", "ast,ir,midi", "-q"])
    return code, stderr.getvalue()


def test_there_are_enough_cases() -> None:
    errors = [c for c in CASES if (GOLDEN / c / "stderr.txt").exists()]
    assert len(CASES) >= 30, CASES
    assert len(errors) >= 12, errors


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, update_goldens: bool) -> None:
    folder = GOLDEN / case
    monkeypatch.chdir(folder)
    code, stderr = _run(folder, tmp_path)
    # The name says what the case shows: `err-` cases fail, `ok-` cases build.
    assert code == (1 if case.startswith("err-") else 0), f"{case} exited {code}\n{stderr}"
    expects_error = case.startswith("err-")
    stale = ("ast.json", "ir.json", "midi.txt") if expects_error else ("stderr.txt",)
    assert not [name for name in stale if (folder / name).exists()], f"{case} holds files of the other outcome"
    if expects_error:
        assert code == 1, f"expected the build to fail with exit code 1, got {code}\n{stderr}"
        compare_golden(folder / "stderr.txt", stderr, update_goldens)
        assert not any(tmp_path.iterdir()), "a failed build must write nothing"
        return
    assert code == 0, stderr
    if stderr or (folder / "warnings.txt").exists():
        compare_golden(folder / "warnings.txt", stderr, update_goldens)
    ir_text = (tmp_path / "input.ir.json").read_text(encoding="utf-8")
    Score.model_validate_json(ir_text)  # the IR always satisfies its own schema
    compare_golden(folder / "ast.json", (tmp_path / "input.ast.json").read_text(encoding="utf-8"), update_goldens)
    compare_golden(folder / "ir.json", canonical_json(json.loads(ir_text)) + "\n", update_goldens)
    compare_golden(folder / "midi.txt", dump_midi(tmp_path / "input.mid"), update_goldens)
