"""The style vocabulary genres are written in, as tables.

Each word a genre (or a song) may use for its bass, its parts, its
harmony, its compression and its space is listed here with what it means.
The agents and the audio renderer read these words from the IR; the docs and
the editor print the descriptions. Parameters are plain numbers so the
renderer needs nothing but this table.
"""

from __future__ import annotations

BASS_STYLES: dict[str, str] = {
    "root": "the chord's root on the strong beats",
    "root-fifth": "root and fifth alternating on the beats",
    "octave": "root jumping between octaves on the off-beats (disco)",
    "offbeat": "short notes on the eighth-note off-beats, between the kicks",
    "walking": "a quarter-note line through chord and passing tones",
    "boogie": "the boogie-woogie figure: root, third, fifth, sixth and back",
    "pedal": "long held tones, often the tonic under moving chords",
    "syncopated": "sixteenth-note syncopations with ghost notes and octave pops",
    "sub": "long sub-bass notes that start with the kick",
    "glide": "808 notes that slide between pitches and ride the kick",
    "rolling": "continuous eighths or sixteenths that roll under the breaks",
    "driving": "straight eighths on the root, pushing forward",
    "dub": "a melodic line that leaves beat one empty and sits deep",
    "tumbao": "the anticipated tumbao: the bar's last off-beat lands the next chord",
    "bossa": "root and fifth on beats one and three, with an anticipation",
    "riff": "a repeated riff that doubles or answers the guitar",
    "gallop": "eighth and two sixteenths, galloping on one note",
    "arpeggio": "broken chord tones moving through the bar",
}

PART_STYLES: dict[str, dict[str, str]] = {
    "protagonist": {
        "hook": "a short catchy figure repeated and varied",
        "lyrical": "a singing line with long notes and stepwise motion",
        "riff": "an instrumental riff, rhythmic and repeated",
        "improvised": "a soloist's line: bebop or blues vocabulary over the changes",
        "arpeggiated": "a line built from broken chords",
        "chant": "few pitches, rhythmic, call-like",
        "call-response": "a phrase that leaves room for an answer",
        "motif": "a small cell developed by sequence and transformation",
    },
    "chords": {
        "stabs": "short chords on the off-beats or syncopations",
        "pads": "sustained chords that change with the harmony",
        "comping": "jazz comping: rootless voicings in irregular rhythms",
        "strum": "strummed chords on every beat or eighth",
        "arpeggio": "the chord broken into a repeating pattern",
        "skank": "short chords on beats two and four (reggae)",
        "montuno": "the syncopated piano montuno figure (salsa)",
        "power": "power chords: root and fifth, palm-muted or ringing",
        "block": "block chords on the beats, as a choir or a string section",
    },
    "bass": BASS_STYLES,
    "drums": {
        "machine": "a drum machine: quantized, repetitive",
        "kit": "a live drum kit with dynamics and small fills",
        "brushes": "a kit played with brushes, quiet and swung",
        "breakbeat": "chopped and re-sequenced breakbeats",
        "percussion": "hand percussion leading the groove",
    },
    "samples": {
        "chops": "short slices of a sample played as a new phrase",
        "stabs": "single hits: horn, orchestra or vocal stabs",
        "texture": "long atmospheric samples and field recordings",
        "vocal": "vocal phrases and shouts",
        "loop": "a loop running with the beat",
    },
}
PART_STYLES["antagonist"] = PART_STYLES["protagonist"]

# Compression character: ratio, attack and release in ms, threshold in dBFS,
# and whether the kick ducks the rest (sidechain pumping).
COMPRESSION: dict[str, dict[str, float | bool | str]] = {
    "none": {"ratio": 1.0, "attack_ms": 10, "release_ms": 100, "threshold_db": 0, "sidechain": False,
             "about": "no bus compression: the dynamics as played"},
    "gentle": {"ratio": 1.5, "attack_ms": 30, "release_ms": 250, "threshold_db": -18, "sidechain": False,
               "about": "light levelling that keeps the dynamics"},
    "glue": {"ratio": 2.0, "attack_ms": 10, "release_ms": 100, "threshold_db": -20, "sidechain": False,
             "about": "bus glue: slow attack, the mix moves as one"},
    "punchy": {"ratio": 4.0, "attack_ms": 20, "release_ms": 80, "threshold_db": -20, "sidechain": False,
               "about": "transients through, body held: drums hit hard"},
    "pumping": {"ratio": 4.0, "attack_ms": 1, "release_ms": 150, "threshold_db": -24, "sidechain": True,
                "about": "the kick ducks everything else: the house pump"},
    "squashed": {"ratio": 8.0, "attack_ms": 3, "release_ms": 50, "threshold_db": -28, "sidechain": False,
                 "about": "heavy limiting, loud and dense"},
}  # fmt: skip

# The space around the mix: a room size and damping (0 to 1) and the wet level.
REVERBS: dict[str, dict[str, float | str]] = {
    "dry": {"room_size": 0.0, "damping": 0.5, "wet": 0.0, "about": "no reverb"},
    "room": {"room_size": 0.3, "damping": 0.5, "wet": 0.15, "about": "a small live room"},
    "plate": {"room_size": 0.5, "damping": 0.2, "wet": 0.2, "about": "a bright plate"},
    "spring": {"room_size": 0.35, "damping": 0.7, "wet": 0.2, "about": "a boingy spring tank"},
    "hall": {"room_size": 0.8, "damping": 0.4, "wet": 0.25, "about": "a concert hall"},
    "cathedral": {"room_size": 0.97, "damping": 0.3, "wet": 0.4, "about": "an endless wash"},
}

SUBSTITUTIONS: dict[str, str] = {
    "tritone": "dominant chords replaced by the dominant a tritone away",
    "secondary-dominants": "each chord approached from its own dominant",
    "modal-interchange": "chords borrowed from the parallel mode",
    "chromatic-mediants": "chords a third away that share a note",
    "suspensions": "sus2 and sus4 chords in place of triads",
    "pedal": "the chords move over one held bass note",
    "extensions": "sevenths, ninths and thirteenths added",
    "power-chords": "thirds dropped: root and fifth only",
    "backdoor": "the bVII7 chord resolving to I",
    "deceptive": "V resolving to vi instead of I",
}

FEELS: dict[str, str] = {
    "straight": "the groove as written",
    "half-time": "the backbeat moves to beat three: the groove feels twice as slow",
    "double-time": "the groove runs twice as fast over the same harmony",
    "shuffle": "eighths played long-short",
}

# Drum kits: a Program Change on the drum channel picks one on GS and GM2 synths
# and in General MIDI SoundFonts such as FluidR3_GM (bank 128). 0-based programs.
DRUM_KITS: dict[str, int] = {
    "Standard Kit": 0,
    "Room Kit": 8,
    "Power Kit": 16,
    "Electronic Kit": 24,
    "TR-808 Kit": 25,
    "Jazz Kit": 32,
    "Brush Kit": 40,
    "Orchestra Kit": 48,
}

RESOLVES = ("key", "meter", "tempo")
# Sends the renderer provides itself; a mixer device adds its own buses.
BUILTIN_SENDS = ("reverb", "delay")
