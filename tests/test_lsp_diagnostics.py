"""The language server's diagnostics as you type: on open, on edits, across imports, on disk changes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from lsp_support import (
    ON_SERVER,
    SEEN_FROM,
    SONG,
    WAIT_S,
    as_tuple,
    change,
    close,
    expected_message,
    files_changed,
    mark,
    open_doc,
    published,
    republished,
    save,
    where,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

from harmonlang.compiler import CompileFailure, compile_file

# ---- diagnostics ---------------------------------------------------------------------------------


@ON_SERVER
async def test_open_publishes_what_check_says(client: LanguageClient) -> None:
    uri, text = open_doc(client, SONG)
    params = await published(client, uri, 1)
    expected = compile_file(str(SONG), text=text, library_ok=True).diagnostics
    assert [d.message for d in params.diagnostics] == [expected_message(d) for d in expected]
    assert not [d for d in params.diagnostics if d.severity == types.DiagnosticSeverity.Error]
    close(client, uri)


@ON_SERVER
async def test_broken_edit_gives_the_error_and_a_fix_clears_it(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "song.circle"
    text = SONG.read_text(encoding="utf-8").replace('import "studio.circle"', "")
    path.write_text(text, encoding="utf-8")
    uri, _ = open_doc(client, path)
    assert list((await published(client, uri, 1)).diagnostics) == []

    broken = re.sub(r"(part\s+lead\s*:\s*protagonist\s+plays\s+)hero\b", r"\1herro", text)
    assert broken != text
    version = change(client, uri, broken)
    diagnostics = (await published(client, uri, version)).diagnostics
    with pytest.raises(CompileFailure) as failure:
        compile_file(str(path), text=broken, library_ok=True)
    (error,) = failure.value.diagnostics
    (found,) = diagnostics
    assert found.severity == types.DiagnosticSeverity.Error
    assert found.message == expected_message(error)
    assert found.message.startswith("unknown name `herro`\nhint: did you mean `hero`?")
    start = where(broken, r"part\s+lead\s*:\s*protagonist\s+plays\s+(herro)", 1)
    assert as_tuple(found.range) == (start.line, start.character, start.line, start.character + len("herro"))
    assert found.source == "harmonc"

    version = change(client, uri, text)
    assert list((await published(client, uri, version)).diagnostics) == []
    close(client, uri)


@ON_SERVER
async def test_only_the_latest_version_is_published(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "song.circle"
    text = SONG.read_text(encoding="utf-8").replace('import "studio.circle"', "")
    uri, _ = open_doc(client, path, text)
    await published(client, uri, 1)
    sent = [change(client, uri, text.replace("seed  7", f"seed  {seed}").replace("seed 7", f"seed {seed}"))
            for seed in (8, 9, 10, 11)]  # fmt: skip
    await published(client, uri, sent[-1])
    await asyncio.sleep(0.5)  # anything stale would have arrived by now
    versions = [p.version for p in client.published[SEEN_FROM[uri] :] if p.uri == uri]  # type: ignore[attr-defined]
    # The first change of the burst may be compiled at once (the document was quiet) and published, if the
    # server has not yet read the next when it is done; the ones in the middle never are.
    assert not set(sent[1:-1]) & set(versions)
    assert versions[-1] == sent[-1] and versions == sorted(versions)
    close(client, uri)


@ON_SERVER
async def test_an_error_in_an_import_lands_on_the_import_line_or_in_its_open_document(
    client: LanguageClient, tmp_path: Path
) -> None:
    lib, main = tmp_path / "lib.circle", tmp_path / "main.circle"
    lib.write_text("clock master\ntempoo 120\n", encoding="utf-8")
    main_text = 'import "lib.circle"\nsong "Main" { key A minor }\ntheme hero = "a4/4"\n'
    main.write_text(main_text, encoding="utf-8")
    uri, _ = open_doc(client, main)
    (found,) = (await published(client, uri, 1)).diagnostics
    with pytest.raises(CompileFailure) as failure:
        compile_file(str(main), text=main_text, library_ok=True)
    (error,) = failure.value.diagnostics
    assert found.message.endswith(expected_message(error))
    assert found.message.startswith(f"{error.span.label()}: unknown setting `tempoo`")
    assert as_tuple(found.range) == (0, 0, 0, len('import "lib.circle"'))
    assert found.related_information and found.related_information[0].location.uri == lib.as_uri()

    since = mark(client)
    lib_uri, lib_text = open_doc(client, lib)
    (own,) = (await published(client, lib_uri, 1)).diagnostics
    assert as_tuple(own.range) == (1, 0, 1, len("tempoo"))
    # main's failed compile read lib.circle, so main compiles again now that it is open: the error moves there
    assert await republished(client, uri, since, lambda diagnostics: not diagnostics) == []
    await asyncio.sleep(0.2)
    assert [d.message for d in client.diagnostics[lib_uri]] == [own.message]  # the same error once, not twice
    close(client, lib_uri)
    close(client, uri)


@ON_SERVER
async def test_fixing_and_saving_an_import_clears_the_song_whose_compile_failed(
    client: LanguageClient, tmp_path: Path
) -> None:
    lib, song = tmp_path / "lib.circle", tmp_path / "song.circle"
    lib.write_text('theme motif = "c4/4 x4/4 g4/2"\n', encoding="utf-8")
    song.write_text('import "lib.circle"\nsong "S" { key C major }\npart lead : protagonist plays motif\n')
    uri, _ = open_doc(client, song)
    (found,) = (await published(client, uri, 1)).diagnostics
    assert "`x4/4` is not a note" in found.message and found.range.start.line == 0  # on the import line
    since = mark(client)
    lib_uri, _ = open_doc(client, lib)
    (own,) = await republished(client, lib_uri, since, lambda diagnostics: bool(diagnostics))
    assert "`x4/4` is not a note" in own.message

    fixed = 'theme motif = "c4/4 e4/4 g4/2"\n'
    lib.write_text(fixed, encoding="utf-8")
    version = change(client, lib_uri, fixed)
    since = mark(client)
    save(client, lib_uri)
    assert await republished(client, uri, since) == []
    assert list((await published(client, lib_uri, version)).diagnostics) == []
    await asyncio.sleep(0.2)
    assert not client.diagnostics[uri] and not client.diagnostics[lib_uri]
    close(client, lib_uri)
    close(client, uri)


@ON_SERVER
async def test_changes_on_disk_compile_the_songs_that_read_the_file(client: LanguageClient, tmp_path: Path) -> None:
    lib, song = tmp_path / "lib.circle", tmp_path / "song.circle"
    song.write_text('import "lib.circle"\nsong "S" { key C major }\npart lead : protagonist plays motif\n')
    uri, _ = open_doc(client, song)
    (missing,) = (await published(client, uri, 1)).diagnostics  # lib.circle is not there yet
    assert missing.range.start.line == 0

    lib.write_text('theme motif = "c4/4 e4/4 g4/2"\n', encoding="utf-8")
    since = mark(client)
    files_changed(client, (lib, types.FileChangeType.Created))
    assert await republished(client, uri, since) == []

    lib.write_text('theme motif = "c4/4 x4/4 g4/2"\n', encoding="utf-8")
    since = mark(client)
    files_changed(client, (lib, types.FileChangeType.Changed))
    (broken,) = await republished(client, uri, since)
    assert "`x4/4` is not a note" in broken.message

    lib.write_text('theme motif = "c4/4 e4/4 g4/2"\n', encoding="utf-8")
    since = mark(client)
    files_changed(client, (lib, types.FileChangeType.Changed))  # the song's last compile failed, and read lib
    assert await republished(client, uri, since) == []

    lib.unlink()
    since = mark(client)
    files_changed(client, (lib, types.FileChangeType.Deleted))
    (gone,) = await republished(client, uri, since)
    assert gone.range.start.line == 0
    close(client, uri)


@ON_SERVER
async def test_the_server_asks_a_client_that_lets_it_to_report_circle_file_changes(client: LanguageClient) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not client.registrations and asyncio.get_running_loop().time() < deadline:  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
    (registration,) = client.registrations  # type: ignore[attr-defined]
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    options = registration.register_options
    watchers = options["watchers"] if isinstance(options, dict) else options.watchers
    assert [w["globPattern"] if isinstance(w, dict) else w.glob_pattern for w in watchers] == ["**/*.circle"]


@ON_SERVER
async def test_nonsense_never_stops_the_server(client: LanguageClient, tmp_path: Path) -> None:
    uri, _ = open_doc(client, tmp_path / "junk.circle", "{" * 500 + '\x00\u202e"' + "}" * 3)
    diagnostics = (await published(client, uri, 1)).diagnostics
    assert diagnostics and diagnostics[0].severity == types.DiagnosticSeverity.Error
    for text in ["song {", "act I { step need { scene 9z { } } }", "theme = |", 'import "/etc/passwd"', "\ufeff"]:
        version = change(client, uri, text)
        await published(client, uri, version)
        await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=1)
            )
        )
        await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    close(client, uri)
