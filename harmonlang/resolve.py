"""Stage 2, resolve: load a song's imports and the stdlib definitions it names.

Imports are files relative to the importing file, or stdlib modules
(`import std.devices.t8`). A file may never reach outside its project (the
folder holding the entry file, or the nearest folder above with a
`harmon.toml`) or the stdlib. A `.circle` file is data: nothing in it runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from harmonlang import __version__
from harmonlang import nodes as n
from harmonlang.diagnostics import CompileError, Diagnostics, SourceCache, Span, did_you_mean
from harmonlang.output import write_atomic
from harmonlang.parser import grammar_digest, parse_source

STDLIB_LABEL = "<stdlib>"
DEFINITION_FOLDERS = {"genre": "genres", "device": "devices", "circle": "circle"}


@dataclass
class LoadedModule:
    module: n.Module
    label: str  # how diagnostics name the file
    path: Path | None  # None for the stdlib
    stdlib: bool = False


@dataclass
class Program:
    """Everything a song refers to, loaded and parsed."""

    entry: LoadedModule
    user_modules: list[LoadedModule]
    sources: SourceCache
    root: Path
    definitions: dict[tuple[str, str], tuple[n.Definition, LoadedModule]] = field(default_factory=dict)

    def find_definition(
        self, kind: str, name: str, span: Span | None, diagnostics: Diagnostics
    ) -> tuple[n.Definition, LoadedModule] | None:
        """A genre, device or circle template by name: the writer's own first, then the stdlib."""
        found = self.definitions.get((kind, name))
        if found:
            return found
        loaded = load_stdlib(f"{DEFINITION_FOLDERS[kind]}/{name}.circle", self.sources)
        if loaded is not None:
            for statement in loaded.module.body:
                if isinstance(statement, n.Definition) and statement.kind == kind and statement.name:
                    self.definitions.setdefault((kind, statement.name.text), (statement, loaded))
            found = self.definitions.get((kind, name))
            if found:
                return found
        known = {k for (kk, k) in self.definitions if kk == kind} | set(stdlib_names(DEFINITION_FOLDERS[kind]))
        diagnostics.error(
            f"unknown {kind} `{name}`",
            span,
            did_you_mean(name, known) or f"known {kind}s: {', '.join(sorted(known))}",
        )
        return None


def stdlib_root() -> Traversable:
    return resources.files("harmonlang.stdlib")


@lru_cache(maxsize=16)
def stdlib_names(folder: str) -> tuple[str, ...]:
    directory = stdlib_root().joinpath(folder)
    if not directory.is_dir():
        return ()
    return tuple(sorted(p.name[: -len(".circle")] for p in directory.iterdir() if p.name.endswith(".circle")))


def cache_dir() -> Path | None:
    """Where parsed stdlib modules are kept: $HARMONLANG_CACHE_DIR, else the user cache; `off` disables."""
    configured = os.environ.get("HARMONLANG_CACHE_DIR")
    if configured is not None:
        return None if configured in ("", "off") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "harmonlang"


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """Changes whenever the AST's shape or the tree builder changes, so old pickles are never used."""
    import harmonlang.parser as parser_module

    sources = [Path(module.__file__).read_bytes() for module in (n, parser_module) if module.__file__]
    return hashlib.sha256(__version__.encode() + b"".join(sources)).hexdigest()


