"""Imports: relative paths, nesting, the stdlib, missing files, cycles, the project boundary, duplicates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harmonlang.compiler import CompileFailure, compile_file

SONG = 'song "S" { key A minor; sequences 1; scenes 1 }\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def compile_path(path: Path):
    return compile_file(str(path))


def errors_of(path: Path):
    with pytest.raises(CompileFailure) as caught:
        compile_path(path)
    errors = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert errors and all(d.message for d in errors)
    return errors


def loaded_names(result) -> list[str]:
    return [Path(m.label).name for m in result.program.user_modules]


# ---- relative and nested imports --------------------------------------------------------------------


def test_imports_are_relative_to_the_importing_file(tmp_path):
    song = write(
        tmp_path / "song.circle", 'import "lib/melody.circle"\n' + SONG + "part lead : protagonist plays hero\n"
    )
    # lib/melody.circle imports "rig.circle": the one beside it, not the one beside the song.
    write(tmp_path / "lib" / "melody.circle", 'import "rig.circle"\ntheme hero = "a4/4 c5/4"\n')
    write(tmp_path / "lib" / "rig.circle", "part bass : bass on t8.bass\n")
    write(tmp_path / "rig.circle", "part decoy : chords\n")
    result = compile_path(song)
    assert loaded_names(result) == ["song.circle", "melody.circle", "rig.circle"]
    assert Path(result.program.user_modules[2].path) == (tmp_path / "lib" / "rig.circle").resolve()
    assert [p["name"] for p in result.ir["parts"]] == ["lead", "bass"]
    assert result.ir["materials"]["hero"]["events"][0][2] == 69


def test_nested_imports_three_deep_and_upwards_inside_the_project(tmp_path):
    song = write(tmp_path / "song.circle", 'import "a/one.circle"\n' + SONG)
    write(tmp_path / "a" / "one.circle", 'import "b/two.circle"\ntheme one = "c4"\n')
    write(tmp_path / "a" / "b" / "two.circle", 'import "../../shared.circle"\ntheme two = "d4"\n')
    write(tmp_path / "shared.circle", 'theme three = "e4"\n')
    result = compile_path(song)
    assert loaded_names(result) == ["song.circle", "one.circle", "two.circle", "shared.circle"]
    assert sorted(result.ir["materials"]) == ["one", "three", "two"]


def test_a_file_imported_twice_is_loaded_once(tmp_path):
    song = write(tmp_path / "song.circle", 'import "a.circle"\nimport "b.circle"\n' + SONG)
    write(tmp_path / "a.circle", 'import "common.circle"\n')
    write(tmp_path / "b.circle", 'import "common.circle"\nimport "./common.circle"\n')
    write(tmp_path / "common.circle", 'theme hero = "c4"\n')
    result = compile_path(song)  # no "defined twice"
    assert loaded_names(result).count("common.circle") == 1


def test_imported_settings_apply_to_the_song(tmp_path):
    song = write(tmp_path / "song.circle", 'import "studio.circle"\n' + SONG)
    write(tmp_path / "studio.circle", "clock off\nact IIa { tempo 90 }\n")
    result = compile_path(song)
    assert result.ir["clock"]["role"] == "off"
    assert {s["phrases"][0]["tempo"] for s in result.ir["scenes"] if s["act"] == "IIa"} == {90}


# ---- the stdlib --------------------------------------------------------------------------------------


def test_import_std_devices_t8(tmp_path):
    song = write(tmp_path / "song.circle", "import std.devices.t8\n" + SONG + "part bass : bass on t8.bass\n")
    result = compile_path(song)
    (bass,) = result.ir["parts"]
    assert (bass["device"], bass["output"], bass["channel"], bass["range"]) == ("t8", "bass", 2, [24, 72])
    assert loaded_names(result) == ["song.circle"]  # the stdlib is not one of the writer's files


def test_import_std_genre_with_a_dash(tmp_path):
    song = write(tmp_path / "song.circle", "import std.genres.electro-house\n" + SONG)
    compile_path(song)


@pytest.mark.parametrize(
    ("line", "message", "hint"),
    [
        ("import std.devices.t9", "the stdlib has no `devices.t9`", "known: gm, keystep37, s1, sp404mk2, t8, zoom-l12"),
        ("import std.device.t8", "the stdlib has no `device`", "did you mean `devices`?"),
        ("import std.devices", "`std.devices` is not a stdlib module", None),
        ("import lib.devices.t8", "`lib.devices.t8` is not a stdlib module", None),
    ],
)
def test_bad_stdlib_imports(tmp_path, line, message, hint):
    song = write(tmp_path / "song.circle", line + "\n" + SONG)
    (error,) = errors_of(song)
    assert error.message == message
    assert (error.span.line, error.span.col) == (1, 1)
    if hint:
        assert error.hint == hint


# ---- missing and unreadable files ----------------------------------------------------------------------


def test_missing_import(tmp_path):
    song = write(tmp_path / "song.circle", SONG + '\nimport "missing.circle"\n')
    (error,) = errors_of(song)
    assert error.message == "cannot find `missing.circle`"
    assert (error.span.line, error.span.col) == (3, 1)
    assert "relative to the importing file" in error.hint


def test_missing_import_inside_an_imported_file_is_reported_there(tmp_path):
    song = write(tmp_path / "song.circle", 'import "lib/a.circle"\n' + SONG)
    write(tmp_path / "lib" / "a.circle", '# the rig\nimport "gone.circle"\n')
    (error,) = errors_of(song)
    assert error.message == "cannot find `gone.circle`"
    assert Path(error.span.file).name == "a.circle"
    assert error.span.line == 2
    assert "gone.circle" in error.hint and "lib" in error.hint


def test_import_of_a_folder_or_of_bad_bytes_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "folder.circle").mkdir()
    (tmp_path / "binary.circle").write_bytes(b"theme x = \xff\xfe\n")
    song = write(tmp_path / "song.circle", 'import "folder.circle"\nimport "binary.circle"\n' + SONG)
    errors = errors_of(song)
    assert len(errors) == 2
    assert "folder.circle" in errors[0].message
    assert errors[1].message == "cannot read `binary.circle`: it is not UTF-8 text (byte 10)"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('import "lib"', "only `.circle` files can be imported"),
        ('import "/etc/passwd.circle"', "imports are relative to the importing file"),
    ],
)
def test_import_paths_must_be_relative_circle_files(tmp_path, line, message):
    song = write(tmp_path / "song.circle", line + "\n" + SONG)
    (error,) = errors_of(song)
    assert error.message == message


def test_missing_entry_file(tmp_path):
    with pytest.raises(CompileFailure) as caught:
        compile_file(str(tmp_path / "nothing.circle"))
    (error,) = caught.value.diagnostics
    assert "there is no such file" in error.message


# ---- cycles ------------------------------------------------------------------------------------------------


def test_import_cycle(tmp_path):
    song = write(tmp_path / "song.circle", 'import "a.circle"\n' + SONG)
    write(tmp_path / "a.circle", 'import "b.circle"\n')
    write(tmp_path / "b.circle", 'import "a.circle"\n')
    (error,) = errors_of(song)
    assert error.message.startswith("import cycle: ")
    chain = [Path(p).name for p in error.message.removeprefix("import cycle: ").split(" -> ")]
    assert chain == ["a.circle", "b.circle", "a.circle"]
    assert Path(error.span.file).name == "b.circle"
    assert error.hint == "remove one of these imports"


def test_a_file_importing_itself(tmp_path):
    song = write(tmp_path / "song.circle", 'import "song.circle"\n' + SONG)
    (error,) = errors_of(song)
    assert [Path(p).name for p in error.message.removeprefix("import cycle: ").split(" -> ")] == [
        "song.circle",
        "song.circle",
    ]


def test_a_cycle_back_to_the_entry_through_another_folder(tmp_path):
    song = write(tmp_path / "song.circle", 'import "sub/a.circle"\n' + SONG)
    write(tmp_path / "sub" / "a.circle", 'import "../song.circle"\n')
    (error,) = errors_of(song)
    assert error.message.startswith("import cycle: ")


# ---- the project boundary ----------------------------------------------------------------------------------


def test_parent_path_outside_the_project_is_refused(tmp_path):
    write(tmp_path / "x.circle", 'theme x = "c4"\n')
    song = write(tmp_path / "project" / "song.circle", 'import "../x.circle"\n' + SONG)
    (error,) = errors_of(song)
    assert error.message == "`../x.circle` is outside the project"
    assert (error.span.line, error.span.col) == (1, 1)


def test_an_imported_file_cannot_escape_either(tmp_path):
    write(tmp_path / "secret.circle", 'theme x = "c4"\n')
    song = write(tmp_path / "project" / "song.circle", 'import "lib/a.circle"\n' + SONG)
    write(tmp_path / "project" / "lib" / "a.circle", 'import "../../secret.circle"\n')
    (error,) = errors_of(song)
    assert error.message == "`../../secret.circle` is outside the project"
    assert Path(error.span.file).name == "a.circle"


def test_a_path_that_leaves_and_comes_back_is_inside(tmp_path):
    song = write(tmp_path / "project" / "song.circle", 'import "../project/lib.circle"\n' + SONG)
    write(tmp_path / "project" / "lib.circle", 'theme x = "c4"\n')
    assert "x" in compile_path(song).ir["materials"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_pointing_outside_is_refused(tmp_path):
    outside = write(tmp_path / "outside" / "x.circle", 'theme x = "c4"\n')
    project = tmp_path / "project"
    song = write(project / "song.circle", 'import "link.circle"\n' + SONG)
    (project / "link.circle").symlink_to(outside)
    (error,) = errors_of(song)
    assert error.message == "`link.circle` is outside the project"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_folder_pointing_outside_is_refused(tmp_path):
    write(tmp_path / "outside" / "x.circle", 'theme x = "c4"\n')
    project = tmp_path / "project"
    song = write(project / "song.circle", 'import "shared/x.circle"\n' + SONG)
    (project / "shared").symlink_to(tmp_path / "outside", target_is_directory=True)
    (error,) = errors_of(song)
    assert error.message == "`shared/x.circle` is outside the project"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_pointing_inside_is_fine(tmp_path):
    project = tmp_path / "project"
    target = write(project / "lib" / "x.circle", 'theme x = "c4"\n')
    song = write(project / "song.circle", 'import "link.circle"\n' + SONG)
    (project / "link.circle").symlink_to(target)
    assert "x" in compile_path(song).ir["materials"]


def test_harmon_toml_marks_a_higher_project_root(tmp_path):
    write(tmp_path / "shared" / "rig.circle", 'theme riff = "e4/8 g4/8"\n')
    song = write(tmp_path / "songs" / "first" / "song.circle", 'import "../../shared/rig.circle"\n' + SONG)
    (error,) = errors_of(song)  # without harmon.toml the project is the song's own folder
    assert error.message == "`../../shared/rig.circle` is outside the project"
    (tmp_path / "harmon.toml").write_text("", encoding="utf-8")
    result = compile_path(song)
    assert result.program.root == tmp_path.resolve()
    assert "riff" in result.ir["materials"]


def test_harmon_toml_root_still_has_a_boundary(tmp_path):
    write(tmp_path / "x.circle", 'theme x = "c4"\n')
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "harmon.toml").write_text("", encoding="utf-8")
    song = write(tmp_path / "project" / "songs" / "song.circle", 'import "../../x.circle"\n' + SONG)
    (error,) = errors_of(song)
    assert error.message == "`../../x.circle` is outside the project"


def test_the_nearest_harmon_toml_wins(tmp_path):
    (tmp_path / "harmon.toml").write_text("", encoding="utf-8")
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "harmon.toml").write_text("", encoding="utf-8")
    write(tmp_path / "top.circle", 'theme x = "c4"\n')
    song = write(tmp_path / "inner" / "song.circle", 'import "../top.circle"\n' + SONG)
    (error,) = errors_of(song)
    assert "outside the project" in error.message


# ---- duplicate definitions across files ------------------------------------------------------------------


def test_theme_defined_in_two_files(tmp_path):
    song = write(tmp_path / "song.circle", 'import "lib.circle"\n' + SONG + 'theme hero = "d4"\n')
    write(tmp_path / "lib.circle", '\ntheme hero = "c4"\n')
    (error,) = errors_of(song)
    assert error.message == "`hero` is defined twice"
    (note_text, note_span) = error.notes[0]
    assert note_text == "first defined here"
    # One of the two definitions is the error, the other the note; they are in different files.
    places = {(Path(error.span.file).name, error.span.line), (Path(note_span.file).name, note_span.line)}
    assert places == {("song.circle", 3), ("lib.circle", 2)}


def test_part_defined_in_two_files(tmp_path):
    song = write(tmp_path / "song.circle", 'import "lib.circle"\n' + SONG + "part p : chords\n")
    write(tmp_path / "lib.circle", "part p : bass\n")
    (error,) = errors_of(song)
    assert error.message == "part `p` is defined twice"
    assert {Path(error.span.file).name, Path(error.notes[0][1].file).name} == {"song.circle", "lib.circle"}


@pytest.mark.parametrize("kind", ["device", "genre"])
def test_definition_in_two_files(tmp_path, kind):
    body = f"{kind} mine {{ channel 3 }}\n" if kind == "device" else f"{kind} mine {{ tempo 100 }}\n"
    song = write(tmp_path / "song.circle", 'import "lib.circle"\n' + SONG + body)
    write(tmp_path / "lib.circle", body)
    (error,) = errors_of(song)
    assert error.message == f"{kind} `mine` is defined twice"
    assert {Path(error.span.file).name, Path(error.notes[0][1].file).name} == {"song.circle", "lib.circle"}


def test_several_duplicates_are_all_reported(tmp_path):
    song = write(tmp_path / "song.circle", 'import "lib.circle"\n' + SONG + 'theme a = "c4"\ntheme b = "c4"\n')
    write(tmp_path / "lib.circle", 'theme a = "d4"\ntheme b = "d4"\n')
    assert sorted(e.message for e in errors_of(song)) == ["`a` is defined twice", "`b` is defined twice"]


def test_own_device_overrides_nothing_in_the_stdlib_by_name_clash(tmp_path):
    # A writer's own device named like a stdlib one is the writer's: their definitions come first.
    song = write(tmp_path / "song.circle", SONG + "device s1 { channel 9 }\npart lead : protagonist on s1\n")
    (lead,) = compile_path(song).ir["parts"]
    assert lead["channel"] == 9
