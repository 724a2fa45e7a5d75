"""The settings table: every setting's values, where it may stand, and what it means.

A setting is `name value...`. Its spec names a reader (`harmonlang.readers`) that
turns the values into plain JSON data (or reports why it cannot), the levels where
it may be stated, and a one-line summary used by docs and the editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harmonlang import nodes as n
from harmonlang.readers import (
    BUS_EFFECTS,
    CLOCK_MESSAGES,
    DEVICE_KINDS,
    PHRASE_GROUPS,
    PHRASE_NAMES,
    SYNC_SOURCES,
    Reader,
    SettingError,
    bars,
    channel_or_auto,
    choice,
    chord_vocabulary,
    clock,
    flag,
    fuse,
    key,
    level_db,
    meter,
    midi_range,
    mix,
    modulation,
    number,
    numbers,
    one_of_table,
    pairs,
    polyrhythm,
    ramp,
    send,
    some_of_table,
    strings,
    swing,
    tempo,
    text,
    whole_range,
    word,
    words,
    words_and_values,
)
from harmonlang.styles import BASS_STYLES, COMPRESSION, FEELS, RESOLVES, REVERBS, SUBSTITUTIONS
from harmonlang.theory import SCALES

__all__ = [
    "PHRASE_GROUPS",
    "PHRASE_NAMES",
    "SETTINGS",
    "SettingError",
    "SettingSpec",
    "level_db",
    "number",
    "read_setting",
    "send",
    "swing",
]

STRUCTURE = frozenset({"song", "act", "step", "sequence", "scene", "phrase"})
ABOVE_PHRASE = STRUCTURE - {"phrase"}
SONG = frozenset({"song"})


@dataclass(frozen=True)
class SettingSpec:
    read: Reader
    levels: frozenset[str]
    summary: str
    example: str
    keyed: bool = False  # stored per first value (`mix lead -3dB` under `mix:lead`)


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
