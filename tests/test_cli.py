"""`harmonc`: exit codes, commands, outputs, the schema, atomic writes, and no tracebacks for bad input."""

from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import mido
import pytest

import harmonlang
from harmonlang.cli import main
from harmonlang.ir import Score
from harmonlang.runtime.events import dump_midi

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GOOD = 'song "Good" { key A minor; tempo 120; sequences 1; scenes 1 }\ntheme hero = "a4/8 c5/8 e5/4 d5/2"\n'
GOOD += 'groove four = { kick "x...x...x...x..." }\npart lead : protagonist plays hero\npart beat : drums plays four\n'
BROKEN = GOOD.replace("tempo 120", "tempo 999")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_exit(capsys, *argv: str) -> tuple[int, str, str]:
    """argparse exits by itself on usage errors, --help and --version."""
    with pytest.raises(SystemExit) as stopped:
        main(list(argv))
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


def song(tmp_path: Path, text: str = GOOD, name: str = "song.circle") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def harmonc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harmonlang", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


# ---- exit codes and usage -----------------------------------------------------------------------------


def test_version(capsys):
    code, out, _ = usage_exit(capsys, "--version")
    assert code == 0
    assert out == f"harmonc {harmonlang.__version__}\n"
    assert harmonlang.__version__ == importlib.metadata.version("harmonlang")


def test_no_command_is_a_usage_error(capsys):
    code, out, err = run(capsys)
    assert code == 2
    assert out == ""
    assert "usage: harmonc" in err
    assert "check" in err and "build" in err and "schema" in err


@pytest.mark.parametrize("argv", [["--bogus"], ["frobnicate"], ["check"], ["build"], ["build", "a", "--nope"]])
def test_argparse_usage_errors_exit_2(capsys, argv):
    code, _, err = usage_exit(capsys, *argv)
    assert code == 2
    assert "usage:" in err


@pytest.mark.parametrize(("kinds", "shown"), [("ast,pdf", "pdf"), ("wav", "wav"), ("", "(none)"), (" , ", "(none)")])
def test_bad_emit_kind_is_a_usage_error_and_writes_nothing(capsys, tmp_path, kinds, shown):
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "build", str(song(tmp_path)), "-o", str(out_dir), "--emit", kinds)
    assert code == 2
    assert f"unknown --emit kind {shown}; choose from ast, ir, score, midi, events" in err
    assert not out_dir.exists()


def test_check_ok_exits_0_with_a_summary(capsys):
    code, out, err = run(capsys, "check", str(EXAMPLES / "minimal.circle"))
    assert code == 0
    assert err == ""
    assert out.startswith("ok  ")
    assert "minimal.circle: 48 scenes, 384 bars" in out
    assert "2 parts" in out


def test_check_quiet_prints_nothing_for_good_songs(capsys):
    assert run(capsys, "check", "-q", str(EXAMPLES / "short.circle")) == (0, "", "")


def test_check_accepts_a_library_module(capsys):
    code, out, _ = run(capsys, "check", str(EXAMPLES / "studio.circle"))
    assert code == 0
    assert "a library module" in out


def test_check_reports_errors_from_every_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    song(tmp_path, 'song "A" { tempo 999 }\n', "first.circle")
    song(tmp_path, 'song "B" { key A minor }\n\ntheme x = "c4 q4"\n', "second.circle")
    song(tmp_path, GOOD, "good.circle")
    code, out, err = run(capsys, "check", "first.circle", "good.circle", "second.circle", "missing.circle")
    assert code == 1
    assert "first.circle:1:18: error: `tempo` takes beats per minute, from 20 to 300" in err
    assert "second.circle:3:15: error: `q4` is not a note" in err
    assert "cannot read `missing.circle`" in err
    assert err.count("1 error generated") == 3
    assert out.startswith("ok  good.circle: 8 scenes")
    # Reports come in the order the files were given.
    assert err.index("first.circle") < err.index("second.circle") < err.index("missing.circle")


