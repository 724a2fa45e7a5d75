"""The language server's hover, completion, go to definition, outline and formatting, and what it loads."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from lsp_support import (
    EXAMPLES,
    ON_SERVER,
    ROOT,
    SONG,
    as_tuple,
    change,
    clock,
    close,
    completions,
    definition_of,
    hover_text,
    line_end,
    open_doc,
    published,
    where,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

from harmonlang.compiler import compile_file
from harmonlang.fmt import format_source
from harmonlang.resolve import stdlib_names

# ---- hover ---------------------------------------------------------------------------------------


@ON_SERVER
async def test_hover_on_a_scene_block_shows_its_bars_and_start(client: LanguageClient, song_ir: dict[str, Any]) -> None:
    uri, text = open_doc(client, SONG)
    await published(client, uri, 1)
    scene = next(s for s in song_ir["scenes"] if s["id"] == "III.change.3b")
    value = await hover_text(client, uri, where(text, r"^scene\s+(III\.change\.3b)", 1))
    assert "scene III.change.3b" in value
    assert "act III, step change, sequence 3, scene b" in value
    assert f"{scene['bars']} bars" in value and scene["bars"] == 16
    assert f"starts at {clock(song_ir, scene['start'])}" in value

    act = [s for s in song_ir["scenes"] if s["act"] == "I"]
    value = await hover_text(client, uri, where(text, r"^act\s+(I)\s*\{", 1))
    assert f"{len(act)} scenes, {act[0]['id']} to {act[-1]['id']}" in value
    assert f"from {clock(song_ir, act[0]['start'])} to {clock(song_ir, act[-1]['end'])}" in value

    search = [s for s in song_ir["scenes"] if s["step"] == "search"]
    value = await hover_text(client, uri, where(text, r"^\s*step\s+(search)", 1))
    assert f"{len(search)} scenes" in value and f"{sum(s['bars'] for s in search)} bars" in value

    bridges = [p for s in song_ir["scenes"] if s["step"] == "need" for p in s["phrases"] if p["kind"] == "B"]
    value = await hover_text(client, uri, where(text, r"^\s*(bridge)\s*\{", 1))
    assert f"{len(bridges)} phrases" in value and f"first at {clock(song_ir, bridges[0]['start'])}" in value
    close(client, uri)


@ON_SERVER
async def test_hover_on_a_genre_a_device_and_a_name(client: LanguageClient) -> None:
    from harmonlang.devices import Router
    from harmonlang.diagnostics import Diagnostics
    from harmonlang.stdlib_docs import device_section, genre_section

    uri, text = open_doc(client, SONG)
    await published(client, uri, 1)
    value = await hover_text(client, uri, where(text, r"genre\s+(electro-house)", 1))
    assert value == "\n".join(genre_section("electro-house")).strip()

    program = compile_file(str(SONG), library_ok=True).program
    for pattern, name in (
        (r"on\s+(t8)\.bass", "t8"),
        (r"on\s+(sp404mk2)\s+bank\s+A", "sp404mk2"),
        (r"on\s+(s1)\b", "s1"),
    ):
        value = await hover_text(client, uri, where(text, pattern, 1))
        device = Router(program, Diagnostics()).device(name, None)
        assert device is not None
        assert value.startswith("\n".join(device_section(device)).strip())

    value = await hover_text(client, uri, where(text, r"part\s+lead\s*:\s*protagonist\s+plays\s+(hero)", 1))
    definition = next(line for line in text.split("\n") if re.match(r"theme hero\s*=", line))
    assert "theme **hero**" in value and definition in value
    value = await hover_text(client, uri, where(text, r"mix\s+(dark)", 1))
    assert "part **dark**" in value and "antagonist" in value
    close(client, uri)


@ON_SERVER
async def test_hover_says_voice_once_and_a_device_name_once(client: LanguageClient, tmp_path: Path) -> None:
    uri, text = open_doc(client, SONG)
    await published(client, uri, 1)
    value = await hover_text(client, uri, where(text, r"on\s+(t8\.bass)", 1))
    assert "**t8.bass**: channel" in value and value.endswith(", 1 voice")
    close(client, uri)

    text = (
        'device mysynth {\n  kind    synth\n  port    "My Synth"\n  channel 2\n}\nsong "Own" { key A minor }\n'
        'theme hero = "a4/4 c5/4 e5/2"\npart lead : protagonist plays hero on mysynth\n'
    )
    uri, _ = open_doc(client, tmp_path / "own.circle", text)
    assert not (await published(client, uri, 1)).diagnostics
    value = await hover_text(client, uri, where(text, r"on (mysynth)", 1))
    assert value.startswith("## mysynth\n\n- **kind:** synth")  # no title: the name once, and no empty summary
    close(client, uri)


@ON_SERVER
async def test_a_sharp_in_a_string_is_not_a_comment(client: LanguageClient, tmp_path: Path) -> None:
    text = 'song "Hit #1" { genre \n'
    uri, _ = open_doc(client, tmp_path / "hit.circle", text)
    await published(client, uri, 1)
    labels = {item.label for item in await completions(client, uri, line_end(text, "genre"))}
    assert labels == set(stdlib_names("genres"))
    close(client, uri)

    text = 'song "Chase" { key A minor }\nact I { intent "chase #2"; syncopation 0.5 }  # a comment\n'
    uri, _ = open_doc(client, tmp_path / "chase.circle", text)
    await published(client, uri, 1)
    value = await hover_text(client, uri, where(text, r"(syncopation) 0\.5", 1))
    assert value.startswith("**syncopation**")
    close(client, uri)


# ---- completion ----------------------------------------------------------------------------------


@ON_SERVER
async def test_completion_offers_words_names_genres_and_devices(client: LanguageClient) -> None:
    uri, text = open_doc(client, SONG)
    await published(client, uri, 1)
    lines = text.split("\n")
    blank = next(i for i, line in enumerate(lines) if not line.strip() and i > 20)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=blank, character=0)
        )
    )
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    labels = {item.label for item in items}
    assert {"scene", "theme", "part", "import", "chorus", "plays"} <= labels  # keywords
    assert set(stdlib_names("genres")) <= labels and set(stdlib_names("devices")) <= labels
    assert {"hero", "shadow", "home", "four", "lead", "chops", "fx"} <= labels  # own names, fx from the import
    assert {"dorian", "minor-pentatonic", "maj7", "m7b5", "tempo", "syncopation"} <= labels

    narrowed = text.split("\n")
    genre_line = next(i for i, line in enumerate(narrowed) if re.match(r"\s*genre\s", line))
    narrowed[genre_line] = "  genre "
    version = change(client, uri, "\n".join(narrowed))
    await published(client, uri, version)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=genre_line, character=len("  genre ")),
        )
    )
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    assert {item.label for item in items} == set(stdlib_names("genres"))

    bass_line = next(i for i, line in enumerate(narrowed) if re.match(r"part\s+bass\b", line))
    column = narrowed[bass_line].index("t8.bass") + len("t8.")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=bass_line, character=column),
        )
    )
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    outputs = {item.label: item for item in items if item.label.startswith("t8.")}
    assert set(outputs) == {"t8.bass", "t8.drums"}
    edit = outputs["t8.bass"].text_edit
    assert isinstance(edit, types.TextEdit) and edit.new_text == "t8.bass"
    assert as_tuple(edit.range) == (bass_line, column - len("t8."), bass_line, column)
    close(client, uri)


@ON_SERVER
async def test_completion_of_transforms_roles_and_numbers(client: LanguageClient, tmp_path: Path) -> None:
    from harmonlang.roles import ROLES
    from harmonlang.transforms import TRANSFORMS

    text = (
        'song "S" { key A minor }\ntheme hero = "a4/4"\ngroove four = { kick "x..." }\n'
        "theme z = hero | \npart lead : protagonist plays hero | \ngroove g = four | \n"
        "act I { polyrhythm 3:\npart x:\n\n"
    )
    uri, _ = open_doc(client, tmp_path / "complete.circle", text)
    await published(client, uri, 1)
    common = {"transpose", "invert", "retrograde", "thin", "displace", "augment", "diminish", "repeat"}
    for pattern, kind in (("^theme z", "theme"), ("^part lead", "theme"), ("^groove g", "groove")):
        items = await completions(client, uri, line_end(text, pattern))
        assert {item.label for item in items} == {name for name, spec in TRANSFORMS.items() if kind in spec.kinds}
        assert all(item.kind == types.CompletionItemKind.Function for item in items)
    theme_items = {item.label for item in await completions(client, uri, line_end(text, "^theme z"))}
    assert common <= theme_items
    assert await completions(client, uri, line_end(text, "polyrhythm 3:")) == []  # inside a ratio: nothing
    assert {item.label for item in await completions(client, uri, line_end(text, "^part x:"))} == set(ROLES)

    items = await completions(client, uri, types.Position(line=len(text.split("\n")) - 2, character=0))
    labels = [item.label for item in items]
    assert len(labels) == len(set(labels)), sorted({label for label in labels if labels.count(label) > 1})
    by_label = {item.label: item for item in items}
    assert by_label["genre"].kind == types.CompletionItemKind.Property  # the setting, not the bare keyword
    assert by_label["blues"].detail == "genre (stdlib), scale"
    close(client, uri)


# ---- go to definition ---------------------------------------------------------------------------


@ON_SERVER
async def test_definition_of_a_theme_the_import_a_genre_and_a_device(client: LanguageClient) -> None:
    uri, text = open_doc(client, SONG)
    await published(client, uri, 1)
    (found,) = await definition_of(client, uri, where(text, r"part\s+lead\s*:\s*protagonist\s+plays\s+(hero)", 1))
    start = where(text, r"^theme\s+(hero)\s*=", 1)
    assert found.uri == uri
    assert as_tuple(found.range) == (start.line, start.character, start.line, start.character + 4)

    (found,) = await definition_of(client, uri, where(text, r'import\s+"(studio)\.circle"', 1))
    assert found.uri == (EXAMPLES / "studio.circle").as_uri()

    (found,) = await definition_of(client, uri, where(text, r"genre\s+(electro-house)", 1))
    assert found.uri.endswith("/genres/electro-house.circle")
    genre_text = Path(found.uri.removeprefix("file://")).read_text(encoding="utf-8")
    name = where(genre_text, r"^genre (electro-house)", 1)
    assert (found.range.start.line, found.range.start.character) == (name.line, name.character)

    (found,) = await definition_of(client, uri, where(text, r"on\s+(t8)\.drums", 1))
    assert found.uri.endswith("/devices/t8.circle")
    close(client, uri)


@ON_SERVER
async def test_definition_reaches_into_an_imported_file(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "lib.circle").write_text('theme motif = "c4/4 e4/4"\n', encoding="utf-8")
    text = 'import "lib.circle"\nsong "S" { key C major }\npart lead : protagonist plays motif\n'
    uri, _ = open_doc(client, tmp_path / "main.circle", text)
    assert list((await published(client, uri, 1)).diagnostics) == []
    (found,) = await definition_of(client, uri, where(text, r"plays (motif)", 1))
    assert found.uri == (tmp_path / "lib.circle").as_uri()
    assert as_tuple(found.range) == (0, 6, 0, 11)
    close(client, uri)


@ON_SERVER
async def test_imported_names_without_a_good_compile(client: LanguageClient, tmp_path: Path) -> None:
    """The song has never compiled in this session: its imports' names come from their files, parsed."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "lib.circle").write_text('import "more.circle"\ntheme motif = "c4/4 e4/4"\n')
    (tmp_path / "sub" / "more.circle").write_text('prog home = "I IV"\n', encoding="utf-8")
    text = (
        'import "sub/lib.circle"\nsong "S" { key C major; tempoo 120 }\n'
        "part lead : protagonist plays motif\npart keys : chords plays home\n"
    )
    uri, _ = open_doc(client, tmp_path / "main.circle", text)
    assert (await published(client, uri, 1)).diagnostics  # `tempoo`: the compile fails
    (found,) = await definition_of(client, uri, where(text, r"plays (motif)", 1))
    assert found.uri == (tmp_path / "sub" / "lib.circle").as_uri() and as_tuple(found.range) == (1, 6, 1, 11)
    (found,) = await definition_of(client, uri, where(text, r"plays (home)", 1))
    assert found.uri == (tmp_path / "sub" / "more.circle").as_uri() and as_tuple(found.range) == (0, 5, 0, 9)
    value = await hover_text(client, uri, where(text, r"plays (motif)", 1))
    assert value.startswith("theme **motif** (sub/lib.circle:2)")  # named from the song's folder
    close(client, uri)


