"""Completion: the language's words, the stdlib's genres and devices, theory names and the file's own names.

What comes before the cursor narrows the list where it is plain what is wanted (`genre `, `on `,
`plays `, `key A `, `chords "`); elsewhere every word is offered. Everything here is read from tables
and the text itself, so completion never waits for a compile.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lsprotocol import types

from harmonlang.compiler import CompileResult
from harmonlang.lsp.names import code_part, in_string, keywords, own_names_in_text
from harmonlang.resolve import stdlib_names
from harmonlang.roles import ROLES
from harmonlang.settings import SETTINGS
from harmonlang.theory import MODE_ALIASES, MODES, MODULATIONS, QUALITIES, SCALES

Kind = types.CompletionItemKind
PARTIAL = re.compile(r"[A-Za-z0-9_\-'′.]*$")


def _item(label: str, kind: Kind, detail: str, documentation: str | None = None) -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=kind, detail=detail, documentation=documentation)


@lru_cache(maxsize=1)
def _static() -> dict[str, tuple[types.CompletionItem, ...]]:
    settings = tuple(
        _item(name, Kind.Property, spec.summary, f"example: `{spec.example}`") for name, spec in SETTINGS.items()
    )
    return {
        "keyword": tuple(_item(word, Kind.Keyword, "keyword") for word in keywords()),
        "setting": settings,
        "genre": tuple(_item(name, Kind.Module, "genre (stdlib)") for name in stdlib_names("genres")),
        "device": tuple(_item(name, Kind.Interface, "device (stdlib)") for name in stdlib_names("devices")),
        "scale": tuple(
            _item(name, Kind.EnumMember, "mode" if name in MODES or name in MODE_ALIASES else "scale")
            for name in [*SCALES, *MODE_ALIASES]
        ),
        "chord": tuple(_item(q, Kind.Value, "chord quality") for q in QUALITIES if q),
        "role": tuple(_item(role, Kind.Enum, "role") for role in ROLES),
        "modulation": tuple(
            _item(name, Kind.EnumMember, "key relation") for name in [*MODULATIONS, *MODES, *MODE_ALIASES]
        ),
    }


def own_items(text: str, result: CompileResult | None) -> list[types.CompletionItem]:
    """The file's materials and parts (as written now, and as the last good compile knew them, imports too)."""
    names = own_names_in_text(text)
    if result is not None:
        for name, material in result.checked.materials.items():
            names.setdefault(name, material.kind + (" (genre)" if material.from_genre else ""))
        for name in result.checked.parts:
            names.setdefault(name, "part")
    return [_item(name, Kind.Field if kind == "part" else Kind.Constant, kind) for name, kind in names.items()]


def _device_outputs(head: str, result: CompileResult | None) -> list[types.CompletionItem]:
    device = result.checked.devices.get(head) if result else None
    if device is None:
        return []
    return [_item(f"{head}.{name}", Kind.Interface, f"output of {head}") for name in device.outputs]


def word_start(line_text: str, col: int) -> int:
    """Where the word being typed at a 1-based column starts (1-based): what a completion replaces."""
    partial = PARTIAL.search(line_text[: col - 1])
    return (partial.start() if partial else col - 1) + 1


def complete(text: str, line_text: str, col: int, result: CompileResult | None) -> list[types.CompletionItem]:
    """The completions for a 1-based column of a line of `text`."""
    static = _static()
    code = code_part(line_text)
    if col - 1 > len(code):
        return []  # in a comment
    prefix = code[: col - 1]
    start = word_start(prefix, col) - 1
    before = prefix[:start].split()
    previous = before[-1] if before else ""
    own = own_items(text, result)
    if in_string(code, col):
        if re.search(r'\bchords\s+"[^"]*$', prefix):
            return list(static["chord"])
        if re.search(r'\bscales\s+"?[^"]*$', prefix):
            return list(static["scale"])
        return []
    if previous == "genre":
        return list(static["genre"])
    if previous in ("on", "follow", "mixer"):
        head = prefix[start:].split(".")[0]
        return [*static["device"], *_device_outputs(head, result)] if "." in prefix[start:] else list(static["device"])
    if previous == "plays":
        return [item for item in own if item.kind == Kind.Constant]
    if previous == "modulate":
        return list(static["modulation"])
    if previous == "scales" or (len(before) >= 2 and before[-2] == "key"):
        return list(static["scale"])
    if previous == ":" and before[:1] == ["part"]:
        return list(static["role"])
    if previous in ("fuse", "mix", "mute"):
        return own
    return [
        *static["keyword"],
        *static["setting"],
        *own,
        *static["genre"],
        *static["device"],
        *static["scale"],
        *static["chord"],
    ]