def test_warnings_do_not_fail_a_build(capsys, tmp_path):
    text = GOOD.replace('"a4/8 c5/8 e5/4 d5/2"', '"a4/8 c5/8 e5/4 | d5/2"')
    code, _, err = run(capsys, "build", str(song(tmp_path, text)), "-o", str(tmp_path / "out"), "-q")
    assert code == 0
    assert "warning: this bar lasts 2 beats, but the meter wants 4 beats" in err
    assert "1 warning generated" in err
    assert (tmp_path / "out" / "song.mid").exists()


# ---- build --------------------------------------------------------------------------------------------------


def test_build_emits_ast_ir_and_midi(capsys, tmp_path):
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "build", str(song(tmp_path)), "-o", str(out_dir), "--emit", "ast,ir,midi")
    assert (code, err) == (0, "")
    assert sorted(files_in(out_dir)) == ["song.ast.json", "song.ir.json", "song.mid"]
    assert out.startswith("built ")
    assert out.count("  wrote ") == 3
    ast = json.loads((out_dir / "song.ast.json").read_text(encoding="utf-8"))
    assert ast["ast_version"] == "1"
    assert [s["node"] for s in ast["body"]] == ["song", "material", "material", "part", "part"]
    ir = Score.model_validate_json((out_dir / "song.ir.json").read_text(encoding="utf-8"))
    assert ir.title == "Good"
    assert len(ir.scenes) == 8
    midi = mido.MidiFile(str(out_dir / "song.mid"))
    assert midi.type == 1
    # The conductor, the song's two parts, and the three the arrangement adds (chords, bass, antagonist).
    assert len(midi.tracks) == 6
    assert "(+3 added by the arrangement)" in out and "holes filled" in out


def test_build_with_another_genre_keeps_the_themes_and_form(capsys, tmp_path):
    minimal = str(EXAMPLES / "minimal.circle")
    irs = {}
    for genre in ("electro-house", "reggae"):
        code, _, err = run(capsys, "build", minimal, "-o", str(tmp_path / genre), "--emit", "ir", "--genre", genre)
        assert (code, err) == (0, "")
        irs[genre] = json.loads((tmp_path / genre / "minimal.ir.json").read_text(encoding="utf-8"))
    house, reggae = irs["electro-house"], irs["reggae"]
    assert (house["genre"], reggae["genre"]) == ("electro-house", "reggae")
    assert house["materials"]["hero"] == reggae["materials"]["hero"]  # the theme stays
    assert [s["id"] for s in house["scenes"]] == [s["id"] for s in reggae["scenes"]]  # and the form
    assert house["tempo_map"][0]["bpm"] != reggae["tempo_map"][0]["bpm"]  # the genre's tempo
    assert house["materials"]["main"]["hits"] != reggae["materials"]["main"]["hits"]


def test_build_with_an_unknown_genre_says_which_exist(capsys, tmp_path):
    code, _, err = run(capsys, "build", str(EXAMPLES / "minimal.circle"), "-o", str(tmp_path), "--genre", "regae")
    assert code == 1
    assert "unknown genre `regae`" in err and "did you mean `reggae`?" in err
    assert not list(tmp_path.iterdir())