# ---- document symbols ---------------------------------------------------------------------------


@ON_SERVER
async def test_document_symbols_outline_the_circle(client: LanguageClient, song_ir: dict[str, Any]) -> None:
    uri, text = open_doc(client, SONG)
    await published(client, uri, 1)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert symbols is not None
    assert all(isinstance(s, types.DocumentSymbol) for s in symbols)
    by_name = {s.name: s for s in symbols}
    assert 'song "Digital Dreams"' in by_name
    assert {"hero", "shadow", "home", "lifted", "four", "broken", "lead", "chops"} <= set(by_name)
    acts = [s for s in symbols if s.name.startswith("act ")]
    assert [a.name for a in acts] == ["act I", "act IIa", "act IIb", "act III"]
    scenes = [scene for act in acts for step in act.children for seq in step.children for scene in seq.children]
    assert len(scenes) == 48
    assert [s.name for s in scenes] == [s["id"] for s in song_ir["scenes"]]
    header = by_name['song "Digital Dreams"'].range

    written = next(s for s in scenes if s.name == "III.change.3b")
    assert written.range.start.line == where(text, r"^scene\s+III\.change\.3b").line
    act_one = next(a for a in acts if a.name == "act I")
    unwritten = next(s for s in scenes if s.name == "I.you.1a")  # in `act I { ... }`, which has no `step you`
    assert as_tuple(unwritten.range) == as_tuple(act_one.range) != as_tuple(header)
    assert as_tuple(unwritten.selection_range) == as_tuple(act_one.selection_range)
    act_two = next(a for a in acts if a.name == "act IIa")
    assert act_two.range.start.line == where(text, r"^act\s+IIa").line
    close(client, uri)


