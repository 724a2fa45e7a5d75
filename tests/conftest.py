"""Shared fixtures: `--update-goldens`, and failing instead of skipping under CI."""

from __future__ import annotations

import os
import shutil

import pytest
from support import EXAMPLES, SONG_NAMES

from harmonlang.ir import Score


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden expectations from current output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def require_tool(name: str) -> str:
    """The path of an external tool; skips without it, but fails under CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must provide it)")
        pytest.skip(message)
    return path


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
