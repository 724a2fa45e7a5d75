"""The DAWproject file, unzipped and read back with lxml: valid against the official XSDs, and the score's song."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from support import METERS_SONG, SONG_NAMES

from harmonlang.compiler import compile_file
from harmonlang.ir import Score
from harmonlang.runtime.dawproject import dawproject_bytes
from harmonlang.runtime.timeline import part_label, part_notes, playable

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "data" / "dawproject"
NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*\Z")
IDREFS = ("destination", "track", "parameter", "reference")  # every xs:IDREF attribute in Project.xsd
WORDS = {"A": "chorus", "B": "bridge", "A'": "chorus", "T": "transition"}


@dataclass
class Song:
    name: str
    score: Score
    data: bytes
    project: etree._Element
    metadata: etree._Element

    def ticks(self, beats: str) -> int:
        return round(float(beats) * self.score.ppq)

    def by_id(self, id_: str) -> etree._Element:
        (element,) = self.project.xpath("//*[@id=$id]", id=id_)
        return element

    def part_tracks(self) -> list[etree._Element]:
        return self.project.findall("Structure/Track[@contentType='notes']")

    def part_lanes(self) -> list[etree._Element]:
        """Each part's lanes in the arrangement, in the order of `score.parts`."""
        lanes = {lane.get("track"): lane for lane in self.project.findall("Arrangement/Lanes/Lanes")}
        return [lanes[track.get("id")] for track in self.part_tracks()]


@pytest.fixture(scope="module")
def scores(example_songs: dict[str, Score], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Score]:
    """The example songs (filled once per session), and a song whose meter changes."""
    folder = tmp_path_factory.mktemp("dawproject")
    (folder / "meters.circle").write_text(METERS_SONG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARMONLANG_CACHE_DIR", str(folder / "cache"))
        return example_songs | {"meters": compile_file(str(folder / "meters.circle")).filled_score}


@pytest.fixture(scope="module", params=[*SONG_NAMES, "meters"])
def song(request: pytest.FixtureRequest, scores: dict[str, Score]) -> Song:
    score = scores[request.param]
    data = dawproject_bytes(score)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        project, metadata = (etree.fromstring(archive.read(name)) for name in ("project.xml", "metadata.xml"))
    return Song(request.param, score, data, project, metadata)


def test_zip_holds_project_and_metadata_deflated_at_a_fixed_time(song: Song) -> None:
    with zipfile.ZipFile(io.BytesIO(song.data)) as archive:
        infos = archive.infolist()
    assert sorted(info.filename for info in infos) == ["metadata.xml", "project.xml"]
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}
    assert {info.date_time for info in infos} == {(2026, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize(("member", "xsd"), [("project", "Project.xsd"), ("metadata", "MetaData.xsd")])
def test_valid_against_the_official_schema(song: Song, member: str, xsd: str) -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / xsd)))
    valid = schema.validate(getattr(song, member))
    assert valid, "\n".join(str(error) for error in schema.error_log)


def test_project_header(song: Song) -> None:
    from harmonlang import __version__

    assert song.project.tag == "Project" and song.project.get("version") == "1.0"
    application = song.project.find("Application")
    assert (application.get("name"), application.get("version")) == ("harmonc", __version__)
    tempo, signature = song.project.find("Transport/Tempo"), song.project.find("Transport/TimeSignature")
    assert tempo.get("unit") == "bpm" and float(tempo.get("value")) == song.score.tempo_map[0].bpm
    assert float(tempo.get("min")) <= min(p.bpm for p in song.score.tempo_map)
    assert float(tempo.get("max")) >= max(p.bpm for p in song.score.tempo_map)
    first = song.score.meter_map[0]
    assert (int(signature.get("numerator")), int(signature.get("denominator"))) == (first.numerator, first.denominator)


def test_metadata(song: Song) -> None:
    score, metadata = song.score, song.metadata
    assert metadata.findtext("Title") == score.title
    assert metadata.findtext("Genre") == score.genre  # None when the song names no genre
    assert metadata.findtext("Comment") == f"made by harmonc from {score.source}"