def inside(inner: types.Range, outer: types.Range) -> bool:
    return as_tuple(outer)[:2] <= as_tuple(inner)[:2] and as_tuple(inner)[2:] <= as_tuple(outer)[2:]


@ON_SERVER
@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.circle")))
async def test_document_symbols_nest(client: LanguageClient, name: str) -> None:
    """Every symbol's children lie within its range, and its selection range too, in every example."""
    uri, _ = open_doc(client, EXAMPLES / name)
    await published(client, uri, 1)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert symbols
    problems: list[str] = []
    stack = [(symbol, [symbol.name]) for symbol in symbols if isinstance(symbol, types.DocumentSymbol)]
    while stack:
        symbol, path = stack.pop()
        if not inside(symbol.selection_range, symbol.range):
            problems.append(f"{' > '.join(path)}: its selection range is outside its range")
        for child in symbol.children or []:
            if not inside(child.range, symbol.range):
                problems.append(f"{' > '.join(path)} {as_tuple(symbol.range)} > {child.name} {as_tuple(child.range)}")
            stack.append((child, [*path, child.name]))
    assert not problems, "\n".join(problems)
    close(client, uri)


# ---- formatting ----------------------------------------------------------------------------------


@ON_SERVER
async def test_formatting_returns_what_format_source_makes(client: LanguageClient, tmp_path: Path) -> None:
    messy = (
        'song   "Messy"  {\n key A minor\n      tempo 124 }\ntheme  hero =   "a4/4"\npart lead:protagonist plays hero\n'
    )
    for text in (messy, SONG.read_text(encoding="utf-8")):
        uri, _ = open_doc(client, tmp_path / "format.circle", text)
        await published(client, uri, 1)
        edits = await client.text_document_formatting_async(
            types.DocumentFormattingParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                options=types.FormattingOptions(tab_size=2, insert_spaces=True),
            )
        )
        expected = format_source(text, str(tmp_path / "format.circle"))
        if expected == text:
            assert not edits
        else:
            assert edits is not None and len(edits) == 1
            (edit,) = edits
            lines = text.split("\n")
            assert as_tuple(edit.range) == (0, 0, len(lines) - 1, len(lines[-1]))
            assert edit.new_text == expected
        close(client, uri)

    uri, _ = open_doc(client, tmp_path / "broken.circle", 'song "Broken" {\n')
    await published(client, uri, 1)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not edits
    close(client, uri)


