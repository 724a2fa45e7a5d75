"""The abstract syntax tree: pydantic models, a source span on every node.

The tree mirrors the grammar closely; meaning (what a setting does, which
device a name refers to) is given later by the resolver and the checker.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from harmonlang.diagnostics import Span

AST_VERSION = "1"

ValueKind = Literal["number", "fraction", "ratio", "range", "string", "name", "dotted", "pitch", "scene"]


class Node(BaseModel):
    # Built with model_construct by the parser; validators are built only if needed.
    model_config = ConfigDict(extra="forbid", defer_build=True)
    span: Span


class Value(Node):
    """One literal value of a setting, transform or device reference."""

    kind: ValueKind
    text: str
    number: float | None = None
    unit: str | None = None
    second: float | None = None  # denominator, right side of a ratio, end of a range


class Name(Node):
    text: str


class StringLit(Node):
    """A string; `span` covers the quotes, `text` excludes them."""

    text: str


class Strings(Node):
    node: Literal["strings"] = "strings"
    parts: list[StringLit]


class Ref(Node):
    node: Literal["ref"] = "ref"
    name: str


class Transform(Node):
    name: Name
    args: list[Value]


class Block(Node):
    node: Literal["block"] = "block"
    body: list[Statement]


class Expr(Node):
    base: Annotated[Strings | Ref | Block, Field(discriminator="node")]
    transforms: list[Transform] = []


class Target(Node):
    """`on DEVICE[.out] [options]`."""

    device: Name
    options: list[Value] = []


class Import(Node):
    node: Literal["import"] = "import"
    path: str
    stdlib: bool


class Song(Node):
    node: Literal["song"] = "song"
    title: StringLit | None
    block: Block


class Material(Node):
    node: Literal["material"] = "material"
    kind: Literal["theme", "prog", "groove"]
    name: Name
    expr: Expr


class Part(Node):
    node: Literal["part"] = "part"
    name: Name
    role: Name
    plays: Expr | None = None
    target: Target | None = None
    block: Block | None = None


SectionKind = Literal["act", "step", "sequence", "scene", "phrase", "chorus", "bridge", "transition"]


class Section(Node):
    node: Literal["section"] = "section"
    kind: SectionKind
    address: Name | None
    block: Block


class Definition(Node):
    node: Literal["definition"] = "definition"
    kind: Literal["genre", "device", "circle"]
    name: Name | None
    block: Block


class Setting(Node):
    node: Literal["setting"] = "setting"
    name: Name
    values: list[Value] = []
    block: Block | None = None


class PartOverride(Node):
    """`lead plays hero`, `lead on gm "Strings"` inside the circle."""

    node: Literal["part_override"] = "part_override"
    part: Name
    plays: Expr | None = None
    target: Target | None = None


Statement = Annotated[
    Import | Song | Material | Part | Section | Definition | Setting | PartOverride,
    Field(discriminator="node"),
]


class Module(BaseModel):
    """One parsed `.circle` file."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    ast_version: str = AST_VERSION
    path: str
    span: Span
    body: list[Statement]


Block.model_rebuild()
Expr.model_rebuild()