def test_build_defaults_to_ir_and_midi_in_out(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    song(tmp_path)
    code, _, _ = run(capsys, "build", "song.circle", "-q")
    assert code == 0
    assert sorted(files_in(tmp_path / "out")) == ["song.ir.json", "song.mid"]


def test_events_dump_matches_the_midi_file(capsys, tmp_path):
    out_dir = tmp_path / "out"
    assert run(capsys, "build", str(song(tmp_path)), "-o", str(out_dir), "--emit", "midi,events", "-q")[0] == 0
    text = (out_dir / "song.events.txt").read_text(encoding="utf-8")
    assert text == dump_midi(out_dir / "song.mid")
    assert text.startswith("type 1, ppq 480, 6 tracks\n")


def test_build_of_a_broken_song_exits_1_and_writes_nothing(capsys, tmp_path):
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "build", str(song(tmp_path, BROKEN)), "-o", str(out_dir))
    assert code == 1
    assert out == ""
    assert "error: `tempo` takes beats per minute, from 20 to 300" in err
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_output_folder_that_is_a_file_is_an_error_not_a_crash(capsys, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder", encoding="utf-8")
    code, _, err = run(capsys, "build", str(song(tmp_path)), "-o", str(blocker), "-q")
    assert code == 2  # a usage error: -o names a folder
    assert err.startswith("harmonc: error:")
    assert "is a file" in err
    assert blocker.read_text(encoding="utf-8") == "not a folder"


# ---- atomic output ------------------------------------------------------------------------------------------


def test_a_failed_build_leaves_earlier_outputs_byte_identical(capsys, tmp_path):
    out_dir = tmp_path / "out"
    path = song(tmp_path)
    assert run(capsys, "build", str(path), "-o", str(out_dir), "--emit", "ast,ir,midi,events", "-q")[0] == 0
    before = files_in(out_dir)
    assert sorted(before) == ["song.ast.json", "song.events.txt", "song.ir.json", "song.mid"]
    mtimes = {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()}

    path.write_text(BROKEN, encoding="utf-8")
    code, _, err = run(capsys, "build", str(path), "-o", str(out_dir), "--emit", "ast,ir,midi,events")
    assert code == 1
    assert "error:" in err
    assert files_in(out_dir) == before  # same names, same bytes, and no temporary files left
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()} == mtimes


def test_a_rebuild_replaces_outputs_without_leaving_temporary_files(capsys, tmp_path):
    out_dir = tmp_path / "out"
    path = song(tmp_path)
    assert run(capsys, "build", str(path), "-o", str(out_dir), "-q")[0] == 0
    first = files_in(out_dir)
    path.write_text(GOOD.replace("d5/2", "e5/2"), encoding="utf-8")
    assert run(capsys, "build", str(path), "-o", str(out_dir), "-q")[0] == 0
    second = files_in(out_dir)
    assert sorted(second) == sorted(first) == ["song.ir.json", "song.mid"]
    assert second["song.mid"] != first["song.mid"]
    assert not [name for name in os.listdir(out_dir) if name.startswith(".") or name.endswith(".tmp")]


def test_outputs_are_ordinary_files_under_the_umask(capsys, tmp_path):
    old = os.umask(0o022)
    try:
        assert run(capsys, "build", str(song(tmp_path)), "-o", str(tmp_path / "out"), "-q")[0] == 0
    finally:
        os.umask(old)
    for path in (tmp_path / "out").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name


# ---- the schema -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    from harmonlang.ir import json_schema

    return json_schema()


def test_schema_command_prints_a_json_schema(capsys, schema):
    code, out, err = run(capsys, "schema")
    assert (code, err) == (0, "")
    printed = json.loads(out)
    assert printed == json.loads(json.dumps(schema))
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed["type"] == "object"
    assert {"scenes", "parts", "tempo_map", "meter_map", "key_map", "length"} <= set(printed["required"])


def test_schema_to_a_file(capsys, tmp_path):
    target = tmp_path / "deep" / "score.schema.json"
    assert run(capsys, "schema", "-o", str(target)) == (0, "", "")
    assert target.read_text(encoding="utf-8") == main_schema_text(capsys)


def main_schema_text(capsys) -> str:
    main(["schema"])
    return capsys.readouterr().out


