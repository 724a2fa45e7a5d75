"""The Score IR: the contract between the compiler, the agents and the runtime.

Versioned, JSON-serializable, in absolute ticks (PPQ 480). Each phrase has a
cell per part: literal events the writer wrote, an explicit hole carrying
the constraints an agent must honour, or a rest the form asks for.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harmonlang.ir_version import IR_VERSION

PhraseKind = Literal["A", "B", "A'", "T"]
HoleKind = Literal["melody", "variation", "foreshadow", "harmony", "bassline", "groove", "samples"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# A note is a compact array [tick, dur, pitch, vel]: absolute start and length in
# ticks, MIDI pitch and velocity. Arrays keep a 48-scene IR small and fast.
NoteEvent = tuple[
    Annotated[int, Field(ge=0)],
    Annotated[int, Field(ge=1)],
    Annotated[int, Field(ge=0, le=127)],
    Annotated[int, Field(ge=1, le=127)],
]
TICK, DUR, PITCH, VEL = range(4)


class Provenance(_Model):
    by: Literal["writer", "agent"] = "writer"
    agent: str | None = Field(None, description="the agent that made it: melody, harmony, rhythm, bass, chords, ...")
    material: str | None = Field(None, description="the named material played, if any")
    source: str | None = Field(None, description="file:line:col of what the writer wrote")
    note: str | None = None


class ChordContext(_Model):
    tick: int
    dur: int
    symbol: str = Field(description="the chord as it sounds here, in this phrase's key")
    written: str = Field(description="the chord as the writer wrote it, in the home key")
    pitches: list[int]
    by: Literal["writer", "agent"] = Field("writer", description="the writer's chords part, or the harmony agent")
    note: str | None = Field(None, description="why the harmony agent chose this chord")


class KeyInfo(_Model):
    tonic: str
    mode: str
    fifths: int = Field(description="key signature: sharps positive, flats negative")


class HoleConstraints(_Model):
    key: KeyInfo
    meter: list[int]
    tempo: float
    bars: int
    start: int
    end: int
    range: list[int] = Field(description="lowest and highest MIDI note the part's device plays")
    drum_voices: list[str] = []
    source_material: str | None = Field(None, description="the theme a variation or foreshadowing develops")
    directives: dict[str, Any] = {}


class Hole(_Model):
    id: str
    kind: HoleKind
    constraints: HoleConstraints


class Cell(_Model):
    part: str
    status: Literal["literal", "hole", "generated", "rest"] = Field(
        description="literal: the writer's; hole: open; generated: a hole an agent filled; rest: silent here"
    )
    events: list[NoteEvent] = []
    hole: Hole | None = Field(None, description="the constraints, kept when an agent fills or rests the hole")
    provenance: Provenance | None = None
    origins: list[Provenance] = Field([], description="for generated cells: each agent decision behind the events")
    event_origins: list[int] = Field([], description="for each event, its index into `origins`")
    channel: int | None = Field(None, description="set when the part is routed elsewhere here")
    device: str | None = Field(None, description="where it is routed here, with `output` and `port` (IR 1.3)")
    output: str | None = None
    port: str | None = None
    program: int | None = None
    program_channel: int | None = Field(None, description="where that device takes Program Change, if apart")


class Phrase(_Model):
    kind: PhraseKind
    name: str
    start: int
    end: int
    bars: int
    key: KeyInfo
    tempo: float = Field(description="the tempo at the phrase's first beat")
    tempo_end: float = Field(description="the tempo at its last beat: another when a drift is running")
    tempo_drift: float = 0.0
    harmony: list[ChordContext] = []
    directives: dict[str, Any] = {}
    cells: list[Cell]


class Arc(_Model):
    energy: float | None = None
    tension: float | None = None


class Candidate(_Model):
    seed: int
    scores: dict[str, float | None]
    total: float


class Critique(_Model):
    """The critic's verdict on a scene: every candidate's metrics and the one kept."""

    chosen: int
    candidates: list[Candidate]


class Scene(_Model):
    id: str = Field(description="<act>.<step>.<sequence><scene>, e.g. IIa.search.2b")
    act: str
    step: str
    sequence: int
    scene: str
    index: int
    start: int
    end: int
    bars: int
    meter: list[int]
    arc: Arc = Field(description="the story's targets for this scene, from 0 to 1; null where none is set")
    phrases: list[Phrase]
    brief: dict[str, Any] | None = Field(None, description="the act agent's brief for this scene (filled scores)")
    mix: dict[str, Mix] = Field({}, description="each part's level, pan and sends in this scene (filled scores)")
    critique: Critique | None = None


class TempoPoint(_Model):
    tick: int
    bpm: float


class MeterPoint(_Model):
    tick: int
    numerator: int
    denominator: int


class KeyPoint(_Model):
    tick: int
    key: KeyInfo


class Mix(_Model):
    level_db: float = 0.0
    pan: float = 0.0
    sends: dict[str, float] = {}


class PartInfo(_Model):
    name: str
    role: str
    device: str
    output: str
    port: str | None
    channel: int = Field(ge=1, le=16)
    program: int | None = Field(description="the MIDI Program Change value, 0-127 (the language counts from 1)")
    drum_map: dict[str, int] = {}
    program_channel: int | None = Field(None, description="the channel for Program Change, when the device has one")
    range: list[int]
    material: str | None = None
    mix: Mix = Mix()
    added_by: str | None = Field(None, description="the agent that added the part to complete the arrangement")


class Clock(_Model):
    role: Literal["master", "follow", "off"]
    source: str | None = None


class MaterialInfo(_Model):
    kind: Literal["theme", "prog", "groove"]
    length: int
    events: list[NoteEvent] = []
    chords: list[str] = []
    transpose: int = Field(0, description="semitones a progression is moved from its written chords")
    voices: list[str] = []
    hits: dict[str, list[tuple[int, int]]] = Field({}, description="a groove's [tick, velocity] hits per voice")
    voice_lengths: dict[str, int] = Field({}, description="each voice's loop length in ticks")
    swing: float | None = None
    slots: list[tuple[int, int]] = Field([], description="a progression's chords as [start, length] in ticks of `bar`")
    bar: int | None = Field(None, description="the bar a progression is counted in (1920: a 4/4 bar)")
    by: Literal["writer", "agent"] = "writer"


class RoleStyle(_Model):
    program: int | None = Field(description="the General MIDI program (0-127) that plays the role")
    program_name: str | None
    rig: str | None = Field(description="the rig device that plays the role, written as after `on`")
    style: str | None
    mix: Mix


class Style(_Model):
    """The genre's style in force for the whole song; phrase directives override it locally."""

    genre: str | None
    about: str | None
    tempo_range: list[int] | None
    swing: float
    scales: list[str]
    chords: list[str] = Field(description="chord qualities, as chord-symbol suffixes")
    bass_style: str | None
    compression: dict[str, Any] = Field(description="name, ratio, attack_ms, release_ms, threshold_db, sidechain")
    reverb: dict[str, Any] = Field(description="name, room_size, damping, wet")
    grooves: list[str] = Field(description="the genre's grooves, in `materials`")
    progressions: list[str] = Field(description="the genre's progressions, in `materials`")
    roles: dict[str, RoleStyle]
    mixer: str | None


