"""Fuzzing the compiler: whatever the text, it compiles or fails with diagnostics; nothing else escapes.

The runs are derandomized so CI is repeatable. For a deeper local search, run
`HARMONLANG_FUZZ=deep python3 -m pytest tests/test_fuzz.py` (random seeds, many more examples).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonlang.compiler import CompileFailure, compile_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEEP = os.environ.get("HARMONLANG_FUZZ") == "deep"


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * 50 if DEEP else examples,
        deadline=None,
        database=None,
        derandomize=not DEEP,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def compiles_or_fails_cleanly(path: Path, text: str) -> None:
    """The contract: success, or a CompileFailure whose every diagnostic has a message."""
    try:
        compile_file(str(path), text=text)
    except CompileFailure as failure:
        assert failure.diagnostics, "a failure without diagnostics"
        assert all(d.message and d.message.strip() for d in failure.diagnostics), [
            d.message for d in failure.diagnostics
        ]
        assert any(d.severity == "error" for d in failure.diagnostics)


# ---- random text -------------------------------------------------------------------------------------------

TOKENS = [
    *"song theme prog groove part act step sequence scene phrase chorus bridge transition".split(),
    *"import genre device circle plays on key tempo meter modulate lift mix mute fuse drift".split(),
    *"protagonist antagonist chords bass drums samples transpose invert retrograde augment".split(),
    *"diminish displace thin repeat octave kick hat snare unit swing bank channel program".split(),
    *"I IIa IIb III you need go search find take return change A B A' T 1a 2b 3".split(),
    *"I.need.2b IIa.go std.devices.t8 t8.drums s1 gm sp404mk2 electro-house minor major dorian".split(),
    "{",
    "}",
    "(",
    ")",
    "=",
    "|",
    ":",
    ";",
    "\n",
    "\n  ",
    "#",
    "'",
    '"a4/8 c5/8 e5/4"',
    '"i VI III VII"',
    '"x...x..."',
    '"Am7 | % | F/C"',
    '"[a3 c4 e4]/2~"',
    '"',
    "1/8",
    "4/4",
    "7/8",
    "3:4",
    "24..72",
    "+2%",
    "-3dB",
    "124",
    "-12",
    "0.5",
    "16",
    "bars",
    "x",
    "hero",
]

any_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abcdefgrxIVX0123456789 \n\t{}[]()|\"#;:=./~!?@%+-_'′♯♭°ø")),
        st.characters(codec="utf-8"),
    ),
    max_size=300,
)
token_soup = st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join)


@fuzz_settings(200)
@given(any_text)
def test_random_text(tmp_path_factory, text):
    compiles_or_fails_cleanly(tmp_path_factory.getbasetemp() / "random.circle", text)


@fuzz_settings(250)
@given(token_soup)
def test_random_tokens(tmp_path_factory, text):
    compiles_or_fails_cleanly(tmp_path_factory.getbasetemp() / "tokens.circle", text)


@fuzz_settings(150)
@given(st.sampled_from(TOKENS[:30]), token_soup)
def test_random_tokens_after_a_good_header(tmp_path_factory, keyword, text):
    header = 'song "S" { key A minor; sequences 1; scenes 1 }\ntheme hero = "a4 c5"\n'
    compiles_or_fails_cleanly(tmp_path_factory.getbasetemp() / "header.circle", f"{header}{keyword} {text}\n")


# ---- mutations of the examples -------------------------------------------------------------------------------

SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.circle"))}
INSERTS = list('{}[]()|"#;:=./~!?@%+-_\n x0123456789abcdefgrIV') + ["\t", "é", "\x00", "\r\n", "′", "♭"]


@st.composite
def mutation(draw, text: str) -> str:
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "delete line", "duplicate line", "swap lines"]))
        if kind in ("delete", "insert", "duplicate"):
            at = draw(st.integers(0, max(len(text) - 1, 0)))
            if kind == "delete":
                text = text[:at] + text[at + 1 :]
            elif kind == "insert":
                text = text[:at] + draw(st.sampled_from(INSERTS)) + text[at:]
            else:
                text = text[:at] + text[at : at + 1] + text[at:]
        else:
            at = draw(st.integers(0, len(lines) - 1))
            if kind == "delete line":
                del lines[at]
            elif kind == "duplicate line":
                lines.insert(at, lines[at])
            else:
                other = draw(st.integers(0, len(lines) - 1))
                lines[at], lines[other] = lines[other], lines[at]
            text = "\n".join(lines)
    return text


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_mutated_examples(name):
    # The path stays in examples/ so that imports (studio.circle) resolve as they do for the real file.
    path = EXAMPLES / name

    @fuzz_settings(60)
    @given(mutation(SOURCES[name]))
    def check(text):
        compiles_or_fails_cleanly(path, text)

    check()


# ---- structured songs: past the parser, into checking and lowering --------------------------------------------

NOTE_WORDS = ["a4/8", "c5", "e5/4.", "r/4", "[a3 c4 e4]/2", "c4/2~ c4/8", "d#4/8t", "@ff", "c4!", "g9/16", "|", "c4~"]
CHORD_WORDS = ["i", "VI", "III", "VII", "V7", "V65", "vii°", "bVII", "V7/V", "Am7", "F/C", "%", "|", "Bm7b5", "X7"]
TRANSFORM_STEPS = [
    "transpose -12",
    "invert",
    "invert c5",
    "retrograde",
    "augment",
    "augment 1.5",
    "diminish 3",
    "displace 1/8",
    "thin 0.5",
    "repeat 3",
    "octave 1",
]
SETTINGS = [
    "tempo 90",
    "tempo drift +3%",
    "key F# dorian",
    "key Eb minor",
    "meter 7/8",
    "meter 3/4",
    "length 16 bars",
    "modulate relative",
    "modulate -5",
    "modulate lydian",
    "lift +2",
    "mix dark +3dB",
    "mute keys",
    "fuse hero shadow in transition",
    "polyrhythm 3:4 on hat",
    "thin 0.7",
    "reprise empty",
    "lead plays shadow",
    'lead on gm "Violin"',
    "keys plays (home | transpose 2)",
    "energy 0.9",
]
SECTIONS = [
    "act {act} {{ {setting} }}",
    "step {step} {{ {setting} }}",
    "step {step} {{ bridge {{ {setting} }} }}",
    "step {step} {{ phrase A' {{ {setting} }} }}",
    "scene I.you.1a {{ {setting} }}",
    "scene III.change.{scene} {{ {setting} }}",
    "step {step} {{ sequence {sequence} {{ scene b {{ {setting} }} }} }}",
]


@st.composite
def songs(draw) -> str:
    words = st.lists(st.sampled_from(NOTE_WORDS), min_size=1, max_size=8).map(" ".join)
    chords = st.lists(st.sampled_from(CHORD_WORDS), min_size=1, max_size=6).map(" ".join)
    chain = st.lists(st.sampled_from(TRANSFORM_STEPS), max_size=3).map(lambda s: "".join(f" | {t}" for t in s))
    hits = st.text(alphabet="xXo.-_123456789 |", min_size=1, max_size=20)
    lines = [
        f'song "Fuzz" {{ key A minor; tempo {draw(st.sampled_from([60, 124, 300]))}; '
        f"sequences {draw(st.integers(1, 3))}; scenes {draw(st.integers(1, 2))}; "
        f"meter {draw(st.sampled_from(['4/4', '3/4', '7/8', '6/8', '5/4']))} }}",
        f'theme hero = "{draw(words)}"{draw(chain)}',
        f'theme shadow = "{draw(words)}"',
        f'prog home = "{draw(chords)}"',
        f'groove four = {{ kick "{draw(hits)}"; hat "{draw(hits)}" }}'
        + draw(st.sampled_from(["", " | thin 0.5", " | displace 1/16", " | augment", " | repeat 2"])),
        "part lead : protagonist plays hero on s1",
        "part dark : antagonist plays shadow",
        "part keys : chords plays home",
        "part beat : drums plays four on t8.drums",
        "part bass : bass on t8.bass",
    ]
    for _ in range(draw(st.integers(0, 4))):
        template = draw(st.sampled_from(SECTIONS))
        lines.append(
            template.format(
                act=draw(st.sampled_from(["I", "IIa", "IIb", "III"])),
                step=draw(st.sampled_from(["you", "need", "go", "search", "find", "take", "return", "change"])),
                scene=draw(st.sampled_from(["1a", "2b", "3b"])),
                sequence=draw(st.integers(1, 3)),
                setting=draw(st.sampled_from(SETTINGS)),
            )
        )
    return "\n".join(draw(st.permutations(lines)) if draw(st.booleans()) else lines) + "\n"


@fuzz_settings(120)
@given(songs())
def test_structured_songs(tmp_path_factory, text):
    compiles_or_fails_cleanly(tmp_path_factory.getbasetemp() / "structured.circle", text)


# ---- crashes the fuzzing found ------------------------------------------------------------------------------


def test_deeply_nested_blocks(tmp_path):
    compiles_or_fails_cleanly(tmp_path / "deep.circle", "x {" * 1000 + "}" * 1000 + "\n")


def test_a_circle_template_without_defaults(tmp_path):
    compiles_or_fails_cleanly(
        tmp_path / "circle.circle", 'circle c { acts A; act A { steps s } }\nsong "S" { circle c }\n'
    )


def test_redefining_the_harmon_template(tmp_path):
    compiles_or_fails_cleanly(tmp_path / "harmon.circle", 'circle harmon { acts A; act A { steps s } }\nsong "S" {}\n')