# ---- what the server loads ----------------------------------------------------------------------

HEAVY = ("numpy", "scipy", "music21", "librosa", "llama_cpp", "mido", "rtmidi", "soundfile", "pretty_midi")
HEAVY_OWN = ("harmonlang.agents",)  # the agents: some 100 ms of start-up the server never needs


def test_the_server_path_imports_nothing_heavy() -> None:
    """Every feature, run as the server runs it, without the audio, notation or model libraries."""
    import subprocess

    code = f"""
import sys
from pathlib import Path
from pygls.workspace.position_codec import PositionCodec
import harmonlang.cli, harmonlang.lsp.server
from harmonlang.lsp.analysis import analyse
from harmonlang.lsp.complete import complete
from harmonlang.lsp.features import View, definition, formatting, hover, symbols
from harmonlang.lsp.locations import Lines
path = Path({str(SONG)!r})
text = path.read_text(encoding="utf-8")
analysis = analyse(path.as_uri(), path, text, 1, 1, PositionCodec(), lambda p: None, True)
assert analysis.result is not None
view = View(path.as_uri(), path, text, Lines(text, PositionCodec()), analysis.module, analysis.result)
for number, line in enumerate(text.split("\\n")):
    for col in range(1, len(line) + 2, 2):
        hover(view, number + 1, col)
        definition(view, number + 1, col)
        complete(text, line, col, analysis.result)
symbols(view)
formatting(view)
heavy = {{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})
own = {{m for m in sys.modules for h in {HEAVY_OWN!r} if m == h or m.startswith(h + ".")}}
print(sorted(heavy | own))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
