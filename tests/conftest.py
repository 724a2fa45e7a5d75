"""Shared fixtures: `--update-goldens`, failing instead of skipping under CI, a private JACK server, the editor
tests' npm tools and scope snapshots (editor_support) and the language-server client (lsp_support)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from editor_support import example_scopes, node_modules  # noqa: F401 - fixtures shared by the editor tests
from lsp_support import client, song_ir  # noqa: F401 - the language-server fixtures, for every test module
from support import EXAMPLES, SONG_NAMES, require_tool

from harmonlang.ir import Score

if TYPE_CHECKING:
    from jack_support import MidiSink


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden expectations from current output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session keeps its parsed-stdlib cache out of the user's home."""
    monkeypatch.setenv("HARMONLANG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def example_songs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Score]:
    """Every song in examples/ (not the library modules), compiled and filled once per test session."""
    from harmonlang.compiler import compile_file

    songs: dict[str, Score] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", str(tmp_path_factory.mktemp("example-cache")))
        for name in SONG_NAMES:
            songs[name] = compile_file(str(EXAMPLES / f"{name}.circle")).filled_score
    return songs


@pytest.fixture(scope="session")
def jack_server() -> Iterator[str]:
    """A JACK server of our own (dummy driver), named JACK_SERVER; JACK_DEFAULT_SERVER points every client at it."""
    for tool in ("jackd", "jack_lsp", "jack_connect", "jack_midi_dump"):
        require_tool(tool)
    from jack_support import (
        JACK_SERVER,
        JackError,
        start_jack_server,
        stop_jack_server,
    )  # imports rtmidi (needs libasound2)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JACK_DEFAULT_SERVER", JACK_SERVER)  # for rtmidi here, and inherited by child processes
        patch.setenv("JACK_NO_START_SERVER", "1")  # a client must never start some other server
        try:  # realtime priority (-R) keeps the dummy driver's cycles on time while the tests load the machine
            server = start_jack_server(JACK_SERVER, realtime=True)
        except JackError:  # no rtprio here: the brief's plain `jackd -r`
            server = start_jack_server(JACK_SERVER)
        try:
            yield JACK_SERVER
        finally:
            stop_jack_server(server)


@pytest.fixture
def midi_sink(jack_server: str) -> Iterator[MidiSink]:
    """A fresh recording MIDI input port on the test JACK server; connect sources to `midi_sink.port`."""
    from jack_support import MidiSink

    with MidiSink(jack_server) as sink:
        yield sink
