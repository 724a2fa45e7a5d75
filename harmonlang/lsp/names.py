"""Names in a song: the word under the cursor, what it is, where it is defined, and what can be typed.

A name is a material (`theme`, `prog`, `groove`) or a part of the writer's files, a genre or a device
(the writer's own definitions first, then the stdlib's), or a word of the language itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harmonlang import nodes as n
from harmonlang.compiler import CompileResult, compile_file
from harmonlang.diagnostics import Diagnostics, SourceCache, Span
from harmonlang.lsp.syntax import parse_quietly
from harmonlang.parser import grammar_text
from harmonlang.resolve import STDLIB_LABEL, Program, display_label, load_stdlib, stdlib_names

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*['′]?(?:\.[A-Za-z0-9_'][A-Za-z0-9_\-']*)*")
COMMENT_AFTER = ";{}()"  # `#` starts a comment at a line's start, after whitespace or after one of these
IMPORT = re.compile(r'^\s*import\s+(?:"(?P<path>[^"\n]*)"?|(?P<dotted>[A-Za-z0-9_.\-]+))')
DEVICE_WORDS = ("on", "follow", "mixer")  # `on t8.bass`, `clock follow t8`, `mixer zoom-l12`
MATERIAL_KINDS = ("theme", "prog", "groove")


@dataclass(frozen=True)
class Word:
    text: str
    col: int  # 1-based, where it starts
    end: int  # 1-based, exclusive
    before: str  # the word before it on the line ("" at the line's start)

    @property
    def head(self) -> str:
        """`t8` of `t8.bass`."""
        return self.text.split(".", 1)[0]


def code_part(line: str) -> str:
    """A line without its comment: from a `#` outside strings after whitespace or `;{}()` (grammar/harmon.lark)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif (
            char == "#" and not quoted and (index == 0 or line[index - 1].isspace() or line[index - 1] in COMMENT_AFTER)
        ):
            return line[:index]
    return line


def in_string(line: str, col: int) -> bool:
    return line[: col - 1].count('"') % 2 == 1


def word_at(line: str, col: int) -> Word | None:
    """The name under a 1-based column (or just before it), outside comments and strings."""
    code = code_part(line)
    if col - 1 > len(code) or in_string(code, col):
        return None
    for match in WORD.finditer(code):
        if match.start() <= col - 1 <= match.end():
            previous = WORD.findall(code[: match.start()])
            before = previous[-1] if previous and code[: match.start()].rstrip().endswith(previous[-1]) else ""
            return Word(match.group(0), match.start() + 1, match.end() + 1, before)
    return None


def import_target(line: str) -> tuple[str, bool] | None:
    """`import "x.circle"` gives ("x.circle", False); `import std.devices.t8` gives ("std.devices.t8", True)."""
    match = IMPORT.match(code_part(line))
    if match is None:
        return None
    if match.group("path") is not None:
        return match.group("path"), False
    return match.group("dotted"), True


# ---- what the writer defined ---------------------------------------------------------------


@dataclass(frozen=True)
class Defined:
    name: str
    kind: str  # theme, prog, groove, part, genre or device
    label: str  # the file, as the compiler names it
    span: Span  # the whole statement
    name_span: Span
    text: str  # the file's text

    def source_lines(self, limit: int = 8) -> str:
        lines = self.text.split("\n")[self.span.line - 1 : self.span.end_line]
        if len(lines) > limit:
            lines = [*lines[:limit], "..."]
        return "\n".join(lines).rstrip()


def _defined_in(module: n.Module, label: str, text: str, found: dict[str, Defined]) -> None:
    for statement in module.body:
        if isinstance(statement, n.Material | n.Part):
            kind = statement.kind if isinstance(statement, n.Material) else "part"
            name = statement.name
        elif isinstance(statement, n.Definition) and statement.name and statement.kind != "circle":
            kind, name = statement.kind, statement.name
        else:
            continue
        key = name.text if kind not in ("genre", "device") else f"{kind}:{name.text}"
        found.setdefault(key, Defined(name.text, kind, label, statement.span, name.span, text))


def definitions(
    module: n.Module | None, label: str, text: str, result: CompileResult | None, path: Path | None = None
) -> dict[str, Defined]:
    """Materials and parts by name; the writer's genres and devices as `genre:NAME`, `device:NAME`.

    The file's own (as written now) come first, then its imports' and the genre's materials as the
    last good compile found them; with no good compile, its imports' as their files on disk parse.
    """
    found: dict[str, Defined] = {}
    if module is not None:
        _defined_in(module, label, text, found)
    if result is None:
        if module is not None and path is not None:
            _imported_definitions(module, path, found)
        return found
    program = result.program
    if module is None:
        _defined_in(program.entry.module, label, program.sources.texts.get(program.entry.label, ""), found)
    for loaded in program.user_modules[1:]:
        _defined_in(loaded.module, loaded.label, program.sources.texts.get(loaded.label, ""), found)
    for name, material in result.checked.materials.items():
        node = material.node
        if material.from_genre and name not in found:
            source = program.sources.texts.get(node.span.file, "")
            found[name] = Defined(name, material.kind, node.span.file, node.span, node.name.span, source)
    return found


