"""The formatter: one layout, idempotent, comments kept, and the same tree as the writer's text."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonlang.diagnostics import CompileError
from harmonlang.fmt import LINE_WIDTH, format_source
from harmonlang.parser import parse_source

ROOT = Path(__file__).resolve().parent.parent
HARMONC = [sys.executable, "-m", "harmonlang"]


def _parses(path: Path) -> bool:
    try:
        parse_source(path.read_text(encoding="utf-8"), str(path))
    except CompileError:
        return False
    return True


# Every example and golden input, the stdlib and the test songs; the golden inputs with syntax errors
# cannot be formatted (that is their point), and are checked apart below.
ALL = sorted({*ROOT.glob("examples/*.circle"), *ROOT.glob("stdlib/**/*.circle"), *ROOT.glob("tests/**/*.circle")})
FORMATTABLE = [path for path in ALL if _parses(path)]
CANONICAL = [
    path for path in FORMATTABLE if "examples" in path.parts or "golden" in path.parts or "stdlib" in path.parts
]
SYNTAX_ERRORS = [path for path in ALL if path not in FORMATTABLE]


def _tree(text: str) -> Any:
    """The parse tree without positions: what formatting must not change."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key not in {"span", "path"}}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return strip(parse_source(text, "x.circle").model_dump(mode="json"))


def _comments(text: str) -> list[str]:
    return [match.group().rstrip() for match in re.finditer(r"(?<![^\s;{}()])#[^\n]*", _without_strings(text))]


def _without_strings(text: str) -> str:
    return re.sub(r'"[^"\n]*"', lambda match: '"' + "_" * (len(match.group()) - 2) + '"', text)


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", FORMATTABLE, ids=_id)
def test_formatting_keeps_the_tree_and_the_comments_and_is_idempotent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted = format_source(text)
    assert _tree(formatted) == _tree(text)
    assert _comments(formatted) == _comments(text)
    assert format_source(formatted) == formatted
    assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    for line in formatted.splitlines():
        assert line == line.rstrip(), line
        assert not line.startswith("\t")


