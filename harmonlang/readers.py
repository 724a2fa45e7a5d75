"""Value readers: each turns a setting's values into plain JSON data, or says why it cannot.

The settings table (`harmonlang.settings`) names a reader per setting. A reader
raises SettingError pointing at the offending value, with a hint where one helps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harmonlang import nodes as n
from harmonlang.diagnostics import Diagnostics
from harmonlang.theory import MODE_ALIASES, MODES, MODULATIONS, QUALITIES, TheoryError, spell_key

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


MIX_RANGE_DB = 60  # as far as `level` reaches down; a louder move would only clip


def mix(name: str, values: list[n.Value]) -> dict[str, Any]:
    """`mix PART LEVEL [pan P]`: relative level in dB, pan from -1 (left) to 1."""
    _count(name, values, 2, 4)
    level = values[1]
    if level.kind != "number" or level.unit != "dB":
        raise SettingError("`mix` takes a part and a level in dB", level, "write `mix dark +3dB`")
    if abs(level.number) > MIX_RANGE_DB:
        raise SettingError(f"`mix` moves a level by -{MIX_RANGE_DB}dB to +{MIX_RANGE_DB}dB", level)
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