def _imported_definitions(module: n.Module, importer: Path, found: dict[str, Defined]) -> None:
    """What the files a tree imports define (and the files they import), read from disk and parsed."""
    seen: set[Path] = set()
    frontier = [(module, importer)]
    while frontier:
        tree, at = frontier.pop(0)
        for statement in tree.body:
            if not isinstance(statement, n.Import) or statement.stdlib or not statement.path.endswith(".circle"):
                continue
            try:
                path = (at.parent / statement.path).resolve()
                stat = path.stat()
            except (OSError, ValueError):
                continue
            if path in seen:
                continue
            seen.add(path)
            parsed = _parsed_file(path, stat.st_mtime_ns, stat.st_size)
            if parsed is not None:
                label, source, imported = parsed
                _defined_in(imported, label, source, found)
                frontier.append((imported, path))


@lru_cache(maxsize=64)
def _parsed_file(path: Path, mtime_ns: int, size: int) -> tuple[str, str, n.Module] | None:
    """A file's label (as the compiler would name it), text and syntax tree; None when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    label = display_label(path)
    tree = parse_quietly(text, label)
    return (label, text, tree) if tree is not None else None


# ---- the stdlib ------------------------------------------------------------------------------


def stdlib_definition(kind: str, name: str) -> Defined | None:
    """A genre's or device's stdlib definition, with the span of its name."""
    folder = {"genre": "genres", "device": "devices", "circle": "circle"}[kind]
    sources = SourceCache()
    loaded = load_stdlib(f"{folder}/{name}.circle", sources)
    if loaded is None:
        return None
    text = sources.texts.get(loaded.label, "")
    for statement in loaded.module.body:
        if isinstance(statement, n.Definition) and statement.kind == kind and statement.name:
            if statement.name.text == name:
                return Defined(name, kind, loaded.label, statement.span, statement.name.span, text)
    whole = loaded.module.span
    return Defined(name, kind, loaded.label, whole, whole.model_copy(update={"end_line": 1, "end_col": 1}), text)


def stdlib_import(dotted: str) -> str | None:
    """The stdlib label `import std.devices.t8` names."""
    parts = dotted.split(".")
    if len(parts) != 3 or parts[0] != "std" or parts[2] not in stdlib_names(parts[1]):
        return None
    return f"{STDLIB_LABEL}/{parts[1]}/{parts[2]}.circle"


@lru_cache(maxsize=32)
def genre_markdown(name: str) -> str | None:
    from harmonlang.stdlib_docs import genre_section

    if name not in stdlib_names("genres"):
        return None
    return "\n".join(genre_section(name)).strip()


@lru_cache(maxsize=1)
def reference_program() -> Program:
    """A program with nothing of its own, for reading stdlib devices when no compile of the file has worked."""
    return compile_file("<reference>", text='song "Reference" { }\n').program


def device_markdown(name: str, program: Program | None) -> str | None:
    from harmonlang.devices import Router
    from harmonlang.stdlib_docs import device_section

    head = name.split(".", 1)[0]
    program = program if program is not None else reference_program()
    if ("device", head) not in program.definitions and head not in stdlib_names("devices"):
        return None
    device = Router(program, Diagnostics()).device(head, None)
    if device is None:
        return None
    text = "\n".join(device_section(device)).strip()
    output = name.partition(".")[2]
    if output and output in device.outputs:
        out = device.outputs[output]
        voices = f"{out.voices} voice{'' if out.voices == 1 else 's'}"
        text += f"\n\n**{name}**: channel {out.channel}, notes {out.range[0]}–{out.range[1]}, {voices}"
    return text


def import_label(importer: Path, path: str) -> str:
    """The label the compiler gives a file imported as `path` by the file at `importer`."""
    return display_label((importer.parent / path).resolve())


# ---- the language's own words --------------------------------------------------------------


@lru_cache(maxsize=1)
def keywords() -> tuple[str, ...]:
    return tuple(sorted(set(re.findall(r'"([a-z]+)"', grammar_text()))))


def own_names_in_text(text: str) -> dict[str, str]:
    """Material and part names a text defines, read line by line (so a file that does not parse still has them)."""
    found: dict[str, str] = {}
    for match in re.finditer(r"^[ \t]*(theme|prog|groove|part)[ \t]+([A-Za-z_][A-Za-z0-9_\-]*['′]?)", text, re.M):
        found.setdefault(match.group(2), match.group(1))
    return found