def test_every_example_golden_input_and_stdlib_file_is_formatted() -> None:
    assert len(CANONICAL) > 60  # the examples, the golden inputs and the stdlib
    done = subprocess.run([*HARMONC, "fmt", "--check", *map(str, CANONICAL)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("path", SYNTAX_ERRORS, ids=_id)
def test_a_file_with_a_syntax_error_is_reported_and_left_alone(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    done = subprocess.run([*HARMONC, "fmt", str(copy)], capture_output=True, text=True)
    assert done.returncode == 1
    assert re.search(rf"{re.escape(str(copy))}:\d+:\d+: error: ", done.stderr), done.stderr
    assert "has errors; left as it is" in done.stderr and "Traceback" not in done.stderr
    assert copy.read_bytes() == path.read_bytes()


def test_the_layout() -> None:
    messy = (
        "# top\n\n\n"
        'song   "S"  {  key A minor ;tempo 120\n'
        "   scene 8 bars   # trailing\n"
        "\n\n"
        "}\n"
        "act I {   # about act I\n"
        "\tstep need { bridge { dissonance 0.2;  tempo drift +2% } }\n"
        "\n"
        "  # a comment before the close\n"
        "}\n"
        'theme t = "a4/4"\n'
        "part lead : protagonist plays ( t | transpose 2 )\n\n\n"
    )
    assert format_source(messy) == (
        "# top\n"
        "\n"
        'song "S" {\n'
        "  key   A minor\n"
        "  tempo 120\n"
        "  scene 8 bars  # trailing\n"
        "}\n"
        "act I {  # about act I\n"
        "  step need { bridge { dissonance 0.2; tempo drift +2% } }\n"
        "\n"
        "  # a comment before the close\n"
        "}\n"
        'theme t = "a4/4"\n'
        "part lead : protagonist plays (t | transpose 2)\n"
    )


def test_lines_in_a_row_line_up_as_a_table() -> None:
    text = (
        'song "S" { key A minor }\n'
        'groove g = {\n  kick "x...x..."\n  openhat "..x...x."\n\n  hat "xxxxxxxx"\n}\n'
        "part lead : protagonist on s1\npart bass : bass on t8.bass\npart keys-two : chords on gm\n"
    )
    assert format_source(text).splitlines()[1:] == [
        "groove g = {",
        '  kick    "x...x..."',  # the drum steps line up
        '  openhat "..x...x."',
        "",
        '  hat "xxxxxxxx"',  # a blank line ends the table
        "}",
        "part lead     : protagonist on s1",
        "part bass     : bass on t8.bass",
        "part keys-two : chords on gm",
    ]


def test_a_one_line_block_too_wide_for_a_line_is_opened() -> None:
    settings_line = "; ".join(f"energy 0.{n}" for n in range(1, 10))
    text = f'song "S" {{ key A minor }}\nact I {{ step need {{ {settings_line}; tension 0.5; syncopation 0.3 }} }}\n'
    formatted = format_source(text)
    assert all(len(line) <= LINE_WIDTH for line in formatted.splitlines())
    assert "  step need {\n    energy      0.1\n" in formatted
    assert _tree(formatted) == _tree(text)


def test_continued_strings_line_up_under_the_first() -> None:
    text = 'song "S" { key A minor }\ntheme t = "a4/4 |"\n"b4/4 |"\n   | transpose 2\n'
    assert format_source(text).splitlines()[1:] == ['theme t = "a4/4 |"', '          "b4/4 |"', "    | transpose 2"]


# Whitespace a writer might leave anywhere a token ends: the formatter gives the same text back.
SPACES = st.sampled_from(["", " ", "  ", "\t", "   "])
GLUES = st.sampled_from([" {} ", "{}", "{} ", " {}"])  # `=` and `:` glued to their neighbours or not


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([path for path in CANONICAL if "examples" in path.parts]), st.data())
def test_any_spacing_formats_to_the_same_text(path: Path, data: st.DataObject) -> None:
    canonical = format_source(path.read_text(encoding="utf-8"))
    lines = []
    for line in canonical.splitlines():
        code, comment = _split_comment(line)
        pieces = re.split(r'("[^"\n]*")', code)  # strings keep their insides
        spaced = []
        for number, piece in enumerate(pieces):
            if number % 2:
                spaced.append(piece)
            else:
                piece = re.sub(r" +([=:]) +", lambda found: data.draw(GLUES).format(found.group(1)), piece)
                spaced.append(re.sub(r" +", lambda _: " " + data.draw(SPACES), piece))
        lines.append(data.draw(SPACES) + "".join(spaced) + (data.draw(SPACES) + comment if comment else ""))
    assert format_source("\n".join(lines) + data.draw(st.sampled_from(["", "\n", "\n\n"]))) == canonical


def _split_comment(line: str) -> tuple[str, str]:
    found = re.search(r"(?<![^\s;{}()])#[^\n]*", _without_strings(line))
    return (line[: found.start()], line[found.start() :]) if found else (line, "")


def test_fmt_rewrites_in_place_and_check_and_diff_change_nothing(tmp_path: Path) -> None:
    song = tmp_path / "song.circle"
    song.write_text('song "S" {\n    key   A minor\n}\n', encoding="utf-8")
    checked = subprocess.run([*HARMONC, "fmt", "--check", str(song)], capture_output=True, text=True)
    assert checked.returncode == 1 and f"would reformat {song}" in checked.stderr
    diffed = subprocess.run([*HARMONC, "fmt", "--diff", str(song)], capture_output=True, text=True)
    assert diffed.returncode == 0 and "-    key   A minor\n+  key A minor\n" in diffed.stdout
    assert song.read_text(encoding="utf-8") == 'song "S" {\n    key   A minor\n}\n'
    done = subprocess.run([*HARMONC, "fmt", str(song)], capture_output=True, text=True)
    assert done.returncode == 0 and f"reformatted {song}" in done.stderr
    assert song.read_text(encoding="utf-8") == 'song "S" {\n  key A minor\n}\n'
    again = subprocess.run([*HARMONC, "fmt", "--check", str(song)], capture_output=True, text=True)
    assert again.returncode == 0 and again.stderr == ""
    piped = subprocess.run([*HARMONC, "fmt", "-"], input='song "S" { key  A minor }', capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stdout == 'song "S" { key A minor }\n'
    missing = subprocess.run([*HARMONC, "fmt", str(tmp_path / "nope.circle")], capture_output=True, text=True)
    assert missing.returncode == 1 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_glued_operators_blank_continuations_and_a_comment_after_a_semicolon() -> None:
    text = (
        'song "x" { tempo 120; # after the tempo\n key C major }\n'
        'theme a = "c4/4"\n\n\n  | transpose 2\n'
        'theme b="x"\n'
        "part keys:chords plays b\n"
        "act I { step need { polyrhythm 3:4 on hat } }\n"
    )
    assert format_source(text) == (
        'song "x" {\n  tempo 120  # after the tempo\n  key   C major\n}\n'
        'theme a = "c4/4"\n    | transpose 2\n'
        'theme b = "x"\n'
        "part keys : chords plays b\n"
        "act I { step need { polyrhythm 3:4 on hat } }\n"  # a ratio keeps its colon
    )
    assert _tree(format_source(text)) == _tree(text)


def test_fmt_keeps_links_permissions_and_line_ends(tmp_path: Path) -> None:
    real, link = tmp_path / "real.circle", tmp_path / "link.circle"
    real.write_bytes(b'song "x" {tempo 120}')
    real.chmod(0o600)
    link.symlink_to(real.name)
    diffed = subprocess.run([*HARMONC, "fmt", "--diff", str(link)], capture_output=True, text=True)
    assert '-song "x" {tempo 120}\n\\ No newline at end of file\n+song "x" { tempo 120 }\n' in diffed.stdout
    assert subprocess.run([*HARMONC, "fmt", str(link)], capture_output=True).returncode == 0
    assert link.is_symlink() and real.read_bytes() == b'song "x" { tempo 120 }\n'
    assert real.stat().st_mode & 0o777 == 0o600
    windows = tmp_path / "windows.circle"
    windows.write_bytes(b'song "x" {\r\n    tempo 120\r\n}\r\n')
    assert subprocess.run([*HARMONC, "fmt", str(windows)], capture_output=True).returncode == 0
    assert windows.read_bytes() == b'song "x" {\r\n  tempo 120\r\n}\r\n'
    again = subprocess.run([*HARMONC, "fmt", "--check", str(windows)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