def test_a_track_per_part_named_and_coloured_by_role(song: Song) -> None:
    tracks = song.part_tracks()
    assert [track.get("name") for track in tracks] == [part_label(part) for part in song.score.parts]
    colors = {part.role: track.get("color") for part, track in zip(song.score.parts, tracks, strict=True)}
    assert all(re.fullmatch(r"#[0-9a-f]{6}", color) for color in colors.values())
    assert len(set(colors.values())) == len(colors), "each role has its own colour"
    assert all(track.get("loaded") == "true" for track in tracks)


def test_channels_route_to_master_and_effects(song: Song) -> None:
    (master,) = song.project.findall("Structure/Track/Channel[@role='master']")
    effects = {
        track.get("name").split(" (")[0]: track.find("Channel")
        for track in song.project.findall("Structure/Track")
        if track.find("Channel").get("role") == "effect"
    }
    used = {bus for part in song.score.parts for bus in part.mix.sends}
    used |= {bus for scene in song.score.scenes for mix in scene.mix.values() for bus in mix.sends}
    assert set(effects) == used
    for effect in effects.values():
        assert effect.get("destination") == master.get("id")
    for part, track in zip(song.score.parts, song.part_tracks(), strict=True):
        channel = track.find("Channel")
        assert (channel.get("role"), channel.get("destination")) == ("regular", master.get("id"))
        sends = ["Sends"] if channel.find("Sends") is not None else []
        assert [child.tag for child in channel] == ["Mute", "Pan", *sends, "Volume"]  # the XSD's order
        assert channel.find("Mute").get("value") == "false"
        assert float(channel.find("Volume").get("value")) == pytest.approx(10 ** (part.mix.level_db / 20), abs=1e-6)
        assert float(channel.find("Pan").get("value")) == pytest.approx((part.mix.pan + 1) / 2, abs=1e-6)
        for send in channel.findall("Sends/Send"):
            assert song.by_id(send.get("destination")) is effects[send.get("name")]
            amount = float(send.find("Volume").get("value"))
            assert amount == pytest.approx(part.mix.sends.get(send.get("name"), 0.0), abs=1e-6)
        assert set(part.mix.sends) <= {send.get("name") for send in channel.findall("Sends/Send")}


def test_clip_notes_are_the_scores_notes(song: Song) -> None:
    for index, lanes in enumerate(song.part_lanes()):
        written = [
            (
                song.ticks(clip.get("time")) + song.ticks(note.get("time")),
                song.ticks(note.get("duration")),
                int(note.get("key")),
                round(float(note.get("vel")) * 127),
                int(note.get("channel")) + 1,
            )
            for clip in lanes.findall("Clips/Clip")
            for note in clip.findall("Notes/Note")
        ]
        notes = playable(part_notes(song.score, index))
        assert written == [(n.tick, n.dur, n.pitch, n.velocity, n.channel) for n in notes], song.score.parts[index].name
        assert notes, "every part of these songs plays"


def test_a_clip_per_scene_the_part_plays_in(song: Song) -> None:
    for index, lanes in enumerate(song.part_lanes()):
        ticks = [note.tick for note in part_notes(song.score, index)]
        playing = [scene for scene in song.score.scenes if any(scene.start <= t < scene.end for t in ticks)]
        clips = lanes.findall("Clips/Clip")
        assert [clip.get("name") for clip in clips] == [scene.id for scene in playing]
        for clip, scene in zip(clips, playing, strict=True):
            assert song.ticks(clip.get("time")) == scene.start
            assert song.ticks(clip.get("duration")) == scene.end - scene.start
            assert all(0 <= song.ticks(note.get("time")) < scene.end - scene.start for note in clip.iter("Note"))


def test_markers_at_every_scene_and_phrase(song: Song) -> None:
    expected = []
    for scene in song.score.scenes:
        expected.append((scene.start, scene.id))
        expected += [(p.start, f"{scene.id} {p.kind} {WORDS[p.kind]}") for p in scene.phrases]
    markers = song.project.findall("Arrangement/Markers/Marker")
    assert [(song.ticks(m.get("time")), m.get("name")) for m in markers] == expected


