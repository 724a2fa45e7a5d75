"""DAWproject 1.0 from the filled score: the song as a project a DAW opens.

A note track per part (named and coloured after it, mixed as the part's mix says), an effect track per send
bus, a master track; in the arrangement, a clip per scene a part plays in, volume, pan and send automation
where the scenes' mixes move them, a marker at every scene and phrase, and the tempo and meter maps.
Times are in beats (quarter notes), as DAWproject counts them. Ids come from a counter, never from the
writer's text, so each is a valid XML name; a song always gives the same bytes.
"""

from __future__ import annotations

import bisect
import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from harmonlang import __version__
from harmonlang.ir import MeterPoint, Mix, PartInfo, Scene, Score
from harmonlang.runtime.timeline import Note, part_label, part_notes, part_routes, phrase_marker, playable

ROLE_COLORS = {
    "protagonist": "#e8453c",
    "antagonist": "#9b59b6",
    "chords": "#3c8de8",
    "bass": "#e8a33c",
    "drums": "#f1c40f",
    "samples": "#2ecc71",
}
OTHER_COLOR, EFFECT_COLOR, MASTER_COLOR = "#95a5a6", "#7f8c8d", "#bdc3c7"
TEMPO_RANGE = (20.0, 999.0)  # the transport's range, widened if the song goes beyond it
VOLUME_MAX = 2.0  # linear gain: +6 dB of headroom over unity
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so two builds of a song are byte-identical
UNITY = Mix()  # 0 dB, centred, no sends: the effect and master channels
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _num(value: float) -> str:
    """Six decimals at most, trailing zeros dropped: exact for beats at PPQ 480 to well under a tick."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


VELOCITIES = [_num(velocity / 127) for velocity in range(128)]  # normalized, as DAWproject wants
KEYS = [str(key) for key in range(128)]
CHANNELS = [str(channel - 1) for channel in range(17)]  # the score counts 1-16, DAWproject 0-15


@dataclass(frozen=True)
class _Param:
    """A channel parameter a scene's mix sets: how it reads a mix, and the unit DAWproject wants."""

    key: str  # "volume", "pan" or "send:<bus>"
    unit: str
    value: Callable[[Mix], float]


VOLUME = _Param("volume", "linear", lambda mix: min(10 ** (min(mix.level_db, 12.0) / 20), VOLUME_MAX))
PAN = _Param("pan", "normalized", lambda mix: (mix.pan + 1) / 2)


def _send(bus: str) -> _Param:
    return _Param(f"send:{bus}", "linear", lambda mix: mix.sends.get(bus, 0.0))