class DeviceOutput(_Model):
    channel: int | str
    notes: dict[str, int]
    accepts: dict[str, int]
    range: list[int]
    voices: int
    cc: dict[str, int]


class DeviceInfo(_Model):
    """A device profile as the runtime needs it: ports, clock behaviour, sample rules, buses."""

    title: str
    about: str | None
    kind: str | None
    midi: bool
    port: str | None = Field(description="a pattern matched against MIDI port names, case-insensitively")
    clock_in: list[str] = Field(description="clock messages it obeys: clock, start, stop, continue, spp")
    clock_out: list[str] = Field(description="clock messages it sends")
    clock_setup: str | None
    clock_forward: bool
    sync_sources: list[str]
    note_off: bool
    program_channel: int | None
    program_range: list[int]
    samples: dict[str, Any]
    buses: dict[str, dict[str, Any]]
    outputs: dict[str, DeviceOutput]


class Score(_Model):
    ir_version: Literal["1.3"] = IR_VERSION
    title: str
    source: str
    genre: str | None
    template: str
    seed: int
    filled: bool = Field(False, description="true once the agents have filled every hole (`--emit score`)")
    ppq: int = 480
    length: int = Field(description="end of the song, in ticks")
    home_key: KeyInfo
    clock: Clock
    parts: list[PartInfo]
    materials: dict[str, MaterialInfo] = {}
    style: Style
    devices: dict[str, DeviceInfo] = {}
    tempo_map: list[TempoPoint]
    meter_map: list[MeterPoint]
    key_map: list[KeyPoint]
    scenes: list[Scene]

    def holes(self) -> list[Hole]:
        return [c.hole for s in self.scenes for p in s.phrases for c in p.cells if c.hole is not None]


def json_schema() -> dict[str, Any]:
    schema = Score.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://harmonlang.dev/schema/score-{IR_VERSION}.json"
    schema["title"] = f"HarmonLang Score IR {IR_VERSION}"
    return schema