def _parse_cached(text: str, label: str) -> n.Module:
    """Parse, or load the pickled AST of exactly this text under this grammar and version."""
    folder = cache_dir()
    if folder is None:
        return parse_source(text, label)
    digest = hashlib.sha256("\0".join((_code_digest(), grammar_digest(), label, text)).encode()).hexdigest()[:32]
    path = folder / f"{digest}.ast.pickle"
    try:
        module = pickle.loads(path.read_bytes())
        if isinstance(module, n.Module):
            return module
    except Exception:  # a missing, stale or corrupt cache entry is simply rebuilt
        pass
    module = parse_source(text, label)
    try:
        write_atomic(path, pickle.dumps(module, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass
    return module


@lru_cache(maxsize=64)
def _parse_stdlib(relative: str) -> tuple[n.Module, str] | None:
    resource = stdlib_root().joinpath(*relative.split("/"))
    if not resource.is_file():
        return None
    text = resource.read_text(encoding="utf-8")
    return _parse_cached(text, f"{STDLIB_LABEL}/{relative}"), text


def load_stdlib(relative: str, sources: SourceCache) -> LoadedModule | None:
    """Parse a stdlib file once per process; its text is kept for diagnostics."""
    parsed = _parse_stdlib(relative)
    if parsed is None:
        return None
    module, text = parsed
    sources.add(module.path, text)
    return LoadedModule(module, module.path, None, stdlib=True)


def why_unreadable(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"it is not UTF-8 text (byte {error.start})"
    if isinstance(error, FileNotFoundError):
        return "there is no such file"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a .circle file"
    if isinstance(error, PermissionError):
        return "permission denied"
    return getattr(error, "strerror", None) or str(error)


def project_root(entry: Path) -> Path:
    for folder in [entry.parent, *entry.parent.parents]:
        if (folder / "harmon.toml").is_file():
            return folder
    return entry.parent


def display_label(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


class _Loader:
    def __init__(self, root: Path, sources: SourceCache, diagnostics: Diagnostics) -> None:
        self.root, self.sources, self.diagnostics = root, sources, diagnostics
        self.loaded: dict[Path, LoadedModule] = {}
        self.order: list[LoadedModule] = []

    def load_file(self, path: Path, label: str, chain: list[Path], text: str | None = None) -> LoadedModule | None:
        if text is None:
            text = path.read_text(encoding="utf-8")
        self.sources.add(label, text)
        try:
            module = parse_source(text, label, self.diagnostics)
        except CompileError:
            return None
        loaded = LoadedModule(module, label, path)
        self.loaded[path] = loaded
        self.order.append(loaded)
        for statement in module.body:
            if isinstance(statement, n.Import):
                self.follow(statement, loaded, [*chain, path])
        return loaded

    def follow(self, statement: n.Import, importer: LoadedModule, chain: list[Path]) -> None:
        if statement.stdlib:
            self.follow_stdlib(statement)
            return
        if os.path.isabs(statement.path):
            self.diagnostics.error(
                "imports are relative to the importing file", statement.span, "write a relative path"
            )
            return
        if not statement.path.endswith(".circle"):
            self.diagnostics.error(
                "only `.circle` files can be imported", statement.span, f'write `import "{statement.path}.circle"`'
            )
            return
        assert importer.path is not None
        try:
            target = (importer.path.parent / statement.path).resolve()
            exists = target.is_file()
        except (OSError, ValueError) as error:
            self.diagnostics.error(f"cannot use `{statement.path}`: {why_unreadable(error)}", statement.span)
            return
        if not target.is_relative_to(self.root):
            self.diagnostics.error(
                f"`{statement.path}` is outside the project",
                statement.span,
                f"a song may import files inside its project folder `{self.root.name or self.root}` and the stdlib",
            )
            return
        if target in chain:
            cycle = " -> ".join(display_label(p) for p in [*chain[chain.index(target) :], target])
            self.diagnostics.error(f"import cycle: {cycle}", statement.span, "remove one of these imports")
            return
        if target in self.loaded:
            return
        if not exists:
            self.diagnostics.error(
                f"cannot find `{statement.path}`",
                statement.span,
                f"looked for {display_label(target)}; paths are relative to the importing file",
            )
            return
        try:
            self.load_file(target, display_label(target), chain)
        except (OSError, UnicodeDecodeError) as error:
            self.diagnostics.error(f"cannot read `{statement.path}`: {why_unreadable(error)}", statement.span)

    def follow_stdlib(self, statement: n.Import) -> None:
        parts = statement.path.split(".")
        if parts[0] != "std" or len(parts) != 3:
            self.diagnostics.error(
                f"`{statement.path}` is not a stdlib module",
                statement.span,
                "stdlib modules are named like `std.devices.t8`; import your own files with a path in quotes",
            )
            return
        folder, name = parts[1], parts[2]
        if folder not in DEFINITION_FOLDERS.values():
            hint = did_you_mean(folder, DEFINITION_FOLDERS.values()) or "stdlib folders: circle, genres, devices"
            self.diagnostics.error(f"the stdlib has no `{folder}`", statement.span, hint)
            return
        if load_stdlib(f"{folder}/{name}.circle", self.sources) is None:
            known = stdlib_names(folder)
            self.diagnostics.error(
                f"the stdlib has no `{folder}.{name}`",
                statement.span,
                did_you_mean(name, known) or f"known: {', '.join(known)}",
            )


def resolve(
    path: str, diagnostics: Diagnostics, text: str | None = None, sources: SourceCache | None = None
) -> Program:
    """Load the entry file and everything it imports. Raises CompileError."""
    entry_path = Path(path).resolve()
    sources = sources if sources is not None else SourceCache()
    loader = _Loader(project_root(entry_path), sources, diagnostics)
    try:
        entry = loader.load_file(entry_path, display_label(entry_path) if text is None else path, [], text)
    except (OSError, UnicodeDecodeError) as error:
        raise diagnostics.fail(f"cannot read `{path}`: {why_unreadable(error)}", None) from None
    diagnostics.stop_if_errors()
    assert entry is not None
    program = Program(entry, loader.order, sources, loader.root)
    for loaded in loader.order:
        for statement in loaded.module.body:
            if isinstance(statement, n.Definition) and statement.name is None and statement.kind != "circle":
                diagnostics.error(
                    f"a {statement.kind} needs a name", statement.span, f"write `{statement.kind} NAME {{ ... }}`"
                )
            if isinstance(statement, n.Definition) and statement.name is not None:
                key = (statement.kind, statement.name.text)
                if key in program.definitions:
                    first = program.definitions[key][0]
                    diagnostic = diagnostics.error(f"{statement.kind} `{key[1]}` is defined twice", statement.name.span)
                    diagnostic.notes.append(("first defined here", first.name.span if first.name else None))
                    continue
                program.definitions[key] = (statement, loaded)
    return program
