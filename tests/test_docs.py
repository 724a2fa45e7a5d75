"""Every ```circle example in docs/language.md compiles, and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harmonlang.compiler import CompileFailure, compile_file
from harmonlang.settings import SETTINGS
from harmonlang.transforms import TRANSFORMS

DOC = Path(__file__).parent.parent / "docs" / "language.md"
BLOCK = re.compile(r"^```circle(?: file=(?P<file>\S+))?\n(?P<body>.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str | None, str, int]]:
    text = DOC.read_text(encoding="utf-8")
    return [(m.group("file"), m.group("body"), text[: m.start()].count("\n") + 1) for m in BLOCK.finditer(text)]


SONGS = [(body, line) for name, body, line in _blocks() if name is None]
FILES = {name: body for name, body, _ in _blocks() if name is not None}


def test_the_doc_has_examples() -> None:
    assert len(SONGS) >= 15


@pytest.mark.parametrize(("body", "line"), SONGS, ids=[f"line{line}" for _, line in SONGS])
def test_example_compiles(body: str, line: int, tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    song = tmp_path / "example.circle"
    song.write_text(body, encoding="utf-8")
    try:
        result = compile_file(str(song))
    except CompileFailure as failure:
        messages = "\n".join(f"{d.span.label() if d.span else ''} {d.message}" for d in failure.diagnostics)
        pytest.fail(f"the example at docs/language.md:{line} does not compile:\n{messages}")
    assert not [d for d in result.diagnostics if d.severity == "warning"], "doc examples should compile cleanly"
    assert result.score.scenes, "every example is a whole song"


def test_every_setting_and_transform_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in [*SETTINGS, *TRANSFORMS] if f"`{name}" not in text]
    assert not missing, f"undocumented: {missing}"


README = Path(__file__).parent.parent / "README.md"
EXAMPLES = Path(__file__).parent.parent / "examples"


def _check_output(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    from harmonlang.cli import main

    monkeypatch.chdir(folder)
    assert main(["check", name]) == 1
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("document", "example", "old", "new"),
    [
        (README, "minimal.circle", "plays hero\n", "plays hero on s2\n"),
        (DOC, "digital-dreams.circle", "on t8.drums", "on t9.drums"),
    ],
    ids=["readme", "language"],
)
def test_sample_errors_are_what_harmonc_prints(document, example, old, new, tmp_path, monkeypatch, capsys) -> None:
    """The error shown in the README and the language docs, reproduced from the examples."""
    for source in EXAMPLES.glob("*.circle"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    song = tmp_path / example
    song.write_text(song.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    name = "broken.circle" if document == README else example
    song.rename(tmp_path / name)
    printed = _check_output(tmp_path, name, monkeypatch, capsys)
    first_diagnostic = printed.split("\n\n")[0]
    assert first_diagnostic in document.read_text(encoding="utf-8")


STDLIB_DOC = Path(__file__).parent.parent / "docs" / "stdlib.md"


def test_stdlib_reference_is_generated_from_the_stdlib(capsys: pytest.CaptureFixture[str]) -> None:
    from harmonlang.cli import main

    assert main(["docs", "--check", str(STDLIB_DOC)]) == 0, (
        "docs/stdlib.md is stale: run `harmonc docs -o docs/stdlib.md`"
    )
    text = STDLIB_DOC.read_text(encoding="utf-8")
    from harmonlang.resolve import stdlib_names

    for genre in stdlib_names("genres"):
        assert f"\n## {genre}\n" in text
    for device in stdlib_names("devices"):
        assert f"\n## {device}: " in text


def test_a_stale_stdlib_reference_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harmonlang.cli import main

    stale = tmp_path / "stdlib.md"
    stale.write_text(STDLIB_DOC.read_text(encoding="utf-8").replace("126 BPM", "127 BPM"), encoding="utf-8")
    assert main(["docs", "--check", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err


def test_every_output_kind_is_documented() -> None:
    from harmonlang.cli import EMITTERS

    outputs = (Path(__file__).parent.parent / "docs" / "outputs.md").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    for kind, (suffix, _) in EMITTERS.items():
        path = "stems/" if kind == "stems" else f"song{suffix}"  # the stems are a folder of their own
        assert f"| `{kind}` | `{path}" in outputs, kind
        assert f"| `{kind}` | `out/{path}" in readme, kind
