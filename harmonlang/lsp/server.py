"""`harmonc lsp`: the HarmonLang language server, over standard input and output (pygls).

Features:

- **Diagnostics as you type.** Every open `.circle` buffer is compiled as `harmonc check` compiles a file
  (`compile_file(path, text=..., library_ok=True)`: parse, resolve, check and lower; the agents never
  run, holes stay unfilled) and its errors and warnings are published with the same messages
  (`message`, then `hint: ...`). A change compiles at once when the buffer has been quiet for 50 ms;
  changes that come closer together (or while a compile runs) are debounced, and only the latest
  version's diagnostics are ever published. A diagnostic in an imported file goes to that file's
  document when it is open (and holds what the compile read), else onto the import line. A save, or a
  change on disk the client reports (`workspace/didChangeWatchedFiles`), compiles again every open
  document whose last compile (failed or not) read the file.
- **Hover.** On a block's header (`act I {`, `step need {`, `sequence 2 {`, `scene III.change.3b {`,
  `chorus {`, `bridge {`, `transition {`, `phrase A {`): the scenes (or phrases) it covers, their bars
  and when they start (mm:ss.s, from the IR's tempo map). On a genre or a device: its stdlib summary.
  On a material or part name: its definition.
- **Completion.** Keywords, genres, devices, scales, chord qualities, settings, roles, transforms
  (after a `|`), and the file's own materials and parts, narrowed by what comes before the cursor.
- **Go to definition.** Materials and parts (in imported files too), `import "x.circle"` to the file,
  genres and devices to their `.circle` file (the writer's own definition first, then the stdlib).
- **Document symbols.** The song header, materials and parts, and the circle as acts > steps >
  sequences > scenes (every scene of the song), each at its written block, else at its nearest written
  ancestor's, else at the header.
- **Formatting.** One whole-document edit from `harmonlang.fmt.format_source`, when it changes anything.

The compiler runs on one worker thread, one job at a time, so the server keeps reading messages
while it works. Errors in the song never stop the server; a crash of the compiler is logged and
shown as a diagnostic.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from harmonlang import __version__
from harmonlang import nodes as n
from harmonlang.lsp.analysis import Analysis, analyse
from harmonlang.lsp.complete import completion_list
from harmonlang.lsp.features import View, definition, formatting, hover, symbols
from harmonlang.lsp.locations import Lines, same_file, uri_path
from harmonlang.lsp.publish import merged
from harmonlang.lsp.syntax import parse_quietly

DEBOUNCE_S = 0.05  # changes closer together than this are compiled once, after the last
SWITCH_INTERVAL_S = 0.0005  # Python's default is 5 ms
SETTLE_S = 2.0  # a request waits at most this long for the document's pending compile
IDLE_COLLECT_S = 1.0  # the garbage collector runs when the server has been idle this long
COLLECT_EVERY = 25  # ... or after this many compiles, whichever comes first
WATCHED = "**/*.circle"  # the files the server asks a client to report changes of
T = TypeVar("T")
log = logging.getLogger("harmonlang.lsp")


@dataclass
class DocState:
    uri: str
    path: Path
    generation: int = 0  # bumped by every open and change
    last_change: float = float("-inf")  # loop time of the latest change
    changed_at: float = 0.0  # perf_counter of the latest change (for the debug log)
    timer: asyncio.TimerHandle | None = None
    running: bool = False
    closed: bool = False
    published: Analysis | None = None  # the analysis last published
    good: Analysis | None = None  # the last analysis whose compile succeeded
    parsed: tuple[int, n.Module | None] | None = None  # (generation, syntax tree or None) of a text
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # set when the latest text's round is done


@dataclass
class Rounds:
    """Diagnostics by target document and the compile that reported them."""

    by_target: dict[str, dict[str, list[types.Diagnostic]]] = field(default_factory=dict)
    targets_of: dict[str, set[str]] = field(default_factory=dict)


class HarmonServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("harmonc", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.docs: dict[str, DocState] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harmonc-compile")
        self.rounds = Rounds()
        self.tasks: set[asyncio.Future[Any]] = set()
        self.collect_timer: asyncio.TimerHandle | None = None
        self.compiles_since_collect = 0
        self.client_watches = False  # the client reports file changes of its own accord (VS Code's extension)

    # ---- the worker --------------------------------------------------------------------------
    async def in_worker(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, partial(call, *args))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        print(f"harmonc lsp: {message}", file=sys.stderr, flush=True)
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # no client to tell (not initialised, or gone)
            pass

    def warm_up(self) -> None:
        """Compile a small song once, so the first real compile finds the grammar and the stdlib loaded."""
        try:
            from harmonlang.compiler import compile_file
            from harmonlang.lsp.names import keywords

            compile_file("<warm-up>", text='song "Warm-up" { genre electro-house }\n', library_ok=True)
            keywords()
        except Exception as error:
            log.warning("warm-up failed: %s", error)
        gc.collect()
        gc.freeze()  # what start-up made lives as long as the server: no collection need walk it again

    # ---- scheduling the diagnostic rounds ----------------------------------------------------
    def changed(self, uri: str) -> None:
        state = self.docs.get(uri)
        if state is None:
            state = self.docs[uri] = DocState(uri, uri_path(uri))
        loop = asyncio.get_running_loop()
        now = loop.time()
        quiet = now - state.last_change >= DEBOUNCE_S and not state.running and state.timer is None
        state.generation += 1
        state.last_change = now
        state.changed_at = time.perf_counter()
        state.settled.clear()
        if self.collect_timer is not None:
            self.collect_timer.cancel()
            self.collect_timer = None
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if quiet:
            self.start_round(state)
        else:
            state.timer = loop.call_later(DEBOUNCE_S, self._timer_fired, state)

    def _timer_fired(self, state: DocState) -> None:
        state.timer = None
        self.start_round(state)

    def start_round(self, state: DocState) -> None:
        if state.running or state.closed:
            return  # a running round compiles again when it sees the text has moved on
        state.running = True
        self.in_background(self.round(state))

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def round(self, state: DocState) -> None:
        try:
            while not state.closed:
                document = self.workspace.get_text_document(state.uri)
                generation, text, version = state.generation, document.source, document.version
                analysis = await self.in_worker(
                    analyse,
                    state.uri,
                    state.path,
                    text,
                    generation,
                    version,
                    self.workspace.position_codec,
                    self.open_texts(),
                    self.supports_related(),
                )
                self.compiles_since_collect += 1
                if state.closed:
                    return
                if state.generation != generation:  # the text moved on: this result is never shown
                    if state.timer is not None:
                        return  # the debounce timer starts the next round
                    continue
                self.publish(state, analysis)
                since = (time.perf_counter() - state.changed_at) * 1000
                log.debug("%s v%s: compiled in %.1f ms, published %.1f ms after the change", state.path.name, version,
                          analysis.seconds * 1000, since)  # fmt: skip
                if analysis.crash is not None:
                    self.log(f"the compiler failed on {state.uri}:\n{analysis.crash}", types.MessageType.Error)
                return
        except Exception as error:  # never let a round take the server down
            log.exception("diagnostic round failed")
            self.log(f"diagnostic round failed for {state.uri}: {error!r}", types.MessageType.Error)
        finally:
            state.running = False
            if state.timer is None:
                state.settled.set()
            self.schedule_collect()

    def open_texts(self) -> Callable[[Path], tuple[str, str] | None]:
        snapshot = [(state.path, uri, self.workspace.get_text_document(uri).source) for uri, state in self.docs.items()]

        def lookup(path: Path) -> tuple[str, str] | None:
            for each, uri, text in snapshot:
                if same_file(each, path):
                    return uri, text
            return None

        return lookup

    def supports_related(self) -> bool:
        capabilities = self.client_capabilities.text_document
        publish = capabilities.publish_diagnostics if capabilities else None
        return bool(publish and publish.related_information)

    def publish(self, state: DocState, analysis: Analysis) -> None:
        previous = (state.published, state.good, state.parsed)
        state.published = analysis
        if analysis.result is not None:
            state.good = analysis
        state.parsed = (analysis.generation, analysis.module) if analysis.module is not None else state.parsed
        self.contribute(state.uri, analysis.placed, analysis.version)
        # Only now, with the diagnostics sent, may the previous compile go: freeing its tens of thousands
        # of objects takes milliseconds that would otherwise come before the publication.
        del previous

    def contribute(self, source: str, placed: dict[str, list[types.Diagnostic]], version: int | None) -> None:
        """Replace what one document's compile says about each document, and publish what changed."""
        rounds = self.rounds
        before = rounds.targets_of.get(source, set())
        rounds.targets_of[source] = set(placed)
        for target in before | set(placed):
            rounds.by_target.setdefault(target, {})[source] = placed.get(target, [])
            if not rounds.by_target[target][source]:
                del rounds.by_target[target][source]
            if target not in self.docs:
                continue  # only open documents are published to
            own_version = version if target == source else self._version(target)
            diagnostics = merged(rounds.by_target[target], target)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=target, diagnostics=diagnostics, version=own_version)
            )

    def _version(self, uri: str) -> int | None:
        try:
            return self.workspace.get_text_document(uri).version
        except Exception:
            return None

    def closed(self, uri: str) -> None:
        state = self.docs.pop(uri, None)
        if state is None:
            return
        state.closed = True
        if state.timer is not None:
            state.timer.cancel()
        state.settled.set()
        self.contribute(uri, {}, None)  # what its compiles said about other open documents goes
        self.rounds.by_target.pop(uri, None)
        self.rounds.targets_of.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        self.readers_changed([uri_path(uri)])  # they show its errors on their import lines again

    def readers_changed(self, paths: Sequence[Path], created: bool = False) -> None:
        """Compile again every open document whose last compile (good or failed) read one of these files.

        They read it from disk, so a save or a change on disk changes what they say; and an open or a
        close changes where they show its errors (in its own document, or on their import line). With
        `created`, the documents whose last compile failed too: a new file may be an import they missed.
        """
        for uri, state in list(self.docs.items()):
            analysis = state.published
            if analysis is None:
                continue  # its first round is still to come
            read = [each for each in analysis.compiled.files.values() if not same_file(each, state.path)]
            if any(same_file(path, each) for path in paths for each in read) or (created and analysis.result is None):
                self.changed(uri)

    async def watch_files(self) -> None:
        """Ask the client to report changes to `.circle` files, when it lets a server ask (Neovim does)."""
        workspace = self.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace else None
        if self.client_watches or not (watched and watched.dynamic_registration):
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=WATCHED)]
        )
        registration = types.Registration(
            id="harmonc-circle-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
        )
        try:
            await self.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
        except Exception as error:  # the client said no: saves of open documents still count
            log.warning("the client did not register for file changes: %s", error)

    def schedule_collect(self) -> None:
        if self.compiles_since_collect >= COLLECT_EVERY:
            self.collect()
            return
        if self.collect_timer is None:
            self.collect_timer = asyncio.get_running_loop().call_later(IDLE_COLLECT_S, self.collect)

    def collect(self) -> None:
        self.collect_timer = None
        self.compiles_since_collect = 0
        gc.collect()

    # ---- views for the other features ------------------------------------------------------------
    async def settle(self, uri: str) -> None:
        """Wait (a little) for the document's pending round, so a request sees the latest text compiled."""
        state = self.docs.get(uri)
        if state is not None and not state.settled.is_set():
            try:
                await asyncio.wait_for(state.settled.wait(), SETTLE_S)
            except TimeoutError:
                pass

    def view(self, uri: str) -> View | None:
        """The document as the features see it (built on the worker: it may parse)."""
        state = self.docs.get(uri)
        if state is None:
            return None
        text = self.workspace.get_text_document(uri).source
        generation = state.generation
        lines = Lines(text, self.workspace.position_codec)
        if state.parsed is not None and state.parsed[0] == generation:
            module = state.parsed[1]
        else:
            module = parse_quietly(text, str(state.path))
            state.parsed = (generation, module)
        good = state.good
        if module is None and good is not None:
            module = good.module  # the text does not parse: the last tree that did (its positions may be off)
        root = Path(self.workspace.root_path) if self.workspace.root_path else None
        return View(uri, state.path, text, lines, module, good.result if good else None, root)