def test_a_compiled_ir_validates_against_the_printed_schema(capsys, tmp_path):
    out_dir = tmp_path / "out"
    example = tmp_path / "digital-dreams.circle"
    example.write_text((EXAMPLES / "digital-dreams.circle").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "studio.circle").write_text((EXAMPLES / "studio.circle").read_text(encoding="utf-8"), encoding="utf-8")
    assert run(capsys, "build", str(example), "-o", str(out_dir), "--emit", "ir", "-q")[0] == 0
    ir = json.loads((out_dir / "digital-dreams.ir.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(json.loads(main_schema_text(capsys)))
    assert list(validator.iter_errors(ir)) == []

    broken = json.loads(json.dumps(ir))
    broken["scenes"][0]["phrases"][0]["cells"][0]["status"] = "maybe"
    broken["parts"][0]["channel"] = 17
    del broken["title"]
    broken["surprise"] = True
    problems = {tuple(e.absolute_path) for e in validator.iter_errors(broken)}
    assert ("scenes", 0, "phrases", 0, "cells", 0, "status") in problems
    assert ("parts", 0, "channel") in problems
    assert () in problems  # the missing title and the unknown key are reported at the root


# ---- no Python traceback for bad input -------------------------------------------------------------------------

BAD_INPUTS = {
    "syntax.circle": 'song "S" {\n  tempo = 120\n}\n',
    "unclosed.circle": 'song "S" {\n  key A minor\n',
    "string.circle": 'song "S" { key A minor }\ntheme x = "a4 c5\n',
    "setting.circle": 'song "S" { tempo 999; temp 120 }\n',
    "theme.circle": 'song "S" {}\ntheme x = "c4/3 z [] c4~"\npart a : protagonist plays x\n',
    "nul.circle": 'song "S" {\x00}\n',
    "control.circle": "song \x1b[31m\x07 {}\n",
    "huge.circle": 'song "S" { seed 99999999999999999999999999; tempo 120.000000000000000001 }\n',
    "deep.circle": "act I {" * 50 + "}" * 50 + "\n",
    "device.circle": 'song "S" {}\npart a : chords on t9.drums program 300\n',
}


@pytest.fixture
def bad_inputs(tmp_path) -> Path:
    for name, text in BAD_INPUTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "binary.circle").write_bytes(b"\xff\xfe\x00song")
    (tmp_path / "folder.circle").mkdir()
    return tmp_path


def test_no_traceback_reaches_stderr_for_bad_input(bad_inputs):
    names = [*BAD_INPUTS, "binary.circle", "folder.circle", "missing.circle"]
    checked = harmonc("check", *names, cwd=bad_inputs)
    assert checked.returncode == 1, checked.stderr
    assert "Traceback" not in checked.stderr
    for name in names:
        assert f"{name}" in checked.stderr, f"no report for {name}"
    assert checked.stderr.count("error generated") + checked.stderr.count("errors generated") == len(names)

    built = harmonc("build", "theme.circle", "-o", "out", cwd=bad_inputs)
    assert built.returncode == 1
    assert "Traceback" not in built.stderr
    assert "theme.circle:2:" in built.stderr
    assert not (bad_inputs / "out").exists()


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "\ufeff\n\n"])
def test_a_file_without_a_song_checks_as_a_library_but_does_not_build(capsys, tmp_path, text):
    path = tmp_path / "lib.circle"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0
    assert "a library module" in out
    code, _, err = run(capsys, "build", str(path), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "error: this file has no `song` header" in err
    assert not (tmp_path / "out").exists()


def test_usage_errors_through_the_module_entry_point(tmp_path):
    nothing = harmonc(cwd=tmp_path)
    assert nothing.returncode == 2
    assert "usage: harmonc" in nothing.stderr
    emit = harmonc("build", "x.circle", "--emit", "mp3", cwd=tmp_path)
    assert emit.returncode == 2
    assert "unknown --emit kind mp3" in emit.stderr
    version = harmonc("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"harmonc {harmonlang.__version__}\n")
    for process in (nothing, emit, version):
        assert "Traceback" not in process.stderr


def test_a_song_that_compiles_always_builds(tmp_path):
    text = 'song "S" { key A minor }\ngroove g = { kick "...x" } | displace 1/32 | retrograde\npart d : drums plays g\n'
    (tmp_path / "song.circle").write_text(text, encoding="utf-8")
    built = harmonc("build", "song.circle", "-o", "out", "-q", cwd=tmp_path)
    assert "Traceback" not in built.stderr
    assert built.returncode == 0
