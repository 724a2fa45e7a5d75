"""General MIDI SoundFont parts through FluidSynth: the SoundFont loaded once, a stereo output per part.

One FluidSynth synth plays every part, each on its own MIDI channel. With `synth.audio-groups` equal to the channel
count, FluidSynth mixes MIDI channel i into stereo pair i only, and `fluid_synth_process` hands the pairs back
separately: stems for the mixer, with the SoundFont in memory once. The synth gets as many outputs as the parts it is
told to expect (16 by default); a part beyond them rebuilds it with 16 more, which is only possible before the first
block. `MAX_PARTS` is FluidSynth's limit; beyond it
`add_part` raises SoundFontError. FluidSynth's reverb and chorus are off: the mixer adds the effects.

FluidSynth starts and ends notes on its own 64-sample grid (1.3 ms at 48 kHz): an event at sample t sounds from the
next multiple of 64. Since the grid is counted from the song's start, the audio does not depend on how the song is
cut into blocks.

pyfluidsynth is imported lazily, so importing this module is cheap and works without FluidSynth installed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import heapq
import io
import weakref
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from .audio_base import RATE, SampleNote

DEBIAN_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
DEFAULT_GAIN = 0.5  # FluidSynth says 0.2; at 0.5 one GM note peaks near 0.1, a six-note fortissimo chord at 0.6-0.8
CHANNEL_STEP = 16  # the synth's channels (and stereo outputs) grow in steps: each one costs time even when silent
MAX_PARTS = 128  # FluidSynth's limit on audio groups
VOICES_PER_16_PARTS = 256  # FluidSynth's default polyphony for its 16 channels, scaled with the channels
DRUM_BANK = 128  # where SoundFonts keep the GM percussion kits

_NO_LIBRARY = "cannot load the FluidSynth library (install Debian's libfluidsynth3 or fluidsynth)"
_CHANNEL_TYPE_MELODIC, _CHANNEL_TYPE_DRUM = 0, 1
_REVERB_SEND_CC, _CHORUS_SEND_CC = 91, 93
_FLOAT_BYTES = 4

_v, _i, _d, _s = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_char_p
_PROTOTYPES: dict[str, tuple[Any, ...]] = {  # name: (result, *arguments), from FluidSynth 2's fluidsynth/*.h
    "new_fluid_settings": (_v,),
    "delete_fluid_settings": (None, _v),
    "fluid_settings_setint": (_i, _v, _s, _i),
    "fluid_settings_setnum": (_i, _v, _s, _d),
    "new_fluid_synth": (_v, _v),
    "delete_fluid_synth": (None, _v),
    "fluid_synth_sfload": (_i, _v, _s, _i),
    "fluid_synth_set_channel_type": (_i, _v, _i, _i),
    "fluid_synth_get_sfont_by_id": (_v, _v, _i),
    "fluid_sfont_get_preset": (_v, _v, _i, _i),
    "fluid_synth_program_select": (_i, _v, _i, _i, ctypes.c_uint, ctypes.c_uint),
    "fluid_synth_cc": (_i, _v, _i, _i, _i),
    "fluid_synth_noteon": (_i, _v, _i, _i, _i),
    "fluid_synth_noteoff": (_i, _v, _i, _i),
    "fluid_synth_process": (_i, _v, _i, _i, _v, _i, _v),
}


class SoundFontError(Exception):
    """A SoundFont or FluidSynth problem; the message is a one-line reason for the user."""


@functools.cache
def _fluidsynth() -> Any:
    """libfluidsynth's functions used here, loaded through pyfluidsynth on first use; SoundFontError without it."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pyfluidsynth prints where it found the library under CI
            import fluidsynth
        # Own prototypes on pyfluidsynth's CDLL, so its function objects (and anyone else's) stay untouched.
        functions = {name: ctypes.CFUNCTYPE(*types)((name, fluidsynth._fl)) for name, types in _PROTOTYPES.items()}
    except (ImportError, OSError, AttributeError) as error:  # AttributeError: a FluidSynth 1, without these calls
        raise SoundFontError(_NO_LIBRARY) from error
    return SimpleNamespace(**functions)