# ---- the handlers --------------------------------------------------------------------------------


def create_server() -> HarmonServer:
    ls = HarmonServer()

    @ls.feature(types.INITIALIZE)
    def initialize(ls: HarmonServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        ls.client_watches = isinstance(options, dict) and bool(options.get("watchesFiles"))

    @ls.feature(types.INITIALIZED)
    async def initialized(ls: HarmonServer, params: types.InitializedParams) -> None:
        ls.in_background(ls.watch_files())
        await ls.in_worker(ls.warm_up)

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HarmonServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)
        ls.readers_changed([uri_path(params.text_document.uri)])

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HarmonServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HarmonServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: HarmonServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.readers_changed([uri_path(params.text_document.uri)])

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: HarmonServer, params: types.DidChangeWatchedFilesParams) -> None:
        created = any(change.type == types.FileChangeType.Created for change in params.changes)
        ls.readers_changed(
            [uri_path(change.uri) for change in params.changes if change.uri.startswith("file:")], created
        )

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: HarmonServer, params: types.HoverParams) -> types.Hover | None:
        await ls.settle(params.text_document.uri)
        return await ls.in_worker(guarded, "hover", _at, ls, params, hover)

    @ls.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(ls: HarmonServer, params: types.DefinitionParams) -> list[types.Location] | None:
        await ls.settle(params.text_document.uri)
        return await ls.in_worker(guarded, "definition", _at, ls, params, definition)

    @ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", ":"]))
    def on_completion(ls: HarmonServer, params: types.CompletionParams) -> types.CompletionList | None:
        state = ls.docs.get(params.text_document.uri)
        result = state.good.result if state and state.good else None
        text = ls.workspace.get_text_document(params.text_document.uri).source
        return guarded("completion", completion_list, text, ls.workspace.position_codec, params.position, result)

    @ls.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def on_symbols(ls: HarmonServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
        await ls.settle(params.text_document.uri)
        return await ls.in_worker(guarded, "document symbols", _whole, ls, params.text_document.uri, symbols)

    @ls.feature(types.TEXT_DOCUMENT_FORMATTING)
    async def on_formatting(ls: HarmonServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        return await ls.in_worker(guarded, "formatting", _whole, ls, params.text_document.uri, formatting)

    return ls


def guarded(name: str, call: Callable[..., T], *args: Any) -> T | None:
    """A request's answer; None (and a log line) when answering it failed."""
    try:
        return call(*args)
    except Exception as error:
        log.exception("%s failed", name)
        print(f"harmonc lsp: {name} failed: {error!r}", file=sys.stderr, flush=True)
        return None


def _at(ls: HarmonServer, params: types.TextDocumentPositionParams, feature: Callable[[View, int, int], T]) -> T | None:
    view = ls.view(params.text_document.uri)
    if view is None:
        return None
    line, col = view.lines.column(params.position)
    return feature(view, line, col)


def _whole(ls: HarmonServer, uri: str, feature: Callable[[View], T]) -> T | None:
    view = ls.view(uri)
    return feature(view) if view is not None else None


def main() -> int:
    """Serve on stdio until the client says exit. Nothing else may write to standard output."""
    level = logging.DEBUG if os.environ.get("HARMONC_LSP_DEBUG") else logging.WARNING
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="harmonc lsp: %(name)s: %(message)s")
    log.setLevel(level)  # HARMONC_LSP_DEBUG=1: each round's timing on stderr
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    gc.disable()  # collections run when the server is idle (HarmonServer.schedule_collect), never mid-compile
    # pygls reads each message in pieces on another thread; while a compile holds the interpreter, every
    # piece waits for the switch interval. A short one keeps new changes coming in during a compile, so
    # a compile whose text is already out of date is seen to be and never published.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    started = time.perf_counter()
    ls = create_server()
    log.info("ready in %.0f ms", (time.perf_counter() - started) * 1000)
    ls.start_io(stdin, stdout)
    return 0
