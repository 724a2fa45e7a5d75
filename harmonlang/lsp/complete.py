"""Completion: the language's words, the stdlib's genres and devices, theory names and the file's own names.

What comes before the cursor narrows the list where it is plain what is wanted (`genre `, `on `,
`plays `, `key A `, `chords "`, `hero | `); inside a number (`polyrhythm 3:`) nothing is; elsewhere every
word is offered, each label once. Everything here is read from tables and the text itself, so completion
never waits for a compile.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from harmonlang.compiler import CompileResult
from harmonlang.lsp.locations import Lines
from harmonlang.lsp.names import code_part, in_string, keywords, own_names_in_text
from harmonlang.resolve import stdlib_names
from harmonlang.roles import ROLES
from harmonlang.settings import SETTINGS
from harmonlang.theory import MODE_ALIASES, MODES, MODULATIONS, QUALITIES, SCALES
from harmonlang.transforms import TRANSFORMS, TransformSpec

Kind = types.CompletionItemKind
PARTIAL = re.compile(r"[A-Za-z0-9_\-'′.]*$")
NUMBER = re.compile(r"(?<![A-Za-z0-9_\-'′.])[+-]?\.?[0-9][A-Za-z0-9_.:/%]*$")  # `3:`, `0.`, `-6d`, `1/`
PART_ROLE = re.compile(r"^\s*part\s+[^\s:]+\s*:\s*$")  # `part x : `, `part x:`
PIPE = re.compile(r"\|\s*$")  # `hero | `, `(hero |`
MATERIAL_LINE = re.compile(r"^\s*(theme|prog|groove)\b")
PLAYS = re.compile(r"\bplays\s+\(?\s*([A-Za-z_][A-Za-z0-9_\-]*['′]?)")


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
        "transform": tuple(_transform_item(name, spec) for name, spec in TRANSFORMS.items()),
    }


def _transform_item(name: str, spec: TransformSpec) -> types.CompletionItem:
    args = " ".join(arg.kind.upper() if arg.default is None else f"[{arg.kind.upper()}]" for arg in spec.args)
    usage = " ".join(word for word in ("|", name, args) if word)
    *rest, last = sorted(spec.kinds)
    kinds = f"{', '.join(rest)} or {last}" if rest else last
    return _item(name, Kind.Function, f"transform: {spec.summary}", f"`{usage}`, on a {kinds}")


def _transforms(kind: str | None) -> list[types.CompletionItem]:
    """The transforms, only those that apply to a kind of material when it is known."""
    return [item for item in _static()["transform"] if kind is None or kind in TRANSFORMS[item.label].kinds]


def unique(items: list[types.CompletionItem]) -> list[types.CompletionItem]:
    """Each label once: its most specific item (anything before a bare keyword), the others' details added."""
    groups: dict[str, list[types.CompletionItem]] = {}
    for item in items:
        groups.setdefault(item.label, []).append(item)
    out: list[types.CompletionItem] = []
    for label, group in groups.items():
        specific = [item for item in group if item.kind != Kind.Keyword] or group
        details = list(dict.fromkeys(item.detail for item in specific if item.detail))
        first = specific[0]
        detail = ", ".join(details) if len(details) > 1 else first.detail
        out.append(types.CompletionItem(label=label, kind=first.kind, detail=detail, documentation=first.documentation))
    return out


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
    """The completions for a 1-based column of a line of `text`, each label once."""
    return unique(_candidates(text, line_text, col, result))


def _candidates(text: str, line_text: str, col: int, result: CompileResult | None) -> list[types.CompletionItem]:
    static = _static()
    code = code_part(line_text)
    if col - 1 > len(code):
        return []  # in a comment
    prefix = code[: col - 1]
    start = word_start(prefix, col) - 1
    before = prefix[:start].split()
    previous = before[-1] if before else ""
    if NUMBER.search(prefix):
        return []  # a number, a ratio or a fraction being typed
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
    if PART_ROLE.match(prefix[:start]):
        return list(static["role"])
    if PIPE.search(prefix[:start]):
        return _transforms(_piped_kind(prefix, own))
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


def _piped_kind(prefix: str, own: list[types.CompletionItem]) -> str | None:
    """The kind of material a `|` pipes: the statement's (`theme x = ... |`), or the played material's."""
    statement = MATERIAL_LINE.match(prefix)
    if statement is not None:
        return statement.group(1)
    played = PLAYS.search(prefix)
    kinds = {item.label: item.detail for item in own}
    kind = kinds.get(played.group(1)) if played else None
    return kind.split(" ", 1)[0] if kind else None


def completion_list(
    text: str, codec: PositionCodec, position: types.Position, result: CompileResult | None
) -> types.CompletionList:
    """The answer to a completion request: each item replaces the word being typed."""
    lines = Lines(text, codec)
    line, col = lines.column(position)
    line_text = lines.line(line - 1)
    replaced = types.Range(start=lines.position(line, word_start(line_text, col)), end=lines.position(line, col))
    items = [
        types.CompletionItem(
            label=item.label,
            kind=item.kind,
            detail=item.detail,
            documentation=item.documentation,
            text_edit=types.TextEdit(range=replaced, new_text=item.label),
        )
        for item in complete(text, line_text, col, result)
    ]
    return types.CompletionList(is_incomplete=False, items=items)