def test_tempo_and_meter_automation_follow_the_maps(song: Song) -> None:
    tempo = song.project.find("Arrangement/TempoAutomation")
    assert tempo.find("Target").get("parameter") == song.project.find("Transport/Tempo").get("id")
    points = [(song.ticks(p.get("time")), float(p.get("value"))) for p in tempo.findall("RealPoint")]
    assert points == [(p.tick, p.bpm) for p in song.score.tempo_map]
    assert {p.get("interpolation") for p in tempo.findall("RealPoint")} == {"hold"}
    meters = song.project.find("Arrangement/TimeSignatureAutomation")
    assert meters.find("Target").get("parameter") == song.project.find("Transport/TimeSignature").get("id")
    points = [
        (song.ticks(p.get("time")), int(p.get("numerator")), int(p.get("denominator")))
        for p in meters.findall("TimeSignaturePoint")
    ]
    assert points == [(p.tick, p.numerator, p.denominator) for p in song.score.meter_map]


def test_the_meter_song_changes_meter(scores: dict[str, Score]) -> None:
    """The inline song's 3/4 scene and 7/8 act reach the file (its points are checked against the map above)."""
    with zipfile.ZipFile(io.BytesIO(dawproject_bytes(scores["meters"]))) as archive:
        project = etree.fromstring(archive.read("project.xml"))
    meters = [(p.get("time"), p.get("numerator"), p.get("denominator")) for p in project.iter("TimeSignaturePoint")]
    assert meters[:2] == [("0", "4", "4"), ("32", "3", "4")]  # one 4/4 scene of 8 bars, then 3/4
    assert ("7", "8") in {meter[1:] for meter in meters}


def _send_amount(bus: str):
    return lambda mix: mix.sends.get(bus, 0.0)


def test_mix_automation_where_the_scenes_move_it(song: Song) -> None:
    score = song.score
    levels_moved = 0
    for part, track, lanes in zip(score.parts, song.part_tracks(), song.part_lanes(), strict=True):
        channel = track.find("Channel")
        targets = {points.find("Target").get("parameter"): points for points in lanes.findall("Points")}
        volume_id = channel.find("Volume").get("id")
        params = [
            (volume_id, lambda mix: 10 ** (mix.level_db / 20)),
            (channel.find("Pan").get("id"), lambda mix: (mix.pan + 1) / 2),
        ]
        for send in channel.findall("Sends/Send"):
            params.append((send.find("Volume").get("id"), _send_amount(send.get("name"))))
        for param_id, value in params:
            values = [round(value(scene.mix.get(part.name, part.mix)), 6) for scene in score.scenes]
            if set(values) <= {round(value(part.mix), 6)}:
                assert param_id not in targets, f"{part.name}: automation where nothing moves"
                continue
            levels_moved += param_id == volume_id
            points = targets[param_id].findall("RealPoint")
            assert [song.ticks(p.get("time")) for p in points] == [scene.start for scene in score.scenes]
            assert [float(p.get("value")) for p in points] == pytest.approx(values, abs=1e-6)
            assert {p.get("interpolation") for p in points} == {"hold"}
    if song.name == "digital-dreams":
        assert levels_moved, "digital-dreams' scenes change the parts' levels"


def test_ids_are_unique_ncnames_and_every_reference_resolves(song: Song) -> None:
    ids = [element.get("id") for element in song.project.iter() if element.get("id") is not None]
    assert all(NCNAME.match(id_) for id_ in ids), [id_ for id_ in ids if not NCNAME.match(id_)]
    assert len(ids) == len(set(ids))
    references = [element.get(name) for element in song.project.iter() for name in IDREFS if element.get(name)]
    assert references and set(references) <= set(ids)


def test_two_builds_are_byte_identical(song: Song) -> None:
    assert dawproject_bytes(song.score) == song.data


def test_does_not_import_music21() -> None:
    code = "import harmonlang.runtime.dawproject, sys; assert 'music21' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
