"""The typed messages agents exchange, as pydantic models with a JSON Schema.

An act agent sends each scene a `SceneBrief`; for every open hole it sends a
role agent a `PartRequest` and gets back a `Proposal` (events, with why each
was made). The critic answers a scene's candidates with a `Verdict`.
`harmonc schema --messages` prints the schema. In the hot path the models are
built with `model_construct` (no re-validation of data the agents made);
the tests validate real messages against the schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harmonlang.ir import Candidate, NoteEvent, Provenance


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class SceneBrief(_Message):
    """What an act agent asks of one scene: the targets every role agent plays to."""

    act: str
    scene: str
    step: str
    about: str = Field(description="the act's purpose in the story")
    energy: float = Field(ge=0, le=1)
    tension: float = Field(ge=0, le=1)
    velocity_scale: float = Field(gt=0, description="dynamics: how hard every generated note is played")
    density: float = Field(ge=0, le=1.5, description="how many of the groove's hits sound")
    variation: list[str] = Field(description="the techniques that turn A into A′ here")
    texture: dict[str, bool] = Field(description="part -> plays in this scene (the arrangement)")
    texture_notes: dict[str, str] = Field({}, description="part -> why it enters, stays or leaves")
    bass_style: str | None = None
    chords_style: str | None = None
    fuse: bool = Field(False, description="the transition fuses the protagonist's and antagonist's themes")
    seed: int


class PartRequest(_Message):
    """An act agent asks a role agent to fill one hole."""

    hole: str = Field(description="the hole's id: <scene>/<phrase>/<part>")
    part: str
    role: str
    kind: Literal["melody", "variation", "foreshadow", "harmony", "bassline", "groove", "samples"]
    agent: str
    constraints: dict[str, Any]


class Proposal(_Message):
    """A role agent's answer: the notes, and for each the decision behind it."""

    hole: str
    agent: str
    events: list[NoteEvent]
    origins: list[Provenance]
    event_origins: list[int]


class Verdict(_Message):
    """The critic's choice among a scene's candidates."""

    scene: str
    chosen: int
    candidates: list[Candidate]


MESSAGES: tuple[type[BaseModel], ...] = (SceneBrief, PartRequest, Proposal, Verdict)


def json_schema() -> dict[str, Any]:
    """One schema document with every message under `$defs`."""
    defs: dict[str, Any] = {}
    for model in MESSAGES:
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://harmonlang.dev/schema/agent-messages.json",
        "title": "HarmonLang agent messages",
        "$defs": defs,
        "oneOf": [{"$ref": f"#/$defs/{model.__name__}"} for model in MESSAGES],
    }
