"""The settings table: every setting's values, where it may stand, and what it means.

A setting is `name value...`. Its spec names a reader that turns the values
into plain JSON data (or reports why it cannot), the levels where it may be
stated, and a one-line summary used by docs and the editor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostics
from harmonlang.styles import BASS_STYLES, COMPRESSION, FEELS, RESOLVES, REVERBS, SUBSTITUTIONS
from harmonlang.theory import MODE_ALIASES, MODES, MODULATIONS, QUALITIES, SCALES, TheoryError, spell_key

STRUCTURE = frozenset({"song", "act", "step", "sequence", "scene", "phrase"})
ABOVE_PHRASE = STRUCTURE - {"phrase"}
SONG = frozenset({"song"})
PHRASE_NAMES = {"A": "A", "B": "B", "A'": "A'", "A′": "A'", "T": "T"}
PHRASE_GROUPS = {"chorus": ("A", "A'"), "bridge": ("B",), "transition": ("T",)}


class SettingError(ValueError):
    def __init__(self, message: str, value: n.Value | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.value, self.hint = message, value, hint

    def report(self, diagnostics: Diagnostics, statement: n.Node) -> None:
        """Report at the offending value, else at the whole statement."""
        diagnostics.error(self.message, self.value.span if self.value else statement.span, self.hint)


Reader = Callable[[str, list[n.Value]], Any]


@dataclass(frozen=True)
class SettingSpec:
    read: Reader
    levels: frozenset[str]
    summary: str
    example: str
    keyed: bool = False  # stored per first value (`mix lead -3dB` under `mix:lead`)


# ---- value readers ------------------------------------------------------------------------


def _count(name: str, values: list[n.Value], low: int, high: int) -> None:
    if not low <= len(values) <= high:
        want = f"{low}" if low == high else f"{low} to {high}"
        extra = values[high] if len(values) > high else None
        hint = None
        if extra is not None and extra.text in ("bpm", "dB", "db", "st", "bars", "bar", "%") and len(values) > 1:
            hint = f"write the unit against the number: `{values[len(values) - 2].text}{extra.text}`"
        elif extra is not None and extra.kind == "name":
            hint = (
                f"`{extra.text}` looks like another setting: put each setting on its own line or separate them with `;`"
            )
        raise SettingError(f"`{name}` takes {want} value{'s' if high != 1 else ''}", extra, hint)


def number(low: float, high: float, units: tuple[str | None, ...] = (None,), integer: bool = False) -> Reader:
    def read(name: str, values: list[n.Value]) -> float | int:
        _count(name, values, 1, 1)
        value = values[0]
        if value.kind != "number" or value.unit not in units:
            shown = " or ".join(f"`{u}`" for u in units if u) or "no unit"
            hint = None
            if value.kind == "number" and value.unit is None and units[0]:
                hint = f"write `{name} {value.text}{units[0]}`"
            raise SettingError(f"`{name}` takes a number ({shown})", value, hint)
        amount = value.number / 100 if value.unit == "%" and "%" in units and high <= 1 else value.number
        if integer and amount != int(amount):
            raise SettingError(f"`{name}` takes a whole number", value)
        if not low <= amount <= high:
            raise SettingError(f"`{name}` must be from {_shown(low)} to {_shown(high)}", value)
        return int(amount) if integer else amount

    return read


def choice(*options: str) -> Reader:
    def read(name: str, values: list[n.Value]) -> str:
        _count(name, values, 1, 1)
        if values[0].text not in options:
            raise SettingError(f"`{name}` takes one of {', '.join(options)}", values[0])
        return values[0].text

    return read


def text(name: str, values: list[n.Value]) -> str:
    _count(name, values, 1, 1)
    if values[0].kind != "string":
        raise SettingError(f"`{name}` takes text in quotes", values[0])
    return values[0].text


def word(name: str, values: list[n.Value]) -> str:
    _count(name, values, 1, 1)
    if values[0].kind not in ("name", "dotted"):
        raise SettingError(f"`{name}` takes a name", values[0])
    return values[0].text


def words(name: str, values: list[n.Value]) -> list[str]:
    if not values or any(v.kind not in ("name", "pitch") for v in values):
        raise SettingError(f"`{name}` takes one or more names", values[0] if values else None)
    return [v.text for v in values]


def flag(name: str, values: list[n.Value]) -> bool:
    _count(name, values, 0, 1)
    if values and values[0].text not in ("yes", "no"):
        raise SettingError(f"`{name}` takes `yes` or `no`, or nothing for yes", values[0])
    return not values or values[0].text == "yes"


def key(name: str, values: list[n.Value]) -> dict[str, Any]:
    _count(name, values, 1, 2)
    try:
        spelled = spell_key(values[0].text, values[1].text if len(values) > 1 else None)
    except TheoryError as error:
        bad = values[1] if len(values) > 1 and "mode" in error.message else values[0]
        modes = ", ".join(list(MODES) + list(MODE_ALIASES))
        raise SettingError(error.message, bad, error.hint or f"modes: {modes}") from None
    return {"tonic": spelled.tonic_name, "mode": spelled.mode}


def meter(name: str, values: list[n.Value]) -> list[int]:
    _count(name, values, 1, 1)
    value = values[0]
    if value.kind != "fraction" or "." in value.text or not 1 <= value.number <= 32:
        raise SettingError("`meter` takes a time signature such as `4/4`, `3/4` or `7/8`", value)
    if value.second not in (1, 2, 4, 8, 16, 32):
        raise SettingError(
            f"a meter cannot count in {int(value.second)}ths", value, "the lower number is 1, 2, 4, 8, 16 or 32"
        )
    return [int(value.number), int(value.second)]


def bars(name: str, values: list[n.Value]) -> int:
    _count(name, values, 1, 2)
    value = values[0]
    if len(values) == 2 and values[1].text not in ("bars", "bar"):
        raise SettingError(f"`{name}` counts bars", values[1], f"write `{name} 8 bars`")
    if value.kind != "number" or value.number not in (8, 16):
        raise SettingError(
            "a scene is 8 or 16 bars long", value, "write `scene 8 bars` in the header, or `length 16 bars` in a scene"
        )
    return int(value.number)


def tempo(name: str, values: list[n.Value]) -> dict[str, float]:
    """`tempo 124`, or `tempo drift +2%` for a drift across each phrase."""
    if values and values[0].text == "drift":
        _count(name, values, 2, 2)
        value = values[1]
        if value.kind != "number" or value.unit != "%" or not -50 <= value.number <= 50:
            raise SettingError("a tempo drift is a percentage such as `+2%`", value)
        return {"drift": value.number / 100}
    _count(name, values, 1, 1)
    value = values[0]
    if value.kind != "number" or value.unit not in (None, "bpm") or not 20 <= value.number <= 300:
        raise SettingError("`tempo` takes beats per minute, from 20 to 300", value, "write `tempo 124`")
    return {"bpm": value.number}


def modulation(name: str, values: list[n.Value]) -> str | int:
    _count(name, values, 1, 1)
    value = values[0]
    if value.kind == "number" and value.unit in (None, "st") and value.number == int(value.number):
        return int(value.number)
    choices = list(MODULATIONS) + list(MODES)
    if value.text not in choices and value.text not in MODE_ALIASES:
        from harmonlang.diagnostics import did_you_mean

        raise SettingError(
            f"unknown modulation `{value.text}`",
            value,
            did_you_mean(value.text, choices) or f"use a relation ({', '.join(MODULATIONS)}), a mode, or semitones",
        )
    return value.text


def polyrhythm(name: str, values: list[n.Value]) -> dict[str, Any]:
    _count(name, values, 1, 3)
    if values[0].kind != "ratio" or not (values[0].number and values[0].second):
        raise SettingError("`polyrhythm` takes a ratio such as `3:4`", values[0])
    result: dict[str, Any] = {"ratio": [int(values[0].number), int(values[0].second)]}
    if len(values) > 1:
        if len(values) != 3 or values[1].text != "on":
            raise SettingError("write `polyrhythm 3:4 on hat`", values[1])
        result["voice"] = values[2].text
    return result


def fuse(name: str, values: list[n.Value]) -> dict[str, Any]:
    _count(name, values, 2, 4)
    if any(v.kind != "name" for v in values):
        raise SettingError("`fuse` takes two theme or part names", values[0])
    result: dict[str, Any] = {"a": values[0].text, "b": values[1].text}
    if len(values) > 2:
        if len(values) != 4 or values[2].text != "in" or values[3].text not in (*PHRASE_GROUPS, *PHRASE_NAMES):
            raise SettingError("write `fuse hero shadow in transition`", values[2])
        result["in"] = values[3].text
    return result


def mix(name: str, values: list[n.Value]) -> dict[str, Any]:
    """`mix PART LEVEL [pan P]`: relative level in dB, pan from -1 (left) to 1."""
    _count(name, values, 2, 4)
    level = values[1]
    if level.kind != "number" or level.unit != "dB":
        raise SettingError("`mix` takes a part and a level in dB", level, "write `mix dark +3dB`")
    result: dict[str, Any] = {"level_db": level.number}
    if len(values) > 2:
        if len(values) != 4 or values[2].text != "pan" or values[3].kind != "number" or abs(values[3].number) > 1:
            raise SettingError("write `mix dark +3dB pan -0.3`", values[2])
        result["pan"] = values[3].number
    return result


def clock(name: str, values: list[n.Value]) -> dict[str, Any]:
    _count(name, values, 1, 2)
    role = values[0].text
    if role not in ("master", "follow", "off"):
        raise SettingError("`clock` is `master`, `follow DEVICE` or `off`", values[0])
    if role == "follow" and len(values) != 2:
        raise SettingError("`clock follow` names the device that sends clock", values[0], "write `clock follow t8`")
    if role != "follow" and len(values) != 1:
        raise SettingError(f"`clock {role}` takes no device", values[1], "only `clock follow DEVICE` names one")
    return {"role": role, "source": values[1].text if len(values) == 2 else None}


def pairs(name: str, values: list[n.Value]) -> dict[str, int]:
    """`notes kick 36 snare 38`: names with MIDI numbers; `notes none` clears a map an output inherits."""
    if len(values) == 1 and values[0].text == "none":
        return {}
    if not values or len(values) % 2:
        raise SettingError(f"`{name}` takes pairs of a name and a number", values[-1] if values else None)
    result: dict[str, int] = {}
    for label, value in zip(values[::2], values[1::2], strict=True):
        if label.kind != "name" or value.kind != "number" or not 0 <= value.number <= 127:
            raise SettingError(f"`{name}` takes pairs such as `kick 36`", label)
        result[label.text] = int(value.number)
    return result


def midi_range(name: str, values: list[n.Value]) -> list[int]:
    _count(name, values, 1, 1)
    value = values[0]
    whole = value.kind == "range" and value.number == int(value.number) and value.second == int(value.second)
    if not whole or not 0 <= value.number <= value.second <= 127:
        raise SettingError(f"`{name}` takes a range of MIDI notes such as `24..96`", value)
    return [int(value.number), int(value.second)]


def words_and_values(name: str, values: list[n.Value]) -> list[str]:
    """Raw words, checked by whoever reads them (a device target, say)."""
    if not values:
        raise SettingError(f"`{name}` needs a value", None)
    return [v.text for v in values]


def strings(name: str, values: list[n.Value]) -> list[str]:
    if not values or any(v.kind != "string" for v in values):
        raise SettingError(f"`{name}` takes one or more texts in quotes", values[0] if values else None)
    return [v.text for v in values]


def swing(name: str, values: list[n.Value]) -> float:
    """Drum-machine swing: 50% is straight, 66% a triplet shuffle, 75% the hardest."""
    _count(name, values, 1, 1)
    value = values[0]
    amount = None
    if value.kind == "number":
        amount = value.number / 100 if value.unit == "%" else value.number if value.unit is None else None
    if value.kind == "number" and value.unit is None and 50 <= value.number <= 75:
        raise SettingError("swing is a percentage", value, f"write `swing {value.text}%`")
    if amount is None or not 0.5 <= amount <= 0.75:
        raise SettingError("swing runs from 50% (straight) to 75% (the hardest shuffle)", value, "write `swing 55%`")
    return amount


def level_db(name: str, values: list[n.Value]) -> float:
    return number(-60, 12, ("dB",))(name, values)


def send(name: str, values: list[n.Value]) -> dict[str, Any]:
    _count(name, values, 2, 2)
    if values[1].kind != "number" or not 0 <= values[1].number <= 1:
        raise SettingError("a send amount runs from 0 to 1", values[1], "write `send reverb 0.3`")
    return {"amount": values[1].number}


def channel_or_auto(name: str, values: list[n.Value]) -> int | str:
    if values and values[0].text == "auto":
        _count(name, values, 1, 1)
        return "auto"
    return number(1, 16, integer=True)(name, values)


def ramp(name: str, values: list[n.Value]) -> float | dict[str, float]:
    """`energy 0.6`, or `energy 0.3 to 0.8` rising across the scenes where it is stated."""
    if len(values) == 3 and values[1].text == "to":
        low = number(0, 1, (None, "%"))(name, values[:1])
        high = number(0, 1, (None, "%"))(name, values[2:])
        return {"from": low, "to": high}
    if len(values) > 1:
        raise SettingError(f"`{name}` takes a level, or `FROM to TO`", values[1], f"write `{name} 0.3 to 0.8`")
    return number(0, 1, (None, "%"))(name, values)


def whole_range(low: int, high: int) -> Reader:
    def read(name: str, values: list[n.Value]) -> list[int]:
        _count(name, values, 1, 1)
        value = values[0]
        whole = value.kind == "range" and value.number == int(value.number) and value.second == int(value.second)
        if not whole or not low <= value.number <= value.second <= high:
            raise SettingError(f"`{name}` takes a range of whole numbers from {low} to {high}", value)
        return [int(value.number), int(value.second)]

    return read


def one_of_table(table: dict[str, object] | tuple[str, ...]) -> Reader:
    """One word from a vocabulary table; a misspelling gets a did-you-mean."""

    def read(name: str, values: list[n.Value]) -> str:
        _count(name, values, 1, 1)
        return _known(name, values[0], table)

    return read


def some_of_table(table: dict[str, object] | tuple[str, ...]) -> Reader:
    def read(name: str, values: list[n.Value]) -> list[str]:
        if not values:
            raise SettingError(f"`{name}` takes one or more words", None)
        found = [_known(name, value, table) for value in values]
        return list(dict.fromkeys(found))

    return read


def _known(name: str, value: n.Value, table: dict[str, object] | tuple[str, ...]) -> str:
    if value.text in table:
        return value.text
    from harmonlang.diagnostics import did_you_mean

    shown = ", ".join(table)
    raise SettingError(
        f"`{name}` has no `{value.text}`", value, did_you_mean(value.text, table) or f"choose from {shown}"
    )


def chord_vocabulary(name: str, values: list[n.Value]) -> list[str]:
    """`chords "maj7 m7 7 9"`: the chord qualities a genre uses, as chord-symbol suffixes."""
    _count(name, values, 1, 1)
    value = values[0]
    if value.kind != "string":
        raise SettingError("`chords` takes chord qualities in quotes", value, 'write `chords "maj m 7 m7 maj7"`')
    qualities: list[str] = []
    offset = 0
    for word_text in value.text.split(" "):
        if word_text and word_text not in QUALITIES:
            from harmonlang.diagnostics import did_you_mean

            raise SettingError(
                f"unknown chord quality `{word_text}`",
                value.model_copy(update={"span": value.span.at(1 + offset, len(word_text))}),
                did_you_mean(word_text, QUALITIES) or "qualities are chord-symbol suffixes: maj m 7 m7 maj7 dim 9 ...",
            )
        if word_text:
            qualities.append(word_text)
        offset += len(word_text) + 1
    if not qualities:
        raise SettingError("`chords` lists at least one quality", value)
    return qualities


def numbers(low: float, high: float) -> Reader:
    def read(name: str, values: list[n.Value]) -> list[int]:
        if not values or any(v.kind != "number" or v.unit or not low <= v.number <= high for v in values):
            bad = next((v for v in values if v.kind != "number" or not low <= v.number <= high), None)
            raise SettingError(f"`{name}` takes whole numbers from {_shown(low)} to {_shown(high)}", bad)
        return [int(v.number) for v in values]

    return read


CLOCK_MESSAGES = {
    "clock": "timing clock, 24 per quarter note (F8)",
    "start": "Start (FA)",
    "stop": "Stop (FC)",
    "continue": "Continue (FB)",
    "spp": "Song Position Pointer (F2), counted in 16th notes",
}
SYNC_SOURCES = ("internal", "usb", "midi", "sync-in")
DEVICE_KINDS = ("synth", "drum-machine", "sampler", "controller", "mixer", "sound-module")
BUS_EFFECTS = ("distortion", "compressor", "reverb", "delay")


def _shown(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"


PART = frozenset({"part", "role"})
DEVICE = frozenset({"device", "out"})
STYLE = STRUCTURE | {"genre"}

SETTINGS: dict[str, SettingSpec] = {
    # the song
    "title": SettingSpec(text, SONG | {"device", "bus"}, "the song's or device's title", 'title "Digital Dreams"'),
    "genre": SettingSpec(
        word, SONG, "the genre from stdlib/genres whose defaults fill what you leave open", "genre house"
    ),
    "circle": SettingSpec(word, SONG, "the circle template the song expands (stdlib/circle)", "circle harmon"),
    "seed": SettingSpec(number(0, 2**31 - 1, integer=True), SONG, "the random seed for everything generated", "seed 7"),
    "clock": SettingSpec(clock, SONG, "who keeps time: `master`, `follow DEVICE` or `off`", "clock master"),
    # the form
    "sequences": SettingSpec(
        number(1, 3, integer=True), frozenset({"song", "act", "step"}), "sequences per step (1-3)", "sequences 1"
    ),
    "scenes": SettingSpec(
        number(1, 2, integer=True), frozenset({"song", "act", "step"}), "scenes per sequence (1-2)", "scenes 1"
    ),
    "length": SettingSpec(bars, ABOVE_PHRASE, "bars per scene: 8 or 16", "length 16 bars"),
    "meter": SettingSpec(meter, ABOVE_PHRASE, "the time signature", "meter 7/8"),
    "key": SettingSpec(key, STRUCTURE, "the key note and mode", "key F# dorian"),
    "tempo": SettingSpec(tempo, STRUCTURE, "beats per minute, or `tempo drift +2%` across each phrase", "tempo 124"),
    "modulate": SettingSpec(
        modulation, STRUCTURE, "move the key: a relation, a mode or semitones", "modulate relative"
    ),
    "lift": SettingSpec(
        number(-12, 12, (None, "st"), integer=True), STRUCTURE, "raise the key by semitones", "lift +1"
    ),
    # the story's directives, read by the agents
    "energy": SettingSpec(
        ramp, STRUCTURE, "target intensity from 0 to 1, or a rise across the scenes here", "energy 0.3 to 0.8"
    ),
    "tension": SettingSpec(
        ramp, STRUCTURE, "target harmonic and rhythmic tension, 0 to 1, or a rise", "tension 0.2 to 0.6"
    ),
    "dissonance": SettingSpec(number(0, 1, (None, "%")), STRUCTURE, "how far harmony strays, 0 to 1", "dissonance 0.2"),
    "syncopation": SettingSpec(number(0, 1, (None, "%")), STRUCTURE, "off-beat weight, 0 to 1", "syncopation 0.6"),
    "density": SettingSpec(number(0, 1, (None, "%")), STRUCTURE, "how busy the parts are, 0 to 1", "density 0.4"),
    "thin": SettingSpec(number(0, 1, (None, "%")), STRUCTURE, "share of events to drop (Take)", "thin 0.7"),
    "swing": SettingSpec(swing, STRUCTURE, "swing of every other step, 50% (straight) to 75%", "swing 55%"),
    "polyrhythm": SettingSpec(
        polyrhythm, STRUCTURE, "a cross-rhythm, optionally on one drum voice", "polyrhythm 3:4 on hat"
    ),
    "reprise": SettingSpec(
        choice("full", "thin", "empty"), STRUCTURE, "how a reprise sounds (Take: empty)", "reprise empty"
    ),
    "reorchestrate": SettingSpec(flag, STRUCTURE, "give earlier motifs new instruments (Return)", "reorchestrate"),
    "fuse": SettingSpec(fuse, STRUCTURE, "merge two themes or parts (Change)", "fuse hero shadow in transition"),
    "disintegrate": SettingSpec(
        number(0, 1, (None, "%")), STRUCTURE, "how far the rhythm falls apart, 0 to 1 (Take)", "disintegrate 0.5"
    ),
    "pattern": SettingSpec(word, STRUCTURE, "the groove a drum hole starts from", "pattern fill"),
    "progression": SettingSpec(word, STRUCTURE, "the progression a harmony hole starts from", "progression typical"),
    "substitute": SettingSpec(
        some_of_table(SUBSTITUTIONS), STRUCTURE, "harmonic substitutions the agents use here", "substitute tritone"
    ),
    "recall": SettingSpec(words, STRUCTURE, "steps whose motifs come back here (Return)", "recall you search"),
    "resolve": SettingSpec(
        some_of_table(RESOLVES), STRUCTURE, "what comes back to one here: key, meter, tempo (Change)", "resolve key"
    ),
    "feel": SettingSpec(
        one_of_table(FEELS), STRUCTURE, "straight, half-time, double-time or shuffle", "feel half-time"
    ),
    # the style: stated by a genre, overridable anywhere
    "scales": SettingSpec(
        some_of_table(SCALES), STYLE, "the scales and modes melodies draw from", "scales dorian blues"
    ),
    "chords": SettingSpec(chord_vocabulary, STYLE, "the chord qualities the harmony uses", 'chords "m7 7 maj7 9"'),
    "bass-style": SettingSpec(one_of_table(BASS_STYLES), STYLE, "how the bass line moves", "bass-style walking"),
    "compression": SettingSpec(
        one_of_table(COMPRESSION), STYLE, "the mix's compression character", "compression pumping"
    ),
    "reverb": SettingSpec(one_of_table(REVERBS), STYLE, "the space around the mix", "reverb plate"),
    "tempo-range": SettingSpec(
        whole_range(20, 300), frozenset({"song", "genre"}), "the tempos the style lives in", "tempo-range 120..135"
    ),
    "about": SettingSpec(
        text, frozenset({"genre", "device", "bus"}), "what a genre or device is", 'about "Four on the floor"'
    ),
    "role": SettingSpec(
        word, frozenset({"genre"}), "a role's instrument and mix in this genre", 'role bass { program "Synth Bass 1" }'
    ),
    "instruments": SettingSpec(
        choice("gm", "rig"),
        SONG,
        "where parts without `on` play: the genre's General MIDI programs, or its rig devices",
        "instruments rig",
    ),
    "mixer": SettingSpec(word, SONG, "the mixer device whose buses parts send to", "mixer zoom-l12"),
    "intent": SettingSpec(
        text, STRUCTURE, "what this part of the story should feel like", 'intent "the hero hesitates"'
    ),
    "mix": SettingSpec(mix, STRUCTURE, "a part's level (and pan) here", "mix dark +3dB", keyed=True),
    "mute": SettingSpec(words, STRUCTURE, "silence parts here", "mute keys bass"),
    # the circle template
    "acts": SettingSpec(words, frozenset({"circle"}), "the template's acts, in order", "acts I IIa IIb III"),
    "steps": SettingSpec(words, frozenset({"circle-act"}), "an act's steps, in order", "steps you need"),
    # a part's own block
    "program": SettingSpec(
        text, frozenset({"role"}), "the General MIDI program that plays a role", 'program "Acoustic Bass"'
    ),
    "rig": SettingSpec(words_and_values, frozenset({"role"}), "the rig device that plays a role", "rig t8.bass"),
    "style": SettingSpec(word, frozenset({"role"}), "how a role plays in this genre", "style walking"),
    "level": SettingSpec(level_db, PART, "the part's level in dB", "level -3dB"),
    "pan": SettingSpec(number(-1, 1), PART, "stereo position, -1 (left) to 1 (right)", "pan -0.2"),
    "send": SettingSpec(send, PART, "an effect send amount, 0 to 1", "send reverb 0.3", keyed=True),
    # devices
    "port": SettingSpec(text, DEVICE, "the MIDI port name to look for", 'port "T-8"'),
    "channel": SettingSpec(channel_or_auto, DEVICE, "the MIDI channel (1-16), or `auto`", "channel 10"),
    "notes": SettingSpec(pairs, DEVICE, "drum voices and the notes that play them", "notes kick 36 snare 38"),
    "accepts": SettingSpec(pairs, DEVICE, "further notes the device receives", "accepts kick 35"),
    "range": SettingSpec(midi_range, DEVICE, "the lowest and highest MIDI note", "range 24..96"),
    "voices": SettingSpec(number(1, 128, integer=True), DEVICE, "how many notes sound at once", "voices 4"),
    "programs": SettingSpec(strings, DEVICE, "program names, from program 0 up", 'programs "Piano" "Strings"'),
    "program-channel": SettingSpec(
        number(1, 16, integer=True), DEVICE, "the channel for Program Change", "program-channel 16"
    ),
    "clock-in": SettingSpec(
        some_of_table(CLOCK_MESSAGES), DEVICE, "which clock messages the device obeys", "clock-in clock start stop"
    ),
    "clock-out": SettingSpec(
        some_of_table(CLOCK_MESSAGES), DEVICE, "which clock messages the device sends", "clock-out clock start stop"
    ),
    "clock-setup": SettingSpec(
        text, DEVICE, "what to set on the unit before it follows or sends clock", 'clock-setup "set SYNC to AUTO"'
    ),
    "clock-forward": SettingSpec(flag, DEVICE, "as a follower, passes clock on to its outputs", "clock-forward"),
    "sync-sources": SettingSpec(
        some_of_table(SYNC_SOURCES), DEVICE, "where the unit can take its tempo from", "sync-sources internal usb midi"
    ),
    "kind": SettingSpec(one_of_table(DEVICE_KINDS), DEVICE, "what sort of device it is", "kind drum-machine"),
    "midi": SettingSpec(flag, DEVICE, "whether the device speaks MIDI at all", "midi no"),
    "note-off": SettingSpec(flag, DEVICE, "whether the device obeys Note Off", "note-off no"),
    "program-range": SettingSpec(
        whole_range(0, 127), DEVICE, "the Program Change values the device takes", "program-range 0..63"
    ),
    "sample-formats": SettingSpec(
        some_of_table(("wav", "aiff", "mp3", "flac")), DEVICE, "sample file formats it loads", "sample-formats wav"
    ),
    "sample-bits": SettingSpec(numbers(8, 32), DEVICE, "sample bit depths it loads (integer PCM)", "sample-bits 16 24"),
    "sample-rates": SettingSpec(
        numbers(8000, 192000), DEVICE, "sample rates it loads, in Hz", "sample-rates 44100 48000"
    ),
    "sample-names": SettingSpec(
        choice("ascii", "any"), DEVICE, "which characters file names may use", "sample-names ascii"
    ),
    "sample-folders": SettingSpec(
        strings, DEVICE, "the folders on its card, the first being where imports go", 'sample-folders "IMPORT"'
    ),
    "bus": SettingSpec(
        word,
        frozenset({"device"}),
        "an effect send the mixer offers, with its own block",
        "bus ds1 { effect distortion }",
    ),
    "effect": SettingSpec(
        one_of_table(BUS_EFFECTS), frozenset({"bus"}), "what a bus's effect does", "effect distortion"
    ),
    "side": SettingSpec(choice("left", "right", "stereo"), frozenset({"bus"}), "which send a bus uses", "side left"),
    "cc": SettingSpec(pairs, DEVICE, "named controllers", "cc cutoff 74 resonance 71"),
    "out": SettingSpec(
        word, frozenset({"device"}), "one of the device's outputs, with its own block", "out drums { channel 10 }"
    ),
}


def read_setting(setting: n.Setting) -> tuple[str, Any]:
    """The storage key and the value of a setting; raises SettingError."""
    spec = SETTINGS[setting.name.text]
    name = setting.name.text
    try:
        return _read(spec, name, setting)
    except SettingError as error:
        if error.hint is None:
            error.hint = f"for example `{spec.example}`"
        raise


def _read(spec: SettingSpec, name: str, setting: n.Setting) -> tuple[str, Any]:
    if spec.keyed:
        if not setting.values or setting.values[0].kind != "name":
            raise SettingError(f"`{name}` starts with a name", setting.values[0] if setting.values else None)
        return f"{name}:{setting.values[0].text}", spec.read(name, setting.values)
    value = spec.read(name, setting.values)
    if name == "tempo" and "drift" in value:
        return "tempo-drift", value["drift"]
    if name == "tempo":
        return "tempo", value["bpm"]
    return name, value