class _Writer:
    def __init__(self, score: Score) -> None:
        self.score = score
        self.ppq = score.ppq
        self.count = 0
        self._beats: dict[int, str] = {}

    def id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def beats(self, ticks: int) -> str:
        text = self._beats.get(ticks)
        if text is None:
            text = self._beats[ticks] = _num(ticks / self.ppq)
        return text

    # -- structure --------------------------------------------------------------------------------------

    def buses(self, part: PartInfo) -> list[str]:
        """The send buses a part uses anywhere, in the order they first appear."""
        mixes = [part.mix, *(scene.mix[part.name] for scene in self.score.scenes if part.name in scene.mix)]
        return list(dict.fromkeys(bus for mix in mixes for bus in mix.sends))

    def bus_name(self, bus: str) -> str:
        """The bus, and what it is on the mixer when the mixer device names it."""
        mixer = self.score.devices.get(self.score.style.mixer or "")
        title = mixer.buses.get(bus, {}).get("title") if mixer else None
        return f"{bus} ({title})" if title else bus

    def track(self, parent: ET.Element, name: str, color: str, content: str, comment: str | None = None) -> ET.Element:
        attrs = {"id": self.id("track"), "name": name, "color": color, "contentType": content, "loaded": "true"}
        return ET.SubElement(parent, "Track", attrs | ({"comment": comment} if comment else {}))

    def channel(
        self,
        track: ET.Element,
        channel_id: str,
        role: str,
        destination: str | None,
        mix: Mix = UNITY,
        sends: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """A mixer channel in the XSD's order (Mute, Pan, Sends, Volume); returns its parameters' ids by key."""
        attrs = {"id": channel_id, "role": role, "audioChannels": "2"}
        channel = ET.SubElement(track, "Channel", attrs | ({"destination": destination} if destination else {}))
        ET.SubElement(channel, "Mute", id=self.id("mute"), name="Mute", value="false")
        params = {PAN.key: self.id("pan")}
        pan = {"id": params[PAN.key], "name": "Pan", "unit": PAN.unit, "value": _num(PAN.value(mix))}
        ET.SubElement(channel, "Pan", pan | {"min": "0", "max": "1"})
        if sends:
            sends_element = ET.SubElement(channel, "Sends")
            for bus, effect_channel in sends.items():
                attrs = {"id": self.id("send"), "name": bus, "destination": effect_channel, "type": "post"}
                send = ET.SubElement(sends_element, "Send", attrs)
                param = _send(bus)
                params[param.key] = self.id("sendvolume")
                volume = {"id": params[param.key], "name": "Send", "unit": param.unit}
                ET.SubElement(send, "Volume", volume | {"value": _num(param.value(mix)), "min": "0", "max": "1"})
        params[VOLUME.key] = self.id("volume")
        volume = {"id": params[VOLUME.key], "name": "Volume", "unit": VOLUME.unit, "value": _num(VOLUME.value(mix))}
        ET.SubElement(channel, "Volume", volume | {"min": "0", "max": _num(VOLUME_MAX)})
        return params

    # -- arrangement ------------------------------------------------------------------------------------

    def clips(self, lanes: ET.Element, notes: list[Note]) -> None:
        """A clip per scene the part plays in; each note in beats from its clip's start."""
        scenes = self.score.scenes
        starts = [scene.start for scene in scenes]
        by_scene: dict[int, list[Note]] = {}
        for note in notes:
            by_scene.setdefault(max(0, bisect.bisect_right(starts, note.tick) - 1), []).append(note)
        clips = ET.SubElement(lanes, "Clips", id=self.id("clips"))
        beats = self.beats
        for index, scene_notes in sorted(by_scene.items()):
            scene = scenes[index]
            attrs = {"time": beats(scene.start), "duration": beats(scene.end - scene.start), "name": scene.id}
            clip_notes = ET.SubElement(ET.SubElement(clips, "Clip", attrs), "Notes", id=self.id("notes"))
            start, channels, keys = scene.start, CHANNELS, KEYS
            for note in scene_notes:  # the hot loop: one dict and table look-ups per note
                attrs = {
                    "time": beats(note.tick - start),
                    "duration": beats(note.dur),
                    "channel": channels[note.channel],
                    "key": keys[note.pitch],
                    "vel": VELOCITIES[note.velocity],
                    "rel": "0.5",
                }
                ET.SubElement(clip_notes, "Note", attrs)

    def automation(self, lanes: ET.Element, part: PartInfo, params: dict[str, str]) -> None:
        """A point at every scene start for each parameter some scene's mix moves off the channel's setting."""
        scenes = self.score.scenes
        for param in (VOLUME, PAN, *map(_send, self.buses(part))):
            values = [_num(param.value(scene.mix.get(part.name, part.mix))) for scene in scenes]
            if set(values) <= {_num(param.value(part.mix))}:
                continue
            points = ET.SubElement(lanes, "Points", id=self.id("points"), unit=param.unit)
            ET.SubElement(points, "Target", parameter=params[param.key])
            for scene, value in zip(scenes, values, strict=True):
                ET.SubElement(points, "RealPoint", time=self.beats(scene.start), value=value, interpolation="hold")

    def markers(self, arrangement: ET.Element) -> None:
        scenes: list[Scene] = self.score.scenes
        if not scenes:  # the XSD wants at least one Marker in Markers
            return
        markers = ET.SubElement(arrangement, "Markers", id=self.id("markers"), timeUnit="beats")
        for scene in scenes:
            ET.SubElement(markers, "Marker", time=self.beats(scene.start), name=scene.id)
            for phrase in scene.phrases:
                name = phrase_marker(scene.id, phrase.kind)
                ET.SubElement(markers, "Marker", time=self.beats(phrase.start), name=name)

    # -- the project ------------------------------------------------------------------------------------

    def transport(self, project: ET.Element) -> tuple[str, str]:
        """The song's first tempo and meter; returns their ids, which the tempo and meter automation target."""
        score, tempo_id, meter_id = self.score, self.id("tempo"), self.id("timesignature")
        bpms = [point.bpm for point in score.tempo_map] or [120.0]
        meter = score.meter_map[0] if score.meter_map else MeterPoint(tick=0, numerator=4, denominator=4)
        transport = ET.SubElement(project, "Transport")
        tempo = {"id": tempo_id, "name": "Tempo", "unit": "bpm", "value": _num(bpms[0])}
        tempo |= {"min": _num(min(TEMPO_RANGE[0], *bpms)), "max": _num(max(TEMPO_RANGE[1], *bpms))}
        ET.SubElement(transport, "Tempo", tempo)
        signature = {"id": meter_id, "name": "Time Signature"}
        signature |= {"numerator": str(meter.numerator), "denominator": str(meter.denominator)}
        ET.SubElement(transport, "TimeSignature", signature)
        return tempo_id, meter_id

    def structure(self, project: ET.Element) -> list[tuple[str, dict[str, str]]]:
        """Part tracks, effect tracks, master; returns each part's track id and its channel's parameter ids."""
        structure = ET.SubElement(project, "Structure")
        part_buses = [self.buses(part) for part in self.score.parts]
        # Ids drawn up front, so a part's channel can name the effect and master channels it routes to.
        master_id = self.id("channel")
        effects = {bus: self.id("channel") for bus in dict.fromkeys(bus for buses in part_buses for bus in buses)}
        parts: list[tuple[str, dict[str, str]]] = []
        for index, (part, buses) in enumerate(zip(self.score.parts, part_buses, strict=True)):
            color = ROLE_COLORS.get(part.role, OTHER_COLOR)
            track = self.track(structure, part_label(part), color, "notes", _routing_comment(self.score, index))
            sends = {bus: effects[bus] for bus in buses}
            params = self.channel(track, self.id("channel"), "regular", master_id, part.mix, sends)
            parts.append((track.get("id", ""), params))
        for bus, channel_id in effects.items():
            track = self.track(structure, self.bus_name(bus), EFFECT_COLOR, "audio")
            self.channel(track, channel_id, "effect", master_id)
        self.channel(self.track(structure, "Master", MASTER_COLOR, "audio"), master_id, "master", None)
        return parts

    def project(self) -> ET.Element:
        score = self.score
        project = ET.Element("Project", version="1.0")
        ET.SubElement(project, "Application", name="harmonc", version=__version__)
        tempo_id, meter_id = self.transport(project)
        parts = self.structure(project)

        arrangement = ET.SubElement(project, "Arrangement", id=self.id("arrangement"))
        lanes = ET.SubElement(arrangement, "Lanes", id=self.id("lanes"), timeUnit="beats")
        for index, (part, (track_id, params)) in enumerate(zip(score.parts, parts, strict=True)):
            track_lanes = ET.SubElement(lanes, "Lanes", id=self.id("lanes"), track=track_id)
            self.clips(track_lanes, playable(part_notes(score, index)))
            self.automation(track_lanes, part, params)
        self.markers(arrangement)

        tempo = ET.SubElement(arrangement, "TempoAutomation", id=self.id("points"), timeUnit="beats", unit="bpm")
        ET.SubElement(tempo, "Target", parameter=tempo_id)
        for point in score.tempo_map:  # a step function, as in the MIDI file; a drift is already a point a beat
            attrs = {"time": self.beats(point.tick), "value": _num(point.bpm), "interpolation": "hold"}
            ET.SubElement(tempo, "RealPoint", attrs)
        meters = ET.SubElement(arrangement, "TimeSignatureAutomation", id=self.id("points"), timeUnit="beats")
        ET.SubElement(meters, "Target", parameter=meter_id)
        for meter in score.meter_map:
            attrs = {"time": self.beats(meter.tick), "numerator": str(meter.numerator)}
            ET.SubElement(meters, "TimeSignaturePoint", attrs | {"denominator": str(meter.denominator)})
        return project

    def metadata(self) -> ET.Element:
        """Title, Genre, Comment: in MetaData.xsd's order."""
        score = self.score
        metadata = ET.Element("MetaData")
        fields = [("Title", score.title), ("Genre", score.genre), ("Comment", f"made by harmonc from {score.source}")]
        for tag, text in fields:
            if text:
                ET.SubElement(metadata, tag).text = text
        return metadata


def _routing_comment(score: Score, index: int) -> str:
    """`protagonist: s1 channel 3; gm channel 2 from III.return.1a`: where the part's notes go out."""
    first, *moves = part_routes(score, index)
    places = [f"{first.device} channel {first.channel}"]
    places += [f"{r.device} channel {r.channel} from {r.scene}" for r in moves]
    return f"{score.parts[index].role}: {'; '.join(places)}"


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    # Serialized to str and encoded once: faster than ElementTree's own UTF-8 writer.
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode() + b"\n"


def dawproject_bytes(score: Score) -> bytes:
    """The song as a DAWproject file (a zip holding project.xml and metadata.xml)."""
    writer = _Writer(score)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, root in (("project.xml", writer.project()), ("metadata.xml", writer.metadata())):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r-- when unzipped
            archive.writestr(info, _xml(root))
    return buffer.getvalue()
