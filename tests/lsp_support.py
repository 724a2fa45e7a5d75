"""The language-server tests' client: pytest-lsp's, driving the real `harmonc lsp` over stdio.

Each test module that uses the `client` fixture gets one server process of its own; each test opens
its own documents (the examples, or songs written to a temporary folder) and checks what the server
says against the compiler itself.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from harmonlang.compiler import compile_file

ON_SERVER = pytest.mark.asyncio(loop_scope="module")  # the tests that talk to the one server of this module

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SONG = EXAMPLES / "digital-dreams.circle"
WAIT_S = 60.0  # generous: the machine may be busy; the server answers in well under a second


def make_client() -> LanguageClient:
    """pytest-lsp's client, keeping every publishDiagnostics (not only the latest per document)."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]
    client.registrations = []  # type: ignore[attr-defined]

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)  # type: ignore[attr-defined]

    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    features = {
        **DEFAULT_CLIENT_FEATURES,
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
        types.CLIENT_REGISTER_CAPABILITY: register,
    }
    register_lsp_features(client, features)
    return client


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "harmonlang", "lsp"],
        client_factory=make_client,
        server_env={**os.environ, "HARMONLANG_CACHE_DIR": "off"},
    ),
)
async def client(lsp_client: LanguageClient) -> Any:
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True, related_information=True
            ),
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
        ),
        workspace=types.WorkspaceClientCapabilities(  # as Neovim's: the server may ask to hear of file changes
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)
        ),
    )
    await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities))
    yield
    await lsp_client.shutdown_session()


# ---- helpers -------------------------------------------------------------------------------------

VERSIONS: dict[str, int] = {}
SEEN_FROM: dict[str, int] = {}  # where each document's publications start in the history (since its last open)


async def published(client: LanguageClient, uri: str, version: int | None) -> types.PublishDiagnosticsParams:
    """The diagnostics the server published for one version of a document (waiting for them)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        for params in client.published[SEEN_FROM.get(uri, 0) :]:  # type: ignore[attr-defined]
            if params.uri == uri and params.version == version:
                return params
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics for {uri} version {version}")


def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> tuple[str, str]:
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8") if text is None else text
    VERSIONS[uri] = 1
    SEEN_FROM[uri] = len(client.published)  # type: ignore[attr-defined]
    item = types.TextDocumentItem(uri=uri, language_id="harmon", version=1, text=text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
    return uri, text


def change(client: LanguageClient, uri: str, text: str) -> int:
    VERSIONS[uri] += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=VERSIONS[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return VERSIONS[uri]


def save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))


def files_changed(client: LanguageClient, *changes: tuple[Path, types.FileChangeType]) -> None:
    events = [types.FileEvent(uri=path.as_uri(), type=kind) for path, kind in changes]
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=events))


def mark(client: LanguageClient) -> int:
    """Where the history of publications stands now (for `republished`)."""
    return len(client.published)  # type: ignore[attr-defined]


async def republished(
    client: LanguageClient, uri: str, since: int, wanted: Any = lambda diagnostics: True
) -> list[types.Diagnostic]:
    """The diagnostics of the first publication for a document after `since` that `wanted` accepts."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        for params in client.published[since:]:  # type: ignore[attr-defined]
            if params.uri == uri and wanted(params.diagnostics):
                return list(params.diagnostics)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no new diagnostics for {uri}")


def close(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


def where(text: str, pattern: str, group: int = 0) -> types.Position:
    """The position of a regex match (or of one of its groups) in a text."""
    match = re.search(pattern, text, re.M)
    assert match is not None, pattern
    offset = match.start(group)
    line = text.count("\n", 0, offset)
    return types.Position(line=line, character=offset - (text.rfind("\n", 0, offset) + 1))


def span_range(span: Any) -> tuple[int, int, int, int]:
    return span.line - 1, span.col - 1, span.end_line - 1, span.end_col - 1


def as_tuple(range_: types.Range) -> tuple[int, int, int, int]:
    return range_.start.line, range_.start.character, range_.end.line, range_.end.character


def expected_message(diagnostic: Any) -> str:
    return diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")


def clock(ir: dict[str, Any], tick: int) -> str:
    """mm:ss.s of a tick, walking the tempo map one entry at a time (as a player would)."""
    seconds, entries = 0.0, ir["tempo_map"]
    for index, entry in enumerate(entries):
        end = entries[index + 1]["tick"] if index + 1 < len(entries) else None
        if end is not None and end <= tick:
            seconds += (end - entry["tick"]) / ir["ppq"] * 60 / entry["bpm"]
        elif entry["tick"] <= tick:
            seconds += (tick - entry["tick"]) / ir["ppq"] * 60 / entry["bpm"]
            break
    tenths = round(seconds * 10)
    return f"{tenths // 600:02d}:{tenths % 600 / 10:04.1f}"


async def hover_text(client: LanguageClient, uri: str, position: types.Position) -> str:
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    assert hover is not None, f"no hover at {position}"
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


async def definition_of(client: LanguageClient, uri: str, position: types.Position) -> list[types.Location]:
    found = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    if found is None:
        return []
    return [found] if isinstance(found, types.Location) else list(found)  # type: ignore[arg-type]


async def completions(client: LanguageClient, uri: str, position: types.Position) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.CompletionList) else result)


def line_end(text: str, pattern: str) -> types.Position:
    """The end of the (first) line a regex matches."""
    start = where(text, pattern)
    return types.Position(line=start.line, character=len(text.split("\n")[start.line]))


@pytest.fixture(scope="module")
def song_ir() -> dict[str, Any]:
    return compile_file(str(SONG), library_ok=True).ir