def fluidsynth_available() -> bool:
    """Whether pyfluidsynth imports and libfluidsynth (version 2) loads. Never raises."""
    try:
        _fluidsynth()
    except Exception:  # whatever the failure, FluidSynth is not usable
        return False
    return True


def _check_soundfont(path: Path) -> None:
    """SoundFontError unless `path` is a readable SF2/SF3 file (a RIFF file of form 'sfbk')."""
    try:
        with path.open("rb") as file:
            header = file.read(12)
    except FileNotFoundError:
        raise SoundFontError(f"{path} does not exist") from None
    except OSError as error:
        raise SoundFontError(f"cannot read {path}: {error.strerror or error}") from None
    if header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise SoundFontError(f"{path} is not a SoundFont file")


def find_soundfont(explicit: str | None) -> Path | None:
    """The SoundFont to play: `explicit` after checking it (SoundFontError if unusable), else Debian's FluidR3_GM
    when it and FluidSynth are installed, else None."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        _check_soundfont(path)
        return path
    if DEBIAN_SOUNDFONT.is_file() and fluidsynth_available():
        return DEBIAN_SOUNDFONT
    return None


class SoundFontRack:
    """GM parts played from one loaded SoundFont, rendered block by block, one stereo output per part.

    Drive a rack from one thread at a time (FluidSynth's API locking is off, for speed).
    """

    def __init__(self, soundfont: Path, *, gain: float = DEFAULT_GAIN, parts: int = CHANNEL_STEP) -> None:
        """Loads `soundfont` into a new synth; SoundFontError if FluidSynth or the file fails.

        `parts`: how many parts are coming. The synth gets that many outputs, since every output costs time.
        """
        _check_soundfont(soundfont)
        self._fs = _fluidsynth()
        self._soundfont, self._gain = soundfont, gain
        self._channels: dict[str, int] = {}  # part key -> MIDI channel (= its stereo output)
        self._presets: list[tuple[int, bool]] = []  # (program, drums) by channel, to set a rebuilt synth up again
        self._position = 0  # the next sample the synth renders
        self._held: dict[int, int] = {}  # channel * 128 + pitch -> serial of the note holding that key
        self._note_offs: list[tuple[int, int, int, int]] = []  # heap of (sample, serial, channel, pitch)
        self._serial = 0
        self._planar = np.zeros((0, 0), dtype=np.float32)  # rows: left, right of part 0, left, right of part 1, ...
        self._row_addresses = np.zeros(0, dtype=np.uintp)
        self._pointers = np.zeros(0, dtype=np.uintp)  # the float*[] handed to fluid_synth_process
        self._close: weakref.finalize | None = None
        self._build(max(1, min(parts, MAX_PARTS)))

    def _build(self, capacity: int) -> None:
        """Replaces the synth by one with `capacity` channels (and stereo outputs), the SoundFont and parts loaded."""
        if self._close is not None:
            self._close()  # first, so only one copy of the SoundFont is ever in memory
        fs, synth = self._fs, None
        settings = fs.new_fluid_settings()
        try:
            for name, value in {"synth.sample-rate": float(RATE), "synth.gain": self._gain}.items():
                _check_setting(fs.fluid_settings_setnum(settings, name.encode(), value), name)
            for name, count in {
                "synth.audio-channels": capacity,
                "synth.audio-groups": capacity,  # MIDI channel i mixes into stereo pair i % groups
                "synth.midi-channels": -(-capacity // 16) * 16,  # FluidSynth counts MIDI channels in sixteens
                "synth.polyphony": VOICES_PER_16_PARTS * capacity // 16,
                "synth.reverb.active": 0,
                "synth.chorus.active": 0,
                "synth.dynamic-sample-loading": 1,  # only the selected presets' samples are read into memory
                "synth.threadsafe-api": 0,  # one thread drives the synth; skip the per-call locking
            }.items():
                _check_setting(fs.fluid_settings_setint(settings, name.encode(), count), name)
            synth = fs.new_fluid_synth(settings)
            if not synth:
                raise SoundFontError("FluidSynth cannot create a synthesizer")
            self._soundfont_id = fs.fluid_synth_sfload(synth, str(self._soundfont).encode(), 0)
            if self._soundfont_id < 0:
                raise SoundFontError(f"FluidSynth cannot load {self._soundfont}")
        except BaseException:
            _delete(fs, synth, settings)
            raise
        self._synth, self._capacity = synth, capacity
        self._close = weakref.finalize(self, _delete, fs, synth, settings)
        for channel, (program, drums) in enumerate(self._presets):
            self._set_up_channel(channel, program, drums)

    def add_part(self, key: str, program: int, drums: bool) -> None:
        """Adds a part playing GM `program` (0-127); with `drums`, the GM percussion kit `program` (bank 128).

        A program the SoundFont lacks falls back to program 0 of the same bank, as GM modules do. Every
        `CHANNEL_STEP` parts the synth is rebuilt with more channels, which is only possible before the first block.
        """
        if key in self._channels:
            raise ValueError(f"part {key!r} is already in the rack")
        if not 0 <= program <= 127:
            raise ValueError(f"GM program {program} is outside 0-127")
        self._live_synth()
        channel = len(self._presets)
        if channel == self._capacity:
            if channel == MAX_PARTS:
                raise SoundFontError(f"at most {MAX_PARTS} parts can play through one SoundFont")
            if self._position:
                raise SoundFontError(f"more than {channel} SoundFont parts must all be added before rendering")
            self._build(min(channel + CHANNEL_STEP, MAX_PARTS))
        self._set_up_channel(channel, program, drums)
        self._presets.append((program, drums))
        self._channels[key] = channel

    def _set_up_channel(self, channel: int, program: int, drums: bool) -> None:
        fs, synth, bank = self._fs, self._synth, DRUM_BANK if drums else 0
        fs.fluid_synth_set_channel_type(synth, channel, _CHANNEL_TYPE_DRUM if drums else _CHANNEL_TYPE_MELODIC)
        sfont = fs.fluid_synth_get_sfont_by_id(synth, self._soundfont_id)
        preset = next((p for p in (program, 0) if fs.fluid_sfont_get_preset(sfont, bank, p)), None)
        if preset is None or fs.fluid_synth_program_select(synth, channel, self._soundfont_id, bank, preset) != 0:
            raise SoundFontError(f"{self._soundfont} has no preset {program} in bank {bank}")
        for send in (_REVERB_SEND_CC, _CHORUS_SEND_CC):  # the effects are off; spare the voices their sends
            fs.fluid_synth_cc(synth, channel, send, 0)

    def block(self, notes: dict[str, list[SampleNote]], start: int, length: int) -> dict[str, np.ndarray]:
        """Every part's (length, 2) float32 sound for samples [start, start + length).

        `notes[key]` are the notes of that part starting in the block (a missing key: none). Blocks must follow each
        other without gaps; notes still held, and their release tails, carry into the next block.
        """
        synth, end = self._live_synth(), start + length
        if start != self._position or length < 0:
            raise ValueError(f"blocks must follow each other: expected one from sample {self._position}")
        note_ons: list[tuple[int, int, SampleNote]] = []
        for key, part_notes in notes.items():
            if key not in self._channels:
                raise ValueError(f"part {key!r} was never added to the rack")
            for note in part_notes:
                if not start <= note.start < end:
                    raise ValueError(f"a note at sample {note.start} is outside the block [{start}, {end})")
                note_ons.append((note.start, self._channels[key], note))
        note_ons.sort(key=lambda on: on[0])
        self._prepare_buffers(length)
        for time, channel, note in note_ons:
            self._release_until(time, start)
            self._render_to(time, start)
            self._strike(synth, channel, note)
        self._release_until(end - 1, start)
        self._render_to(end, start)
        return {key: self._interleaved(channel, length) for key, channel in self._channels.items()}

    def close(self) -> None:
        """Frees the synth and the SoundFont; the rack cannot render afterwards."""
        if self._close is not None:
            self._close()

    def __enter__(self) -> SoundFontRack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _live_synth(self) -> int:
        if self._close is None or not self._close.alive:
            raise SoundFontError("the SoundFont rack is closed")
        return self._synth

    def _prepare_buffers(self, length: int) -> None:
        """Zeroed planar rows for every part, long enough for the block (FluidSynth adds into them)."""
        rows = 2 * len(self._channels)
        if self._planar.shape[0] != rows or self._planar.shape[1] < length:
            self._planar = np.zeros((rows, max(length, self._planar.shape[1])), dtype=np.float32)
            self._row_addresses = self._planar.ctypes.data + np.arange(rows, dtype=np.uintp) * self._planar.strides[0]
            self._pointers = np.zeros(rows, dtype=np.uintp)
        else:
            self._planar[:, :length] = 0.0

    def _interleaved(self, channel: int, length: int) -> np.ndarray:
        sound = np.empty((length, 2), dtype=np.float32)
        sound[:, 0] = self._planar[2 * channel, :length]  # two column copies: much faster than a transposed copy
        sound[:, 1] = self._planar[2 * channel + 1, :length]
        return sound

    def _render_to(self, time: int, block_start: int) -> None:
        """Renders the span [position, time) into the block's buffers with one C call."""
        frames = time - self._position
        if frames <= 0:
            return
        outputs = len(self._pointers)
        np.add(self._row_addresses, (self._position - block_start) * _FLOAT_BYTES, out=self._pointers)
        pointers = self._pointers.ctypes.data if outputs else None
        if self._fs.fluid_synth_process(self._synth, frames, 0, None, outputs, pointers) != 0:
            raise SoundFontError("FluidSynth failed to render")
        self._position = time

    def _strike(self, synth: int, channel: int, note: SampleNote) -> None:
        if not 0 <= note.pitch <= 127:
            return  # no such MIDI key: nothing to play
        held = channel * 128 + note.pitch
        if held in self._held:  # the same key struck again while held: end the old note first
            self._fs.fluid_synth_noteoff(synth, channel, note.pitch)
        self._serial += 1
        self._held[held] = self._serial
        self._fs.fluid_synth_noteon(synth, channel, note.pitch, min(max(note.velocity, 1), 127))
        heapq.heappush(self._note_offs, (note.start + max(note.length, 0), self._serial, channel, note.pitch))

    def _release_until(self, time: int, block_start: int) -> None:
        """Sends the pending note-offs due at or before `time`, each at its own sample."""
        while self._note_offs and self._note_offs[0][0] <= time:
            off_time, serial, channel, pitch = heapq.heappop(self._note_offs)
            held = channel * 128 + pitch
            if self._held.get(held) != serial:
                continue  # that note was already ended by a new strike of its key
            del self._held[held]
            self._render_to(off_time, block_start)
            self._fs.fluid_synth_noteoff(self._synth, channel, pitch)


def _check_setting(status: int, name: str) -> None:
    if status != 0:  # FLUID_OK
        raise SoundFontError(f"FluidSynth rejects the setting {name}")


def _delete(fs: Any, synth: int | None, settings: int | None) -> None:
    """Frees a synth (and with it its SoundFont), then its settings, which the synth reads until deleted."""
    if synth:
        fs.delete_fluid_synth(synth)
    if settings:
        fs.delete_fluid_settings(settings)
