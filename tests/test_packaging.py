"""The wheel is complete: built, installed into a fresh venv, and run from an unrelated folder.

This proves the grammar and the stdlib ship inside the package (nothing is read from the
source tree). It needs PyPI for the build backend and the dependencies, so it is slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import mido
import pytest

import harmonlang

ROOT = Path(__file__).resolve().parent.parent
JUNK = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "out",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".benchmarks",
    "node_modules",
)

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, command))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("packaging")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["HARMONLANG_CACHE_DIR"] = str(base / "cache")

    # Build from a copy, so the build leaves nothing behind in the working tree.
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=JUNK, symlinks=True)
    dist = base / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, source, cwd=base, env=env)
    (wheel,) = dist.glob("harmonlang-*.whl")

    venv = base / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=base, env=env)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    run(bin_dir / "python", "-m", "pip", "install", wheel, cwd=base, env=env)

    # An unrelated folder holding only the song and its own import.
    work = base / "elsewhere" / "my songs"
    work.mkdir(parents=True)
    for name in ("digital-dreams.circle", "studio.circle"):
        shutil.copy(ROOT / "examples" / name, work / name)
    return {"wheel": wheel, "bin": bin_dir, "work": work, "env": env}


def test_the_wheel_holds_the_grammar_the_stdlib_and_the_runtime(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for expected in (
        "harmonlang/cli.py",
        "harmonlang/grammar/harmon.lark",
        "harmonlang/stdlib/circle/harmon.circle",
        "harmonlang/stdlib/devices/gm.circle",
        "harmonlang/stdlib/devices/s1.circle",
        "harmonlang/stdlib/devices/sp404mk2.circle",
        "harmonlang/stdlib/devices/t8.circle",
        "harmonlang/stdlib/genres/electro-house.circle",
        "harmonlang/runtime/midi.py",
    ):
        assert expected in names
    assert not [n for n in names if n.startswith(("tests/", "examples/"))]
    assert any(n.endswith("entry_points.txt") for n in names)


def test_the_installed_package_is_the_wheel_not_the_source_tree(installed):
    shown = run(
        installed["bin"] / "python",
        "-c",
        "import harmonlang, harmonlang.grammar, harmonlang.stdlib; "
        "print(harmonlang.__file__); print(harmonlang.grammar.__file__); print(harmonlang.stdlib.__file__)",
        cwd=installed["work"],
        env=installed["env"],
    )
    for line in shown.stdout.splitlines():
        path = Path(line).resolve()
        assert "site-packages" in path.parts
        assert not path.is_relative_to(ROOT)


def test_installed_harmonc_version(installed):
    done = run(installed["bin"] / "harmonc", "--version", cwd=installed["work"], env=installed["env"])
    assert done.stdout == f"harmonc {harmonlang.__version__}\n"


def test_installed_harmonc_check(installed):
    done = run(
        installed["bin"] / "harmonc", "check", "digital-dreams.circle", cwd=installed["work"], env=installed["env"]
    )
    assert done.stdout.startswith("ok  digital-dreams.circle: 48 scenes")
    assert "Traceback" not in done.stderr


def test_installed_harmonc_build(installed):
    work, env = installed["work"], installed["env"]
    run(
        installed["bin"] / "harmonc",
        "build",
        "digital-dreams.circle",
        "--emit",
        "ir,midi",
        "-o",
        "out",
        cwd=work,
        env=env,
    )
    assert sorted(p.name for p in (work / "out").iterdir()) == ["digital-dreams.ir.json", "digital-dreams.mid"]
    ir = json.loads((work / "out" / "digital-dreams.ir.json").read_text(encoding="utf-8"))
    assert ir["title"] == "Digital Dreams"
    assert len(ir["scenes"]) == 48
    assert "fx" in [p["name"] for p in ir["parts"]]  # from the imported studio.circle
    midi = mido.MidiFile(str(work / "out" / "digital-dreams.mid"))
    assert midi.type == 1
    assert len(midi.tracks) == 1 + len(ir["parts"])


def test_installed_harmonc_reports_errors_without_a_traceback(installed):
    work = installed["work"]
    (work / "broken.circle").write_text('song "B" { genre no-such-genre }\n', encoding="utf-8")
    done = subprocess.run(
        [str(installed["bin"] / "harmonc"), "check", "broken.circle"],
        cwd=work,
        env=installed["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "unknown genre `no-such-genre`" in done.stderr
    assert "electro-house" in done.stderr  # the stdlib's genres are listed from inside the wheel
    assert "Traceback" not in done.stderr


# The Debian packages the SoundFont render can use; hidden, the default build must still render on the embedded synth.
DEBIAN_AUDIO = (
    "/usr/share/sounds",
    "/usr/lib/x86_64-linux-gnu/libfluidsynth*",
    "/usr/lib/x86_64-linux-gnu/libsndfile*",
)


def test_installed_harmonc_renders_audio_without_any_debian_audio_package(installed):
    """`harmonc build examples/digital-dreams.circle --emit audio` in the fresh venv, with every Debian audio file
    hidden by a private mount namespace (as root): the SoundFont, libfluidsynth and libsndfile."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        message = "hiding the Debian packages needs root and unshare(1)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    import glob
    import shlex

    hides = []
    for pattern in DEBIAN_AUDIO:
        for path in glob.glob(pattern):
            if os.path.isdir(path):
                hides.append(f"mount -t tmpfs none {shlex.quote(path)}")
            elif not os.path.islink(path):
                hides.append(f"mount --bind /dev/null {shlex.quote(path)}")
    build = f"{shlex.quote(str(installed['bin'] / 'harmonc'))} build digital-dreams.circle --emit audio -o sound"
    check = f"{shlex.quote(str(installed['bin'] / 'python'))} -c 'import harmonlang.runtime.soundfont as s; "
    check += "assert not s.fluidsynth_available() and s.find_soundfont(None) is None'"
    work, env = installed["work"], installed["env"]
    run(unshare, "--mount", "sh", "-ec", " && ".join([*hides, check, build]), cwd=work, env=env)
    figures = json.loads((work / "sound" / "digital-dreams.master.json").read_text(encoding="utf-8"))
    assert abs(figures["integrated_lufs"] + 14) <= 0.5 and figures["true_peak_dbtp"] <= -1.0
    assert figures["seconds"] > 12 * 60
    import soundfile

    info = soundfile.info(work / "sound" / "digital-dreams.wav")
    assert (info.samplerate, info.channels, info.subtype) == (48000, 2, "PCM_24")
